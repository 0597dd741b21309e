import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  generateSecretsBundle,
  parseSecretsYaml,
  serializeSecretsYaml,
} from "../../components/talos/pki/secrets";
import type { SecretsBundle } from "../../components/talos/types";
import { SUPPORTED_TALOS_MINORS } from "../../components/versions";
import { requireOracle, runOracle, tempDir } from "../helpers/shared";
import { inspect, pemLabel } from "./pki-helpers";

/** What talosctl fixes about each CA (everything but random values and the SKI method). */
function caShape(b: SecretsBundle) {
  const cas = { etcd: b.certs.etcd, k8s: b.certs.k8s, k8sAggregator: b.certs.k8sAggregator, os: b.certs.os };
  return Object.fromEntries(
    Object.entries(cas).map(([name, pair]) => {
      const f = inspect(pair.crt);
      return [
        name,
        {
          subject: f.cert.subject,
          issuer: f.cert.issuer,
          keyType: f.node.publicKey.asymmetricKeyType,
          curve: f.node.publicKey.asymmetricKeyDetails?.namedCurve,
          signature: JSON.stringify(f.cert.signatureAlgorithm),
          lifetimeMs: f.cert.notAfter.getTime() - f.cert.notBefore.getTime(),
          keyUsage: [f.keyUsage?.usages, f.keyUsage?.critical],
          eku: [...(f.eku?.usages ?? [])],
          basic: [f.basic?.ca, f.basic?.pathLength, f.basic?.critical],
          hasSki: f.ski !== undefined,
          extensions: f.cert.extensions.map((e) => e.type).sort(),
          keyLabel: pemLabel(pair.key),
        },
      ];
    }),
  );
}

/** Sidero's own machinery (talos-oracle) judges our secrets.yaml, and we read its bundles. */
describe("talos secrets bundle: talos-oracle judge", function () {
  this.timeout(120_000);
  const dir = tempDir("pt-talos-secrets-");
  let ours: string;
  let oursBundle: SecretsBundle;

  before(async () => {
    ours = path.join(dir, "ours.yaml");
    oursBundle = await generateSecretsBundle();
    fs.writeFileSync(ours, serializeSecretsYaml(oursBundle), { mode: 0o600 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const minor of SUPPORTED_TALOS_MINORS) {
    describe(`Talos ${minor}`, () => {
      it("accepts our serialized secrets.yaml", function () {
        requireOracle(this, minor);
        const r = runOracle(minor, ["secrets", ours]);
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      });

      it("gen-secrets bundle parses, re-serializes identically and is still accepted", function () {
        requireOracle(this, minor);
        const theirs = path.join(dir, `theirs-${minor}.yaml`);
        const g = runOracle(minor, ["gen-secrets", theirs]);
        assert.equal(g.status, 0, `${g.stdout}${g.stderr}`);
        const text = fs.readFileSync(theirs, "utf8");
        const bundle = parseSecretsYaml(text);
        const again = serializeSecretsYaml(bundle);
        assert.equal(again, text, "byte-identical to talosctl's own file");
        const back = path.join(dir, `back-${minor}.yaml`);
        fs.writeFileSync(back, again, { mode: 0o600 });
        const r = runOracle(minor, ["secrets", back]);
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
        // The oracle only checks structure, so also compare the certificates' fixed properties.
        assert.deepEqual(caShape(oursBundle), caShape(bundle));
        assert.equal(
          pemLabel(bundle.certs.k8sServiceAccount.key),
          pemLabel(oursBundle.certs.k8sServiceAccount.key),
        );
      });
    });
  }
});
