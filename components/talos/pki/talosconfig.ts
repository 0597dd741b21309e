/**
 * `talosconfig` for the cluster admin, built locally from the OS CA (facts.md §1 "Admin Talos client
 * cert" and §5): client cert O=os:admin, EKU clientAuth only, one year by default.
 */

import * as YAML from "yaml";
import { CLIENT_CERT_DEFAULTS } from "../../defaults";
import type { CertAndKey, SecretsBundle } from "../types";
import { toBase64 } from "./encoding";
import { issueCertificate, leafAlgorithmFor, truncateToSeconds } from "./pki";
import { x509 } from "./x509";

export interface TalosconfigOptions {
  readonly contextName: string;
  /** apid addresses to dial: the control-plane node IPs (never the VIP, which moves with etcd leadership). */
  readonly endpoints: readonly string[];
  /** Default `nodes` metadata; omitted from the file when empty. */
  readonly nodes?: readonly string[];
  readonly bundle: SecretsBundle;
  readonly now?: Date;
  /** Client certificate lifetime in days; CLIENT_CERT_DEFAULTS.validityDays, Talos' own, when unset. */
  readonly validityDays?: number;
}

export interface GeneratedClientConfig {
  readonly yaml: string;
  /** NotAfter of the embedded client certificate (renew before this). */
  readonly expiresAt: Date;
  readonly clientCert: CertAndKey;
}

/**
 * An admin client cert's window: from `now` (to the second) for `validityDays`, by default
 * CLIENT_CERT_DEFAULTS.validityDays (Talos' own lifetime). `what` names the config in errors.
 */
export function clientCertWindow(
  what: string,
  opts: { readonly now?: Date; readonly validityDays?: number },
): { readonly now: Date; readonly notAfter: Date } {
  const days = opts.validityDays ?? CLIENT_CERT_DEFAULTS.validityDays;
  if (!(days > 0)) throw new Error(`${what}: validityDays must be positive`);
  const now = truncateToSeconds(opts.now ?? new Date());
  return { now, notAfter: new Date(now.getTime() + days * 86_400_000) };
}

/** Roles are carried in the client certificate's Organization. */
export const TALOS_ADMIN_ROLE = "os:admin";

export async function generateTalosconfig(opts: TalosconfigOptions): Promise<GeneratedClientConfig> {
  if (!opts.contextName) throw new Error("talosconfig: contextName must not be empty");
  if (opts.endpoints.length === 0) throw new Error("talosconfig: at least one endpoint is required");
  for (const e of [...opts.endpoints, ...(opts.nodes ?? [])]) {
    if (!e || e.includes("://") || /\s/.test(e)) throw new Error(`talosconfig: invalid address "${e}"`);
  }
  const { now: notBefore, notAfter } = clientCertWindow("talosconfig", opts);
  const os = opts.bundle.certs.os;
  const clientCert = await issueCertificate({
    ca: os,
    subject: { organization: [TALOS_ADMIN_ROLE] },
    // Talos' NewKeyPair follows the CA's key type: Ed25519 for the standard OS CA.
    keyAlgorithm: leafAlgorithmFor(os.key),
    notBefore,
    notAfter,
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    extKeyUsage: [x509.ExtendedKeyUsage.clientAuth],
  });
  const context: Record<string, unknown> = { endpoints: [...opts.endpoints] };
  if (opts.nodes && opts.nodes.length > 0) context["nodes"] = [...opts.nodes];
  context["ca"] = toBase64(os.crt);
  context["crt"] = toBase64(clientCert.crt);
  context["key"] = toBase64(clientCert.key);
  const yaml = YAML.stringify(
    { context: opts.contextName, contexts: { [opts.contextName]: context } },
    { indent: 4, lineWidth: 0, minContentWidth: 0 },
  );
  return { yaml, expiresAt: notAfter, clientCert };
}
