/**
 * `AgeIdentity`: an age X25519 identity for SOPS, generated once (on create) and kept in state as a
 * Pulumi secret, or an imported identity passed through. Later `pulumi up`s leave it alone; only a
 * change of the imported identity (set, changed or removed) replaces it.
 *
 * The provider is serialized into state by Pulumi's closure serializer, so its methods capture
 * nothing from this module: they load `age-encryption` (ESM-only) with a dynamic `import()` inside
 * the method body.
 */
import * as pulumi from "@pulumi/pulumi";

/** Inputs the provider receives (resolved). */
export interface AgeIdentityInputs {
  /** An identity to adopt instead of generating one (`AGE-SECRET-KEY-1...`). */
  readonly importedIdentity?: string;
}

/** State the provider keeps. `identity` is a secret output. */
export interface AgeIdentityOutputs {
  readonly identity: string;
  readonly recipient: string;
  /** Whether `identity` came from `importedIdentity`. */
  readonly imported: boolean;
}

/**
 * The dynamic provider. Safe for closure serialization: no module-level captures; each method
 * imports what it needs.
 */
export const ageIdentityProvider = {
  async create(inputs: AgeIdentityInputs): Promise<{ id: string; outs: AgeIdentityOutputs }> {
    const age = await import("age-encryption");
    const imported = typeof inputs.importedIdentity === "string" && inputs.importedIdentity.trim() !== "";
    // X25519 explicitly: SOPS (and Flux's kustomize-controller) read X25519 age keys; a future
    // `generateIdentity` may return a post-quantum hybrid identity they cannot use.
    const identity = imported ? inputs.importedIdentity!.trim() : await age.generateX25519Identity();
    if (!/^AGE-SECRET-KEY-1[0-9A-Z]+$/.test(identity)) {
      // Never echo the value: it is a secret.
      throw new Error(
        "sopsAgeKey: the imported age identity is not an X25519 identity — set it to the AGE-SECRET-KEY-1... line of `age-keygen` output",
      );
    }
    const recipient = await age.identityToRecipient(identity);
    // The id is derived from the public recipient only.
    return { id: recipient, outs: { identity, recipient, imported } };
  },

  async diff(
    _id: string,
    olds: AgeIdentityOutputs,
    news: AgeIdentityInputs,
  ): Promise<{ changes: boolean; replaces: string[]; deleteBeforeReplace: boolean }> {
    const wanted = typeof news.importedIdentity === "string" ? news.importedIdentity.trim() : "";
    const changes = wanted !== "" ? !olds.imported || wanted !== olds.identity : olds.imported === true;
    return { changes, replaces: changes ? ["importedIdentity"] : [], deleteBeforeReplace: false };
  },

  async read(id: string, props: AgeIdentityOutputs): Promise<{ id: string; props: AgeIdentityOutputs }> {
    return { id, props };
  },
};

export interface AgeIdentityArgs {
  /** An age identity to adopt (a Pulumi secret). Defaults to none: a new identity is generated once. */
  readonly importedIdentity?: pulumi.Input<string>;
}

export class AgeIdentity extends pulumi.dynamic.Resource {
  /** The identity (`AGE-SECRET-KEY-1...`), a Pulumi secret. */
  declare public readonly identity: pulumi.Output<string>;
  /** The public recipient (`age1...`), plain. */
  declare public readonly recipient: pulumi.Output<string>;
  /** Whether the identity was imported. */
  declare public readonly imported: pulumi.Output<boolean>;

  constructor(name: string, args: AgeIdentityArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      ageIdentityProvider,
      name,
      {
        importedIdentity: args.importedIdentity ? pulumi.secret(args.importedIdentity) : undefined,
        identity: undefined,
        recipient: undefined,
        imported: undefined,
      },
      {
        ...opts,
        // The imported identity is a secret input already; the generated one is secret from creation.
        additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "identity"],
      },
      undefined,
      "AgeIdentity",
    );
  }
}

/**
 * The stack's SOPS identity, `sops-age`: adopted from `importedIdentity` or generated once. In
 * production it is protected and retained: a generated identity is the only copy of the key every
 * SOPS file in the Git repository is encrypted for, so no engine path may drop it.
 */
export function sopsAgeIdentity(
  importedIdentity: pulumi.Input<string> | undefined,
  production: boolean,
  opts: pulumi.CustomResourceOptions,
): AgeIdentity {
  return new AgeIdentity(
    "sops-age",
    { importedIdentity },
    { ...opts, protect: production, retainOnDelete: production },
  );
}

/** A `.sops.yaml` creation rule encrypting Kubernetes Secrets' data for `recipient` (public). */
export function sopsCreationRule(recipient: string, pathRegex = String.raw`.*\.ya?ml$`): string {
  return [
    "creation_rules:",
    `  - path_regex: ${pathRegex}`,
    "    encrypted_regex: ^(data|stringData)$",
    `    age: ${recipient}`,
    "",
  ].join("\n");
}
