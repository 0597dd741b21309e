/**
 * Small pure pieces of the Talos API client: endpoint handling, key relabelling, the kubeconfig
 * archive, and the connection-mode guard.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import {
  endpointHost,
  normalizeEndpoint,
  normalizeKeyPem,
  TalosClient,
} from "../../components/talos/api/client";
import { extractKubeconfig } from "../../components/talos/api/kubeconfig-archive";
import { tarGzOneFile } from "../fakes/talos-node";

describe("talos-api: client units", () => {
  it("normalizes endpoints (default port 50000, IPv6 aware)", () => {
    assert.equal(normalizeEndpoint("10.0.0.11"), "10.0.0.11:50000");
    assert.equal(normalizeEndpoint("10.0.0.11:50001"), "10.0.0.11:50001");
    assert.equal(normalizeEndpoint("cp1.lan"), "cp1.lan:50000");
    assert.equal(normalizeEndpoint("fd00::11"), "[fd00::11]:50000");
    assert.equal(normalizeEndpoint("[fd00::11]"), "[fd00::11]:50000");
    assert.equal(normalizeEndpoint("[fd00::11]:1234"), "[fd00::11]:1234");
    assert.equal(endpointHost("[fd00::11]:1234"), "fd00::11");
    assert.equal(endpointHost("10.0.0.11"), "10.0.0.11");
    assert.throws(() => normalizeEndpoint(" "), /empty/);
  });

  it("relabels Talos' ED25519 PRIVATE KEY so Node's crypto accepts it", () => {
    const { privateKey } = crypto.generateKeyPairSync("ed25519");
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const talos = pem.replace(/PRIVATE KEY/g, "ED25519 PRIVATE KEY");
    assert.throws(() => crypto.createPrivateKey(talos));
    const k = crypto.createPrivateKey(normalizeKeyPem(talos));
    assert.equal(k.asymmetricKeyType, "ed25519");
    assert.equal(normalizeKeyPem(pem), pem);
  });

  it("extracts `kubeconfig` from the tar.gz payload and rejects other archives", () => {
    const text = "apiVersion: v1\nkind: Config\n".repeat(40);
    assert.equal(extractKubeconfig(tarGzOneFile("kubeconfig", Buffer.from(text))), text);
    assert.throws(() => extractKubeconfig(tarGzOneFile("other", Buffer.from("x"))), /no file "kubeconfig"/);
  });

  it("requires mtls material or an explicit insecureMaintenance flag", () => {
    const c = new TalosClient({
      endpoint: "127.0.0.1",
      connection: { mode: "maintenance", insecureMaintenance: true },
      timeouts: { bootstrap: 1234 },
      timeoutMs: 999,
    });
    assert.equal(c.target, "127.0.0.1:50000");
    assert.equal(c.timeoutFor("bootstrap"), 1234);
    assert.equal(c.timeoutFor("version"), 999);
    c.close();
    assert.throws(
      () => new TalosClient({ endpoint: "x", connection: { mode: "mtls", ca: "", cert: "", key: "" } }),
      /ca, cert and key/,
    );
  });
});
