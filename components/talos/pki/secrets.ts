/**
 * The cluster secrets bundle: generation (as `talosctl gen secrets` does it, facts.md §1) and the
 * `secrets.yaml` format (serialize / strict parse). PEM text lives in memory only; nothing is logged.
 */
import * as YAML from "yaml";
import type { CertAndKey, SecretsBundle } from "../types";
import { decodeBase64Strict, toBase64 } from "./encoding";
import {
  CA_VALIDITY_MS,
  createSelfSignedCa,
  generatePrivateKey,
  loadCertAndKey,
  parsePrivateKeyPem,
  privateKeyToPem,
  truncateToSeconds,
} from "./pki";
import { generateToken, randomBase64, randomBase64Url, TOKEN_RE } from "./tokens";

export interface GenerateSecretsOptions {
  /** Bundle clock: NotBefore of the CAs (defaults to now). */
  readonly now?: Date;
}

/** A fresh bundle: four CAs, RSA-4096 service-account key, cluster id/secret, tokens, secretbox key. */
export async function generateSecretsBundle(opts: GenerateSecretsOptions = {}): Promise<SecretsBundle> {
  const notBefore = truncateToSeconds(opts.now ?? new Date());
  const notAfter = new Date(notBefore.getTime() + CA_VALIDITY_MS);
  const ca = (keyAlgorithm: "ecdsa-p256" | "ed25519", organization: string[]) =>
    createSelfSignedCa({ subject: { organization }, keyAlgorithm, notBefore, notAfter });
  // RSA-4096 keygen dominates; run everything concurrently on the libuv pool.
  const [etcd, k8s, k8sAggregator, os, saKey] = await Promise.all([
    ca("ecdsa-p256", ["etcd"]),
    ca("ecdsa-p256", ["kubernetes"]),
    // Talos passes CN "front-proxy" but its CA template only uses O: the subject ends up empty.
    ca("ecdsa-p256", []),
    ca("ed25519", ["talos"]),
    generatePrivateKey("rsa-4096"),
  ]);
  return {
    cluster: { id: randomBase64Url(32), secret: randomBase64(32) },
    secrets: { bootstrapToken: generateToken(), secretboxEncryptionSecret: randomBase64(32) },
    trustdInfo: { token: generateToken() },
    certs: { etcd, k8s, k8sAggregator, k8sServiceAccount: { key: privateKeyToPem(saKey) }, os },
  };
}

// ---------------------------------------------------------------------------------------------
// secrets.yaml

const pair = (c: CertAndKey) => ({ crt: toBase64(c.crt), key: toBase64(c.key) });

/** `secrets.yaml` as talosctl writes it (go yaml: 4-space indent, lowercase keys, base64 PEM). */
export function serializeSecretsYaml(bundle: SecretsBundle): string {
  const secrets: Record<string, string> = { bootstraptoken: bundle.secrets.bootstrapToken };
  if (bundle.secrets.aescbcEncryptionSecret) {
    secrets["aescbcencryptionsecret"] = bundle.secrets.aescbcEncryptionSecret;
  }
  if (bundle.secrets.secretboxEncryptionSecret) {
    secrets["secretboxencryptionsecret"] = bundle.secrets.secretboxEncryptionSecret;
  }
  const doc = {
    cluster: { id: bundle.cluster.id, secret: bundle.cluster.secret },
    secrets,
    trustdinfo: { token: bundle.trustdInfo.token },
    certs: {
      etcd: pair(bundle.certs.etcd),
      k8s: pair(bundle.certs.k8s),
      k8saggregator: pair(bundle.certs.k8sAggregator),
      k8sserviceaccount: { key: toBase64(bundle.certs.k8sServiceAccount.key) },
      os: pair(bundle.certs.os),
    },
  };
  return YAML.stringify(doc, { indent: 4, lineWidth: 0, minContentWidth: 0 });
}

/** Raised for a malformed bundle; the message starts with the field path (`certs.os.key: …`). */
export class SecretsBundleError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = "SecretsBundleError";
  }
}

type Node = Record<string, unknown>;

