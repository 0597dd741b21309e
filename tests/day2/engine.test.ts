/**
 * Day 2 through the REAL engine (built by `npm run engine`): TalosCluster on 3 control planes + 2
 * workers of fake Talos nodes (shared etcd) with a fake Kubernetes API, each node behind a fake
 * "VM" dynamic resource whose delete is logged. Up on Talos 1.12.6; a talosVersion change previews
 * as an upgrade per node and `up` performs it in rollout order (control planes never down
 * together); a second preview shows no changes; removing cp-3 drains it and removes its etcd member
 * before the engine deletes its VM; destroy skips the per-node ceremony. A rolling upgrade into the
 * newest supported Talos minor (1.13 → 1.14: a new config layout) runs through the engine too.
 * Skipped without the engine.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { talosUpgradeError } from "../../components/compat";
import * as clientConfigsLogic from "../../components/talos/resources/logic/client-configs";
import { TALOS_MINORS } from "../../components/talos-minors";
import { changes } from "../helpers/engine";
import { engineClusterSuite } from "../helpers/engine-cluster";
import { downIntervals, FIVE_NODES, type NodeSpec } from "./harness";

const SPECS = FIVE_NODES;

/** A stand-in for a VM: its delete appends `<time> delete <name>` to a log file. */
const vmProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: Record<string, string>) {
    return { id: `vm-${inputs.name}`, outs: inputs };
  },
  async delete(_id: string, props: Record<string, string>) {
    (require("node:fs") as typeof fs).appendFileSync(props.log!, `${Date.now()} delete ${props.name}\n`);
  },
};
class FakeVm extends pulumi.dynamic.Resource {
  constructor(name: string, args: { name: string; log: string }) {
    super(vmProvider, name, args, {}, "test", "FakeVm");
  }
}

