/**
 * Issue #19 through the REAL engine (built by `npm run engine`): a PRODUCTION TalosCluster on fake
 * Talos nodes (cp-1, w-1, w-2; shared etcd) with a fake Kubernetes API, each node behind a fake
 * "VM" whose identity the test controls.
 *
 * - removing w-2 → `up` fails in ClusterMembership's check: no RPC reached any node, the fake
 *   Kubernetes API saw no call, the state is unchanged; with `allowNodeRemoval` the removal
 *   ceremony (drain, reset, Node delete) runs as it does without production;
 * - a changed talosSecrets → `up` fails before anything is touched, the bundle and talosconfig stay;
 * - w-1 "loses its disk" (boots into maintenance mode): with its VM identity unchanged, a config
 *   change fails naming w-1 (never a silent unauthenticated re-apply); with a new VM identity (a
 *   replaced VM), `up` re-applies it through the maintenance API and re-runs the readiness gate;
 * - destroy: the protected MachineSecrets/ClientConfigs stay.
 *
 * Prints each scenario's wall time. Skipped without the engine.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { generateSecretsBundle, serializeSecretsYaml } from "../../components/talos/pki/secrets";
import type { NodeSpec } from "../day2/harness";
import { engineClusterSuite } from "../helpers/engine-cluster";

const SPECS: readonly NodeSpec[] = [
  { name: "cp-1", role: "controlplane" },
  { name: "w-1", role: "worker" },
  { name: "w-2", role: "worker" },
];
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** A stand-in VM whose id is its identity (the test "replaces" it by changing `generation`). */
const vmProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: Record<string, string>) {
    return { id: `vm-${inputs.name}-${inputs.generation}`, outs: inputs };
  },
  async diff(_id: string, olds: Record<string, string>, news: Record<string, string>) {
    const replace = olds.generation !== news.generation;
    return { changes: replace, replaces: replace ? ["generation"] : [], deleteBeforeReplace: true };
  },
  async delete() {},
};
class FakeVm extends pulumi.dynamic.Resource {
  declare readonly generation: pulumi.Output<string>;
  constructor(name: string, args: { name: string; generation: string }) {
    super(vmProvider, name, { ...args }, {}, "test", "FakeVm");
  }
}

/** The state's resources, secrets masked (their ciphertext is not what we compare). */
function stateShape(deployment: unknown): string[] {
  const mask = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(mask);
    if (v && typeof v === "object") {
      const r = v as Record<string, unknown>;
      if (r[SECRET_SIG] !== undefined) return "<secret>";
      // The serialized provider code is the same every run and only noise here.
      return Object.fromEntries(
        Object.entries(r)
          .filter(([k]) => k !== "__provider")
          .map(([k, x]) => [k, mask(x)]),
      );
    }
    return v;
  };
  const resources =
    (deployment as { deployment?: { resources?: { urn: string; outputs?: unknown }[] } }).deployment
      ?.resources ?? [];
  // Sorted: a failed update may write the same resources in another order.
  return resources.map((r) => `${r.urn} ${JSON.stringify(mask(r.outputs ?? {}))}`).sort();
}

