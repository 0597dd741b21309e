/**
 * Rolling Talos and Kubernetes upgrades against 3 control planes + 2 workers of fake Talos nodes
 * (shared etcd, mirrored into a fake Kubernetes API over real mTLS). The test drives the apply
 * logic's update group by group in `rolloutGroups` order, stopping at the first failure, exactly
 * as the engine does with TalosCluster's dependsOn chain (the engine suite runs the real chain).
 */
import * as assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import * as applyLogic from "../../components/talos/resources/logic/apply";
import { machineConfigApplyProvider } from "../../components/talos/resources/providers";
import { image } from "../helpers/talos-image";
import { downIntervals, FakeCluster, FIVE_NODES, quiet, type Versions } from "./harness";

const SPECS = FIVE_NODES;
const OLD: Versions = { talos: "1.12.6", kubernetes: "1.35.2" };
const NEW: Versions = { talos: "1.13.9", kubernetes: "1.35.2" };
const deps = { pollMs: 40, log: quiet };

/** Runs the rollout like the engine: group after group; a failure stops it. */
async function rollout(
  c: FakeCluster,
  state: Map<string, Record<string, unknown>>,
  to: Versions,
  o: { batch?: number; timeoutSeconds?: number } = {},
): Promise<{ done: string[]; error?: Error }> {
  const done: string[] = [];
  for (const group of c.groups(o.batch ?? 1)) {
    const results = await Promise.allSettled(
      group.map(async (s) => {
        const olds = state.get(s.name)!;
        const news = c.applyInputs(s, to, { timeoutSeconds: o.timeoutSeconds ?? 20 });
        const d = applyLogic.diff(olds, news);
        if (!d.changes) return;
        const r = await applyLogic.update(olds, news, deps);
        state.set(s.name, { ...r.outs });
        done.push(s.name);
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) return { done, error: failed.reason as Error };
  }
  return { done };
}

function initialState(c: FakeCluster, v: Versions): Map<string, Record<string, unknown>> {
  return new Map(SPECS.map((s) => [s.name, c.state(s, v)]));
}

describe("day 2: rolling Talos upgrade with health gates (fake nodes)", function () {
  this.timeout(120_000);
  let c: FakeCluster;

  beforeEach(async () => {
    c = await FakeCluster.start(SPECS, OLD, { rebootDelayMs: 150 });
  });
  afterEach(async () => {
    await c.close();
  });

  it("upgrades control planes one at a time, then workers, each back on the new version and Ready", async () => {
    const state = initialState(c, OLD);
    const r = await rollout(c, state, NEW);
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.done, ["cp-1", "cp-2", "cp-3", "w-1", "w-2"]);
    const firstUpgrade = (name: string) => c.node(name).callsOf("Upgrade")[0]!.at;
    for (const s of SPECS) {
      assert.equal(c.node(s.name).callsOf("Upgrade").length, 1, `${s.name}: one Upgrade`);
      assert.equal(c.node(s.name).runningVersion, "v1.13.9");
      assert.equal(c.kube.node(s.name)?.ready, true);
      assert.equal(c.node(s.name).callsOf("Upgrade")[0]!.request.image, image("1.13.9"));
    }
    const order = [...SPECS].sort((a, b) => firstUpgrade(a.name) - firstUpgrade(b.name)).map((s) => s.name);
    assert.deepEqual(order, ["cp-1", "cp-2", "cp-3", "w-1", "w-2"]);
    // Control planes never down at the same time, from the fakes' own timelines.
    const cpDown = SPECS.filter((s) => s.role === "controlplane").flatMap((s) =>
      downIntervals(c.node(s.name)).map((iv) => ({ name: s.name, iv })),
    );
    assert.equal(cpDown.length, 3, "each control plane rebooted once");
    for (const a of cpDown)
      for (const b of cpDown)
        if (a.name !== b.name)
          assert.ok(a.iv[1] <= b.iv[0] || b.iv[1] <= a.iv[0], `${a.name} and ${b.name} were down together`);
    // Each node was up again before the next one went down (the gates held).
    const all = SPECS.map((s) => downIntervals(c.node(s.name))[0]!);
    for (let k = 1; k < all.length; k++) assert.ok(all[k - 1]![1] <= all[k]![0], `${SPECS[k]!.name} waited`);
    assert.deepEqual(c.etcd.hostnames().sort(), ["cp-1", "cp-2", "cp-3"]);
    // A second run changes nothing and calls no node.
    const calls = SPECS.map((s) => c.node(s.name).calls.length);
    const again = await rollout(c, state, NEW);
    assert.deepEqual(again.done, []);
    assert.deepEqual(
      SPECS.map((s) => c.node(s.name).calls.length),
      calls,
    );
  });

  it("workers go in batches of the configured size", async () => {
    const r = await rollout(c, initialState(c, OLD), NEW, { batch: 2 });
    assert.equal(r.error, undefined, r.error?.message);
    const [w1, w2] = [downIntervals(c.node("w-1"))[0]!, downIntervals(c.node("w-2"))[0]!];
    assert.ok(w1[0] < w2[1] && w2[0] < w1[1], "both workers of the batch were down together");
    assert.ok(downIntervals(c.node("cp-3"))[0]![1] <= Math.min(w1[0], w2[0]), "after the control planes");
  });

  it("a node that does not come back stops the rollout with its name; later nodes stay on the old version", async () => {
    c.node("cp-2").upgrade = { fail: "down" };
    const state = initialState(c, OLD);
    // Each step also waits for the oracle judging its config (seconds on a loaded machine).
    const r = await rollout(c, state, NEW, { timeoutSeconds: 8 });
    assert.ok(r.error, "the rollout failed");
    assert.match(r.error.message, /rollout stopped at node cp-2: did not come back on v1\.13\.9/);
    assert.match(r.error.message, /later nodes were left untouched/);
    assert.deepEqual(r.done, ["cp-1"]);
    for (const name of ["cp-3", "w-1", "w-2"]) {
      assert.equal(c.node(name).callsOf("Upgrade").length, 0, `${name} untouched`);
      assert.equal(c.node(name).runningVersion, "v1.12.6");
    }
  });

  it("a node that rolls back stops the rollout; a re-run after the fix resumes and finishes", async () => {
    c.node("cp-3").upgrade = { fail: "rollback" };
    const state = initialState(c, OLD);
    const first = await rollout(c, state, NEW, { timeoutSeconds: 12 });
    assert.match(
      first.error?.message ?? "",
      /cp-3: came back on v1\.12\.6 instead of v1\.13\.9 .*Talos rolled back/,
    );
    assert.deepEqual(first.done, ["cp-1", "cp-2"]);
    assert.equal(c.node("w-1").callsOf("Upgrade").length, 0);

    c.node("cp-3").upgrade = {};
    const upgradesBefore = SPECS.map((s) => c.node(s.name).callsOf("Upgrade").length);
    const second = await rollout(c, state, NEW, { timeoutSeconds: 12 });
    assert.equal(second.error, undefined, second.error?.message);
    assert.deepEqual(second.done, ["cp-3", "w-1", "w-2"], "cp-1 and cp-2 are not touched again");
    assert.deepEqual(
      SPECS.map((s) => c.node(s.name).callsOf("Upgrade").length - upgradesBefore[SPECS.indexOf(s)]!),
      [0, 0, 1, 1, 1],
    );
    for (const s of SPECS) assert.equal(c.node(s.name).runningVersion, "v1.13.9");
  });

  it("a missed poll while the installer is pulled is not taken for a rollback", async () => {
    const cp1 = c.node("cp-1");
    cp1.upgrade = { pullMs: 600 };
    // The first Version after the Upgrade call fails once (a blip), then the old version answers.
    const state = initialState(c, OLD);
    const waiting = rollout(c, state, NEW, { timeoutSeconds: 20 });
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (cp1.callsOf("Upgrade").length > 0) {
          clearInterval(t);
          cp1.failNext("Version", grpc.status.UNAVAILABLE, "connection reset (blip)");
          resolve();
        }
      }, 5);
    });
    const r = await waiting;
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(cp1.runningVersion, "v1.13.9");
    assert.ok(
      cp1.calls.some((x) => x.method === "Version" && x.code === grpc.status.UNAVAILABLE),
      "the blip happened",
    );
  });

  it("a stale Ready status does not pass the gate: the next node waits for the new boot id and the uncordon", async () => {
    c.staleReadyMs = 500;
    const r = await rollout(c, initialState(c, OLD), NEW);
    assert.equal(r.error, undefined, r.error?.message);
    for (let k = 1; k < SPECS.length; k++) {
      const prev = SPECS[k - 1]!.name;
      const next = c.node(SPECS[k]!.name).callsOf("Upgrade")[0]!.at;
      assert.ok(next >= c.bootedAt.get(prev)!, `${SPECS[k]!.name} started before ${prev} was Ready again`);
    }
    for (const s of SPECS) assert.equal(c.kube.node(s.name)?.unschedulable, false);
  });

  it("an Upgrade the node refuses (bad installer image) fails at once, without retries", async () => {
    c.node("cp-1").upgrade = { refuse: "error validating installer image: manifest unknown" };
    const t0 = Date.now();
    const r = await rollout(c, initialState(c, OLD), NEW, { timeoutSeconds: 60 });
    assert.match(
      r.error?.message ?? "",
      /rollout stopped at node cp-1: upgrade refused: .*error validating installer image/,
    );
    assert.equal(c.node("cp-1").callsOf("Upgrade").length, 1);
    assert.ok(Date.now() - t0 < 10_000, "no retry loop until the 60 s bound");
    assert.equal(c.node("cp-2").callsOf("Upgrade").length, 0);
  });

  it("an Upgrade answered only after the image pull (Talos 1.11+) is waited for", async () => {
    c.node("cp-1").upgrade = { replyAfterMs: 1500 };
    const r = await rollout(c, initialState(c, OLD), NEW);
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(c.node("cp-1").callsOf("Upgrade").length, 1);
    assert.equal(c.node("cp-1").runningVersion, "v1.13.9");
  });

  it("a state from before upgrades were managed (no installImage) still sees an extension change", async () => {
    const s = SPECS[0]!;
    const old = c.state(s, OLD);
    delete old.installImage;
    const ext: Versions = { ...OLD, schematic: "b".repeat(64) };
    assert.equal(applyLogic.diff(old, c.applyInputs(s, OLD)).changes, false, "unchanged: no diff");
    assert.ok(applyLogic.diff(old, c.applyInputs(s, ext)).changes, "new schematic: a diff");
    await applyLogic.update(old, c.applyInputs(s, ext), deps);
    assert.equal(c.node("cp-1").callsOf("Upgrade")[0]?.request.image, image("1.12.6", "b".repeat(64)));
  });

  it("a node upgraded by a run that died before recording it is not upgraded again", async () => {
    const state = initialState(c, OLD);
    // Simulate: cp-1 runs the new version already, its state still says the old one.
    c.node("cp-1").version = "v1.13.9";
    const r = await rollout(c, state, NEW);
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(c.node("cp-1").callsOf("Upgrade").length, 0);
    assert.equal(c.node("cp-2").callsOf("Upgrade").length, 1);
  });

  it("an extension change (same version, new schematic) upgrades every node to the new image", async () => {
    const ext: Versions = { ...OLD, schematic: "a".repeat(64) };
    const r = await rollout(c, initialState(c, OLD), ext);
    assert.equal(r.error, undefined, r.error?.message);
    for (const s of SPECS) {
      assert.equal(c.node(s.name).callsOf("Upgrade")[0]?.request.image, image("1.12.6", "a".repeat(64)));
      assert.equal(downIntervals(c.node(s.name)).length, 1, `${s.name} rebooted`);
    }
  });

  it("etcd without quorum to spare stops the rollout before the first node is touched", async () => {
    c.node("cp-3").etcdHealthy = false;
    const r = await rollout(c, initialState(c, OLD), NEW, { timeoutSeconds: 2 });
    assert.match(
      r.error?.message ?? "",
      /rollout stopped at node cp-1: etcd must be healthy with quorum to spare/,
    );
    assert.match(r.error?.message ?? "", /cp-3/);
    for (const s of SPECS) assert.equal(c.node(s.name).callsOf("Upgrade").length, 0);
  });

  it("an unsupported upgrade path is refused before any RPC (check, and update itself)", async () => {
    const from: Versions = { talos: "1.10.7", kubernetes: "1.33.5" };
    const to: Versions = { talos: "1.13.9", kubernetes: "1.33.5" };
    const s = SPECS[0]!;
    const olds = c.state(s, from);
    const news = c.applyInputs(s, to);
    const failures = applyLogic.checkUpgrade(olds, news);
    assert.deepEqual(
      failures.map((f) => f.property),
      ["talosVersion"],
    );
    assert.match(
      failures[0]!.reason,
      /node cp-1: Talos 1\.13\.9 cannot be reached from 1\.10\.7: upgrade to 1\.11\.0 or later first/,
    );
    const viaProvider = await machineConfigApplyProvider.check!(olds, news);
    assert.equal(viaProvider.failures?.length, 1);
    const before = c.node("cp-1").calls.length;
    await assert.rejects(applyLogic.update(olds, news, deps), /cannot be reached from 1\.10\.7/);
    assert.equal(c.node("cp-1").calls.length, before, "no RPC at all");
    // A downgrade, too.
    assert.match(
      applyLogic.checkUpgrade(c.state(s, NEW), c.applyInputs(s, OLD))[0]?.reason ?? "",
      /downgrades are not supported/,
    );
  });

  it("the version the node reports is checked too: a node on an older Talos than recorded is refused", async () => {
    c.node("cp-1").version = "v1.10.7";
    const r = await rollout(c, initialState(c, OLD), NEW);
    assert.match(r.error?.message ?? "", /cp-1: Talos 1\.13\.9 cannot be reached from 1\.10\.7/);
    assert.equal(c.node("cp-1").callsOf("Upgrade").length, 0);
  });
});

