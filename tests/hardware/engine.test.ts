/**
 * Boot-security changes through the REAL engine (built by `npm run engine`): TalosCluster on one
 * control plane and two workers of fake Talos nodes, each behind a stand-in "VM" carrying the
 * node's boot-security profile as its replacement trigger, as ProxmoxNodes does. Changing a
 * worker's disk encryption previews as a replacement of that node's VM and config apply (and of no
 * other node); a control plane's change, and a production stack's without the node-removal
 * allowance, are refused at preview naming the node. Skipped without the engine.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { bootSecurityProfile } from "../../components/hardware/node-image";
import { engineClusterSuite } from "../helpers/engine-cluster";

const SPECS = [
  { name: "cp-1", role: "controlplane" },
  { name: "w-1", role: "worker" },
  { name: "w-2", role: "worker" },
] as const;
type Encryption = "none" | "nodeID";

const vmProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: Record<string, string>) {
    return { id: `vm-${inputs.name}`, outs: inputs };
  },
};
/** A stand-in for a node's VM, replaced when its boot-security profile changes (as ProxmoxNodes' VMs are). */
class FakeVm extends pulumi.dynamic.Resource {
  constructor(name: string, args: { name: string }, profile: string) {
    super(vmProvider, name, args, { replacementTrigger: profile }, "test", "FakeVm");
  }
}

describe("boot-security changes under the real engine: per-node replacement at preview", function () {
  this.timeout(600_000);
  const encryption: Record<string, Encryption> = { "cp-1": "none", "w-1": "none", "w-2": "none" };
  let allowReinstall = true;
  const world = engineClusterSuite({
    stackName: "hardware",
    specs: SPECS,
    program: async (w) => {
      w.cluster({
        talosVersion: "1.12.6",
        nodes: SPECS.map((s) => {
          const profile = bootSecurityProfile({ secureBoot: false, diskEncryption: encryption[s.name]! });
          return {
            ...w.nodeArgs(s),
            hardware: { diskEncryption: encryption[s.name] },
            bootSecurity: profile,
            reinstallable: true,
            dependsOn: [new FakeVm(`vm-${s.name}`, { name: s.name }, profile)],
          };
        }),
        allowReinstall,
      });
      return {};
    },
  });

  before(async () => {
    let out = "";
    const r = await world.stack.up({ onOutput: (s) => (out += s) });
    assert.equal(r.summary.result, "succeeded", out);
  });

  /** `name:op` of every step the preview plans for VMs and applies (same steps: no changes). */
  async function plannedOps(): Promise<string[]> {
    const events: EngineEvent[] = [];
    await world.stack.preview({ diff: true, onEvent: (e) => events.push(e) });
    return events
      .map((e) => e.resourcePreEvent?.metadata)
      .filter((m) => m && /FakeVm|MachineConfigApply/.test(m.type) && m.op !== "same")
      .map((m) => `${m!.urn.split("::").pop()}:${m!.op}`)
      .sort();
  }

  it("a worker's disk-encryption change previews as a replacement of its VM and apply, nothing else", async () => {
    encryption["w-1"] = "nodeID";
    const ops = await plannedOps();
    assert.ok(ops.includes("talos-apply-w-1:replace"), ops.join("\n"));
    assert.ok(ops.includes("vm-w-1:replace"), ops.join("\n"));
    assert.ok(!ops.some((o) => /w-2|cp-1/.test(o)), ops.join("\n"));
    assert.ok(!ops.includes("talos-apply-w-1:update"), "never an in-place apply");
    encryption["w-1"] = "none";
  });

  it("a control plane's change is refused at preview, naming the node", async () => {
    encryption["cp-1"] = "nodeID";
    await assert.rejects(world.stack.preview(), (e: Error) =>
      /node cp-1: boot security .*etcd member/s.test(e.message),
    );
    encryption["cp-1"] = "none";
  });

  it("without the allowance (production) a worker's change is refused at preview", async () => {
    allowReinstall = false;
    encryption["w-2"] = "nodeID";
    await assert.rejects(world.stack.preview(), (e: Error) =>
      /node w-2: .*rollout\.allowNodeRemoval: true/s.test(e.message),
    );
    encryption["w-2"] = "none";
    allowReinstall = true;
  });

  it("unchanged boot security previews no changes", async () => {
    assert.deepEqual(await plannedOps(), []);
  });
});
