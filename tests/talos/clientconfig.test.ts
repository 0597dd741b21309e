import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as YAML from "yaml";
import { certificateExpiry, generateAdminKubeconfig } from "../../components/talos/pki/kubeconfig";
import { generateSecretsBundle } from "../../components/talos/pki/secrets";
import { generateTalosconfig } from "../../components/talos/pki/talosconfig";
import { x509 } from "../../components/talos/pki/x509";
import type { SecretsBundle } from "../../components/talos/types";
import { inspect, loadKey, pemLabel } from "./pki-helpers";

const DAY = 86_400_000;
const unb64 = (s: string): string => Buffer.from(s, "base64").toString("utf8");

describe("talos client configs", function () {
  this.timeout(60_000);
  let bundle: SecretsBundle;
  const now = new Date("2026-11-22T21:00:00.400Z");
  const nowSec = new Date("2026-11-22T21:00:00Z");

  before(async () => {
    bundle = await generateSecretsBundle({ now: new Date("2026-11-01T00:00:00Z") });
  });

  describe("talosconfig", () => {
    it("admin client cert: Ed25519, O=os:admin, clientAuth only, AKI = OS CA SKI, 1 year, verifies", async () => {
      const t0 = performance.now();
      const r = await generateTalosconfig({
        contextName: "homelab",
        endpoints: ["10.0.0.11", "10.0.0.12"],
        nodes: ["10.0.0.11"],
        bundle,
        now,
      });
      console.log(`      generateTalosconfig: ${(performance.now() - t0).toFixed(0)} ms`);
      const f = inspect(r.clientCert.crt);
      const ca = inspect(bundle.certs.os.crt);
      assert.equal(f.node.publicKey.asymmetricKeyType, "ed25519");
      assert.equal(pemLabel(r.clientCert.key), "ED25519 PRIVATE KEY");
      assert.equal(f.cert.subject, "O=os:admin");
      assert.equal(f.cert.issuer, "O=talos");
      assert.equal(f.node.ca, false);
      assert.equal(f.basic, undefined);
      assert.equal(f.keyUsage?.usages, x509.KeyUsageFlags.digitalSignature);
      assert.deepEqual([...(f.eku?.usages ?? [])], [x509.ExtendedKeyUsage.clientAuth]);
      assert.equal(f.aki?.keyId, ca.ski?.keyId);
      assert.ok(f.node.verify(ca.node.publicKey), "signed by the OS CA");
      assert.ok(f.node.checkIssued(ca.node));
      assert.ok(f.node.checkPrivateKey(loadKey(r.clientCert.key)));
      assert.equal(f.cert.notBefore.getTime(), nowSec.getTime());
      assert.equal(f.cert.notAfter.getTime(), nowSec.getTime() + 365 * DAY);
      assert.equal(r.expiresAt.getTime(), f.cert.notAfter.getTime());
      assert.equal(certificateExpiry(r.clientCert.crt).getTime(), r.expiresAt.getTime());
    });

    it("YAML: context, endpoints, nodes, base64 PEM ca/crt/key (4-space indent)", async () => {
      const r = await generateTalosconfig({ contextName: "homelab", endpoints: ["10.0.0.11"], bundle, now });
      const doc = YAML.parse(r.yaml);
      assert.equal(doc.context, "homelab");
      const ctx = doc.contexts.homelab;
      assert.deepEqual(Object.keys(ctx), ["endpoints", "ca", "crt", "key"], "nodes omitted when empty");
      assert.deepEqual(ctx.endpoints, ["10.0.0.11"]);
      assert.equal(unb64(ctx.ca), bundle.certs.os.crt);
      assert.equal(unb64(ctx.crt), r.clientCert.crt);
      assert.equal(unb64(ctx.key), r.clientCert.key);
      assert.match(r.yaml, /^contexts:\n {4}homelab:\n {8}endpoints:\n {12}- 10\.0\.0\.11\n/m);
    });

    it("validityDays and input checks", async () => {
      const r = await generateTalosconfig({
        contextName: "c",
        endpoints: ["10.0.0.1"],
        bundle,
        now,
        validityDays: 30,
      });
      assert.equal(r.expiresAt.getTime(), nowSec.getTime() + 30 * DAY);
      await assert.rejects(generateTalosconfig({ contextName: "c", endpoints: [], bundle }), /endpoint/);
      await assert.rejects(
        generateTalosconfig({ contextName: "c", endpoints: ["https://10.0.0.1:50000"], bundle }),
        /invalid address/,
      );
      await assert.rejects(
        generateTalosconfig({ contextName: "", endpoints: ["10.0.0.1"], bundle }),
        /contextName/,
      );
    });
  });

  describe("admin kubeconfig", () => {
    it("client cert: ECDSA P-256, CN=admin O=system:masters, back-dated 10 s, 1 year, verifies against k8s CA", async () => {
      const t0 = performance.now();
      const r = await generateAdminKubeconfig({
        clusterName: "homelab",
        endpoint: "https://10.0.0.10:6443",
        bundle,
        now,
      });
      console.log(`      generateAdminKubeconfig: ${(performance.now() - t0).toFixed(0)} ms`);
      const f = inspect(r.clientCert.crt);
      const ca = inspect(bundle.certs.k8s.crt);
      assert.equal(f.node.publicKey.asymmetricKeyType, "ec");
      assert.equal(f.node.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
      assert.equal(pemLabel(r.clientCert.key), "EC PRIVATE KEY");
      assert.equal(f.node.subject, "O=system:masters\nCN=admin");
      assert.equal(f.cert.issuer, "O=kubernetes");
      assert.equal(
        f.keyUsage?.usages,
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      );
      assert.equal(f.keyUsage?.critical, true);
      assert.deepEqual([...(f.eku?.usages ?? [])], [x509.ExtendedKeyUsage.clientAuth]);
      assert.equal(f.node.ca, false);
      assert.equal(f.aki?.keyId, ca.ski?.keyId);
      assert.ok(f.node.verify(ca.node.publicKey));
      assert.ok(f.node.checkIssued(ca.node));
      assert.ok(!f.node.checkIssued(inspect(bundle.certs.etcd.crt).node));
      assert.ok(f.node.checkPrivateKey(crypto.createPrivateKey(r.clientCert.key)));
      assert.equal(f.cert.notBefore.getTime(), nowSec.getTime() - 10_000);
      assert.equal(f.cert.notAfter.getTime(), nowSec.getTime() + 365 * DAY);
      assert.equal(r.expiresAt.getTime(), f.cert.notAfter.getTime());
    });

    it("YAML: cluster/user/context names, server, CA data, current-context", async () => {
      const r = await generateAdminKubeconfig({
        clusterName: "homelab",
        endpoint: "https://10.0.0.10:6443",
        bundle,
        now,
      });
      const doc = YAML.parse(r.yaml);
      assert.equal(doc.apiVersion, "v1");
      assert.equal(doc.kind, "Config");
      assert.equal(doc.clusters[0].name, "homelab");
      assert.equal(doc.clusters[0].cluster.server, "https://10.0.0.10:6443");
      assert.equal(unb64(doc.clusters[0].cluster["certificate-authority-data"]), bundle.certs.k8s.crt);
      assert.equal(doc.users[0].name, "admin@homelab");
      assert.equal(unb64(doc.users[0].user["client-certificate-data"]), r.clientCert.crt);
      assert.equal(unb64(doc.users[0].user["client-key-data"]), r.clientCert.key);
      assert.deepEqual(doc.contexts[0], {
        name: "admin@homelab",
        context: { cluster: "homelab", namespace: "default", user: "admin@homelab" },
      });
      assert.equal(doc["current-context"], "admin@homelab");
    });

    it("rejects non-https endpoints and empty names", async () => {
      await assert.rejects(
        generateAdminKubeconfig({ clusterName: "c", endpoint: "http://x:6443", bundle }),
        /https/,
      );
      await assert.rejects(
        generateAdminKubeconfig({ clusterName: "c", endpoint: "10.0.0.1:6443", bundle }),
        /https|URL/,
      );
      await assert.rejects(
        generateAdminKubeconfig({ clusterName: "", endpoint: "https://x:6443", bundle }),
        /clusterName/,
      );
    });

    it("certificateExpiry reads NotAfter", () => {
      assert.equal(certificateExpiry(bundle.certs.k8s.crt).toISOString(), "2036-10-29T00:00:00.000Z");
    });
  });
});
