/**
 * The Talos dynamic providers' logic against three fake Talos nodes (gRPC on 127.0.0.1): first
 * apply in maintenance mode, no-op diffs, in-place mTLS updates (auto and staged), delete with and
 * without reset, bootstrap twice, ClusterReady over mTLS (+ a loopback /readyz), a silent node.
 * The provider objects themselves (as Pulumi would call them) are exercised too.
 */
import * as assert from "node:assert/strict";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { parseSecretsYaml } from "../../components/talos/pki/secrets";
import * as applyLogic from "../../components/talos/resources/logic/apply";
import * as bootstrapLogic from "../../components/talos/resources/logic/bootstrap";
import * as clientConfigsLogic from "../../components/talos/resources/logic/client-configs";
import * as readyLogic from "../../components/talos/resources/logic/ready";
import * as secretsLogic from "../../components/talos/resources/logic/secrets";
import {
  bootstrapProvider,
  clusterReadyProvider,
  machineConfigApplyProvider,
  machineSecretsProvider,
} from "../../components/talos/resources/providers";
import { issueCert, newCa, standardKeyPem } from "../fakes/certs";
import { kubeconfigYaml } from "../fakes/kube-api";
import { applyInputsFor, newTestPki, type TestPki } from "../fakes/machine-config";
import { FakeTalosNode, startSilentNode } from "../fakes/talos-node";

const quick = { pollMs: 50, log: (_m: string) => undefined };

interface NodeSpec {
  readonly name: string;
  readonly role: "controlplane" | "worker";
}
const SPECS: readonly NodeSpec[] = [
  { name: "cp-1", role: "controlplane" },
  { name: "cp-2", role: "controlplane" },
  { name: "w-1", role: "worker" },
];

function applyInputs(pki: TestPki, node: FakeTalosNode, spec: NodeSpec, clusterName = "homelab") {
  return {
    ...applyInputsFor(pki, node.address, spec, clusterName),
    timeoutSeconds: 20,
    maintenanceAllowed: true,
  };
}

