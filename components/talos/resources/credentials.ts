/**
 * Program-time helpers of the Talos resources (pure; no network): the admin mTLS credentials as
 * secret resource args, and read back from a talosconfig.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseSecretYaml } from "../../secret-yaml";

export interface AdminCredentials {
  readonly osCa: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** The admin mTLS credentials as resource args (PEM; each resource makes them secret). */
export type AdminCredentialArgs = { readonly [K in keyof AdminCredentials]: pulumi.Input<string> };

/** The outputs that echo the admin credentials back: every resource taking them marks them secret. */
export const ADMIN_CREDENTIAL_OUTPUTS: readonly (keyof AdminCredentials)[] = [
  "osCa",
  "clientCert",
  "clientKey",
];

/** The three credential inputs of a resource, each a Pulumi secret. */
export function secretAdminCredentials(c: AdminCredentialArgs): {
  [K in keyof AdminCredentials]: pulumi.Output<string>;
} {
  return {
    osCa: pulumi.secret(c.osCa),
    clientCert: pulumi.secret(c.clientCert),
    clientKey: pulumi.secret(c.clientKey),
  };
}

/** The OS CA and admin client cert/key (PEM) of a talosconfig's current context. */
export function credentialsFromTalosconfig(talosconfig: string): AdminCredentials {
  const doc = parseSecretYaml(talosconfig, "talosconfig") as {
    context?: string;
    contexts?: Record<string, { ca?: string; crt?: string; key?: string }>;
  } | null;
  const contexts = doc?.contexts ?? {};
  const ctx = (doc?.context && contexts[doc.context]) || Object.values(contexts)[0];
  const pem = (v: string | undefined, what: string): string => {
    const text = v ? Buffer.from(v, "base64").toString("utf8") : "";
    if (!text.includes("-----BEGIN")) throw new Error(`talosconfig: context has no PEM ${what}`);
    return text;
  };
  return { osCa: pem(ctx?.ca, "ca"), clientCert: pem(ctx?.crt, "crt"), clientKey: pem(ctx?.key, "key") };
}
