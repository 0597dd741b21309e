/**
 * The day-2 gates of the project's Kubernetes client against a REAL kube-apiserver 1.34 with a real
 * etcd on loopback (envtest style, tests/helpers/envtest.ts): Node Ready with the kubelet version
 * and a new boot id, cordon/uncordon, drain through the Eviction API (DaemonSet pods left alone, a
 * PodDisruptionBudget's 429 retried until the budget allows), Node deletion, and the admin
 * kubeconfig the fake Talos node's Kubeconfig RPC hands out. The API server's own behaviour —
 * strategic-merge patches, eviction semantics, PDB checks, graceful pod deletion, x509 client auth,
 * RBAC for system:masters — is the real one. No kubelet runs: the tests set node status and play the
 * kubelet's last step of a pod deletion (`kubeletStandIn`). Skipped where the binaries are absent.
 */
import * as assert from "node:assert/strict";
import { KubeClient } from "../../components/kube/client";
import { generateAdminKubeconfig } from "../../components/talos/pki/kubeconfig";
import { generateSecretsBundle } from "../../components/talos/pki/secrets";
import { mtlsClient } from "../../components/talos/resources/logic/common";
import type { SecretsBundle } from "../../components/talos/types";
import { machineConfig, newTestPki } from "../fakes/machine-config";
import { FakeTalosNode } from "../fakes/talos-node";
import { EnvTest } from "../helpers/envtest";
import { requirePeer } from "../helpers/peers";

