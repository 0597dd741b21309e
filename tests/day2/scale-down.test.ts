/**
 * Safe scale-down through `ClusterMembership`'s logic against fake Talos nodes (shared etcd) and a
 * fake Kubernetes API: cordon, drain, etcd member removal, reset, Node deletion — in that order —
 * and refusals that leave everything untouched. The engine deletes the VM after this update; the
 * engine suite asserts that order with a real engine.
 */
import * as assert from "node:assert/strict";
import * as etcdLogic from "../../components/talos/resources/logic/etcd";
import * as membership from "../../components/talos/resources/logic/membership";
import { clusterMembershipProvider } from "../../components/talos/resources/providers";
import { FakeCluster, type NodeSpec, quiet, type Versions } from "./harness";

const V: Versions = { talos: "1.13.9", kubernetes: "1.36.3" };
const CP = (name: string): NodeSpec => ({ name, role: "controlplane" });
const W = (name: string): NodeSpec => ({ name, role: "worker" });

/** Times of the first matching call on the fakes. */
function firstCallAt(c: FakeCluster, method: string, nodeName?: string): number | undefined {
  const talos = [...c.nodes.values()]
    .filter((n) => nodeName === undefined || n.hostname === nodeName)
    .flatMap((n) => n.callsOf(method));
  return talos.map((x) => x.at).sort((a, b) => a - b)[0];
}

