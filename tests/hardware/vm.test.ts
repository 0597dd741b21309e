import * as assert from "node:assert/strict";
import { planImages, type VmNode, type VmPlacement, vmArgs } from "../../components/proxmox/vm";

const placement: VmPlacement = {
  diskDatastore: "local-lvm",
  imageDatastore: "local",
  bios: "ovmf",
  cpuType: "host",
  bridge: "vmbr0",
  cidr: "10.0.0.0/24",
  gateway: "10.0.0.1",
  dnsServers: ["10.0.0.1"],
  tags: [],
};
const DEFAULT = { url: "https://f/image/d/v1.13.9/nocloud-amd64.raw.zst", fileName: "talos-d.img" };
const GPU = { url: "https://f/image/g/v1.13.9/nocloud-amd64.raw.zst", fileName: "talos-g.img", variant: "g" };
const SB = {
  url: "https://f/image/d/v1.13.9/nocloud-amd64-secureboot.raw.zst",
  fileName: "talos-d-sb.img",
  variant: "d-sb",
};

const node = (over: Partial<VmNode>): VmNode => ({
  name: "n",
  role: "worker",
  ip: "10.0.0.20",
  proxmoxNode: "pve1",
  vmId: 900,
  cores: 2,
  memoryMiB: 4096,
  diskGiB: 32,
  tags: [],
  ...over,
});

describe("Proxmox side of node hardware (pure)", () => {
  it("plans one download per (host, datastore, image) and keeps the default image's old name", () => {
    const plans = planImages(
      [
        node({ name: "a" }),
        node({ name: "b", bootImage: GPU }),
        node({ name: "c", bootImage: GPU }),
        node({ name: "d", bootImage: GPU, proxmoxNode: "pve2" }),
        node({ name: "e", bootImage: SB }),
      ],
      "local",
      DEFAULT,
    );
    assert.deepEqual(
      plans.map((p) => [p.resourceName, p.fileName]),
      [
        ["talos-image-pve1-local", "talos-d.img"],
        ["talos-image-pve1-local-d-sb", "talos-d-sb.img"],
        ["talos-image-pve1-local-g", "talos-g.img"],
        ["talos-image-pve2-local-g", "talos-g.img"],
      ],
    );
  });

  it("adds data disks after the boot disk, PCI by mapping, and a vTPM only when asked", () => {
    const a = vmArgs(
      node({
        dataDisks: [
          {
            name: "a",
            sizeGiB: 10,
            datastore: "tank",
            ssd: false,
            discard: false,
            iothread: false,
            serial: "a",
            selector: "",
          },
          { name: "b", sizeGiB: 20, ssd: true, discard: true, iothread: true, selector: "" },
        ],
        pci: [
          { mapping: "gpu", pcie: true, rombar: false, xvga: true },
          { mapping: "nic", pcie: false, rombar: true, xvga: false },
        ],
        tpm: true,
      }),
      placement,
      "c",
      "local:iso/x.img",
    );
    const disks = a.disks as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(
      disks.slice(1).map((d) => [d.interface, d.datastoreId, d.size, d.ssd, d.discard, d.iothread, d.serial]),
      [
        ["scsi1", "tank", 10, false, "ignore", false, "a"],
        ["scsi2", "local-lvm", 20, true, "on", true, "b"],
      ],
    );
    assert.deepEqual(a.hostpcis, [
      { device: "hostpci0", mapping: "gpu", pcie: true, rombar: false, xvga: true },
      { device: "hostpci1", mapping: "nic", pcie: false, rombar: true, xvga: false },
    ]);
    assert.deepEqual(a.tpmState, { datastoreId: "local-lvm", version: "v2.0" });
    const plain = vmArgs(node({}), placement, "c", "x");
    assert.equal(plain.tpmState, undefined);
    assert.equal(plain.hostpcis, undefined);
    assert.equal((plain.disks as unknown[]).length, 1);
  });
});
