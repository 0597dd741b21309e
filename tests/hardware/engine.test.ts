/**
 * Boot-security changes through the REAL engine (built by `npm run engine`): TalosCluster on one
 * control plane and two workers of fake Talos nodes, each behind a stand-in "VM" carrying the
 * node's boot-security profile as its replacement trigger, as ProxmoxNodes does. Changing a
 * worker's disk encryption previews as a replacement of that node's VM and config apply (and of no
 * other node); a control plane's change, and a production stack's without the node-removal
 * allowance, are refused at preview naming the node. Skipped without the engine.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { bootSecurityProfile } from "../../components/hardware/node-image";
import { generateSecretsBundle, serializeSecretsYaml } from "../../components/talos/pki/secrets";
import { TalosCluster } from "../../components/talos/talos-cluster";
import { image, TEST_NETWORK } from "../day2/harness";
import { FakeKubeApi } from "../fakes/kube-api";
import { FakeEtcdCluster, FakeTalosNode } from "../fakes/talos-node";
import { ENGINE_BIN, engineBuilt, inlineStack } from "../helpers/engine";

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
  let dir = "";
  let stack: Stack | undefined;
  let kube: FakeKubeApi | undefined;
  const nodes = new Map<string, FakeTalosNode>();
  const etcd = new FakeEtcdCluster();
  const encryption: Record<string, Encryption> = { "cp-1": "none", "w-1": "none", "w-2": "none" };
  let allowReinstall = true;

  before(async function () {
    if (!engineBuilt()) {
      console.log(`      skipped: no built engine in ${ENGINE_BIN} (run npm run engine)`);
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hw-engine-"));
    const bundle = await generateSecretsBundle();
    const secretsYaml = serializeSecretsYaml(bundle);
    kube = await FakeKubeApi.start({ ca: bundle.certs.k8s });
    const k = kube;
    for (const s of SPECS) {
      nodes.set(
        s.name,
        await FakeTalosNode.start({
          hostname: s.name,
          osCa: bundle.certs.os,
          etcd,
          rebootDelayMs: 200,
          onChange: (n) => k.setNode(n.hostname, { ready: true, kubeletVersion: n.kubeletVersion }),
        }),
      );
      kube.addNode(s.name, { ready: true, kubeletVersion: "v1.35.2" });
    }
    const program = async () => {
      new TalosCluster("talos", {
        clusterName: "homelab",
        endpoint: k.url,
        vip: "127.0.0.5",
        talosVersion: "1.12.6",
        kubernetesVersion: "1.35.2",
        installImage: image("1.12.6"),
        nodes: SPECS.map((s) => {
          const profile = bootSecurityProfile({ secureBoot: false, diskEncryption: encryption[s.name]! });
          return {
            ...s,
            ip: "127.0.0.1",
            apiAddress: nodes.get(s.name)!.address,
            hardware: { diskEncryption: encryption[s.name] },
            bootSecurity: profile,
            reinstallable: true,
            // Fresh fake machines in maintenance mode: the unauthenticated first apply is allowed.
            newMachine: true,
            dependsOn: [new FakeVm(`vm-${s.name}`, { name: s.name }, profile)],
          };
        }),
        network: TEST_NETWORK,
        allowSchedulingOnControlPlanes: false,
        openebsHostpath: false,
        importedSecrets: pulumi.secret(secretsYaml),
        applyTimeoutSeconds: 60,
        readyTimeoutSeconds: 60,
        allowReinstall,
        rollout: { nodeTimeoutSeconds: 20, drainTimeoutSeconds: 30 },
      });
      return {};
    };
    stack = await inlineStack({ dir, stackName: "hardware", program });
    let out = "";
    const r = await stack.up({ onOutput: (s) => (out += s) });
    assert.equal(r.summary.result, "succeeded", out);
  });

  after(async () => {
    if (stack) await stack.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
    await Promise.all([...nodes.values()].map((n) => n.close()));
    await kube?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** `name:op` of every step the preview plans for VMs and applies (same steps: no changes). */
  async function plannedOps(): Promise<string[]> {
    const events: EngineEvent[] = [];
    await stack!.preview({ diff: true, onEvent: (e) => events.push(e) });
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
    await assert.rejects(stack!.preview(), (e: Error) =>
      /node cp-1: boot security .*etcd member/s.test(e.message),
    );
    encryption["cp-1"] = "none";
  });

  it("without the allowance (production) a worker's change is refused at preview", async () => {
    allowReinstall = false;
    encryption["w-2"] = "nodeID";
    await assert.rejects(stack!.preview(), (e: Error) =>
      /node w-2: .*rollout\.allowNodeRemoval: true/s.test(e.message),
    );
    encryption["w-2"] = "none";
    allowReinstall = true;
  });

  it("unchanged boot security previews no changes", async () => {
    assert.deepEqual(await plannedOps(), []);
  });
});
