import * as assert from "node:assert/strict";
import type { Recording } from "../helpers/mocks";
import { generatedStackConfig, runProgram, sampleStackConfig } from "../helpers/program";
import { TALOS_TYPES } from "../talos-cluster/mock-state";

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const IMAGE = "proxmoxve:download/file:File";

function counts(rec: Recording): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rec.resources) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}

describe("the program under mocks (index.ts with the sample stack)", function () {
  this.timeout(120_000);
  let rec: Recording;
  before(async () => {
    rec = await runProgram(sampleStackConfig());
  });

  it("registers the HomelabCluster root component with the Proxmox, Talos and addon layers under it", () => {
    const root = rec.find("proxmox-talos:index:HomelabCluster", "homelab");
    assert.equal(root.custom, false);
    for (const [type, name] of [
      ["proxmox-talos:index:ProxmoxNodes", "nodes"],
      ["proxmox-talos:index:TalosCluster", "talos"],
      ["proxmox-talos:index:ClusterAddons", "addons"],
    ]) {
      assert.equal(rec.find(type, name).parentUrn, root.urn, `${name} is a child of the root`);
    }
  });

  it("registers exactly one VM per node and one image per Proxmox host", () => {
    const c = counts(rec);
    assert.equal(c[VM], 4);
    assert.equal(c[IMAGE], 2);
    assert.equal(c["pulumi:providers:proxmoxve"], 1);
    assert.equal(c[TALOS_TYPES.apply], 4);
    assert.equal(c[TALOS_TYPES.secrets], 1);
    assert.equal(c[TALOS_TYPES.bootstrap], 1);
    assert.equal(c[TALOS_TYPES.ready], 1);
  });

  it("gives every VM the agent, its IP on cloud-init and its disk from the host's image", () => {
    const nodes = rec.find("proxmox-talos:index:ProxmoxNodes", "nodes");
    for (const vm of rec.byType(VM)) {
      assert.equal(vm.parentUrn, nodes.urn);
      assert.deepEqual((vm.inputs.agent as { enabled: boolean }).enabled, true);
      const init = vm.inputs.initialization as { ipConfigs: Array<{ ipv4: { address: string } }> };
      assert.match(init.ipConfigs[0].ipv4.address, /^192\.168\.50\.\d+\/24$/);
      const image = rec.find(IMAGE, `talos-image-${vm.inputs.nodeName}-local`);
      assert.ok(rec.dependsOn(vm, image), `${vm.name} waits for its image`);
    }
  });

  it("orders the graph: apply after its VM, bootstrap after all control-plane applies, addons after ready", () => {
    const ready = rec.find(TALOS_TYPES.ready, rec.byType(TALOS_TYPES.ready)[0].name);
    const bootstrap = rec.byType(TALOS_TYPES.bootstrap)[0];
    for (const apply of rec.byType(TALOS_TYPES.apply)) {
      const node = apply.name.replace(/^talos-apply-/, "");
      const vm = rec.find(VM, node);
      assert.ok(rec.dependsOn(apply, vm), `${apply.name} waits for VM ${node}`);
      assert.ok(rec.dependsOn(ready, apply), `ready waits for ${apply.name}`);
      if (node.startsWith("cp-"))
        assert.ok(rec.dependsOn(bootstrap, apply), `bootstrap waits for ${apply.name}`);
    }
    for (const release of rec.byType("kubernetes:helm.sh/v3:Release")) {
      assert.ok(rec.dependsOn(release, ready), `${release.name} waits for ClusterReady`);
    }
  });

  it("exports secrets as secrets and everything else in plain text", () => {
    const secret = new Set(rec.secretStackOutputs);
    assert.ok(secret.has("talosconfig") && secret.has("kubeconfig"));
    for (const plain of ["endpoint", "vip", "nodes", "schematicId", "talosVersion", "kubernetesVersion"]) {
      assert.ok(!secret.has(plain), `${plain} is plain`);
      assert.ok(rec.stackOutputs[plain] !== undefined, `${plain} is exported`);
    }
    assert.equal(
      rec.stackOutputs.schematicId,
      "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515",
    );
  });
});

describe("the program under mocks: changes and scale", function () {
  this.timeout(300_000);

  it("a change of one node's memory changes only that VM's inputs", async () => {
    const base = sampleStackConfig();
    const nodes = JSON.parse(base["proxmox-talos:nodes"]) as Array<{ memoryMiB: number }>;
    nodes[3].memoryMiB = 16384;
    const a = await runProgram(base);
    const b = await runProgram({ ...base, "proxmox-talos:nodes": JSON.stringify(nodes) });
    const changed = a.byType(VM).filter((vm) => {
      const other = b.find(VM, vm.name);
      return JSON.stringify(vm.inputs) !== JSON.stringify(other.inputs);
    });
    assert.deepEqual(
      changed.map((v) => v.name),
      ["worker-1"],
    );
    assert.deepEqual(b.find(VM, "worker-1").inputs.memory, { dedicated: 16384, floating: 0 });
  });

  it("a generated 50-node stack registers 50 VMs on 3 hosts and 50 applies", async () => {
    const rec = await runProgram(generatedStackConfig(50));
    const c = counts(rec);
    assert.equal(c[VM], 50);
    assert.equal(c[IMAGE], 3);
    assert.equal(c[TALOS_TYPES.apply], 50);
  });

  it("the bench's smallest generated stack (3 control planes, no worker) is a valid stack", async () => {
    const rec = await runProgram(generatedStackConfig(3));
    assert.equal(counts(rec)[TALOS_TYPES.apply], 3);
  });
});
