import * as assert from "node:assert/strict";
import type { RecordedResource, Recording } from "../helpers/mocks";
import { runProgram, sampleStackConfig } from "../helpers/program";
import { factorySchematic, schematicIdTool } from "../helpers/schematic-id";
import { TALOS_TYPES } from "../talos-cluster/mock-state";

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const IMAGE = "proxmoxve:download/file:File";
const QGA = "siderolabs/qemu-guest-agent";
const NVIDIA = [
  "siderolabs/nonfree-kmod-nvidia-production",
  "siderolabs/nvidia-container-toolkit-production",
];
const IGPU = ["siderolabs/i915", "siderolabs/intel-ucode"];

/** The sample stack plus two NVIDIA workers (a node class) on pve2 and a Secure Boot iGPU worker on pve1. */
function hardwareStack(): Record<string, string> {
  const base = sampleStackConfig();
  const nodes = JSON.parse(base["proxmox-talos:nodes"]!) as Array<Record<string, unknown>>;
  nodes[3] = { ...nodes[3], class: "gpu" };
  nodes.push(
    { name: "worker-2", role: "worker", proxmoxNode: "pve2", vmId: 8202, ip: "192.168.50.22", class: "gpu" },
    {
      name: "worker-3",
      role: "worker",
      proxmoxNode: "pve1",
      vmId: 8203,
      ip: "192.168.50.23",
      image: { extensions: IGPU, extraKernelArgs: ["i915.enable_guc=3"] },
      security: { secureBoot: true, diskEncryption: "tpm" },
      dataDisks: [{ name: "media", sizeGiB: 500, datastore: "tank", ssd: false }],
    },
  );
  const proxmox = JSON.parse(base["proxmox-talos:proxmox"]!) as Record<string, unknown>;
  const addons = JSON.parse(base["proxmox-talos:addons"]!) as Record<string, Record<string, unknown>>;
  addons.openebs = { enabled: true, dataDisk: "models" };
  return {
    ...base,
    "proxmox-talos:nodes": JSON.stringify(nodes),
    "proxmox-talos:proxmox": JSON.stringify({ ...proxmox, pciMappings: { "rtx-4090": { hosts: ["pve2"] } } }),
    "proxmox-talos:nodeClasses": JSON.stringify({
      gpu: {
        image: { extensions: NVIDIA },
        pci: [{ mapping: "rtx-4090" }],
        dataDisks: [{ name: "models", sizeGiB: 200 }],
      },
    }),
    "proxmox-talos:addons": JSON.stringify(addons),
  };
}

const vmOf = (rec: Recording, node: string): RecordedResource => rec.find(VM, node);
const applyOf = (rec: Recording, node: string): RecordedResource =>
  rec.find(TALOS_TYPES.apply, `talos-apply-${node}`);