function isMap(v: unknown): v is Node {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function mapAt(parent: Node, key: string, path: string): Node {
  const v = parent[key];
  if (v === undefined || v === null) throw new SecretsBundleError(path, "missing");
  if (!isMap(v)) throw new SecretsBundleError(path, "must be a mapping");
  return v;
}

function optionalString(parent: Node, key: string, path: string): string | undefined {
  const v = parent[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new SecretsBundleError(path, "must be a string");
  return v;
}

function stringAt(parent: Node, key: string, path: string): string {
  const v = optionalString(parent, key, path);
  if (v === undefined) throw new SecretsBundleError(path, "missing");
  return v;
}

function base64At(parent: Node, key: string, path: string, alphabet: "std" | "either" = "std"): Buffer {
  const s = stringAt(parent, key, path);
  try {
    return decodeBase64Strict(s, alphabet);
  } catch (e) {
    throw new SecretsBundleError(path, (e as Error).message);
  }
}

function tokenAt(parent: Node, key: string, path: string): string {
  const s = stringAt(parent, key, path);
  if (!TOKEN_RE.test(s)) throw new SecretsBundleError(path, "must match [a-z0-9]{6}.[a-z0-9]{16}");
  return s;
}

/** base64 → PEM text; rejects non-text payloads early so key/cert errors stay readable. */
function pemAt(parent: Node, key: string, path: string): string {
  const text = base64At(parent, key, path).toString("utf8");
  if (!text.includes("-----BEGIN ")) throw new SecretsBundleError(path, "base64 does not hold PEM text");
  return text;
}

function certPairAt(certs: Node, key: string, path: string): CertAndKey {
  const node = mapAt(certs, key, path);
  const value: CertAndKey = {
    crt: pemAt(node, "crt", `${path}.crt`),
    key: pemAt(node, "key", `${path}.key`),
  };
  try {
    loadCertAndKey(value);
  } catch (e) {
    // loadCertAndKey prefixes "crt: " / "key: ".
    const msg = (e as Error).message;
    const sub = msg.startsWith("crt: ") ? "crt" : "key";
    throw new SecretsBundleError(`${path}.${sub}`, msg.slice(sub.length + 2));
  }
  return value;
}

function encryptionSecretAt(parent: Node, key: string, path: string, sizes: number[]): string | undefined {
  if (optionalString(parent, key, path) === undefined) return undefined;
  const bytes = base64At(parent, key, path);
  if (!sizes.includes(bytes.length)) {
    throw new SecretsBundleError(path, `must decode to ${sizes.join(" or ")} bytes, got ${bytes.length}`);
  }
  return parent[key] as string;
}

/**
 * Parses and validates a `secrets.yaml` (ours, talosctl's, talhelper's, terraform's): every cert parses
 * and matches its key, tokens are well-formed, exactly one encryption secret, SA key is RSA or EC.
 */
export function parseSecretsYaml(text: string): SecretsBundle {
  let root: unknown;
  try {
    root = YAML.parse(text);
  } catch (e) {
    throw new SecretsBundleError("secrets.yaml", `invalid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!isMap(root)) throw new SecretsBundleError("secrets.yaml", "must be a mapping");

  const cluster = mapAt(root, "cluster", "cluster");
  base64At(cluster, "id", "cluster.id", "either");
  base64At(cluster, "secret", "cluster.secret");

  const secrets = mapAt(root, "secrets", "secrets");
  const bootstrapToken = tokenAt(secrets, "bootstraptoken", "secrets.bootstraptoken");
  const secretbox = encryptionSecretAt(
    secrets,
    "secretboxencryptionsecret",
    "secrets.secretboxencryptionsecret",
    [32],
  );
  const aescbc = encryptionSecretAt(
    secrets,
    "aescbcencryptionsecret",
    "secrets.aescbcencryptionsecret",
    [16, 24, 32],
  );
  if (secretbox !== undefined && aescbc !== undefined) {
    throw new SecretsBundleError(
      "secrets",
      "exactly one of secretboxencryptionsecret and aescbcencryptionsecret may be set",
    );
  }
  if (secretbox === undefined && aescbc === undefined) {
    throw new SecretsBundleError(
      "secrets.secretboxencryptionsecret",
      "missing (no encryption secret in the bundle)",
    );
  }

  const trustd = mapAt(root, "trustdinfo", "trustdinfo");
  const trustdToken = tokenAt(trustd, "token", "trustdinfo.token");

  const certs = mapAt(root, "certs", "certs");
  const etcd = certPairAt(certs, "etcd", "certs.etcd");
  const k8s = certPairAt(certs, "k8s", "certs.k8s");
  const k8sAggregator = certPairAt(certs, "k8saggregator", "certs.k8saggregator");
  const os = certPairAt(certs, "os", "certs.os");
  const sa = mapAt(certs, "k8sserviceaccount", "certs.k8sserviceaccount");
  const saKey = pemAt(sa, "key", "certs.k8sserviceaccount.key");
  let saType: string | undefined;
  try {
    saType = parsePrivateKeyPem(saKey).asymmetricKeyType;
  } catch (e) {
    throw new SecretsBundleError("certs.k8sserviceaccount.key", (e as Error).message);
  }
  if (saType !== "rsa" && saType !== "ec") {
    throw new SecretsBundleError(
      "certs.k8sserviceaccount.key",
      `must be an RSA or EC key, got ${String(saType)}`,
    );
  }

  return {
    cluster: { id: cluster["id"] as string, secret: cluster["secret"] as string },
    secrets: {
      bootstrapToken,
      ...(secretbox !== undefined ? { secretboxEncryptionSecret: secretbox } : {}),
      ...(aescbc !== undefined ? { aescbcEncryptionSecret: aescbc } : {}),
    },
    trustdInfo: { token: trustdToken },
    certs: { etcd, k8s, k8sAggregator, k8sServiceAccount: { key: saKey }, os },
  };
}