describe("Talos dynamic providers against fake nodes", function () {
  this.timeout(60_000);
  let pki: TestPki;
  let nodes: FakeTalosNode[] = [];
  const outs = new Map<string, applyLogic.ApplyOutputs>();

  before(async () => {
    pki = await newTestPki();
    nodes = await Promise.all(SPECS.map((s) => FakeTalosNode.start({ hostname: s.name, osCa: pki.osCa })));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  const mtls = () => ({ osCa: pki.osCa.crt, clientCert: pki.admin.crt, clientKey: pki.admin.key });

  it("create: applies in maintenance mode, and the nodes come up configured (mTLS)", async () => {
    for (const [k, spec] of SPECS.entries()) {
      const node = nodes[k]!;
      assert.equal(node.mode, "maintenance");
      const r = await applyLogic.create(applyInputs(pki, node, spec), quick);
      assert.equal(r.outs.fromMaintenance, true);
      assert.equal(r.outs.node, spec.name);
      outs.set(spec.name, r.outs);
      const applies = node.callsOf("ApplyConfiguration");
      assert.equal(applies.length, 1);
      assert.equal(applies[0]!.mode, "maintenance");
      assert.equal(applies[0]!.request.mode, "AUTO");
    }
    await Promise.all(nodes.map((n) => n.waitForMode("normal")));
    for (const n of nodes) assert.ok(n.appliedConfig);
    assert.equal(nodes[2]!.appliedConfig!.type, "worker");
  });

  it("diff: an unchanged config is no diff and makes no call", async () => {
    const before = nodes.map((n) => n.calls.length);
    for (const [k, spec] of SPECS.entries()) {
      const d = applyLogic.diff(outs.get(spec.name), applyInputs(pki, nodes[k]!, spec));
      assert.deepEqual(d.changes, false, spec.name);
      // The provider object answers the same.
      const p = await machineConfigApplyProvider.diff!(
        "id",
        { ...outs.get(spec.name) },
        applyInputs(pki, nodes[k]!, spec),
      );
      assert.equal(p.changes, false);
    }
    assert.deepEqual(
      nodes.map((n) => n.calls.length),
      before,
    );
  });

  it("a changed config is an in-place update over mTLS (mode auto)", async () => {
    const spec = SPECS[0]!;
    const node = nodes[0]!;
    const news = applyInputs(pki, node, spec, "renamed");
    const d = applyLogic.diff(outs.get(spec.name), news);
    assert.equal(d.changes, true);
    assert.deepEqual(d.replaces, []);
    const r = await applyLogic.update(outs.get(spec.name), news, quick);
    assert.equal(r.outs.fromMaintenance, false);
    assert.equal(r.outs.configHash, news.configHash);
    const last = node.callsOf("ApplyConfiguration").at(-1)!;
    assert.equal(last.mode, "normal");
    assert.equal(last.request.mode, "AUTO");
    assert.equal(node.appliedConfig!.clusterName, "renamed");
    outs.set(spec.name, r.outs);
  });

  it("staged mode is sent as STAGED; a changed address is a replacement", async () => {
    const spec = SPECS[1]!;
    const node = nodes[1]!;
    const news = { ...applyInputs(pki, node, spec, "staged-change"), mode: "staged" };
    const r = await machineConfigApplyProvider.update!("id", { ...outs.get(spec.name) }, news);
    assert.equal(r.outs?.mode, "staged");
    assert.equal(node.callsOf("ApplyConfiguration").at(-1)!.request.mode, "STAGED");
    const moved = applyLogic.diff(outs.get(spec.name), { ...news, address: "10.9.9.9" });
    assert.deepEqual(moved.replaces, ["address"]);
  });

  it("the node refusing the config (INVALID_ARGUMENT) fails at once, naming the node", async () => {
    const spec = SPECS[2]!;
    const node = nodes[2]!;
    const bad = { ...applyInputs(pki, node, spec), config: "machine: [not a config", configHash: "x" };
    const t0 = Date.now();
    await assert.rejects(applyLogic.update(outs.get(spec.name), bad, quick), /w-1|127\.0\.0\.1/);
    assert.ok(Date.now() - t0 < 5000);
  });

  it("delete is a no-op unless resetOnDelete", async () => {
    const node = nodes[2]!;
    const before = node.calls.length;
    await machineConfigApplyProvider.delete!("id", { ...outs.get("w-1") });
    assert.equal(node.calls.length, before);
  });

  it("bootstrap twice: both succeed, the second as already bootstrapped", async () => {
    const inputs = {
      node: "cp-1",
      address: nodes[0]!.address,
      clusterFingerprint: "f1",
      timeoutSeconds: 20,
      ...mtls(),
    };
    const first = await bootstrapLogic.create(inputs, quick);
    assert.equal(first.outs.alreadyBootstrapped, false);
    const second = await bootstrapProvider.create(inputs);
    assert.equal(second.outs?.alreadyBootstrapped, true);
    assert.equal(nodes[0]!.callsOf("Bootstrap").length, 2);
    assert.equal(bootstrapLogic.diff(first.outs, inputs).changes, false);
    assert.deepEqual(bootstrapLogic.diff(first.outs, { ...inputs, clusterFingerprint: "f2" }).replaces, [
      "clusterFingerprint",
    ]);
  });

  it("bootstrap retries while the node is not ready (FAILED_PRECONDITION)", async () => {
    nodes[1]!.failNext("Bootstrap", 9, "time is not in sync yet", 2);
    const r = await bootstrapLogic.create(
      { node: "cp-2", address: nodes[1]!.address, timeoutSeconds: 20, ...mtls() },
      quick,
    );
    assert.equal(r.outs.alreadyBootstrapped, false);
    assert.equal(nodes[1]!.callsOf("Bootstrap").length, 3);
  });

  it("ClusterReady: Version over mTLS on all three nodes (Kubernetes check off)", async () => {
    const logs: string[] = [];
    const r = await readyLogic.create(
      {
        nodes: SPECS.map((s, k) => ({ name: s.name, address: nodes[k]!.address })),
        checkKubernetes: false,
        timeoutSeconds: 20,
        generation: "g1",
        ...mtls(),
      },
      { pollMs: 50, log: (m) => logs.push(m) },
    );
    assert.deepEqual(Object.keys(r.outs.versions).sort(), ["cp-1", "cp-2", "w-1"]);
    assert.ok(logs.some((l) => /waiting for the Talos API/.test(l)));
    for (const n of nodes) assert.equal(n.callsOf("Version").at(-1)!.mode, "normal");
    assert.equal(readyLogic.diff(r.outs, { ...r.outs }).changes, false);
    assert.equal(readyLogic.diff(r.outs, { ...r.outs, generation: "g2" }).changes, true);
    // State comes back from the engine with object keys sorted: still no diff.
    const sorted = { ...r.outs, nodes: r.outs.nodes.map((n) => ({ address: n.address, name: n.name })) };
    assert.equal(readyLogic.diff(sorted, { ...r.outs }).changes, false);
  });

  it("ClusterReady: /readyz answered by a loopback HTTPS server with the admin client cert", async () => {
    const k8sCa = await newCa("kubernetes");
    const serverCert = await issueCert(k8sCa, {
      subject: "CN=kube-apiserver",
      usage: "server",
      ips: ["127.0.0.1"],
    });
    const admin = await issueCert(k8sCa, { subject: "O=system:masters, CN=admin", usage: "client" });
    let hits = 0;
    let authorized = false;
    const server = https.createServer(
      {
        key: standardKeyPem(serverCert.key),
        cert: serverCert.crt,
        ca: k8sCa.crt,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        hits++;
        authorized = (req.socket as import("node:tls").TLSSocket).authorized;
        // Not ready on the first poll, ready after.
        res.writeHead(req.url === "/readyz" && hits > 1 ? 200 : 503).end(hits > 1 ? "ok" : "not ready");
      },
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const kubeconfig = kubeconfigYaml({
        server: `https://127.0.0.1:${port}`,
        ca: k8sCa.crt,
        client: admin,
        clusterName: "homelab",
      });
      const r = await readyLogic.create(
        {
          nodes: [{ name: "cp-1", address: nodes[0]!.address }],
          kubeconfig,
          checkKubernetes: true,
          timeoutSeconds: 20,
          ...mtls(),
        },
        quick,
      );
      assert.ok(r.outs.readyAt);
      assert.equal(hits, 2);
      assert.equal(authorized, true);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("ClusterReady: a node that never answers → a timeout error naming the node", async () => {
    const silent = await startSilentNode();
    try {
      const t0 = Date.now();
      await assert.rejects(
        readyLogic.create(
          {
            nodes: [
              { name: "cp-1", address: nodes[0]!.address },
              { name: "cp-3", address: silent.address },
            ],
            checkKubernetes: false,
            timeoutSeconds: 2,
            ...mtls(),
          },
          quick,
        ),
        (e: Error) => {
          assert.match(e.message, /timed out after \d+ s waiting for the Talos API/);
          assert.match(e.message, /node cp-3 /);
          assert.ok(!/nodes? cp-1/.test(e.message), e.message);
          return true;
        },
      );
      const took = Date.now() - t0;
      assert.ok(took >= 1900 && took < 8000, `took ${took} ms`);
    } finally {
      await silent.close();
    }
  });

  it("ClusterReady through the provider object (as the dynamic-provider host calls it)", async () => {
    const r = await clusterReadyProvider.create({
      nodes: SPECS.map((s, k) => ({ name: s.name, address: nodes[k]!.address })),
      checkKubernetes: false,
      timeoutSeconds: 20,
      ...mtls(),
    });
    assert.equal(Object.keys((r.outs as { versions: object }).versions).length, 3);
  });

  it("delete with resetOnDelete resets the node (STATE+EPHEMERAL wiped, reboot)", async () => {
    const node = nodes[2]!;
    await node.waitForMode("normal");
    await applyLogic.remove({ ...outs.get("w-1"), resetOnDelete: true }, quick);
    const reset = node.callsOf("Reset").at(-1)!;
    assert.equal(reset.request.reboot, true);
    assert.equal(reset.request.graceful, true);
    await node.waitForMode("maintenance");
    // A second delete (the node was wiped before, e.g. by a scale-down) finds it in maintenance
    // mode and does not try to reset it again.
    const resets = node.callsOf("Reset").length;
    await applyLogic.remove({ ...outs.get("w-1"), resetOnDelete: true }, quick);
    assert.equal(node.callsOf("Reset").length, resets);
  });
});

describe("MachineSecrets provider logic", function () {
  this.timeout(60_000);

  it("generates a bundle once; an unchanged input is no diff", async () => {
    const r = await machineSecretsProvider.create({});
    const outs = r.outs as unknown as secretsLogic.SecretsOutputs;
    assert.equal(outs.source, "generated");
    const bundle = parseSecretsYaml(outs.secretsYaml);
    assert.match(bundle.certs.os.crt, /BEGIN CERTIFICATE/);
    const d = await machineSecretsProvider.diff!("id", { ...outs }, { importedSecrets: "" });
    assert.equal(d.changes, false);
  });

  it("imports a bundle (validated); a different imported bundle replaces only when allowed", async () => {
    const generated = (await secretsLogic.create({})).outs.secretsYaml;
    const r = await secretsLogic.create({ importedSecrets: generated });
    assert.equal(r.outs.source, "imported");
    assert.deepEqual(parseSecretsYaml(r.outs.secretsYaml), parseSecretsYaml(generated));
    assert.equal(secretsLogic.diff(r.outs, { importedSecrets: generated }).changes, false);
    const other = (await secretsLogic.create({})).outs.secretsYaml;
    assert.throws(
      () => secretsLogic.diff(r.outs, { importedSecrets: other }),
      /refusing to change talosSecrets/,
    );
    assert.throws(
      () => secretsLogic.diff(r.outs, {}),
      /refusing to remove talosSecrets.*allowTalosSecretsReplacement/,
    );
    const allow = { allowReplacement: true };
    assert.deepEqual(secretsLogic.diff(r.outs, { importedSecrets: other, ...allow }).replaces, [
      "importedSecrets",
    ]);
    assert.deepEqual(secretsLogic.diff(r.outs, allow).replaces, ["importedSecrets"]);
  });

  it("rejects an invalid imported bundle with a clear message", async () => {
    await assert.rejects(
      secretsLogic.create({ importedSecrets: "cluster: {id: nope}\n" }),
      /imported Talos secrets bundle \(talosSecrets\) is not valid/,
    );
  });
});

describe("ClientConfigs provider logic", function () {
  this.timeout(60_000);
  let secretsYaml = "";
  const base = () => ({
    secretsYaml,
    clusterName: "homelab",
    endpoint: "https://10.0.0.5:6443",
    endpoints: ["10.0.0.11", "10.0.0.12"],
    nodes: ["10.0.0.11", "10.0.0.12"],
  });

  before(async () => {
    secretsYaml = (await secretsLogic.create({})).outs.secretsYaml;
  });

  it("generates the talosconfig and kubeconfig once; unchanged inputs are no diff", async () => {
    const r = await clientConfigsLogic.create(base());
    assert.match(r.outs.talosconfig, /context: homelab/);
    assert.match(r.outs.kubeconfig, /server: https:\/\/10\.0\.0\.5:6443/);
    const days = (Date.parse(r.outs.talosconfigExpiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 360 && days <= 366, String(days));
    // The state comes back with object keys sorted; that is still no diff.
    const state = JSON.parse(JSON.stringify(r.outs, Object.keys(r.outs).sort())) as object;
    assert.equal(clientConfigsLogic.diff({ ...r.outs, ...state }, base()).changes, false);
    assert.ok(!r.outs.bundleHash.includes(secretsYaml.slice(0, 20)));
  });

  it("regenerates when endpoints or the bundle change, or within 30 days of expiry", async () => {
    const r = await clientConfigsLogic.create(base());
    assert.deepEqual(clientConfigsLogic.staleReasons(r.outs, { ...base(), endpoints: ["10.0.0.11"] }), [
      "endpoints",
    ]);
    const other = (await secretsLogic.create({})).outs.secretsYaml;
    assert.deepEqual(clientConfigsLogic.staleReasons(r.outs, { ...base(), secretsYaml: other }), [
      "secretsYaml",
    ]);
    const soon = new Date(Date.parse(r.outs.kubeconfigExpiresAt) - 10 * 86_400_000);
    assert.deepEqual(clientConfigsLogic.staleReasons(r.outs, base(), soon), [
      "talosconfigExpiresAt",
      "kubeconfigExpiresAt",
    ]);
    const u = await clientConfigsLogic.update(r.outs, { ...base(), endpoints: ["10.0.0.11"] });
    assert.notEqual(u.outs.talosconfig, r.outs.talosconfig);
    const kept = await clientConfigsLogic.update(r.outs, { ...base(), renewBeforeDays: 60 });
    assert.equal(kept.outs.talosconfig, r.outs.talosconfig);
  });
});
