/**
 * Key and certificate helpers for the Talos secrets layer, on `@peculiar/x509` (certificate building)
 * and `node:crypto` (key generation, PEM/DER conversion). No hand-written ASN.1.
 *
 * PEM labels follow what Talos' `crypto/x509` accepts (facts.md §1): EC keys as SEC1 `EC PRIVATE KEY`,
 * Ed25519 as PKCS#8 under the non-standard label `ED25519 PRIVATE KEY`, RSA as PKCS#1 `RSA PRIVATE KEY`.
 */
import type { webcrypto } from "node:crypto";
import * as crypto from "node:crypto";
import type { CertAndKey } from "../types";
import { decodePem, encodePem } from "./encoding";
import { x509 } from "./x509";

export type KeyAlgorithm = "ecdsa-p256" | "ed25519" | "rsa-4096";

const HOUR_MS = 3_600_000;
/** `CAValidityTime` = 87600h. */
export const CA_VALIDITY_MS = 87_600 * HOUR_MS;
/** Talos API client cert and Kubernetes admin cert default lifetime = 8760h. */
export const CLIENT_VALIDITY_MS = 8_760 * HOUR_MS;

/** Certificates carry whole seconds; truncating up front keeps `expiresAt` equal to the cert's value. */
export function truncateToSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

// ---------------------------------------------------------------------------------------------
// Keys

/** A fresh private key (async; RSA-4096 takes a second or so). */
export async function generatePrivateKey(alg: KeyAlgorithm): Promise<crypto.KeyObject> {
  const gen = (
    type: "ec" | "ed25519" | "rsa",
    opts: crypto.ECKeyPairKeyObjectOptions | crypto.RSAKeyPairKeyObjectOptions | undefined,
  ) =>
    new Promise<crypto.KeyObject>((resolve, reject) => {
      const cb = (err: Error | null, _pub: crypto.KeyObject, priv: crypto.KeyObject) =>
        err ? reject(err) : resolve(priv);
      if (type === "ec") crypto.generateKeyPair("ec", opts as crypto.ECKeyPairKeyObjectOptions, cb);
      else if (type === "rsa") crypto.generateKeyPair("rsa", opts as crypto.RSAKeyPairKeyObjectOptions, cb);
      else crypto.generateKeyPair("ed25519", undefined, cb);
    });
  switch (alg) {
    case "ecdsa-p256":
      return gen("ec", { namedCurve: "P-256" });
    case "ed25519":
      return gen("ed25519", undefined);
    case "rsa-4096":
      return gen("rsa", { modulusLength: 4096, publicExponent: 0x10001 });
  }
}

/** PEM of a private key with the label Talos expects for its type. */
export function privateKeyToPem(key: crypto.KeyObject): string {
  switch (key.asymmetricKeyType) {
    case "ec":
      return key.export({ type: "sec1", format: "pem" }).toString();
    case "rsa":
      return key.export({ type: "pkcs1", format: "pem" }).toString();
    case "ed25519":
      return encodePem("ED25519 PRIVATE KEY", key.export({ type: "pkcs8", format: "der" }));
    default:
      throw new Error(`unsupported private key type ${String(key.asymmetricKeyType)}`);
  }
}

const KEY_LABELS: Readonly<Record<string, "pkcs8" | "sec1" | "pkcs1">> = {
  "PRIVATE KEY": "pkcs8",
  "ED25519 PRIVATE KEY": "pkcs8", // PKCS#8 body under Talos' own label; Node refuses the label itself
  "EC PRIVATE KEY": "sec1",
  "RSA PRIVATE KEY": "pkcs1",
};

