/**
 * `GeneratedPassword`: a random password made once (on create) and kept in state as a Pulumi
 * secret; later `pulumi up`s leave it alone (it has no inputs, so nothing can change it). Used for
 * Grafana's admin login, so the credential exists only as a Pulumi secret and in the cluster.
 *
 * Safe for Pulumi's closure serializer: the provider's methods capture nothing from this module
 * and load `node:crypto` themselves.
 */
import * as pulumi from "@pulumi/pulumi";

export interface GeneratedPasswordOutputs {
  readonly password: string;
}

export const generatedPasswordProvider = {
  async create(): Promise<{ id: string; outs: GeneratedPasswordOutputs }> {
    const crypto = await import("node:crypto");
    // 24 random bytes: 32 URL-safe characters, no quoting trouble in any config format.
    const password = crypto.randomBytes(24).toString("base64url");
    return { id: crypto.randomUUID(), outs: { password } };
  },
  async diff(): Promise<{ changes: boolean }> {
    return { changes: false };
  },
  async read(
    id: string,
    props: GeneratedPasswordOutputs,
  ): Promise<{ id: string; props: GeneratedPasswordOutputs }> {
    return { id, props };
  },
};

export class GeneratedPassword extends pulumi.dynamic.Resource {
  /** The password, a Pulumi secret. */
  declare public readonly password: pulumi.Output<string>;

  constructor(name: string, opts?: pulumi.CustomResourceOptions) {
    super(
      generatedPasswordProvider,
      name,
      { password: undefined },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "password"] },
      undefined,
      "GeneratedPassword",
    );
  }
}
