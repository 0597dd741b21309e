import * as assert from "node:assert/strict";
import { diskSelectorFault } from "../../components/config/disk-selector";
import { ConfigError } from "../../components/config/errors";
import { validateStackConfig } from "../../components/config/validate";
import { planNodes } from "../../components/hardware/plan";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import { schematicYaml } from "../../components/talos/schematic";
import { talosMinorFacts } from "../../components/talos-minors";
import { SAMPLE_SECRETS, sampleRaw } from "../helpers/sample-stack";
import { requireOracle, runOracle, tempDir } from "../helpers/shared";
import { baseInput, oracleBundle, writeTemp } from "../talos/fixtures-machineconfig";

/**
 * Node-hardware values the config used to accept although the factory, Talos or Proxmox cannot use
 * them (or refused with the wrong words): each class is refused at its key, before anything exists,
 * and the values next to it that do work are still accepted.
 */
type Node = Record<string, unknown>;
const nodesOf = (raw: Record<string, unknown>) => raw.nodes as Node[];
const proxmoxOf = (raw: Record<string, unknown>) => raw.proxmox as Record<string, unknown>;

function problems(raw: Record<string, unknown>): string[] {
  try {
    validateStackConfig(raw, SAMPLE_SECRETS);
  } catch (err) {
    if (err instanceof ConfigError)
      return err.issues.map((i) => `${i.path}: ${i.message}${i.fix ? ` — ${i.fix}` : ""}`);
    throw err;
  }
  return [];
}

function only(raw: Record<string, unknown>, key: string): string {
  const p = problems(raw);
  const hits = p.filter((x) => x.startsWith(`${key}: `));
  assert.equal(hits.length, 1, `expected one problem at ${key}, got:\n${p.join("\n")}`);
  assert.equal(p.length, 1, `expected no other problem, got:\n${p.join("\n")}`);
  return hits[0]!;
}

function withNode(over: Node, i = 3): Record<string, unknown> {
  const raw = sampleRaw();
  Object.assign(nodesOf(raw)[i]!, over);
  return raw;
}