/** Loads a PEM private key: `EC PRIVATE KEY`, `RSA PRIVATE KEY`, `ED25519 PRIVATE KEY` or `PRIVATE KEY`. */
export function parsePrivateKeyPem(pem: string): crypto.KeyObject {
  const block = decodePem(pem);
  const type = KEY_LABELS[block.label];
  if (!type) throw new Error(`unsupported PEM label "${block.label}"`);
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey({ key: block.der, format: "der", type });
  } catch {
    throw new Error(`malformed ${block.label}`);
  }
  if (block.label === "ED25519 PRIVATE KEY" && key.asymmetricKeyType !== "ed25519") {
    throw new Error(`"ED25519 PRIVATE KEY" holds a ${String(key.asymmetricKeyType)} key`);
  }
  return key;
}

/** Parses a PEM certificate (exactly the first block, which must be a CERTIFICATE). */
export function parseCertificatePem(pem: string): crypto.X509Certificate {
  const block = decodePem(pem);
  if (block.label !== "CERTIFICATE") throw new Error(`expected CERTIFICATE PEM, got "${block.label}"`);
  try {
    return new crypto.X509Certificate(block.der);
  } catch {
    throw new Error("malformed certificate");
  }
}

/** True when `key` is the private half of the certificate's public key. */
export function keyMatchesCertificate(key: crypto.KeyObject, cert: crypto.X509Certificate): boolean {
  const a = crypto.createPublicKey(key).export({ type: "spki", format: "der" });
  const b = cert.publicKey.export({ type: "spki", format: "der" });
  return a.equals(b);
}

/** Parses and cross-checks a certificate with its key; throws `crt: …` / `key: …` messages. */
export function loadCertAndKey(pair: CertAndKey): { cert: crypto.X509Certificate; key: crypto.KeyObject } {
  let cert: crypto.X509Certificate;
  let key: crypto.KeyObject;
  try {
    cert = parseCertificatePem(pair.crt);
  } catch (e) {
    throw new Error(`crt: ${(e as Error).message}`);
  }
  try {
    key = parsePrivateKeyPem(pair.key);
  } catch (e) {
    throw new Error(`key: ${(e as Error).message}`);
  }
  if (!keyMatchesCertificate(key, cert)) throw new Error("key: does not match the certificate's public key");
  return { cert, key };
}

/** NotAfter of a PEM certificate. */
export function certificateExpiry(pem: string): Date {
  return new x509.X509Certificate(decodePem(pem).der).notAfter;
}

// ---------------------------------------------------------------------------------------------
// WebCrypto bridging for @peculiar/x509

function webAlgorithms(key: crypto.KeyObject): {
  importAlg: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams | webcrypto.Algorithm;
  signAlg: webcrypto.EcdsaParams | webcrypto.Algorithm;
} {
  switch (key.asymmetricKeyType) {
    case "ec": {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const named = curve === "prime256v1" ? "P-256" : curve === "secp384r1" ? "P-384" : undefined;
      if (!named) throw new Error(`unsupported EC curve ${String(curve)}`);
      return {
        importAlg: { name: "ECDSA", namedCurve: named },
        signAlg: { name: "ECDSA", hash: named === "P-256" ? "SHA-256" : "SHA-384" },
      };
    }
    case "ed25519":
      return { importAlg: { name: "Ed25519" }, signAlg: { name: "Ed25519" } };
    case "rsa":
      return {
        importAlg: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        signAlg: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      };
    default:
      throw new Error(`unsupported key type ${String(key.asymmetricKeyType)}`);
  }
}

async function toWebKeys(key: crypto.KeyObject): Promise<{
  privateKey: webcrypto.CryptoKey;
  publicKey: webcrypto.CryptoKey;
  signAlg: webcrypto.EcdsaParams | webcrypto.Algorithm;
}> {
  const { importAlg, signAlg } = webAlgorithms(key);
  const subtle = crypto.webcrypto.subtle;
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  const spki = crypto.createPublicKey(key).export({ type: "spki", format: "der" });
  const privateKey = (await subtle.importKey("pkcs8", pkcs8, importAlg, false, [
    "sign",
  ])) as webcrypto.CryptoKey;
  const publicKey = (await subtle.importKey("spki", spki, importAlg, true, [
    "verify",
  ])) as webcrypto.CryptoKey;
  return { privateKey, publicKey, signAlg };
}

