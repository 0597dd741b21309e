/**
 * The contract with components/cluster.ts: `HomelabCluster` built from the sample stack
 * (Pulumi.homelab.yaml) under mocks registers `TalosCluster` with one apply per configured node,
 * each waiting for its own VM, and hands `ready` and the (secret) kubeconfig on.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { HomelabCluster } from "../../components/cluster";
import { validateStackConfig } from "../../components/config/validate";
import { recordProgram } from "../helpers/mocks";
import { PROJECT_ROOT } from "../helpers/shared";
import { TALOS_TYPES, talosMockState } from "./mock-state";

function sampleConfig(): Record<string, unknown> {
  const doc = parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.homelab.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc.config)) {
    if (k.startsWith("proxmox-talos:")) out[k.slice("proxmox-talos:".length)] = v;
  }
  return out;
}

describe("TalosCluster as components/cluster.ts constructs it", function () {
  this.timeout(120_000);

  it("registers per-node applies waiting for their VMs; secrets and ready wired through", async () => {
    const token = "root@pam!pulumi=00000000-0000-0000-0000-000000000000";
    const config = validateStackConfig(sampleConfig(), { proxmoxApiToken: token });
    const rec = await recordProgram(
      () => {
        const c = new HomelabCluster(config.clusterName, {
          config,
          secrets: { proxmoxApiToken: pulumi.secret(token) },
        });
        return { kubeconfig: c.kubeconfig, talosconfig: c.talosconfig };
      },
      { newResource: talosMockState() },
    );
    const comp = rec.find("proxmox-talos:index:TalosCluster", "talos");
    const applies = rec.byType(TALOS_TYPES.apply);
    assert.equal(applies.length, config.nodes.length);
    const vms = rec.resources.filter((r) => r.custom && r.type.startsWith("proxmox"));
    for (const n of config.nodes) {
      const a = rec.find(TALOS_TYPES.apply, `talos-apply-${n.name}`);
      assert.equal(a.parentUrn, comp.urn);
      assert.equal(a.inputs.address, n.ip);
      assert.ok(a.secretInputPaths.includes("config"));
      const ownVm = vms.filter((v) => a.dependencies.includes(v.urn));
      if (config.proxmox) assert.ok(ownVm.length >= 1, `${n.name}: no VM dependency`);
      assert.ok(
        ownVm.every((v) => v.name.includes(n.name)),
        `${n.name} waits for another node's VM`,
      );
    }
    assert.ok(rec.secretStackOutputs.includes("kubeconfig"));
    assert.ok(rec.secretStackOutputs.includes("talosconfig"));
    const ready = rec.find(TALOS_TYPES.ready, "talos-ready");
    const dependents = rec.resources.filter((r) => r.custom && rec.dependsOn(r, ready));
    console.log(
      `      ${rec.resources.length} resources; ${dependents.length} wait for ClusterReady (addons)`,
    );
  });
});