describe("node hardware config: values that cannot work are refused at their key", () => {
  it("an extension name the schematic cannot carry is a config fault, not a later throw; config and schematic agree", () => {
    for (const name of ["siderolabs/-i915", "siderolabs/.i915", "-siderolabs/i915", "siderolabs/", "a/b/c"]) {
      assert.match(
        only(withNode({ image: { extensions: [name] } }), "nodes[3].image.extensions[0]"),
        /is not an official extension name — write <owner>\/<name>/,
        name,
      );
      assert.throws(() => schematicYaml([name]), /invalid extension name/, name);
    }
    const cluster = sampleRaw();
    cluster.imageFactory = { extensions: ["siderolabs/-x"] };
    assert.match(only(cluster, "imageFactory.extensions[0]"), /is not an official extension name/);
    for (const name of [
      "siderolabs/i915",
      "siderolabs/nvidia-container-toolkit-production",
      "acme/x.y_z-1",
    ]) {
      assert.deepEqual(problems(withNode({ image: { extensions: [name] } })), [], name);
      assert.doesNotThrow(() => schematicYaml([name]));
    }
  });

  it("an extension, kernel argument or META key repeated in one node's schematic, wherever each copy was set", () => {
    assert.match(
      only(
        withNode({ image: { extensions: ["siderolabs/qemu-guest-agent"] } }),
        "nodes[3].image.extensions[0]",
      ),
      /"siderolabs\/qemu-guest-agent" is already in the node's schematic \(imageFactory.extensions\[0\]\)/,
    );
    const cls = sampleRaw();
    cls.nodeClasses = {
      media: {
        image: {
          extensions: ["siderolabs/i915"],
          extraKernelArgs: ["i915.enable_guc=3"],
          meta: [{ key: 12, value: "a" }],
        },
      },
    };
    Object.assign(nodesOf(cls)[3]!, {
      class: "media",
      image: {
        extensions: ["siderolabs/i915"],
        extraKernelArgs: ["i915.enable_guc=3"],
        meta: [{ key: 12, value: "b" }],
      },
    });
    const p = problems(cls);
    assert.equal(p.length, 3, p.join("\n"));
    assert.match(p[0]!, /^nodes\[3\].image.extensions\[0\]: .* \(nodeClasses.media.image.extensions\[0\]\)/);
    assert.match(
      p[1]!,
      /^nodes\[3\].image.extraKernelArgs\[0\]: .* \(nodeClasses.media.image.extraKernelArgs\[0\]\)/,
    );
    assert.match(
      p[2]!,
      /^nodes\[3\].image.meta\[0\].key: 12 is set twice .*nodeClasses.media.image.meta\[0\].key/,
    );
    // Within one list; a class's own repeat is reported once for all its nodes.
    const twice = sampleRaw();
    twice.nodeClasses = { w: { image: { extraKernelArgs: ["net.ifnames=0", "net.ifnames=0"] } } };
    nodesOf(twice)[1]!.class = "w";
    nodesOf(twice)[3]!.class = "w";
    assert.match(
      only(twice, "nodeClasses.w.image.extraKernelArgs[1]"),
      /already in the node's kernel arguments/,
    );
    // Different keys and values are fine.
    assert.deepEqual(
      problems(
        withNode({
          image: {
            meta: [
              { key: 12, value: "a" },
              { key: 13, value: "a" },
            ],
            extraKernelArgs: ["a=1", "a=2"],
          },
        }),
      ),
      [],
    );
  });

  it("a META key Talos keeps for itself (0 is the empty slot; 6–9 and 17 are its own state)", () => {
    for (const [key, what] of [
      [0, /empty-slot marker/],
      [6, /upgrade state/],
      [9, /STATE encryption config/],
      [17, /disk-image bootloader/],
    ] as const) {
      assert.match(
        only(withNode({ image: { meta: [{ key, value: "x" }] } }), "nodes[3].image.meta[0].key"),
        new RegExp(`^[^:]+: ${key} is .*${what.source}.* — use 12, 13 or 14`),
      );
    }
    for (const key of [10, 12, 13, 14, 255])
      assert.deepEqual(problems(withNode({ image: { meta: [{ key, value: "x" }] } })), [], String(key));
  });

  it("a data disk too small for its volume (size − 1 GiB) or past Talos' 64-bit byte sizes", () => {
    for (const sizeGiB of [0, 1])
      assert.match(
        only(withNode({ dataDisks: [{ name: "data", sizeGiB }] }), "nodes[3].dataDisks[0].sizeGiB"),
        /must be at least 2: the volume asks for the size less 1 GiB/,
      );
    assert.match(
      only(
        withNode({ dataDisks: [{ name: "data", sizeGiB: 17_179_869_184 }] }),
        "nodes[3].dataDisks[0].sizeGiB",
      ),
      /must be at most 17179869183 — Talos reads a volume size as a 64-bit byte count/,
    );
    for (const sizeGiB of [2, 17_179_869_183])
      assert.deepEqual(problems(withNode({ dataDisks: [{ name: "data", sizeGiB }] })), [], String(sizeGiB));
  });

  it("an install disk that is a partition, or on a Proxmox VM anything but its scsi0 disk /dev/sda", () => {
    assert.match(
      only(
        withNode({ installDisk: "/dev/sdb", dataDisks: [{ name: "data", sizeGiB: 10 }] }),
        "nodes[3].installDisk",
      ),
      /"\/dev\/sdb" is not worker-1's boot disk: .* data disks .* — leave installDisk unset/,
    );
    for (const disk of ["/dev/vda", "/dev/nvme0n1", "/dev/hda"])
      assert.match(
        only(withNode({ installDisk: disk }), "nodes[3].installDisk"),
        /does not exist in worker-1's VM/,
      );
    for (const [disk, whole] of [
      ["/dev/sda1", "/dev/sda"],
      ["/dev/nvme0n1p2", "/dev/nvme0n1"],
      ["/dev/mmcblk0p1", "/dev/mmcblk0"],
    ])
      assert.match(
        only(withNode({ installDisk: disk }), "nodes[3].installDisk"),
        new RegExp(`is a partition: .* — name the disk, e.g. ${whole}$`),
      );
    for (const disk of ["/dev/sda", "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_drive-scsi0"])
      assert.deepEqual(problems(withNode({ installDisk: disk })), [], disk);
    // Existing machines: any whole disk, still no partition.
    const existing = sampleRaw();
    delete existing.proxmox;
    existing.nodes = nodesOf(existing).map(({ proxmoxNode: _p, vmId: _v, ...n }) => n);
    nodesOf(existing)[3]!.installDisk = "/dev/nvme0n1";
    assert.deepEqual(problems(existing), []);
    nodesOf(existing)[3]!.installDisk = "/dev/nvme0n1p1";
    assert.match(only(existing, "nodes[3].installDisk"), /is a partition/);
  });

  it("a PCI mapping name Proxmox cannot have, and a raw id that is not even a PCI address, read right", () => {
    const raw = sampleRaw();
    proxmoxOf(raw).pciMappings = { "rtx 4090": { hosts: ["pve2"] } };
    assert.match(
      only(raw, "proxmox.pciMappings.rtx 4090"),
      /"rtx 4090" is not a Proxmox resource mapping name — use the id shown under Datacenter → Resource Mappings/,
    );
    const one = sampleRaw();
    proxmoxOf(one).pciMappings = { g: { hosts: ["pve2"] } };
    nodesOf(one)[3]!.pci = [{ mapping: "g" }];
    const p = problems(one);
    assert.deepEqual(
      p.map((x) => x.split(":")[0]),
      ["proxmox.pciMappings.g", "nodes[3].pci[0].mapping"],
      p.join("\n"),
    );
    assert.match(
      only(withNode({ pci: [{ id: "foo" }] }), "nodes[3].pci[0].id"),
      /"foo" is not a PCI id, and a raw one cannot be used either/,
    );
    assert.match(
      only(withNode({ pci: [{ id: "0000:01:00.0" }] }), "nodes[3].pci[0].id"),
      /"0000:01:00.0" is a raw host PCI id/,
    );
  });

  it("a datastore name Proxmox cannot have, for data disks and the VM's own datastores alike", () => {
    assert.match(
      only(
        withNode({ dataDisks: [{ name: "data", sizeGiB: 10, datastore: "local lvm" }] }),
        "nodes[3].dataDisks[0].datastore",
      ),
      /"local lvm" is not a Proxmox storage id — use the name shown under Datacenter → Storage/,
    );
    for (const key of ["diskDatastore", "imageDatastore"]) {
      for (const bad of ["local/lvm", "1tank", "tank-"]) {
        const raw = sampleRaw();
        proxmoxOf(raw)[key] = bad;
        assert.match(only(raw, `proxmox.${key}`), /is not a Proxmox storage id/, `${key}: ${bad}`);
      }
    }
    assert.deepEqual(
      problems(withNode({ dataDisks: [{ name: "data", sizeGiB: 10, datastore: "ceph.ssd_pool-2" }] })),
      [],
    );
  });

  it("a shared security setting that fails for several nodes is reported once, naming them all", () => {
    const raw = sampleRaw();
    proxmoxOf(raw).bios = "seabios";
    raw.security = { secureBoot: true };
    nodesOf(raw)[1]!.security = { secureBoot: false };
    assert.equal(
      only(raw, "security.secureBoot"),
      'security.secureBoot: is true for cp-1, cp-3 and worker-1 while proxmox.bios is "seabios": Secure Boot needs UEFI — set proxmox.bios: ovmf (the default), or turn secureBoot off',
    );
    const tpm = sampleRaw();
    tpm.security = { diskEncryption: "tpm" };
    nodesOf(tpm)[3]!.security = { secureBoot: true };
    assert.match(
      only(tpm, "security.diskEncryption"),
      /is "tpm" for cp-1, cp-2 and cp-3 while security.secureBoot is false/,
    );
    const bad = sampleRaw();
    bad.security = { diskEncryption: "luks" };
    assert.equal(
      only(bad, "security.diskEncryption"),
      'security.diskEncryption: "luks" is not a disk encryption mode — use "none", "tpm" (sealed to the TPM; needs secureBoot) or "nodeID"',
    );
  });

  it("a map key that fails its schema reads the schema's message (not zod's 'Invalid key in record')", () => {
    const raw = sampleRaw();
    raw.nodeClasses = { GPU: {} };
    assert.equal(
      only(raw, "nodeClasses.GPU"),
      `nodeClasses.GPU: "GPU" is not a valid class name — use lowercase letters, digits and '-' (a DNS label), e.g. gpu`,
    );
  });
});