/** Random positive 128-bit serial as hex (the library strips leading zeros / adds the sign byte). */
function randomSerialHex(): string {
  return crypto.randomBytes(16).toString("hex");
}

/** A distinguished name as Go's pkix.Name orders it: O (multi-valued RDN) before CN; empty when neither. */
export interface SubjectSpec {
  readonly organization?: readonly string[];
  readonly commonName?: string;
}

function toName(s: SubjectSpec): x509.Name {
  const rdns: x509.JsonName = [];
  if (s.organization && s.organization.length > 0) rdns.push({ O: [...s.organization] });
  if (s.commonName) rdns.push({ CN: [s.commonName] });
  return new x509.Name(rdns);
}

function certToPem(cert: x509.X509Certificate): string {
  return encodePem("CERTIFICATE", new Uint8Array(cert.rawData));
}

// ---------------------------------------------------------------------------------------------
// Certificates

export interface CaOptions {
  readonly subject: SubjectSpec;
  readonly keyAlgorithm: "ecdsa-p256" | "ed25519";
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * A self-signed CA as Talos' `NewSelfSignedCertificateAuthority` makes it: KeyUsage (critical)
 * digitalSignature+keyCertSign, EKU serverAuth+clientAuth, BasicConstraints critical CA:TRUE, SKI.
 */
export async function createSelfSignedCa(opts: CaOptions): Promise<CertAndKey> {
  const key = await generatePrivateKey(opts.keyAlgorithm);
  const web = await toWebKeys(key);
  const name = toName(opts.subject);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: name,
    issuer: name,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    signingAlgorithm: web.signAlg,
    publicKey: web.publicKey,
    signingKey: web.privateKey,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.BasicConstraintsExtension(true, undefined, true),
      await x509.SubjectKeyIdentifierExtension.create(web.publicKey),
    ],
  });
  return { crt: certToPem(cert), key: privateKeyToPem(key) };
}

export interface LeafOptions {
  /** Issuing CA (PEM cert + key). */
  readonly ca: CertAndKey;
  readonly subject: SubjectSpec;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** `x509.KeyUsageFlags` bits; the extension is marked critical as Go does. */
  readonly keyUsage: number;
  /** Extended key usage OIDs. */
  readonly extKeyUsage: readonly string[];
}

/** A leaf certificate with a fresh key, signed by `ca`; carries AKI = the CA's SKI. */
export async function issueCertificate(opts: LeafOptions): Promise<CertAndKey> {
  const { cert: caNodeCert, key: caKey } = loadCertAndKey(opts.ca);
  const caCert = new x509.X509Certificate(caNodeCert.raw);
  const caWeb = await toWebKeys(caKey);
  const key = await generatePrivateKey(opts.keyAlgorithm);
  const leafWeb = await toWebKeys(key);
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(opts.keyUsage, true),
    new x509.ExtendedKeyUsageExtension([...opts.extKeyUsage]),
  ];
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski) extensions.push(new x509.AuthorityKeyIdentifierExtension(ski.keyId));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: toName(opts.subject),
    issuer: caCert.subjectName,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    signingAlgorithm: caWeb.signAlg,
    publicKey: leafWeb.publicKey,
    signingKey: caWeb.privateKey,
    extensions,
  });
  return { crt: certToPem(cert), key: privateKeyToPem(key) };
}

/** The key algorithm Talos' `NewKeyPair` picks for a leaf: it follows the CA's key type. */
export function leafAlgorithmFor(caKeyPem: string): KeyAlgorithm {
  const t = parsePrivateKeyPem(caKeyPem).asymmetricKeyType;
  if (t === "ed25519") return "ed25519";
  if (t === "ec") return "ecdsa-p256";
  if (t === "rsa") return "rsa-4096";
  throw new Error(`unsupported CA key type ${String(t)}`);
}
