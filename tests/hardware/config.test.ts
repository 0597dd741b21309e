import * as assert from "node:assert/strict";
import { ConfigError } from "../../components/config/errors";
import { resolveNodeHardware } from "../../components/config/hardware";
import { validateStackConfig } from "../../components/config/validate";
import { planNodes } from "../../components/hardware/plan";
import { clusterPlan } from "../../components/plan";
import { SAMPLE_SECRETS, sampleRaw } from "../helpers/sample-stack";

type Node = Record<string, unknown>;
const nodesOf = (raw: Record<string, unknown>) => raw.nodes as Node[];

/** The sample stack on existing machines (no proxmox section, no VM ids). */
function existingRaw(): Record<string, unknown> {
  const raw = sampleRaw();
  delete raw.proxmox;
  raw.nodes = nodesOf(raw).map(({ proxmoxNode: _p, vmId: _v, ...n }) => n);
  return raw;
}

function problems(raw: Record<string, unknown>, secrets: Record<string, string> = SAMPLE_SECRETS): string[] {
  try {
    validateStackConfig(raw, secrets);
  } catch (err) {
    if (err instanceof ConfigError)
      return err.issues.map((i) => `${i.path}: ${i.message}${i.fix ? ` — ${i.fix}` : ""}`);
    throw err;
  }
  return [];
}

function only(raw: Record<string, unknown>, key: string, secrets?: Record<string, string>): string {
  const p = problems(raw, secrets);
  const hits = p.filter((x) => x.startsWith(`${key}: `));
  assert.equal(hits.length, 1, `expected one problem at ${key}, got:\n${p.join("\n")}`);
  return hits[0]!;
}

