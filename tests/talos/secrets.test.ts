import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as YAML from "yaml";
import { encodePem } from "../../components/talos/pki/encoding";
import { createSelfSignedCa, generatePrivateKey, privateKeyToPem } from "../../components/talos/pki/pki";
import {
  generateSecretsBundle,
  parseSecretsYaml,
  SecretsBundleError,
  serializeSecretsYaml,
} from "../../components/talos/pki/secrets";
import { x509 } from "../../components/talos/pki/x509";
import type { SecretsBundle } from "../../components/talos/types";
import { b64, inspect, loadKey, pemLabel } from "./pki-helpers";

const HOUR = 3_600_000;
const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

describe("talos secrets bundle", function () {
  this.timeout(120_000);
  const now = new Date("2026-11-01T12:00:00.750Z");
  let bundle: SecretsBundle;
  let genMs = 0;

  before(async () => {
    const t0 = performance.now();
    bundle = await generateSecretsBundle({ now });
    genMs = performance.now() - t0;
    console.log(`      generateSecretsBundle: ${genMs.toFixed(0)} ms`);
  });

  const CAS = [
    { field: "etcd", subject: "O=etcd", type: "ec", label: "EC PRIVATE KEY" },
    { field: "k8s", subject: "O=kubernetes", type: "ec", label: "EC PRIVATE KEY" },
    { field: "k8sAggregator", subject: "", type: "ec", label: "EC PRIVATE KEY" },
    { field: "os", subject: "O=talos", type: "ed25519", label: "ED25519 PRIVATE KEY" },
  ] as const;

  for (const c of CAS) {
    it(`${c.field} CA: self-signed, ${c.type}, subject "${c.subject}", 10 years, CA extensions`, () => {
      const pair = bundle.certs[c.field];
      const f = inspect(pair.crt);
      assert.equal((f.node.subject ?? "").trim(), c.subject);
      assert.equal(f.cert.subject, c.subject);
      assert.equal((f.node.issuer ?? "").trim(), c.subject);
      assert.equal(f.node.publicKey.asymmetricKeyType, c.type);
      if (c.type === "ec") assert.equal(f.node.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
      assert.equal(f.node.ca, true);
      assert.ok(f.node.verify(f.node.publicKey), "self-signature verifies");
      assert.ok(f.node.checkIssued(f.node));
      assert.equal(f.cert.notBefore.getTime(), Date.parse("2026-11-01T12:00:00Z"));
      assert.equal(f.cert.notAfter.getTime() - f.cert.notBefore.getTime(), 87_600 * HOUR);
      assert.equal(f.keyUsage?.critical, true);
      assert.equal(f.keyUsage?.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign);
      assert.deepEqual(
        [...(f.eku?.usages ?? [])],
        [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
      );
      assert.equal(f.basic?.critical, true);
      assert.equal(f.basic?.ca, true);
      assert.equal(f.basic?.pathLength, undefined);
      assert.ok(f.ski && f.ski.keyId.length === 40, "SKI present (20 bytes)");
      assert.equal(f.aki, undefined);
      assert.ok(f.node.serialNumber.replace(/^00/, "").length <= 32, "serial < 2^128");
      assert.equal(pemLabel(pair.key), c.label);
      assert.ok(f.node.checkPrivateKey(loadKey(pair.key)), "key matches cert");
      assert.ok(pair.crt.endsWith("-----END CERTIFICATE-----\n"));
    });
  }

  it("CA serials are random and distinct", () => {
    const serials = new Set(CAS.map((c) => inspect(bundle.certs[c.field].crt).node.serialNumber));
    assert.equal(serials.size, 4);
  });

  it("service-account key is RSA-4096 PKCS#1", () => {
    const pem = bundle.certs.k8sServiceAccount.key;
    assert.equal(pemLabel(pem), "RSA PRIVATE KEY");
    const k = crypto.createPrivateKey(pem);
    assert.equal(k.asymmetricKeyType, "rsa");
    assert.equal(k.asymmetricKeyDetails?.modulusLength, 4096);
  });

  it("cluster id (URL-safe), secrets (std base64), tokens", () => {
    assert.match(bundle.cluster.id, /^[A-Za-z0-9_-]{43}=$/);
    assert.equal(Buffer.from(bundle.cluster.id, "base64url").length, 32);
    for (const s of [bundle.cluster.secret, bundle.secrets.secretboxEncryptionSecret ?? ""]) {
      assert.match(s, /^[A-Za-z0-9+/]{43}=$/);
      assert.equal(Buffer.from(s, "base64").length, 32);
    }
    assert.equal(bundle.secrets.aescbcEncryptionSecret, undefined);
    assert.match(bundle.secrets.bootstrapToken, TOKEN);
    assert.match(bundle.trustdInfo.token, TOKEN);
    assert.notEqual(bundle.secrets.bootstrapToken, bundle.trustdInfo.token);
  });

  it("generation is fast enough (< 15 s, RSA-4096 dominates)", () => {
    assert.ok(genMs < 15_000, `${genMs} ms`);
  });

  it("serializes in talosctl layout (order, lowercase keys, 4-space indent, base64 PEM)", () => {
    const text = serializeSecretsYaml(bundle);
    const topKeys = text.split("\n").filter((l) => /^\S/.test(l));
    assert.deepEqual(topKeys, ["cluster:", "secrets:", "trustdinfo:", "certs:"]);
    assert.match(text, /^ {4}bootstraptoken: /m);
    assert.match(text, /^ {4}secretboxencryptionsecret: /m);
    assert.match(text, /^ {4}k8saggregator:\n {8}crt: /m);
    assert.match(text, /^ {4}k8sserviceaccount:\n {8}key: /m);
    const doc = YAML.parse(text);
    assert.equal(Buffer.from(doc.certs.os.key, "base64").toString(), bundle.certs.os.key);
    assert.ok(!text.includes("-----BEGIN"), "PEM only base64-encoded");
  });

  it("generate -> serialize -> parse is lossless", () => {
    const text = serializeSecretsYaml(bundle);
    const back = parseSecretsYaml(text);
    assert.deepEqual(back, bundle);
    assert.equal(serializeSecretsYaml(back), text);
  });

  it("two bundles differ everywhere", async () => {
    const other = await generateSecretsBundle();
    assert.notEqual(other.cluster.id, bundle.cluster.id);
    assert.notEqual(other.certs.os.key, bundle.certs.os.key);
    assert.notEqual(other.certs.k8sServiceAccount.key, bundle.certs.k8sServiceAccount.key);
  });
});

/** A talosctl-layout secrets.yaml written by hand from facts.md §1 (keys generated here). */
async function handBuiltFixture(): Promise<{ text: string; osKeyPkcs8Generic: string }> {
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + 87_600 * HOUR);
  const ca = (o: string[], alg: "ecdsa-p256" | "ed25519") =>
    createSelfSignedCa({ subject: { organization: o }, keyAlgorithm: alg, notBefore, notAfter });
  const [etcd, k8s, agg, os, saKey] = await Promise.all([
    ca(["etcd"], "ecdsa-p256"),
    ca(["kubernetes"], "ecdsa-p256"),
    ca([], "ecdsa-p256"),
    ca(["talos"], "ed25519"),
    generatePrivateKey("ecdsa-p256"), // old (<= 1.6 contract) bundles carry an EC service-account key
  ]);
  // Same OS key under the generic PKCS#8 label, which crypto >= 0.6 also accepts.
  const osKeyPkcs8Generic = encodePem(
    "PRIVATE KEY",
    loadKey(os.key).export({ type: "pkcs8", format: "der" }),
  );
  const text = [
    "cluster:",
    "    id: b-opZWWCzcH9V4LRomQDCeMB6Y843mEhYGtW8n9f2vg=",
    "    secret: S4BzZKKVMdiZ7A8z/7nkkqPHmBTsAjXS4KBEUXtDj1A=",
    "secrets:",
    "    bootstraptoken: 1ot2hx.k9h3mp2kz7bzf0qn",
    "    secretboxencryptionsecret: CFnqHwDAgMJIRMD2G6Ju7dgmFIl6rh/21hBfzGBGBLQ=",
    "trustdinfo:",
    "    token: tkb0ed.8b9u2pg3cutrwuu1",
    "certs:",
    "    etcd:",
    `        crt: ${b64(etcd.crt)}`,
    `        key: ${b64(etcd.key)}`,
    "    k8s:",
    `        crt: ${b64(k8s.crt)}`,
    `        key: ${b64(k8s.key)}`,
    "    k8saggregator:",
    `        crt: ${b64(agg.crt)}`,
    `        key: ${b64(agg.key)}`,
    "    k8sserviceaccount:",
    `        key: ${b64(privateKeyToPem(saKey))}`,
    "    os:",
    `        crt: ${b64(os.crt)}`,
    `        key: ${b64(os.key)}`,
    "",
  ].join("\n");
  return { text, osKeyPkcs8Generic };
}

describe("talos secrets.yaml parsing", function () {
  this.timeout(60_000);
  let fixture: string;
  let genericOsKey: string;
  let good: Record<string, unknown>;
  let other: SecretsBundle;

  before(async () => {
    const f = await handBuiltFixture();
    fixture = f.text;
    genericOsKey = f.osKeyPkcs8Generic;
    good = YAML.parse(fixture);
    other = await generateSecretsBundle();
  });

  it("parses a talosctl-format fixture with an EC service-account key and Ed25519 OS CA", () => {
    const b = parseSecretsYaml(fixture);
    assert.equal(b.cluster.id, "b-opZWWCzcH9V4LRomQDCeMB6Y843mEhYGtW8n9f2vg=");
    assert.equal(b.secrets.bootstrapToken, "1ot2hx.k9h3mp2kz7bzf0qn");
    assert.equal(pemLabel(b.certs.k8sServiceAccount.key), "EC PRIVATE KEY");
    assert.equal(pemLabel(b.certs.os.key), "ED25519 PRIVATE KEY");
    assert.equal(serializeSecretsYaml(b), fixture, "re-serializes byte-identically");
  });

  it("accepts the generic PKCS#8 `PRIVATE KEY` label and legacy aescbc-only bundles", () => {
    const doc = structuredClone(good) as { secrets: Record<string, string>; certs: { os: { key: string } } };
    doc.certs.os.key = b64(genericOsKey);
    delete doc.secrets["secretboxencryptionsecret"];
    doc.secrets["aescbcencryptionsecret"] = Buffer.alloc(32, 7).toString("base64");
    const b = parseSecretsYaml(YAML.stringify(doc));
    assert.equal(b.secrets.secretboxEncryptionSecret, undefined);
    assert.equal(b.secrets.aescbcEncryptionSecret, Buffer.alloc(32, 7).toString("base64"));
    assert.equal(pemLabel(b.certs.os.key), "PRIVATE KEY");
  });

  type Doc = Record<string, Record<string, unknown>>;
  const certs = (d: Doc) => d["certs"] as Record<string, Record<string, string>>;
  const CASES: ReadonlyArray<{ name: string; path: string; edit: (d: Doc) => void }> = [
    { name: "missing cluster section", path: "cluster:", edit: (d) => delete d["cluster"] },
    { name: "missing cluster.secret", path: "cluster.secret:", edit: (d) => delete d["cluster"]["secret"] },
    {
      name: "bad base64 in cluster.secret",
      path: "cluster.secret:",
      edit: (d) => (d["cluster"]["secret"] = "@@@not-base64@@@"),
    },
    {
      name: "bad bootstrap token",
      path: "secrets.bootstraptoken:",
      edit: (d) => (d["secrets"]["bootstraptoken"] = "ABCDEF.0123456789abcdef"),
    },
    {
      name: "trustd token too short",
      path: "trustdinfo.token:",
      edit: (d) => (d["trustdinfo"]["token"] = "abc.def"),
    },
    {
      name: "two encryption secrets",
      path: "secrets:",
      edit: (d) => (d["secrets"]["aescbcencryptionsecret"] = Buffer.alloc(32, 1).toString("base64")),
    },
    {
      name: "no encryption secret",
      path: "secrets.secretboxencryptionsecret:",
      edit: (d) => delete d["secrets"]["secretboxencryptionsecret"],
    },
    {
      name: "secretbox key of wrong length",
      path: "secrets.secretboxencryptionsecret:",
      edit: (d) => (d["secrets"]["secretboxencryptionsecret"] = "c2hvcnQ="),
    },
    { name: "missing certs.os.key", path: "certs.os.key:", edit: (d) => delete certs(d)["os"]["key"] },
    {
      name: "bad base64 in certs.etcd.crt",
      path: "certs.etcd.crt:",
      edit: (d) => (certs(d)["etcd"]["crt"] = "LS0t!!!"),
    },
    {
      name: "base64 of non-PEM in certs.k8s.key",
      path: "certs.k8s.key:",
      edit: (d) => (certs(d)["k8s"]["key"] = b64("hello")),
    },
    {
      name: "certificate body corrupted",
      path: "certs.k8saggregator.crt:",
      edit: (d) =>
        (certs(d)["k8saggregator"]["crt"] = b64(
          "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )),
    },
    { name: "key does not match cert", path: "certs.os.key:", edit: () => undefined },
    {
      name: "k8s key swapped with etcd key",
      path: "certs.k8s.key:",
      edit: (d) => (certs(d)["k8s"]["key"] = certs(d)["etcd"]["key"]),
    },
    {
      name: "service-account key is Ed25519",
      path: "certs.k8sserviceaccount.key:",
      edit: (d) => (certs(d)["k8sserviceaccount"]["key"] = certs(d)["os"]["key"]),
    },
    {
      name: "unsupported key label",
      path: "certs.etcd.key:",
      edit: (d) =>
        (certs(d)["etcd"]["key"] = b64(
          "-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----\n",
        )),
    },
    {
      name: "certs is a list",
      path: "certs:",
      edit: (d) => (d["certs"] = [] as unknown as Record<string, unknown>),
    },
  ];

  for (const c of CASES) {
    it(`rejects: ${c.name} (names ${c.path.slice(0, -1)})`, () => {
      const doc = structuredClone(good) as Doc;
      if (c.name === "key does not match cert") certs(doc)["os"]["key"] = b64(other.certs.os.key);
      else c.edit(doc);
      assert.throws(
        () => parseSecretsYaml(YAML.stringify(doc)),
        (e: unknown) => {
          assert.ok(e instanceof SecretsBundleError, String(e));
          assert.ok(e.message.startsWith(c.path), `message "${e.message}" should start with "${c.path}"`);
          return true;
        },
      );
    });
  }

  it("rejects non-YAML and duplicate keys", () => {
    assert.throws(
      () => parseSecretsYaml("cluster: [unclosed"),
      /^SecretsBundleError: secrets\.yaml: invalid YAML/,
    );
    assert.throws(() => parseSecretsYaml(`${fixture}cluster: {}\n`), /secrets\.yaml: invalid YAML/);
    assert.throws(() => parseSecretsYaml("just a string"), /secrets\.yaml: must be a mapping/);
  });

  it("error messages never contain key material", () => {
    const doc = structuredClone(good) as Doc;
    certs(doc)["os"]["key"] = b64(other.certs.os.key);
    try {
      parseSecretsYaml(YAML.stringify(doc));
      assert.fail("should throw");
    } catch (e) {
      assert.ok(!(e as Error).message.includes("PRIVATE"));
      assert.ok(!(e as Error).message.includes(certs(doc)["os"]["key"].slice(0, 20)));
    }
  });
});