describe("day 2: safe scale-down (fake nodes)", function () {
  this.timeout(60_000);
  let c: FakeCluster;
  afterEach(async () => {
    await c?.close();
  });

  it("3 → 2 control planes: drain, then the etcd member is removed, then reset, then the Node deleted", async () => {
    const all = [CP("cp-1"), CP("cp-2"), CP("cp-3"), W("w-1")];
    c = await FakeCluster.start(all, V);
    c.kube.addPod("default", "web-1", "cp-3", { owner: { kind: "ReplicaSet", name: "web" } });
    c.kube.addPod("kube-system", "cilium-x", "cp-3", { daemonSet: true });
    const olds = { ...c.membershipInputs(all), removed: [] };
    const news = c.membershipInputs(all.filter((s) => s.name !== "cp-3"));
    assert.ok(membership.diff(olds, news).changes);
    assert.deepEqual(membership.diff(olds, news).replaces, []);
    const lines: string[] = [];
    const r = await membership.update(olds, news, { log: (m) => lines.push(m) });
    assert.deepEqual(r.outs.removed, ["cp-3"]);

    assert.deepEqual(c.etcd.hostnames().sort(), ["cp-1", "cp-2"], "etcd member removed");
    await c.node("cp-3").waitForMode("maintenance");
    assert.equal(c.node("cp-3").appliedConfig, undefined, "cp-3 wiped, back in maintenance mode");
    assert.equal(c.kube.node("cp-3"), undefined, "Node object deleted");
    assert.equal(c.kube.pod("default", "web-1"), undefined, "its pod was evicted");

    const evictAt = c.kube.calls.find((x) => x.method === "POST" && x.path.endsWith("/eviction"))!.at;
    const cordonAt = c.kube.calls.find((x) => x.method === "PATCH" && x.path === "/api/v1/nodes/cp-3")!.at;
    const removeAt = firstCallAt(c, "EtcdRemoveMemberByID")!;
    const resetAt = firstCallAt(c, "Reset", "cp-3")!;
    const deleteAt = c.kube.calls.find((x) => x.method === "DELETE" && x.path === "/api/v1/nodes/cp-3")!.at;
    assert.ok(
      cordonAt <= evictAt && evictAt <= removeAt && removeAt <= resetAt && resetAt <= deleteAt,
      "order",
    );
    // The removal went through a remaining control plane, not the one leaving.
    assert.equal(c.node("cp-3").callsOf("EtcdRemoveMemberByID").length, 0);
    // Not graceful: the node would try to leave etcd again.
    assert.notEqual(c.node("cp-3").callsOf("Reset")[0]!.request.graceful, true);
    assert.ok(lines.some((l) => l.includes("removed the etcd member of control plane cp-3")));
    // Nothing touched the others.
    for (const n of ["cp-1", "cp-2", "w-1"]) assert.equal(c.node(n).callsOf("Reset").length, 0);

    // A re-run of the same update (e.g. after a crash) is harmless.
    c.kube.addNode("cp-3", { ready: false });
    const again = await membership.update(olds, news, { log: quiet });
    assert.deepEqual(again.outs.removed, ["cp-3"]);
    assert.deepEqual(c.etcd.hostnames().sort(), ["cp-1", "cp-2"]);
  });

  it("2 → 1 with one unhealthy member is refused and nothing is touched", async () => {
    const all = [CP("cp-1"), CP("cp-2"), W("w-1")];
    c = await FakeCluster.start(all, V);
    c.node("cp-1").etcdHealthy = false;
    const olds = { ...c.membershipInputs(all), removed: [] };
    for (const leaving of ["cp-2", "cp-1"]) {
      const news = c.membershipInputs(all.filter((s) => s.name !== leaving));
      await assert.rejects(membership.update(olds, news, { log: quiet }), (e: Error) => {
        assert.match(e.message, /scale-down refused, nothing was changed/);
        assert.match(
          e.message,
          new RegExp(
            `removing control plane ${leaving} is refused: etcd has no quorum: 1 of 2 members healthy, 2 needed`,
          ),
        );
        assert.match(e.message, /cp-1 \(/, "names the unhealthy member");
        return true;
      });
    }
    assert.deepEqual(c.etcd.hostnames().sort(), ["cp-1", "cp-2"]);
    assert.equal(c.kube.calls.filter((x) => x.method !== "GET").length, 0, "no cordon, eviction or delete");
    for (const n of c.nodes.values()) {
      assert.equal(n.callsOf("Reset").length, 0);
      assert.equal(n.callsOf("EtcdRemoveMemberByID").length, 0);
    }
  });

  it("removing a worker cordons, drains, resets and deletes it, with no etcd call", async () => {
    const all = [CP("cp-1"), W("w-1"), W("w-2")];
    c = await FakeCluster.start(all, V);
    c.kube.addPod("apps", "db-0", "w-2", { owner: { kind: "StatefulSet", name: "db" } });
    const olds = { ...c.membershipInputs(all), removed: [] };
    const r = await membership.update(olds, c.membershipInputs(all.slice(0, 2)), { log: quiet });
    assert.deepEqual(r.outs.removed, ["w-2"]);
    assert.equal(c.kube.node("w-2"), undefined);
    await c.node("w-2").waitForMode("maintenance");
    assert.equal(firstCallAt(c, "EtcdRemoveMemberByID"), undefined);
    assert.equal(firstCallAt(c, "EtcdMemberList"), undefined, "a worker removal needs no etcd view");
    assert.equal(c.kube.node("w-1")?.unschedulable, false);
  });

  it("an unreachable node is still drained, its member removed and its Node deleted; the reset is skipped", async () => {
    const all = [CP("cp-1"), CP("cp-2"), CP("cp-3")];
    c = await FakeCluster.start(all, V);
    const dead = c.node("cp-3");
    // Its pods were accepted for eviction but never confirm: the kubelet is gone.
    c.kube.addPod("default", "web-9", "cp-3", { owner: { kind: "ReplicaSet", name: "web" }, stuck: true });
    c.kube.setNode("cp-3", { ready: false });
    const olds = { ...c.membershipInputs(all), removed: [] };
    const news = c.membershipInputs(all.slice(0, 2));
    dead.etcdHealthy = false;
    await dead.close();
    const lines: string[] = [];
    const r = await membership.update(olds, news, { log: (m) => lines.push(m) });
    assert.deepEqual(r.outs.removed, ["cp-3"]);
    assert.deepEqual(c.etcd.hostnames().sort(), ["cp-1", "cp-2"]);
    assert.ok(lines.some((l) => /cp-3 does not answer; no reset/.test(l)));
    assert.ok(lines.some((l) => /node down: not waiting for its pods/.test(l)));
    assert.ok(
      c.kube.calls.some((x) => x.path.endsWith("/pods/web-9/eviction")),
      "its pod was evicted",
    );
    assert.equal(c.kube.node("cp-3"), undefined);
  });

  it("create and a node addition call nothing; delete (a destroy) calls nothing", async () => {
    const all = [CP("cp-1"), W("w-1")];
    c = await FakeCluster.start(all, V);
    const created = await membership.create(c.membershipInputs([all[0]!]));
    const r = await membership.update(created.outs, c.membershipInputs(all), { log: quiet });
    assert.deepEqual(r.outs.removed, []);
    await clusterMembershipProvider.delete!("id", { ...r.outs });
    for (const n of c.nodes.values()) assert.equal(n.calls.length, 0);
    assert.equal(c.kube.calls.length, 0);
  });
});

describe("etcd quorum arithmetic", () => {
  const member = (hostname: string, isLearner = false) => ({
    id: String(hostname.length),
    hostname,
    peerUrls: [],
    clientUrls: [],
    isLearner,
  });
  const health = (names: string[], healthy: string[]) => ({
    members: names.map((n) => member(n)),
    healthy,
    unhealthy: Object.fromEntries(names.filter((n) => !healthy.includes(n)).map((n) => [n, "down"])),
  });

  it("quorum is a strict majority", () => {
    assert.deepEqual([1, 2, 3, 4, 5].map(etcdLogic.quorum), [1, 2, 2, 3, 3]);
  });

  it("taking a node down needs quorum without it; a single member is allowed (downtime)", () => {
    assert.equal(etcdLogic.disruptionError(health(["a", "b", "c"], ["a", "b", "c"]), "a"), undefined);
    assert.match(
      etcdLogic.disruptionError(health(["a", "b", "c"], ["a", "b"]), "a") ?? "",
      /no quorum to spare/,
    );
    assert.equal(
      etcdLogic.disruptionError(health(["a", "b", "c"], ["a", "b"]), "c"),
      undefined,
      "the sick one may go",
    );
    assert.equal(etcdLogic.disruptionError(health(["a"], ["a"]), "a"), undefined);
    assert.match(etcdLogic.disruptionError(health(["a", "b"], ["a"]), "b") ?? "", /no quorum: 1 of 2/);
  });

  it("a removal needs quorum now and among the members that remain", () => {
    assert.equal(etcdLogic.removalError(health(["a", "b", "c"], ["a", "b", "c"]), "c"), undefined);
    assert.equal(
      etcdLogic.removalError(health(["a", "b", "c"], ["a", "b"]), "c"),
      undefined,
      "removing the sick one",
    );
    assert.match(
      etcdLogic.removalError(health(["a", "b", "c"], ["a", "b"]), "a") ?? "",
      /would leave 1 healthy of 2/,
    );
    assert.match(etcdLogic.removalError(health(["a"], ["a"]), "a") ?? "", /last etcd member/);
    assert.equal(etcdLogic.removalError(health(["a", "b"], ["a", "b"]), "z"), undefined, "not a member");
  });

  it("refusal judges several removals one after another and needs a control plane to remain", () => {
    const cps = ["a", "b", "c", "d", "e"].map((name) => ({ ...CP(name), address: `${name}:50000` }));
    const h = health(["a", "b", "c", "d", "e"], ["a", "b", "c", "d", "e"]);
    assert.equal(membership.refusal(cps.slice(3), cps.slice(0, 3), h), undefined, "5 → 3");
    assert.match(membership.refusal(cps, [], h) ?? "", /would leave no control plane/);
    const sick = health(["a", "b", "c", "d", "e"], ["a", "b", "c"]);
    // Removing e (sick) is fine: 4 remain, a/b/c healthy ≥ 3; then d (sick) too: 3 remain, 3 healthy.
    assert.equal(membership.refusal(cps.slice(3), cps.slice(0, 3), sick), undefined);
    // Removing a healthy one while two are sick leaves 2 healthy of 4.
    assert.match(
      membership.refusal([cps[0]!], cps.slice(1), sick) ?? "",
      /removing control plane a is refused: .*2 healthy of 4/,
    );
    // Judged one after another: e and c may go (a, b, d remain, a and b healthy), then b may not.
    assert.equal(membership.refusal([cps[4]!, cps[2]!], [cps[0]!, cps[1]!, cps[3]!], sick), undefined);
    assert.match(
      membership.refusal([cps[4]!, cps[2]!, cps[1]!], [cps[0]!, cps[3]!], sick) ?? "",
      /removing control plane b is refused: removing b would leave 1 healthy of 2 etcd members/,
    );
  });
});