describe("day 2 under the real engine: upgrade plan, rolling upgrade, scale-down, fast destroy", function () {
  this.timeout(600_000);
  let talosVersion = "1.12.6";
  let members: readonly NodeSpec[] = SPECS;
  const world = engineClusterSuite({
    stackName: "day2",
    specs: SPECS,
    rebootDelayMs: 400,
    program: async (w) => {
      const c = w.cluster({
        talosVersion,
        nodes: members.map((s) => ({
          ...w.nodeArgs(s),
          dependsOn: [new FakeVm(`vm-${s.name}`, { name: s.name, log: vmLog() })],
        })),
      });
      return { kubeconfigExpiresAt: c.kubeconfigExpiresAt };
    },
  });
  const { etcd } = world;
  const vmLog = () => path.join(world.dir, "vm.log");

  before(async () => {
    fs.writeFileSync(vmLog(), "");
    world.kube.addPod("default", "web-1", "cp-3", { owner: { kind: "ReplicaSet", name: "web" } });
    // The admin kubeconfig the cluster will generate is signed by the same CA the fake trusts.
    assert.ok(
      (
        await clientConfigsLogic.generate({
          secretsYaml: world.secretsYaml,
          clusterName: "x",
          endpoint: world.kube.url,
          endpoints: ["127.0.0.1"],
        })
      ).kubeconfig,
    );
  });

  const node = (name: string) => world.node(name);
  const count = (method: string) => world.count(method);

  it("up on Talos 1.12.6 brings the cluster up from maintenance mode", async () => {
    const { stack } = world;
    let out = "";
    const r = await stack.up({ onOutput: (s) => (out += s) });
    assert.equal(r.summary.result, "succeeded", out);
    for (const s of SPECS) assert.equal(node(s.name).runningVersion, "v1.12.6");
    assert.deepEqual(etcd.hostnames().sort(), ["cp-1", "cp-2", "cp-3"]);
  });

  it("a talosVersion change previews as an upgrade of every node, with the image diff per node", async () => {
    const { stack } = world;
    talosVersion = "1.13.9";
    const events: EngineEvent[] = [];
    const p = await stack.preview({ diff: true, onEvent: (e) => events.push(e) });
    const planned = events
      .map((e) => e.resourcePreEvent?.metadata)
      .filter((m) => m?.type === "pulumi-nodejs:dynamic/talos:MachineConfigApply");
    assert.deepEqual(
      planned.map((m) => `${m!.urn.split("::").pop()}:${m!.op}`).sort(),
      SPECS.map((s) => `talos-apply-${s.name}:update`),
    );
    // Per node, the --diff output shows the image change and the redacted view's changed key.
    for (const spec of SPECS) {
      const at = p.stdout.indexOf(`talos-apply-${spec.name}]`);
      assert.ok(at >= 0, `${spec.name} in the preview:\n${p.stdout}`);
      const next = p.stdout.indexOf("[urn=", at + 10);
      const block = p.stdout.slice(at, next < 0 ? undefined : next);
      assert.match(block, /installImage\s*:\s*"[^"]+:v1\.12\.6" => "[^"]+:v1\.13\.9"/, block);
      assert.match(block, /configView/, block);
      assert.match(block, /image: factory\.talos\.dev\/nocloud-installer\/[0-9a-f]+:v1\.13\.9/, block);
      assert.ok(!/<redacted hmac:[0-9a-f]{8}> =>|[+-] +token: <redacted/.test(block), "no secret changed");
    }
    const sample = p.stdout.slice(p.stdout.indexOf("talos-apply-cp-1]"));
    console.log("      preview --diff of cp-1 (excerpt):");
    for (const l of sample
      .split("\n")
      .filter((x) => /installImage|[-+] +image: factory/.test(x))
      .slice(0, 3))
      console.log(`        ${l.trim()}`);
    assert.ok(!/BEGIN .*PRIVATE KEY/.test(p.stdout), "the preview shows no key material");
    assert.deepEqual(count("Upgrade"), [0, 0, 0, 0, 0], "preview touches no node");
  });

  it("up performs the upgrade in rollout order: control planes one at a time, then workers", async () => {
    const { stack } = world;
    const t0 = Date.now();
    let out = "";
    const r = await stack.up({ onOutput: (s) => (out += s) });
    assert.equal(r.summary.result, "succeeded", out);
    const took = Date.now() - t0;
    assert.deepEqual(count("Upgrade"), [1, 1, 1, 1, 1]);
    const at = (name: string) => node(name).callsOf("Upgrade")[0]!.at;
    assert.deepEqual(
      [...SPECS].sort((a, b) => at(a.name) - at(b.name)).map((s) => s.name),
      SPECS.map((s) => s.name),
    );
    const down = SPECS.map((s) => downIntervals(node(s.name)).at(-1)!);
    for (let k = 1; k < down.length; k++)
      assert.ok(down[k - 1]![1] <= down[k]![0], `${SPECS[k]!.name} waited for the one before`);
    for (const s of SPECS) assert.equal(node(s.name).runningVersion, "v1.13.9");
    console.log(
      `      rolling upgrade of 5 nodes through the engine: ${(took / 1000).toFixed(1)} s (5 × 0.4 s simulated reboots)`,
    );
    assert.match(out, /rollout: upgrading cp-1 from v1\.12\.6/);
  });

  it("a second preview shows no changes", async () => {
    const { stack } = world;
    const p = await stack.preview();
    assert.deepEqual(changes(p.changeSummary), [], JSON.stringify(p.changeSummary));
  });

  it("a node that fails to come back stops the engine's rollout there; a re-run resumes", async () => {
    const { stack } = world;
    talosVersion = "1.13.10";
    node("cp-2").upgrade = { fail: "down" };
    const before = count("Upgrade");
    let out = "";
    await assert.rejects(stack.up({ onOutput: (s) => (out += s) }), (e: Error) =>
      /rollout stopped at node cp-2: did not come back on v1\.13\.10/.test(`${e.message}${out}`),
    );
    const after = count("Upgrade").map((n, k) => n - before[k]!);
    assert.deepEqual(after, [1, 1, 0, 0, 0], "cp-1 and cp-2 tried, the rest untouched");
    for (const name of ["cp-3", "w-1", "w-2"]) assert.equal(node(name).runningVersion, "v1.13.9");
    // The machine is repaired (boots again, still on the old version); the next up resumes.
    node("cp-2").upgrade = {};
    await node("cp-2").reboot("normal");
    const r = await stack.up();
    assert.equal(r.summary.result, "succeeded");
    const resumed = count("Upgrade").map((n, k) => n - before[k]!);
    assert.deepEqual(resumed, [1, 2, 1, 1, 1], "cp-1 is not upgraded again");
    for (const s of SPECS) assert.equal(node(s.name).runningVersion, "v1.13.10");
    const p = await stack.preview();
    assert.deepEqual(changes(p.changeSummary), []);
  });

  it("a rolling upgrade into the newest Talos minor (its own config layout) runs through the engine", async () => {
    const { stack } = world;
    // The newest row and its example release: 1.13 → 1.14 switches every node to the fully
    // multi-document config (UnattendedInstallConfig, KubeletConfig …) in the same step.
    const newest = TALOS_MINORS[TALOS_MINORS.length - 1]!;
    assert.equal(talosUpgradeError(talosVersion, newest.machineryRelease), undefined);
    talosVersion = newest.machineryRelease;
    const before = count("Upgrade");
    let out = "";
    const r = await stack.up({ onOutput: (s) => (out += s) });
    assert.equal(r.summary.result, "succeeded", out);
    assert.deepEqual(
      count("Upgrade").map((n, k) => n - before[k]!),
      [1, 1, 1, 1, 1],
    );
    for (const s of SPECS) {
      assert.equal(node(s.name).runningVersion, `v${newest.machineryRelease}`);
      const applied = node(s.name).appliedConfig!.yaml;
      assert.match(applied, /kind: UnattendedInstallConfig/, `${s.name} got the ${newest.minor} layout`);
      assert.match(applied, /kind: KubeletConfig/);
    }
    const p = await stack.preview();
    assert.deepEqual(changes(p.changeSummary), []);
  });

  it("removing cp-3 drains it and removes its etcd member before the engine deletes its VM", async () => {
    const { stack, kube } = world;
    members = SPECS.filter((s) => s.name !== "cp-3");
    const r = await stack.up();
    assert.equal(r.summary.result, "succeeded");
    assert.deepEqual(etcd.hostnames().sort(), ["cp-1", "cp-2"]);
    const removeAt = [node("cp-1"), node("cp-2")]
      .flatMap((n) => n.callsOf("EtcdRemoveMemberByID"))
      .map((c) => c.at);
    assert.equal(removeAt.length, 1);
    const evictAt = kube.calls.find((c) => c.path.endsWith("/pods/web-1/eviction"))!.at;
    const resetAt = node("cp-3").callsOf("Reset")[0]!.at;
    const vmDeleted = fs
      .readFileSync(vmLog(), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split(" "))
      .filter((p) => p[2] === "cp-3")
      .map((p) => Number(p[0]));
    assert.equal(vmDeleted.length, 1, "the VM of cp-3 was deleted");
    assert.ok(evictAt < removeAt[0]!, "drained first");
    assert.ok(removeAt[0]! < resetAt && resetAt < vmDeleted[0]!, "etcd member → reset → VM delete");
    assert.equal(kube.node("cp-3"), undefined);
    assert.ok(!fs.readFileSync(vmLog(), "utf8").includes("delete cp-1"), "no other VM deleted");
  });

  it("destroy removes everything without the per-node ceremony", async () => {
    const { stack } = world;
    const resets = count("Reset");
    const removes = count("EtcdRemoveMemberByID");
    const t0 = Date.now();
    const r = await stack.destroy();
    assert.equal(r.summary.result, "succeeded");
    assert.deepEqual(count("Reset"), resets);
    assert.deepEqual(count("EtcdRemoveMemberByID"), removes);
    const log = fs.readFileSync(vmLog(), "utf8");
    for (const s of members) assert.match(log, new RegExp(`delete ${s.name}\\n`));
    console.log(`      destroy of the 4-node cluster: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
