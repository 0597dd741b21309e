/**
 * Test-only certificate helpers (never shipped): Ed25519 CAs and leaf certificates shaped like the
 * ones Talos uses (OS CA `O=talos`, admin client cert `O=os:admin` clientAuth, apid server cert with
 * the node IPs in its SANs). Built on `@peculiar/x509` over Node's WebCrypto.
 */
import "./reflect-polyfill";
import * as crypto from "node:crypto";
import * as x509 from "@peculiar/x509";

const ED25519 = { name: "Ed25519" } as const;

let providerSet = false;
function useNodeCrypto(): void {
  if (!providerSet) {
    x509.cryptoProvider.set(crypto.webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    providerSet = true;
  }
}

/** A PEM certificate and its PEM private key. Keys use Talos' `ED25519 PRIVATE KEY` label. */
export interface PemPair {
  readonly crt: string;
  readonly key: string;
}

function randomSerial(): string {
  const b = crypto.randomBytes(16);
  b[0] &= 0x7f;
  return b.toString("hex");
}

/** PKCS#8 PEM from Node with the label Talos writes for Ed25519 keys. */
function exportTalosKey(key: crypto.webcrypto.CryptoKey): string {
  const pem = crypto.KeyObject.from(key).export({ type: "pkcs8", format: "pem" }).toString();
  return pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, "-----$1 ED25519 PRIVATE KEY-----");
}

/** Node refuses the `ED25519 PRIVATE KEY` label; the body is plain PKCS#8. */
export function standardKeyPem(pem: string): string {
  return pem.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, "-----$1 PRIVATE KEY-----");
}

async function importSigningKey(pem: string): Promise<crypto.webcrypto.CryptoKey> {
  const ko = crypto.createPrivateKey(standardKeyPem(pem));
  const der = ko.export({ type: "pkcs8", format: "der" });
  return crypto.webcrypto.subtle.importKey("pkcs8", der, ED25519, true, ["sign"]);
}

async function newKeyPair(): Promise<crypto.webcrypto.CryptoKeyPair> {
  return (await crypto.webcrypto.subtle.generateKey(ED25519, true, [
    "sign",
    "verify",
  ])) as crypto.webcrypto.CryptoKeyPair;
}

const DAY = 24 * 3600 * 1000;

/** A self-signed Ed25519 CA (like Talos' OS CA: `O=talos`, 10 years, CA:TRUE). */
export async function newCa(organization = "talos"): Promise<PemPair> {
  useNodeCrypto();
  const keys = await newKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `O=${organization}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3650 * DAY),
    keys: keys as unknown as x509.X509CertificateCreateSelfSignedParams["keys"],
    signingAlgorithm: ED25519,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      await x509.SubjectKeyIdentifierExtension.create(
        keys.publicKey as unknown as Parameters<typeof x509.SubjectKeyIdentifierExtension.create>[0],
      ),
    ],
  });
  return { crt: cert.toString("pem"), key: exportTalosKey(keys.privateKey) };
}

export interface LeafOptions {
  /** Subject, e.g. `O=os:admin` or `CN=node-1`. */
  readonly subject: string;
  readonly usage: "client" | "server";
  readonly ips?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly validDays?: number;
}

/** An Ed25519 leaf certificate signed by `ca`. */
export async function issueCert(ca: PemPair, opts: LeafOptions): Promise<PemPair> {
  useNodeCrypto();
  const caCert = new x509.X509Certificate(ca.crt);
  const caKey = await importSigningKey(ca.key);
  const keys = await newKeyPair();
  const now = Date.now();
  const sans: x509.JsonGeneralName[] = [
    ...(opts.ips ?? []).map((ip) => ({ type: "ip" as const, value: ip })),
    ...(opts.dnsNames ?? []).map((dns) => ({ type: "dns" as const, value: dns })),
  ];
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([
      opts.usage === "client" ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth,
    ]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: opts.subject,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (opts.validDays ?? 365) * DAY),
    publicKey: keys.publicKey as unknown as x509.X509CertificateCreateParams["publicKey"],
    signingKey: caKey as unknown as x509.X509CertificateCreateWithKeyParams["signingKey"],
    signingAlgorithm: ED25519,
    extensions,
  });
  return { crt: cert.toString("pem"), key: exportTalosKey(keys.privateKey) };
}

/** A self-signed Ed25519 server certificate (like a maintenance-mode node's per-boot cert). */
export async function selfSignedServerCert(ips: readonly string[]): Promise<PemPair> {
  const ca = await newCa("maintenance");
  return issueCert(ca, { subject: "CN=maintenance", usage: "server", ips });
}