describe("Kubernetes client against a real kube-apiserver + etcd (envtest)", function () {
  this.timeout(120_000);
  let env: EnvTest;
  let kube: KubeClient;
  let bundle: SecretsBundle;

  before(async function () {
    requirePeer(this, "etcd");
    requirePeer(this, "kube-apiserver");
    this.timeout(240_000);
    bundle = (await newTestPki()).bundle;
    env = await EnvTest.start(bundle);
    kube = KubeClient.fromKubeconfig(env.kubeconfig);
    env.kubeletStandIn();
    await env.addNamespace("apps");
  });
  after(async () => {
    await env?.stop();
  });

  it("reads a Node's Ready condition, kubelet version and boot id; an absent Node is not an error", async () => {
    await env.addNode("cp-1", { ready: true, kubeletVersion: "v1.34.1", bootId: "boot-a" });
    const s = await kube.nodeStatus("cp-1");
    assert.deepEqual(
      {
        exists: s.exists,
        ready: s.ready,
        kubeletVersion: s.kubeletVersion,
        bootId: s.bootId,
        unschedulable: s.unschedulable,
      },
      { exists: true, ready: true, kubeletVersion: "v1.34.1", bootId: "boot-a", unschedulable: false },
    );
    assert.equal((await kube.nodeStatus("nope")).exists, false);
  });

  it("waitNodeReady waits for a new boot id and the target kubelet version, as after an upgrade", async () => {
    await env.setNodeStatus("cp-1", { ready: false, kubeletVersion: "v1.34.1", bootId: "boot-a" });
    setTimeout(
      () => void env.setNodeStatus("cp-1", { ready: true, kubeletVersion: "v1.34.1", bootId: "boot-a" }),
      300,
    );
    setTimeout(
      () => void env.setNodeStatus("cp-1", { ready: true, kubeletVersion: "v1.34.4", bootId: "boot-b" }),
      1200,
    );
    const started = Date.now();
    const s = await kube.waitNodeReady("cp-1", {
      kubeletVersion: "1.34.4",
      rebootedFrom: "boot-a",
      timeoutMs: 20_000,
      pollMs: 100,
    });
    assert.ok(Date.now() - started >= 1100, "a stale Ready on the old boot id did not pass");
    assert.equal(s.bootId, "boot-b");
    assert.equal(s.kubeletVersion, "v1.34.4");
  });

  it("cordon and uncordon set spec.unschedulable on the real Node", async () => {
    await kube.cordon("cp-1");
    const node = await env.must({ method: "GET", path: "/api/v1/nodes/cp-1" });
    assert.equal((node.spec as { unschedulable?: boolean }).unschedulable, true);
    assert.equal((await kube.nodeStatus("cp-1")).unschedulable, true);
    await kube.uncordon("cp-1");
    assert.equal((await kube.nodeStatus("cp-1")).unschedulable, false);
  });

  it("drain cordons, evicts through the Eviction API, leaves DaemonSet pods and waits until the pods are gone", async () => {
    await env.addNode("w-1", { ready: true, kubeletVersion: "v1.34.1" });
    await env.addNode("w-2", { ready: true, kubeletVersion: "v1.34.1" });
    await env.addPod("apps", "web-1", "w-1", { ownerKind: "ReplicaSet" });
    await env.addPod("apps", "job-1", "w-1");
    await env.addPod("apps", "agent-1", "w-1", { ownerKind: "DaemonSet" });
    await env.addPod("apps", "web-2", "w-2", { ownerKind: "ReplicaSet" });
    const r = await kube.drain("w-1", { timeoutMs: 30_000, pollMs: 100 });
    assert.deepEqual(r, {
      found: true,
      evicted: ["apps/job-1", "apps/web-1"].sort(),
      skipped: ["apps/agent-1"],
    });
    assert.equal((await kube.nodeStatus("w-1")).unschedulable, true);
    for (const gone of ["web-1", "job-1"]) {
      assert.equal(
        (await env.request({ method: "GET", path: `/api/v1/namespaces/apps/pods/${gone}` })).status,
        404,
      );
    }
    for (const kept of ["agent-1", "web-2"]) {
      assert.equal(
        (await env.request({ method: "GET", path: `/api/v1/namespaces/apps/pods/${kept}` })).status,
        200,
      );
    }
  });

  it("drain keeps retrying an eviction the PodDisruptionBudget refuses (429) until the budget allows it", async () => {
    await env.addNode("w-3", { ready: true, kubeletVersion: "v1.34.1" });
    await env.addPod("apps", "db-1", "w-3", { labels: { app: "db" }, ownerKind: "StatefulSet" });
    const pdb = await env.must({
      method: "POST",
      path: "/apis/policy/v1/namespaces/apps/poddisruptionbudgets",
      body: {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "db" },
        spec: { minAvailable: 1, selector: { matchLabels: { app: "db" } } },
      },
    });
    const generation = (pdb.metadata as { generation: number }).generation;
    // What the disruption controller would write: nothing may be disrupted, then one pod may.
    const budget = (allowed: number) =>
      env.must({
        method: "PATCH",
        path: "/apis/policy/v1/namespaces/apps/poddisruptionbudgets/db/status",
        contentType: "application/merge-patch+json",
        body: {
          status: {
            observedGeneration: generation,
            disruptionsAllowed: allowed,
            currentHealthy: 1,
            desiredHealthy: 1,
            expectedPods: 1,
          },
        },
      });
    await budget(0);
    const refused = await env.request({
      method: "POST",
      path: "/api/v1/namespaces/apps/pods/db-1/eviction",
      body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "db-1", namespace: "apps" } },
    });
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    setTimeout(() => void budget(1), 1500);
    const started = Date.now();
    const r = await kube.drain("w-3", { timeoutMs: 30_000, pollMs: 200 });
    assert.ok(Date.now() - started >= 1400, "drain waited for the budget");
    assert.deepEqual(r.evicted, ["apps/db-1"]);
  });

  it("drain times out naming the pod the budget keeps protecting", async () => {
    await env.addNode("w-4", { ready: true, kubeletVersion: "v1.34.1" });
    await env.addPod("apps", "db-2", "w-4", { labels: { app: "db" }, ownerKind: "StatefulSet" });
    await env.must({
      method: "PATCH",
      path: "/apis/policy/v1/namespaces/apps/poddisruptionbudgets/db/status",
      contentType: "application/merge-patch+json",
      body: { status: { disruptionsAllowed: 0 } },
    });
    await assert.rejects(kube.drain("w-4", { timeoutMs: 2_000, pollMs: 200 }), /apps\/db-2/);
  });

  it("deleteNode removes the Node; a second delete is fine", async () => {
    assert.equal(await kube.deleteNode("w-1"), true);
    assert.equal((await kube.nodeStatus("w-1")).exists, false);
    assert.equal(await kube.deleteNode("w-1"), false);
  });

  it("the fake Talos node's Kubeconfig RPC gives an admin kubeconfig the real API server accepts", async () => {
    const pki = await newTestPki();
    const endpoint = env.url;
    const node = await FakeTalosNode.start({
      hostname: "cp-k",
      config: machineConfig({ pki, hostname: "cp-k", endpoint }),
    });
    try {
      const c = mtlsClient(node.address, {
        osCa: pki.osCa.crt,
        clientCert: pki.admin.crt,
        clientKey: pki.admin.key,
      });
      const kc = await c.kubeconfig();
      c.close();
      assert.equal((await KubeClient.fromKubeconfig(kc).nodeStatus("cp-1")).exists, true);
    } finally {
      await node.close();
    }
  });

  it("a client certificate from another cluster's CA is refused (401)", async () => {
    const other = await generateSecretsBundle();
    const stranger = await generateAdminKubeconfig({ clusterName: "x", endpoint: env.url, bundle: other });
    // Trust the real server (its cert chains to this cluster's CA) but authenticate with the other CA's cert.
    const kc = stranger.yaml.replace(
      /certificate-authority-data: .*/,
      `certificate-authority-data: ${Buffer.from(bundle.certs.k8s.crt).toString("base64")}`,
    );
    await assert.rejects(KubeClient.fromKubeconfig(kc).nodeStatus("cp-1"), /401/);
  });
});
