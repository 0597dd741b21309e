/**
 * No secrets under an empty passphrase: `up`, `destroy`, `rebuild` and `ephemeral` refuse to run
 * when the passphrase secrets provider would encrypt with "" — unless the run says so explicitly
 * (`--allow-empty-passphrase`, for local throwaway experiments). A production stack always refuses.
 * A stack whose file names another secrets provider (awskms://, hashivault://, ...) needs none.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import type { Env } from "./workspace";

export const PASSPHRASE_HINT =
  "write a long passphrase to a file only you can read and export PULUMI_CONFIG_PASSPHRASE_FILE=<that file> (or PULUMI_CONFIG_PASSPHRASE), or use a KMS/Vault secrets provider (pulumi stack change-secrets-provider)";

/** What the stack file `Pulumi.<stack>.yaml` says about secrets and production, if it exists. */
export interface StackFileFacts {
  readonly secretsProvider?: string;
  readonly production: boolean;
}

export function stackFileFacts(root: string, stackName: string): StackFileFacts {
  const file = path.join(root, `Pulumi.${stackName}.yaml`);
  if (!fs.existsSync(file)) return { production: false };
  let doc: unknown;
  try {
    doc = YAML.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return { production: false }; // the CLI reports an unreadable stack file itself
  }
  const rec = (doc ?? {}) as { secretsprovider?: unknown; config?: Record<string, unknown> };
  const prod = rec.config?.["proxmox-talos:production"];
  return {
    secretsProvider: typeof rec.secretsprovider === "string" ? rec.secretsprovider : undefined,
    production: prod === true || prod === "true",
  };
}

export function hasPassphrase(env: Env): boolean {
  return (env.PULUMI_CONFIG_PASSPHRASE ?? "") !== "" || (env.PULUMI_CONFIG_PASSPHRASE_FILE ?? "") !== "";
}

/** A secrets provider that needs no passphrase (anything but `passphrase`/`default`). */
export function usesOtherProvider(facts: StackFileFacts): boolean {
  const p = facts.secretsProvider;
  return p !== undefined && p !== "" && p !== "default" && !p.startsWith("passphrase");
}

/** Why `op` on `stack` must not run with these settings, or undefined. */
export function passphraseRefusal(
  op: string,
  stack: string,
  env: Env,
  o: { readonly production: boolean; readonly allowEmpty: boolean; readonly otherProvider: boolean },
): string | undefined {
  if (hasPassphrase(env) || o.otherProvider) return undefined;
  if (o.production) {
    return `refusing to ${op} '${stack}' without a passphrase: it is a production stack (proxmox-talos:production: true), whose secrets are never encrypted with an empty passphrase — ${PASSPHRASE_HINT}`;
  }
  if (o.allowEmpty) return undefined;
  return `refusing to ${op} '${stack}' without a passphrase: its secrets (Talos bundle, Proxmox token, age key) would be encrypted with an empty one — ${PASSPHRASE_HINT}; for a throwaway local experiment pass --allow-empty-passphrase`;
}