describe("production guards under the real engine (#19)", function () {
  this.timeout(600_000);
  let members: readonly NodeSpec[] = SPECS;
  let allowNodeRemoval = false;
  const generation: Record<string, string> = { "cp-1": "a", "w-1": "a", "w-2": "a" };
  const patches: Record<string, unknown[]> = {};
  const timings: string[] = [];
  const world = engineClusterSuite({
    stackName: "prod",
    specs: SPECS,
    program: async (w) => {
      const c = w.cluster({
        talosVersion: "1.12.6",
        nodes: members.map((s) => {
          const vm = new FakeVm(`vm-${s.name}`, { name: s.name, generation: generation[s.name]! });
          return {
            ...w.nodeArgs(s),
            dependsOn: [vm],
            identity: vm.id,
            patches: (patches[s.name] ?? []) as Record<string, unknown>[],
          };
        }),
        applyTimeoutSeconds: 30,
        readyTimeoutSeconds: 30,
        production: true,
        allowNodeRemoval,
      });
      return { talosconfig: c.talosconfig };
    },
  });

  const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await f();
    } finally {
      const line = `${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`;
      timings.push(line);
      console.log(`      ${line}`);
    }
  };
  const allCalls = () => [...world.nodes.values()].reduce((n, x) => n + x.calls.length, 0);
  const node = (name: string) => world.node(name);

  before(() => {
    world.kube.addPod("default", "web-1", "w-2", { owner: { kind: "ReplicaSet", name: "web" } });
  });

  after(() => {
    if (timings.length > 0)
      fs.writeFileSync(path.join(os.tmpdir(), "issue-19-engine-timings.txt"), `${timings.join("\n")}\n`);
  });

  it("up brings the production cluster up", async () => {
    const { stack } = world;
    let out = "";
    const r = await timed("up (3 nodes, production)", () => stack.up({ onOutput: (s) => (out += s) }));
    assert.equal(r.summary.result, "succeeded", out);
  });

  it("removing w-2 fails before anything is touched: no RPC, no Kubernetes call, state unchanged", async () => {
    const { stack, kube } = world;
    const before = stateShape(await stack.exportStack());
    const calls = allCalls();
    const kubeCalls = kube.calls.length;
    members = SPECS.filter((s) => s.name !== "w-2");
    let out = "";
    await timed("refused scale-down (up fails)", () =>
      assert.rejects(stack.up({ onOutput: (s) => (out += s) }), (e: Error) =>
        /removing w-2 from a production stack needs an explicit allowance.*rollout\.allowNodeRemoval/.test(
          `${e.message}${out}`,
        ),
      ),
    );
    assert.equal(allCalls(), calls, "no Talos RPC reached any node");
    const destructive = ["Reset", "EtcdRemoveMemberByID", "EtcdLeaveCluster", "Reboot", "Upgrade"];
    for (const s of SPECS)
      for (const m of destructive) assert.equal(node(s.name).callsOf(m).length, 0, `${m} on ${s.name}`);
    assert.equal(kube.calls.length, kubeCalls, "no Kubernetes call (no cordon, no eviction)");
    assert.deepEqual(stateShape(await stack.exportStack()), before, "state unchanged");
    assert.ok(kube.node("w-2"), "the Kubernetes node is still there");
  });

  it("with rollout.allowNodeRemoval the removal ceremony runs as without production", async () => {
    const { stack, kube } = world;
    allowNodeRemoval = true;
    const r = await timed("allowed scale-down of w-2 (drain, reset)", () => stack.up());
    assert.equal(r.summary.result, "succeeded");
    assert.equal(node("w-2").callsOf("Reset").length, 1, "w-2 reset");
    assert.ok(
      kube.calls.some((c) => c.path.endsWith("/pods/web-1/eviction")),
      "drained",
    );
    assert.equal(kube.node("w-2"), undefined, "Kubernetes node deleted");
    allowNodeRemoval = false;
  });

  it("a changed talosSecrets is refused before anything is touched; bundle and talosconfig stay", async () => {
    const { stack } = world;
    const talosconfig = (await stack.outputs()).talosconfig?.value;
    const before = stateShape(await stack.exportStack());
    const calls = allCalls();
    const original = world.secretsYaml;
    world.secretsYaml = serializeSecretsYaml(await generateSecretsBundle());
    let out = "";
    try {
      await timed("refused talosSecrets change (up fails)", () =>
        assert.rejects(stack.up({ onOutput: (s) => (out += s) }), (e: Error) =>
          /refusing to change talosSecrets.*allowTalosSecretsReplacement/.test(`${e.message}${out}`),
        ),
      );
    } finally {
      world.secretsYaml = original;
    }
    assert.equal(allCalls(), calls, "no Talos RPC");
    assert.deepEqual(stateShape(await stack.exportStack()), before, "state unchanged");
    assert.equal((await stack.outputs()).talosconfig?.value, talosconfig);
  });

  it("a node that lost its disk is never re-applied silently: a config change fails naming it", async () => {
    const { stack } = world;
    await node("w-1").reboot("maintenance");
    const maintenanceBefore = node("w-1")
      .callsOf("ApplyConfiguration")
      .filter((c) => c.mode === "maintenance").length;
    patches["w-1"] = [{ machine: { sysctls: { "net.core.somaxconn": "65535" } } }];
    let out = "";
    await timed("lost disk, same VM (up fails)", () =>
      assert.rejects(stack.up({ onOutput: (s) => (out += s) }), (e: Error) =>
        /node w-1 .* was configured before and now answers only in maintenance mode.*--target-replace/.test(
          `${e.message}${out}`,
        ),
      ),
    );
    assert.equal(
      node("w-1")
        .callsOf("ApplyConfiguration")
        .filter((c) => c.mode === "maintenance").length,
      maintenanceBefore,
      "no unauthenticated apply",
    );
  });

  it("a replaced VM (new identity) is configured again and re-gated", async () => {
    const { stack } = world;
    generation["w-1"] = "b";
    const maintenanceBefore = node("w-1")
      .callsOf("ApplyConfiguration")
      .filter((c) => c.mode === "maintenance").length;
    const events: EngineEvent[] = [];
    const r = await timed("replaced VM of w-1: re-apply + readiness gate", () =>
      stack.up({ onEvent: (e) => events.push(e) }),
    );
    assert.equal(r.summary.result, "succeeded");
    const maintenanceApplies = node("w-1")
      .callsOf("ApplyConfiguration")
      .filter((c) => c.mode === "maintenance");
    assert.equal(
      maintenanceApplies.length,
      maintenanceBefore + 1,
      "w-1 configured again through the maintenance API",
    );
    assert.equal(node("w-1").mode, "normal");
    const ops = events
      .map((e) => e.resourcePreEvent?.metadata)
      .filter((m): m is NonNullable<typeof m> => m !== undefined && m.op !== "same")
      .map((m) => `${m.urn.split("::").pop()}:${m.op}`);
    assert.ok(
      ops.some((o) => /^talos-apply-w-1:(replace|create-replacement)$/.test(o)),
      ops.join(", "),
    );
    assert.ok(ops.includes("talos-ready:update"), `readiness gate re-run: ${ops.join(", ")}`);
    assert.ok(!ops.some((o) => o.startsWith("talos-apply-cp-1:")), "cp-1 untouched");
    delete patches["w-1"];
  });

  it("destroy keeps the protected cluster identity", async () => {
    const { stack } = world;
    await timed("destroy of a production stack (refused by protect)", () =>
      assert.rejects(stack.destroy(), /protect/),
    );
    const left = stateShape(await stack.exportStack()).map((l) => l.split(" ")[0]!.split("::").pop());
    assert.ok(left.includes("talos-secrets"), left.join(", "));
    assert.ok(left.includes("talos-client-configs"), left.join(", "));
  });
});