/** Selectors Talos' CEL compiler refuses, and ones it takes; `diskSelectorFault` must agree with talos-oracle on each. */
const BAD_SELECTORS = [
  'disk.serial = "data"',
  'disk.serial == "a" & disk.model == "b"',
  'disk.serial == "a" | disk.model == "b"',
  'disk.serial == "data',
  '(disk.serial == "data"',
  'disk.serial == "data")',
  'serial == "data"',
  'disk.serialnumber == "data"',
  "disk.size",
  "disk.serial",
  '"data"',
  "disk.size > 10",
  "disk.size >= 10.5",
  "disk.size == 0",
  "10 < disk.size",
  "disk.size > 10 * GiB",
  "disk.size > GiB * 10",
];
const GOOD_SELECTORS = [
  'disk.serial == "data"',
  "disk.serial == 'data'",
  "disk.rotational",
  '!disk.rotational && disk.transport == "nvme"',
  "disk.size > 10u * GiB",
  "disk.size >= 100u * GB && !system_disk",
  "disk.size > uint(10) * GiB",
  'disk.symlinks.exists(s, s.startsWith("/dev/disk/by-id/nvme-"))',
  'disk.model.matches("^Samsung")',
  'glob("S3*", disk.serial)',
  "has(disk.serial)",
  "size(disk.serial) > 0",
  'disk.serial in ["a", "b"]',
  'disk.dev_path == "/dev/sdb" || disk.dev_path == "/dev/sdc"',
  'disk.firmware_version == "1.0"',
  "true",
];

