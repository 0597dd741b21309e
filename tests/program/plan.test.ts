/**
 * The cluster plan (components/plan.ts) is what the program builds: the whole program under mocks
 * (index.ts, sample stack) registers the plan's policy facts, installer image, disk image and VMs,
 * and the plan is pure data computed without Pulumi.
 */
import * as assert from "node:assert/strict";
import { decodeConfigValue } from "../../components/config/load";
import { validateStackConfig } from "../../components/config/validate";
import { clusterPlan } from "../../components/plan";
import { runProgram, SAMPLE_TOKEN, sampleStackConfig } from "../helpers/program";
import { TALOS_TYPES } from "../talos-cluster/mock-state";

function sampleConfig() {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(sampleStackConfig())) {
    const key = k.replace(/^proxmox-talos:/, "");
    if (key !== "proxmoxApiToken") raw[key] = decodeConfigValue(key, v);
  }
  return validateStackConfig(raw, { proxmoxApiToken: SAMPLE_TOKEN });
}

/** Strings, numbers, booleans, undefined, arrays and plain objects only. */
function plainData(v: unknown): boolean {
  if (v === undefined || v === null || ["string", "number", "boolean"].includes(typeof v)) return true;
  if (Array.isArray(v)) return v.every(plainData);
  if (typeof v !== "object" || Object.getPrototypeOf(v) !== Object.prototype) return false;
  return Object.values(v as object).every(plainData);
}

describe("cluster plan", function () {
  this.timeout(120_000);

  it("is plain data: the images, VMs, Talos args, addons and policy facts of the sample stack", () => {
    const config = sampleConfig();
    const plan = clusterPlan(config);
    assert.match(plan.image.schematicId, /^[0-9a-f]{64}$/);
    assert.equal(
      plan.image.installImage,
      `factory.talos.dev/nocloud-installer/${plan.image.schematicId}:v${config.talosVersion}`,
    );
    assert.deepEqual(
      plan.proxmox?.nodes.nodes.map((n) => n.name),
      config.nodes.map((n) => n.name),
    );
    assert.equal(plan.proxmox?.nodes.image.url, plan.image.diskImageUrl);
    assert.equal(plan.talos.installImage, plan.image.installImage);
    assert.equal(plan.talos.showConfigViews, true);
    assert.equal(clusterPlan(config, { secretSettings: ["patches"] }).talos.showConfigViews, false);
    assert.ok(plan.addons?.cilium.enabled);
    assert.ok(plainData(plan), "nothing but plain data (no Outputs, no functions)");
    // Existing machines: no Proxmox part; all addons off: no addons part.
    const bare = clusterPlan({
      ...config,
      proxmox: undefined,
      addons: {
        ...config.addons,
        cilium: { ...config.addons.cilium, enabled: false },
        metallb: { ...config.addons.metallb, enabled: false },
        openebs: { ...config.addons.openebs, enabled: false },
        flux: { ...config.addons.flux, enabled: false },
        sops: { enabled: false },
      },
    });
    assert.equal(bare.proxmox, undefined);
    assert.equal(bare.addons, undefined);
    assert.deepEqual(bare.spec.metallbPools, []);
  });

  it("the program creates what the plan says", async () => {
    const plan = clusterPlan(sampleConfig());
    const rec = await runProgram(sampleStackConfig());
    const cluster = rec.resources.find((r) => r.type === "proxmox-talos:index:HomelabCluster");
    assert.deepEqual(cluster?.outputs?.clusterSpec, plan.spec);
    assert.equal(cluster?.outputs?.schematicId, plan.image.schematicId);
    const applies = rec.resources.filter((r) => r.type === TALOS_TYPES.apply);
    assert.equal(applies.length, plan.talos.nodes.length);
    for (const a of applies) assert.equal(a.inputs.installImage, plan.image.installImage);
    const images = rec.resources.filter((r) => r.type === "proxmoxve:download/file:File");
    assert.ok(images.length > 0);
    for (const i of images) assert.equal(i.inputs.url, plan.image.diskImageUrl);
    const vms = rec.resources.filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy");
    assert.deepEqual(
      vms.map((v) => v.name).sort(),
      (plan.proxmox?.nodes.nodes.map((n) => n.name) ?? []).sort(),
    );
  });
});
