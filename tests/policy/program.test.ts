/**
 * The pack over what the program really registers under Pulumi mocks: the Proxmox layer alone,
 * and the whole program (HomelabCluster → TalosCluster → ClusterAddons) with the sample stack.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import { ProxmoxNodes } from "../../components/proxmox/nodes";
import type { VmNode, VmPlacement } from "../../components/proxmox/vm";
import { policies } from "../../policy/policies";
import { PROJECT_ROOT } from "../helpers/shared";
import { talosMockState } from "../talos-cluster/mock-state";
import { sampleConfig } from "./fixtures";
import { type PackViolation, runPack } from "./harness";
import { recordStack } from "./recording";

function summary(vs: readonly PackViolation[]): string[] {
  return vs
    .map((v) => `${v.policy} @ ${v.urn ? v.urn.split("::").pop() : "(stack)"} [${v.enforcementLevel}]`)
    .sort();
}

const PLACEMENT: VmPlacement = {
  diskDatastore: "local-lvm",
  imageDatastore: "local",
  bios: "ovmf",
  cpuType: "host",
  bridge: "vmbr0",
  cidr: "192.168.50.0/24",
  gateway: "192.168.50.1",
  dnsServers: ["192.168.50.1"],
  tags: ["talos", "kubernetes"],
};
const NODES: VmNode[] = [
  {
    name: "cp-1",
    role: "controlplane",
    ip: "192.168.50.11",
    proxmoxNode: "pve1",
    vmId: 8101,
    cores: 2,
    memoryMiB: 4096,
    diskGiB: 32,
    tags: [],
  },
  {
    name: "worker-1",
    role: "worker",
    ip: "192.168.50.21",
    proxmoxNode: "pve2",
    vmId: 8201,
    cores: 4,
    memoryMiB: 8192,
    diskGiB: 64,
    tags: [],
  },
];

function proxmoxLayer(opts: { insecure: boolean; protect: boolean; nodes?: VmNode[] }) {
  return () => {
    const provider = new proxmox.Provider("proxmox", {
      endpoint: "https://pve1.example.lan:8006/",
      apiToken: "root@pam!pulumi=00000000-0000-0000-0000-000000000000",
      insecure: opts.insecure,
    });
    new ProxmoxNodes(
      "nodes",
      {
        clusterName: "homelab",
        nodes: opts.nodes ?? NODES,
        placement: PLACEMENT,
        image: {
          url: "https://factory.talos.dev/image/x/v1.13.9/nocloud-amd64.raw.zst",
          fileName: "talos.img",
        },
        protect: opts.protect,
      },
      { providers: { proxmoxve: provider } },
    );
    return {};
  };
}

describe("policy pack over resources registered under mocks", () => {
  describe("the Proxmox layer (ProxmoxNodes with a provider)", () => {
    it("registers VMs, images and the provider the pack recognizes, with no violation", async () => {
      const rec = await recordStack(proxmoxLayer({ insecure: false, protect: false }));
      const types = rec.specs.map((r) => r.type);
      assert.equal(types.filter((t) => t === "proxmoxve:index/vmLegacy:VmLegacy").length, 2);
      assert.ok(types.includes("pulumi:providers:proxmoxve"));
      const vm = rec.specs.find((r) => r.name === "cp-1");
      assert.ok(vm?.provider, "the VM names its provider");
      assert.deepEqual(summary(await runPack(policies, rec.specs)), []);
    });
    it("flags an insecure provider, an undersized VM, and unprotected VMs of a production stack", async () => {
      const small: VmNode[] = [{ ...NODES[0], memoryMiB: 1024 }, NODES[1]];
      const rec = await recordStack(proxmoxLayer({ insecure: true, protect: false, nodes: small }), {
        stack: "prod-eu",
      });
      assert.deepEqual(summary(await runPack(policies, rec.specs)), [
        "proxmox-provider-tls-verified @ proxmox [mandatory]",
        "vm-minimum-memory @ cp-1 [mandatory]",
        "vm-protected-in-production @ cp-1 [mandatory]",
        "vm-protected-in-production @ worker-1 [mandatory]",
      ]);
    });
    it("sees protect: true set by the component", async () => {
      const rec = await recordStack(proxmoxLayer({ insecure: false, protect: true }), { stack: "prod-eu" });
      assert.ok(rec.specs.filter((r) => r.type.endsWith(":VmLegacy")).every((r) => r.protect));
      assert.deepEqual(summary(await runPack(policies, rec.specs)), []);
    });
  });

  describe("the whole program with the sample stack", () => {
    it("passes the pack with no mandatory violation, and exports its credentials as secrets", async () => {
      const config: Record<string, string> = {};
      for (const [k, v] of Object.entries(sampleConfig())) {
        config[`proxmox-talos:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
      }
      config["proxmox-talos:proxmoxApiToken"] = "root@pam!pulumi=00000000-0000-0000-0000-000000000000";
      const programPath = path.join(PROJECT_ROOT, "program.ts");
      const mod = (await import(programPath)) as { clusterProgram: () => Promise<Record<string, unknown>> };
      const rec = await recordStack(() => mod.clusterProgram(), {
        config,
        secretKeys: ["proxmox-talos:proxmoxApiToken"],
        newResource: talosMockState(),
      });
      const violations = await runPack(policies, rec.specs);
      const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
      assert.deepEqual(summary(mandatory), [], violations.map((v) => v.message).join("\n"));
      // What no 1.21 policy can see (it gets secrets unwrapped): the credential outputs are secret.
      for (const key of ["talosconfig", "kubeconfig"]) {
        assert.ok(rec.secretStackOutputs.includes(key), `stack output ${key} is a secret`);
      }
      const cluster = rec.resources.find((r) => r.type === "proxmox-talos:index:HomelabCluster");
      assert.ok(cluster?.urn);
      const secretPaths = cluster.secretOutputPaths;
      for (const key of ["talosconfig", "kubeconfig"])
        assert.ok(secretPaths.includes(key), `HomelabCluster.${key} is secret`);
    });
  });
});
