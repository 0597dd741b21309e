/**
 * Shared helpers for the secrets/talosconfig/kubeconfig tests: certificate inspection via
 * node:crypto and @peculiar/x509, and a talosctl-layout bundle writer for hand-built fixtures.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { x509 } from "../../components/talos/pki/x509";

export interface CertFacts {
  readonly node: crypto.X509Certificate;
  readonly cert: x509.X509Certificate;
  readonly keyUsage?: x509.KeyUsagesExtension;
  readonly eku?: x509.ExtendedKeyUsageExtension;
  readonly basic?: x509.BasicConstraintsExtension;
  readonly ski?: x509.SubjectKeyIdentifierExtension;
  readonly aki?: x509.AuthorityKeyIdentifierExtension;
}

export function inspect(pem: string): CertFacts {
  const node = new crypto.X509Certificate(pem);
  const cert = new x509.X509Certificate(node.raw);
  return {
    node,
    cert,
    keyUsage: cert.getExtension(x509.KeyUsagesExtension) ?? undefined,
    eku: cert.getExtension(x509.ExtendedKeyUsageExtension) ?? undefined,
    basic: cert.getExtension(x509.BasicConstraintsExtension) ?? undefined,
    ski: cert.getExtension(x509.SubjectKeyIdentifierExtension) ?? undefined,
    aki: cert.getExtension(x509.AuthorityKeyIdentifierExtension) ?? undefined,
  };
}

export function pemLabel(pem: string): string {
  const m = /^-----BEGIN ([A-Z0-9 ]+)-----\n/.exec(pem);
  assert.ok(m, "PEM header");
  return m[1];
}

/** Node refuses the Talos label; the body is PKCS#8. */
export function loadKey(pem: string): crypto.KeyObject {
  return crypto.createPrivateKey(pem.replace(/ED25519 PRIVATE KEY/g, "PRIVATE KEY"));
}

export const b64 = (s: string): string => Buffer.from(s).toString("base64");