describe("disk selectors: refused exactly where Talos' CEL compiler refuses them", () => {
  it("names the fault of each bad selector and passes each good one", () => {
    for (const s of BAD_SELECTORS) assert.ok(diskSelectorFault(s, "1.14"), `should refuse: ${s}`);
    for (const s of GOOD_SELECTORS) assert.equal(diskSelectorFault(s, "1.14"), undefined, s);
    assert.match(
      diskSelectorFault('disk.firmware_version == "1.0"', "1.13") ?? "",
      /Talos 1.13 does not have/,
    );
    assert.match(diskSelectorFault('disk.serial = "x"') ?? "", /uses '=': CEL compares with '=='/);
    assert.match(diskSelectorFault('serial == "x"') ?? "", /did you mean disk.serial/);
    assert.match(diskSelectorFault("disk.size > 10") ?? "", /write 10u/);
  });

  it("the stack config refuses a bad selector at its key, before anything is rendered", () => {
    const raw = withNode({ dataDisks: [{ name: "data", sizeGiB: 10, selector: 'disk.serial = "data"' }] });
    assert.match(
      only(raw, "nodes[3].dataDisks[0].selector"),
      /"disk.serial = \\"data\\"" uses '=': CEL compares with '==' .*: Talos would refuse the disk selector — write a CEL condition/,
    );
    const cls = sampleRaw();
    cls.nodeClasses = { s: { dataDisks: [{ name: "data", sizeGiB: 10, selector: "disk.size > 10" }] } };
    nodesOf(cls)[3]!.class = "s";
    assert.match(only(cls, "nodeClasses.s.dataDisks[0].selector"), /compares disk.size \(unsigned\) with 10/);
    const good = withNode({ dataDisks: [{ name: "data", sizeGiB: 10, selector: "disk.size > 10u * GiB" }] });
    assert.equal(
      planNodes(validateStackConfig(good, SAMPLE_SECRETS))[3]!.machine.userVolumes![0]!.selector,
      "disk.size > 10u * GiB",
    );
  });
});