describe("node hardware config: validation", () => {
  it("accepts the sample stack unchanged (no hardware keys) with boot security off", () => {
    const cfg = validateStackConfig(sampleRaw(), SAMPLE_SECRETS);
    assert.deepEqual(cfg.security, {
      secureBoot: false,
      includeWellKnownCertificates: false,
      diskEncryption: "none",
    });
    assert.equal(cfg.rollout.allowNodeRemoval, false);
    for (const p of planNodes(cfg)) {
      assert.equal(p.image.bootImage.variant, "", `${p.name} uses the cluster's default image`);
      assert.equal(p.bootSecurity, "secureBoot=false,diskEncryption=none");
    }
  });

  it("refuses an extension name that is not <org>/<name>, naming the key", () => {
    const raw = sampleRaw();
    nodesOf(raw)[3]!.image = { extensions: ["nvidia-container-toolkit-production"] };
    assert.match(
      only(raw, "nodes[3].image.extensions[0]"),
      /is not an official extension name — write <owner>\/<name>/,
    );
    const cls = sampleRaw();
    cls.nodeClasses = { gpu: { image: { extensions: ["siderolabs/i915:latest"] } } };
    assert.match(only(cls, "nodeClasses.gpu.image.extensions[0]"), /official extension/);
  });

  it("refuses kernel args and META values the factory would quote, and META keys above 255", () => {
    const raw = sampleRaw();
    nodesOf(raw)[3]!.image = { extraKernelArgs: ["console=ttyS0 quiet"], meta: [{ key: 300, value: "yes" }] };
    const p = problems(raw);
    assert.ok(
      p.some((x) => x.startsWith("nodes[3].image.extraKernelArgs[0]: ")),
      p.join("\n"),
    );
    assert.ok(
      p.some((x) => x.startsWith("nodes[3].image.meta[0].key: ")),
      p.join("\n"),
    );
    assert.ok(
      p.some((x) => x.startsWith("nodes[3].image.meta[0].value: ")),
      p.join("\n"),
    );
  });

  it("refuses an unknown node class", () => {
    const raw = sampleRaw();
    nodesOf(raw)[3]!.class = "gpu";
    assert.match(only(raw, "nodes[3].class"), /"gpu" is not a key of nodeClasses/);
  });

  it("refuses a PCI mapping on a stack without Proxmox", () => {
    const raw = existingRaw();
    nodesOf(raw)[3]!.pci = [{ mapping: "gpu" }];
    assert.match(only(raw, "nodes[3].pci", {}), /no proxmox section/);
    const cls = existingRaw();
    cls.nodeClasses = { gpu: { pci: [{ mapping: "gpu" }] } };
    nodesOf(cls)[2]!.class = "gpu";
    nodesOf(cls)[3]!.class = "gpu";
    assert.match(only(cls, "nodeClasses.gpu.pci", {}), /no proxmox section/, "reported once for the class");
  });

  it("refuses a raw host PCI id: needs root@pam, and this program uses an API token", () => {
    const raw = sampleRaw();
    nodesOf(raw)[3]!.pci = [{ id: "0000:01:00.0" }];
    const p = only(raw, "nodes[3].pci[0].id");
    assert.match(p, /root@pam/);
    assert.match(p, /API token/);
    assert.match(p, /resource mapping/);
  });

  it("refuses a mapping whose hosts do not include the node's host, or that proxmox.pciMappings does not declare; accepts it on a listed host", () => {
    const raw = sampleRaw();
    (raw.proxmox as Record<string, unknown>).pciMappings = { gpu: { hosts: ["pve1"] } };
    nodesOf(raw)[3]!.pci = [{ mapping: "gpu" }]; // worker-1 runs on pve2
    assert.match(
      only(raw, "nodes[3].pci[0].mapping"),
      /has devices on pve1 .* not on this node's host "pve2"/,
    );
    (raw.proxmox as Record<string, unknown>).pciMappings = { gpu: { hosts: ["pve1", "pve2"] } };
    assert.deepEqual(problems(raw), []);
    (raw.proxmox as Record<string, unknown>).pciMappings = { gpu: { hosts: [] } };
    assert.deepEqual(problems(raw), [], "a declared mapping without hosts is not checked for the host");
    // Undeclared (a typo, or never listed): nothing could catch it before Proxmox refuses the VM.
    (raw.proxmox as Record<string, unknown>).pciMappings = { "rtx-4090": { hosts: ["pve2"] } };
    assert.match(
      only(raw, "nodes[3].pci[0].mapping"),
      /"gpu" is not a key of proxmox.pciMappings.* — declare it: proxmox.pciMappings.gpu: .*or use one of: rtx-4090/,
    );
    (raw.proxmox as Record<string, unknown>).pciMappings = {};
    assert.match(only(raw, "nodes[3].pci[0].mapping"), /"gpu" is not a key of proxmox.pciMappings/);
    const cls = sampleRaw();
    cls.nodeClasses = { gpu: { pci: [{ mapping: "rtx4090" }] } };
    nodesOf(cls)[1]!.class = "gpu";
    nodesOf(cls)[3]!.class = "gpu";
    assert.match(
      only(cls, "nodeClasses.gpu.pci[0].mapping"),
      /"rtx4090" is not a key of proxmox.pciMappings/,
      "a class's fault is reported once, at the class",
    );
  });

  it("refuses TPM disk encryption without Secure Boot, naming both keys", () => {
    const raw = sampleRaw();
    raw.security = { diskEncryption: "tpm" };
    const p = problems(raw);
    assert.equal(p.length, 1, `one fault of the shared key, naming its nodes:\n${p.join("\n")}`);
    assert.match(
      p[0]!,
      /^security.diskEncryption: is "tpm" for cp-1, cp-2, cp-3 and worker-1 while security.secureBoot is false/,
    );
    const node = sampleRaw();
    node.security = { secureBoot: true };
    nodesOf(node)[3]!.security = { secureBoot: false, diskEncryption: "tpm" };
    assert.match(only(node, "nodes[3].security.diskEncryption"), /nodes\[3\]\.security\.secureBoot is false/);
    const ok = sampleRaw();
    ok.security = { secureBoot: true, diskEncryption: "tpm" };
    assert.deepEqual(problems(ok), []);
    const nodeId = sampleRaw();
    nodeId.security = { diskEncryption: "nodeID" };
    assert.deepEqual(problems(nodeId), []);
  });

  it("refuses includeWellKnownCertificates where no Secure Boot image would enroll them", () => {
    const raw = sampleRaw();
    raw.security = { includeWellKnownCertificates: true };
    assert.match(only(raw, "security.includeWellKnownCertificates"), /no node boots with Secure Boot/);
    nodesOf(raw)[3]!.security = { secureBoot: true };
    assert.deepEqual(problems(raw), [], "one Secure Boot node uses it");
    const node = sampleRaw();
    nodesOf(node)[2]!.security = { includeWellKnownCertificates: true };
    assert.match(
      only(node, "nodes[2].security.includeWellKnownCertificates"),
      /security\.secureBoot is false/,
    );
  });

  it("refuses Secure Boot with SeaBIOS", () => {
    const raw = sampleRaw();
    (raw.proxmox as Record<string, unknown>).bios = "seabios";
    nodesOf(raw)[0]!.security = { secureBoot: true };
    assert.match(only(raw, "nodes[0].security.secureBoot"), /seabios/);
  });

  it("refuses a data disk on an existing machine without a selector, or on Talos 1.10 (no SCSI serial)", () => {
    const raw = existingRaw();
    nodesOf(raw)[3]!.dataDisks = [{ name: "data", sizeGiB: 100 }];
    assert.match(only(raw, "nodes[3].dataDisks[0].selector", {}), /existing machine/);
    nodesOf(raw)[3]!.dataDisks = [{ name: "data", sizeGiB: 100, selector: 'disk.serial == "S3EW"' }];
    assert.deepEqual(problems(raw, {}), []);
    const old = sampleRaw();
    old.talosVersion = "1.10.6";
    old.kubernetesVersion = "1.33.6";
    nodesOf(old)[3]!.dataDisks = [{ name: "data", sizeGiB: 100 }];
    assert.match(only(old, "nodes[3].dataDisks[0].selector"), /Talos 1\.10 reads no serial/);
    nodesOf(old)[3]!.dataDisks = [{ name: "data", sizeGiB: 100, selector: "disk.size > 90u * GiB" }];
    assert.deepEqual(problems(old), []);
    const cfg = validateStackConfig(old, SAMPLE_SECRETS);
    assert.equal(resolveNodeHardware(cfg, cfg.nodes[3]!).dataDisks[0]!.selector, "disk.size > 90u * GiB");
    assert.equal(resolveNodeHardware(cfg, cfg.nodes[3]!).dataDisks[0]!.serial, "data");
  });

  it("refuses duplicate data disk names, bad names and an OpenEBS data disk no node has", () => {
    const raw = sampleRaw();
    nodesOf(raw)[3]!.dataDisks = [
      { name: "data", sizeGiB: 10 },
      { name: "data", sizeGiB: 20 },
    ];
    assert.match(only(raw, "nodes[3].dataDisks[1].name"), /used by another data disk/);
    nodesOf(raw)[3]!.dataDisks = [{ name: "Data_1", sizeGiB: 20 }];
    assert.match(only(raw, "nodes[3].dataDisks[0].name"), /lowercase letters/);
    const eb = sampleRaw();
    (eb.addons as Record<string, Record<string, unknown>>).openebs!.dataDisk = "models";
    assert.match(only(eb, "addons.openebs.dataDisk"), /no node's data disk/);
  });

  it("reports every hardware fault together with the other faults", () => {
    const raw = sampleRaw();
    nodesOf(raw)[0]!.ip = "10.9.9.9";
    nodesOf(raw)[3]!.pci = [{ id: "0000:01:00.0" }];
    raw.security = { diskEncryption: "tpm" };
    const p = problems(raw);
    assert.ok(p.some((x) => x.startsWith("nodes[0].ip: ")));
    assert.ok(p.some((x) => x.startsWith("nodes[3].pci[0].id: ")));
    assert.ok(p.some((x) => x.startsWith("security.diskEncryption: ")));
  });
});

describe("node hardware config: resolution cluster → class → node", () => {
  it("concatenates extensions in order, lets the node override security and replace lists", () => {
    const raw = sampleRaw();
    raw.security = { secureBoot: true, includeWellKnownCertificates: true };
    (raw.proxmox as Record<string, unknown>).pciMappings = { gpu: { hosts: ["pve2"] } };
    raw.nodeClasses = {
      gpu: {
        image: { extensions: ["siderolabs/nonfree-kmod-nvidia-production"], extraKernelArgs: ["iommu=pt"] },
        pci: [{ mapping: "gpu" }],
        dataDisks: [{ name: "models", sizeGiB: 200 }],
        security: { diskEncryption: "tpm" },
      },
    };
    nodesOf(raw)[3]!.class = "gpu";
    nodesOf(raw)[3]!.image = {
      extensions: ["siderolabs/nvidia-container-toolkit-production"],
      meta: [{ key: 12, value: "gpu" }],
    };
    nodesOf(raw)[3]!.dataDisks = [{ name: "scratch", sizeGiB: 50, discard: false }];
    const cfg = validateStackConfig(raw, SAMPLE_SECRETS);
    const hw = resolveNodeHardware(cfg, cfg.nodes[3]!);
    assert.deepEqual(hw.image, {
      extensions: [
        "siderolabs/qemu-guest-agent",
        "siderolabs/nonfree-kmod-nvidia-production",
        "siderolabs/nvidia-container-toolkit-production",
      ],
      extraKernelArgs: ["iommu=pt"],
      meta: [{ key: 12, value: "gpu" }],
      includeWellKnownCertificates: true,
    });
    assert.equal(hw.secureBoot, true);
    assert.equal(hw.diskEncryption, "tpm");
    assert.deepEqual(hw.pci, [{ mapping: "gpu", pcie: true, rombar: true, xvga: false }]);
    assert.deepEqual(hw.dataDisks, [
      {
        name: "scratch",
        sizeGiB: 50,
        ssd: true,
        discard: false,
        iothread: true,
        datastore: "local-lvm",
        serial: "scratch",
        selector: 'disk.serial == "scratch"',
      },
    ]);
    const plan = planNodes(cfg)[3]!;
    assert.equal(plan.machine.nvidia, true);
    assert.match(plan.image.installImage, /nocloud-installer-secureboot/);
    const cp = planNodes(cfg)[0]!;
    assert.equal(cp.machine.nvidia, false);
    assert.equal(cp.hardware.diskEncryption, "none");
  });
});

describe("node hardware in the cluster plan (clusterPlan)", () => {
  it("carries each node's image, disks, PCI, vTPM and boot security to the VMs and the Talos nodes", () => {
    const raw = sampleRaw();
    raw.nodeClasses = { gpu: { image: { extensions: ["siderolabs/i915"] }, pci: [{ mapping: "igpu" }] } };
    (raw.proxmox as Record<string, unknown>).pciMappings = { igpu: { hosts: ["pve2"] } };
    nodesOf(raw)[3]!.class = "gpu";
    nodesOf(raw)[3]!.security = { secureBoot: true, diskEncryption: "tpm" };
    nodesOf(raw)[3]!.dataDisks = [{ name: "data", sizeGiB: 64 }];
    const plan = clusterPlan(validateStackConfig(raw, SAMPLE_SECRETS));
    const vm = plan.proxmox!.nodes.nodes[3]!;
    assert.match(vm.bootImage!.url, /-secureboot\.raw\.zst$/);
    assert.deepEqual(vm.pci, [{ mapping: "igpu", pcie: true, rombar: true, xvga: false }]);
    assert.equal(vm.tpm, true);
    assert.equal(vm.bootSecurity, "secureBoot=true,diskEncryption=tpm");
    assert.equal(vm.dataDisks![0]!.serial, "data");
    assert.equal(plan.proxmox!.nodes.nodes[0]!.bootImage, undefined, "cp-1 uses the default image");
    assert.equal(plan.proxmox!.nodes.nodes[0]!.bootSecurity, undefined, "control planes are never replaced");
    const talos = plan.talos.nodes[3]!;
    assert.match(talos.installImage!, /nocloud-installer-secureboot/);
    assert.deepEqual(talos.hardware, {
      userVolumes: [{ name: "data", selector: 'disk.serial == "data"', sizeGiB: 64 }],
      diskEncryption: "tpm",
      nvidia: false,
    });
    assert.equal(plan.talos.nodes[0]!.installImage, plan.image.installImage);
    assert.equal(plan.talos.allowReinstall, true);
  });
});