describe("day 2: rolling Kubernetes upgrade (fake nodes)", function () {
  this.timeout(120_000);
  let c: FakeCluster;
  const K_OLD: Versions = { talos: "1.13.9", kubernetes: "1.35.2" };
  const K_NEW: Versions = { talos: "1.13.9", kubernetes: "1.36.3" };

  beforeEach(async () => {
    c = await FakeCluster.start(SPECS, K_OLD, { rebootDelayMs: 100 });
  });
  afterEach(async () => {
    await c.close();
  });

  it("rolls the new kubelet and control-plane images node by node, control planes first, each Ready on the new kubelet", async () => {
    // The kubelet restarts after the apply: NotReady for a moment, then Ready on the new version.
    for (const s of SPECS) assert.equal(c.kube.node(s.name)?.kubeletVersion, "v1.35.2");
    const state = initialState(c, K_OLD);
    const r = await rollout(c, state, K_NEW);
    assert.equal(r.error, undefined, r.error?.message);
    const applyAt = (name: string) => c.node(name).callsOf("ApplyConfiguration").at(-1)!.at;
    const order = [...SPECS].sort((a, b) => applyAt(a.name) - applyAt(b.name)).map((s) => s.name);
    assert.deepEqual(order, ["cp-1", "cp-2", "cp-3", "w-1", "w-2"]);
    for (const s of SPECS) {
      assert.equal(c.node(s.name).callsOf("Upgrade").length, 0, "no Talos upgrade");
      assert.equal(c.kube.node(s.name)?.kubeletVersion, "v1.36.3");
      assert.match(c.node(s.name).appliedConfig?.yaml ?? "", /kubelet:v1\.36\.3/);
    }
    const cp = c.node("cp-1").appliedConfig?.yaml ?? "";
    assert.match(cp, /kube-apiserver:v1\.36\.3/);
    assert.match(cp, /kube-controller-manager:v1\.36\.3/);
    assert.match(cp, /kube-scheduler:v1\.36\.3/);
  });

  it("a node whose kubelet never reports the new version stops the rollout there", async () => {
    // cp-2's kubelet "fails": the fake API keeps its old version.
    const kube = c.kube;
    const orig = kube.setNode.bind(kube);
    kube.setNode = (name, spec) =>
      orig(name, name === "cp-2" ? { ...spec, kubeletVersion: "v1.35.2" } : spec);
    const r = await rollout(c, initialState(c, K_OLD), K_NEW, { timeoutSeconds: 2 });
    assert.match(r.error?.message ?? "", /rollout stopped at node cp-2: not Ready in Kubernetes/);
    assert.match(r.error?.message ?? "", /kubelet 1\.36\.3 and schedulable; last seen: .*kubelet v1\.35\.2/);
    assert.equal(c.node("cp-3").callsOf("ApplyConfiguration").length, 0);
  });

  it("refuses a skip of more than one minor version, and minor downgrades", () => {
    assert.match(
      applyLogic.kubernetesUpgradeError("1.34.1", "1.36.3") ?? "",
      /skips a minor version; upgrade one minor at a time \(1\.35\.x first\)/,
    );
    assert.equal(applyLogic.kubernetesUpgradeError("1.35.2", "1.36.3"), undefined);
    assert.equal(applyLogic.kubernetesUpgradeError("1.36.3", "1.36.1"), undefined, "patch moves are fine");
    assert.match(
      applyLogic.kubernetesUpgradeError("1.36.3", "1.35.2") ?? "",
      /minor downgrades are not supported/,
    );
    const s = SPECS[0]!;
    const failures = applyLogic.checkUpgrade(
      c.state(s, { talos: "1.13.9", kubernetes: "1.34.1" }),
      c.applyInputs(s, K_NEW),
    );
    assert.deepEqual(
      failures.map((f) => f.property),
      ["kubernetesVersion"],
    );
  });
});