describe("disk selectors and data disk sizes: talos-oracle judge", function () {
  this.timeout(300_000);
  const dir = tempDir("pt-hw-sel-");
  for (const minor of ["1.13", "1.14"] as const) {
    it(`Talos ${minor}: the oracle refuses every selector the config refuses, and takes every one it accepts`, function () {
      requireOracle(this, minor);
      const { bundle } = oracleBundle();
      const verdicts = [...BAD_SELECTORS, ...GOOD_SELECTORS].map((selector, k) => {
        const y = renderMachineConfig({
          ...baseInput("1.13", "worker", bundle),
          talosVersion: `${minor}.0`,
          kubernetesVersion: `${talosMinorFacts(minor)!.kubernetes.maxMinor}.0`,
          hardware: {
            userVolumes: [
              { name: "data", selector, sizeGiB: selector === GOOD_SELECTORS[0] ? 2 : 17_179_869_183 },
            ],
          },
        });
        const v = runOracle(minor, ["validate", writeTemp(dir, `${minor}-${k}.yaml`, y)]);
        return {
          selector,
          oracle: v.status === 0,
          ours: diskSelectorFault(selector, minor) === undefined,
          out: v.stdout + v.stderr,
        };
      });
      for (const v of verdicts)
        assert.equal(
          v.ours,
          v.oracle,
          `${v.selector}: config ${v.ours ? "accepts" : "refuses"}, oracle ${v.oracle ? "accepts" : "refuses"}\n${v.out}`,
        );
    });
  }
});

describe("node hardware faults are reported with every other fault", () => {
  it("a section that does not parse turns off only the hardware rules that need it", () => {
    const raw = sampleRaw();
    proxmoxOf(raw).bios = "uefi"; // proxmox does not parse
    raw.security = { diskEncryption: "luks" }; // security does not parse
    Object.assign(nodesOf(raw)[3]!, {
      class: "gpu", // nodeClasses parsed, and has no gpu
      installDisk: "/dev/sdb1",
    });
    Object.assign(nodesOf(raw)[2]!, {
      image: { extensions: ["siderolabs/i915", "siderolabs/i915"] },
      dataDisks: [{ name: "data", sizeGiB: 10, selector: "disk.size > 10" }],
      security: { diskEncryption: "tpm" }, // needs the cluster's secureBoot, unknown: not judged
    });
    assert.deepEqual(
      problems(raw).map((x) => x.split(": ")[0]),
      [
        "proxmox.bios",
        "security.diskEncryption",
        "nodes[2].dataDisks[0].selector",
        "nodes[2].image.extensions[1]",
        "nodes[3].installDisk",
        "nodes[3].class",
      ],
    );
    // nodeClasses does not parse: a node of a class is not judged, the others are.
    const cls = sampleRaw();
    cls.nodeClasses = { gpu: { pci: "rtx" } };
    nodesOf(cls)[3]!.class = "gpu";
    nodesOf(cls)[3]!.installDisk = "/dev/sda2";
    nodesOf(cls)[2]!.installDisk = "/dev/vda";
    assert.deepEqual(
      problems(cls).map((x) => x.split(": ")[0]),
      ["nodeClasses.gpu.pci", "nodes[2].installDisk", "nodes[3].installDisk"],
    );
  });
});
