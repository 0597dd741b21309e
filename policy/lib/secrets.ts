/**
 * Recognizes credential material in plain values: private keys (PEM, or base64 PEM as in a
 * kubeconfig's client-key-data or a talosconfig's key), age identities, Proxmox API tokens and
 * Kubernetes ServiceAccount tokens.
 */
import { isRecord, known } from "./props";

export interface Finding {
  /** Where in the value, e.g. `talosconfig` or `sops.config`. */
  readonly path: string;
  /** What was found, e.g. "a PEM private key". */
  readonly kind: string;
}

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const AGE_IDENTITY = /AGE-SECRET-KEY-1[0-9A-Z]{20,}/;
const PROXMOX_TOKEN =
  /[^@\s"']+@[^!\s"']+![^=\s"']+=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
/** A JWT: base64url header "{"…" (eyJ), payload, signature. */
const JWT = /eyJ[A-Za-z0-9_-]+\.(eyJ[A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*/g;
/** Base64 of "-----BEGIN" is "LS0tLS1CRUdJTi..." */
const BASE64_PEM = /LS0tLS1CRUdJTi[A-Za-z0-9+/=]{20,}/g;

/** What kind of credential `text` carries, or undefined. */
export function credentialKind(text: string): string | undefined {
  if (PEM_PRIVATE_KEY.test(text)) return "a PEM private key";
  if (AGE_IDENTITY.test(text)) return "an age identity (AGE-SECRET-KEY-1...)";
  if (PROXMOX_TOKEN.test(text)) return "a Proxmox API token";
  for (const m of text.matchAll(JWT)) {
    // A Kubernetes ServiceAccount token names its account as subject (the Headlamp tokens are ones).
    if (Buffer.from(m[1], "base64url").toString("utf8").includes('"sub":"system:serviceaccount:'))
      return "a Kubernetes ServiceAccount token";
  }
  for (const blob of text.match(BASE64_PEM) ?? []) {
    if (PEM_PRIVATE_KEY.test(Buffer.from(blob, "base64").toString("utf8")))
      return "a base64-encoded private key";
  }
  return undefined;
}

/**
 * Every credential found in `value` (strings, arrays and objects, walked to `maxDepth`). Values that
 * are unknown during a preview are skipped: nothing unknown can be exposed yet.
 */
export function findCredentials(value: unknown, path: string, maxDepth = 8): Finding[] {
  if (typeof value === "string") {
    const kind = credentialKind(value);
    return kind ? [{ path, kind }] : [];
  }
  if (maxDepth <= 0) return [];
  if (Array.isArray(value)) {
    return value.flatMap((_, i) =>
      findCredentials(
        known(() => value[i], undefined),
        `${path}[${i}]`,
        maxDepth - 1,
      ),
    );
  }
  if (isRecord(value)) {
    return Object.keys(value).flatMap((k) =>
      findCredentials(
        known(() => value[k], undefined),
        path ? `${path}.${k}` : k,
        maxDepth - 1,
      ),
    );
  }
  return [];
}