describe("node hardware under mocks (index.ts)", function () {
  this.timeout(120_000);
  let rec: Recording;
  before(async () => {
    rec = await runProgram(hardwareStack());
  });

  it("downloads one image per (Proxmox host, datastore, schematic): nodes sharing a schematic share it", () => {
    const images = rec
      .byType(IMAGE)
      .map((r) => r.name)
      .sort();
    assert.equal(images.length, 4, images.join(", "));
    assert.ok(images.includes("talos-image-pve1-local") && images.includes("talos-image-pve2-local"));
    const nvidia = images.filter((n) => n.startsWith("talos-image-pve2-local-"));
    const sb = images.filter((n) => n.startsWith("talos-image-pve1-local-") && n.endsWith("-sb"));
    assert.equal(nvidia.length, 1, "worker-1 and worker-2 share one download");
    assert.equal(sb.length, 1);
    const gpuImage = rec.find(IMAGE, nvidia[0]!);
    for (const w of ["worker-1", "worker-2"]) assert.ok(rec.dependsOn(vmOf(rec, w), gpuImage), w);
    const sbImage = rec.find(IMAGE, sb[0]!);
    assert.match(String(sbImage.inputs.url), /\/nocloud-amd64-secureboot\.raw\.zst$/);
    assert.match(String(sbImage.inputs.fileName), /-nocloud-amd64-secureboot\.img$/);
    assert.ok(rec.dependsOn(vmOf(rec, "worker-3"), sbImage));
    assert.ok(rec.dependsOn(vmOf(rec, "cp-1"), rec.find(IMAGE, "talos-image-pve1-local")));
  });

  it("gives the GPU workers their data disk with a serial, the mapped GPU, fixed memory and no vTPM", () => {
    for (const w of ["worker-1", "worker-2"]) {
      const vm = vmOf(rec, w);
      const disks = vm.inputs.disks as Array<Record<string, unknown>>;
      assert.deepEqual(disks[1], {
        interface: "scsi1",
        datastoreId: "local-lvm",
        fileFormat: "raw",
        size: 200,
        iothread: true,
        discard: "on",
        ssd: true,
        cache: "none",
        serial: "models",
      });
      assert.equal(disks.length, 2);
      assert.deepEqual(vm.inputs.hostpcis, [
        { device: "hostpci0", mapping: "rtx-4090", pcie: true, rombar: true, xvga: false },
      ]);
      assert.equal((vm.inputs.memory as { floating: number }).floating, 0, "no ballooning with passthrough");
      assert.equal(vm.inputs.tpmState, undefined);
      assert.equal(vm.inputs.machine, "q35");
    }
  });

  it("gives the Secure Boot worker OVMF in setup mode, a vTPM 2.0 and its data disk on its datastore", () => {
    const vm = vmOf(rec, "worker-3");
    assert.deepEqual(vm.inputs.efiDisk, {
      datastoreId: "local-lvm",
      fileFormat: "raw",
      type: "4m",
      preEnrolledKeys: false,
    });
    assert.deepEqual(vm.inputs.tpmState, { datastoreId: "local-lvm", version: "v2.0" });
    assert.equal(vm.inputs.hostpcis, undefined);
    const disks = vm.inputs.disks as Array<Record<string, unknown>>;
    assert.deepEqual(disks[1], {
      interface: "scsi1",
      datastoreId: "tank",
      fileFormat: "raw",
      size: 500,
      iothread: true,
      discard: "on",
      ssd: false,
      cache: "none",
      serial: "media",
    });
    for (const cp of ["cp-1", "cp-2", "cp-3"]) {
      const v = vmOf(rec, cp);
      assert.equal(v.inputs.tpmState, undefined, cp);
      assert.equal((v.inputs.disks as unknown[]).length, 1, cp);
    }
  });

  it("replaces a worker's VM when its boot security changes; never a control plane's", () => {
    const w3 = vmOf(rec, "worker-3");
    assert.deepEqual(w3.replaceOnChanges, ["tpmState"]);
    assert.equal(w3.replacementTrigger, "secureBoot=true,diskEncryption=tpm");
    assert.equal(vmOf(rec, "worker-1").replacementTrigger, "secureBoot=false,diskEncryption=none");
    assert.deepEqual(vmOf(rec, "cp-1").replaceOnChanges, []);
    assert.equal(vmOf(rec, "cp-1").replacementTrigger, undefined);
    assert.deepEqual(vmOf(rec, "cp-1").ignoreChanges, ["disks[0].fileId"]);
  });

  it("gives each node its own installer image and boot-security profile", () => {
    const image = (n: string) => String(applyOf(rec, n).inputs.installImage);
    assert.equal(image("cp-1"), image("cp-2"));
    assert.equal(image("worker-1"), image("worker-2"));
    assert.notEqual(image("worker-1"), image("cp-1"));
    assert.match(image("cp-1"), /^factory\.talos\.dev\/nocloud-installer\/[0-9a-f]{64}:v1\.13\.9$/);
    assert.match(
      image("worker-3"),
      /^factory\.talos\.dev\/nocloud-installer-secureboot\/[0-9a-f]{64}:v1\.13\.9$/,
    );
    assert.equal(applyOf(rec, "worker-3").inputs.bootSecurity, "secureBoot=true,diskEncryption=tpm");
    assert.equal(applyOf(rec, "cp-1").inputs.bootSecurity, "secureBoot=false,diskEncryption=none");
    assert.equal(applyOf(rec, "cp-1").inputs.reinstallable, true);
  });

  it("uses the schematic IDs Image Factory computes for each node", function () {
    const bin = schematicIdTool();
    if (!bin) this.skip();
    const id = (exts: string[], args?: string[]) =>
      factorySchematic(
        bin!,
        JSON.stringify({
          customization: { systemExtensions: { officialExtensions: exts }, extraKernelArgs: args },
        }),
      ).id;
    const tag = (n: string) => String(applyOf(rec, n).inputs.installImage).split("/")[2]!.split(":")[0];
    assert.equal(tag("cp-1"), id([QGA]));
    assert.equal(tag("worker-1"), id([QGA, ...NVIDIA]));
    assert.equal(tag("worker-3"), id([QGA, ...IGPU], ["i915.enable_guc=3"]));
  });

  it("shows the new fields in the config views: user volumes, NVIDIA modules, encryption", () => {
    const view = (n: string) => String(applyOf(rec, n).inputs.configView);
    assert.match(view("worker-1"), /kind: UserVolumeConfig\nname: models/);
    assert.match(view("worker-1"), /match: disk\.serial == "models"/);
    assert.match(view("worker-1"), /- name: nvidia_uvm/);
    assert.match(view("worker-1"), /net\.core\.bpf_jit_harden: "1"/);
    assert.match(view("worker-1"), /destination: \/var\/mnt\/models/);
    assert.match(view("worker-3"), /kind: VolumeConfig\nname: STATE\nencryption:/);
    assert.doesNotMatch(view("cp-1"), /UserVolumeConfig|VolumeConfig|nvidia/);
  });

  it("points OpenEBS LocalPV at the data disk's user volume", () => {
    const release = rec.byType("kubernetes:helm.sh/v3:Release").find((r) => r.name.includes("openebs"));
    assert.ok(release, "an OpenEBS release");
    const values = release.inputs.values as {
      localpv: { basePath: string };
      hostpathClass: { basePath: string };
    };
    assert.equal(values.localpv.basePath, "/var/mnt/models");
    assert.equal(values.hostpathClass.basePath, "/var/mnt/models");
  });
});

describe("node hardware under mocks: production stacks and the node-removal allowance", function () {
  this.timeout(120_000);

  it("production: VMs protected and reinstalls refused; with rollout.allowNodeRemoval both allowed", async () => {
    const prod = { ...hardwareStack(), "proxmox-talos:production": "true" };
    const guarded = await runProgram(prod);
    for (const vm of guarded.byType(VM)) assert.equal(vm.protect, true, vm.name);
    for (const a of guarded.byType(TALOS_TYPES.apply)) assert.equal(a.inputs.allowReinstall, false, a.name);

    const allowed = await runProgram({
      ...prod,
      "proxmox-talos:rollout": JSON.stringify({ allowNodeRemoval: true }),
    });
    for (const vm of allowed.byType(VM)) assert.equal(vm.protect, false, vm.name);
    for (const a of allowed.byType(TALOS_TYPES.apply)) assert.equal(a.inputs.allowReinstall, true, a.name);
  });
});
