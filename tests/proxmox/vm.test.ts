import * as assert from "node:assert/strict";
import {
  imageFileName,
  planImages,
  type VmNode,
  type VmPlacement,
  vmArgs,
} from "../../components/proxmox/vm";

const placement: VmPlacement = {
  diskDatastore: "local-lvm",
  imageDatastore: "local",
  bios: "ovmf",
  cpuType: "host",
  bridge: "vmbr0",
  vlan: 50,
  cidr: "192.168.50.0/24",
  gateway: "192.168.50.1",
  dnsServers: ["192.168.50.1", "1.1.1.1"],
  tags: ["talos", "kubernetes"],
};

const node = (over: Partial<VmNode> = {}): VmNode => ({
  name: "cp-1",
  role: "controlplane",
  ip: "192.168.50.11",
  proxmoxNode: "pve1",
  vmId: 8101,
  cores: 2,
  memoryMiB: 4096,
  diskGiB: 32,
  tags: [],
  ...over,
});

describe("Proxmox VM arguments", () => {
  const args = vmArgs(node(), placement, "homelab", "local:iso/talos.img");

  it("turns the qemu guest agent on and starts on boot", () => {
    assert.deepEqual(args.agent, { enabled: true, trim: true, type: "virtio" });
    assert.equal(args.onBoot, true);
    assert.equal(args.started, true);
  });

  it("puts the static IP, gateway and DNS on the nocloud cloud-init drive", () => {
    assert.deepEqual(args.initialization, {
      type: "nocloud",
      datastoreId: "local-lvm",
      ipConfigs: [{ ipv4: { address: "192.168.50.11/24", gateway: "192.168.50.1" } }],
      dns: { servers: ["192.168.50.1", "1.1.1.1"] },
    });
  });

  it("imports the boot disk from the image on virtio-scsi-single with iothread, discard and ssd", () => {
    assert.equal(args.scsiHardware, "virtio-scsi-single");
    assert.deepEqual(args.disks, [
      {
        interface: "scsi0",
        datastoreId: "local-lvm",
        fileId: "local:iso/talos.img",
        fileFormat: "raw",
        size: 32,
        iothread: true,
        discard: "on",
        ssd: true,
        cache: "none",
      },
    ]);
  });

  it("uses q35, UEFI with an EFI disk, host CPU, fixed memory, virtio NIC on the bridge and VLAN", () => {
    assert.equal(args.machine, "q35");
    assert.equal(args.bios, "ovmf");
    assert.deepEqual(args.efiDisk, {
      datastoreId: "local-lvm",
      fileFormat: "raw",
      type: "4m",
      preEnrolledKeys: false,
    });
    assert.deepEqual(args.cpu, { type: "host", cores: 2, sockets: 1 });
    assert.deepEqual(args.memory, { dedicated: 4096, floating: 0 });
    assert.deepEqual(args.networkDevices, [{ bridge: "vmbr0", model: "virtio", vlanId: 50 }]);
    assert.equal(args.vmId, 8101);
    assert.equal(args.nodeName, "pve1");
  });

  it("has no EFI disk with SeaBIOS and no VLAN tag when none is set", () => {
    const a = vmArgs(node(), { ...placement, bios: "seabios", vlan: undefined }, "homelab", "x");
    assert.equal(a.efiDisk, undefined);
    assert.deepEqual(a.networkDevices, [{ bridge: "vmbr0", model: "virtio" }]);
  });

  it("tags the VM with the cluster, its role and its own tags", () => {
    const a = vmArgs(node({ role: "worker", tags: ["gpu"] }), placement, "homelab", "x");
    assert.deepEqual(a.tags, ["gpu", "homelab", "kubernetes", "talos", "worker"]);
  });
});

describe("Talos images per Proxmox host", () => {
  it("downloads one image per host that carries a VM", () => {
    const plans = planImages(
      [node(), node({ name: "cp-2", proxmoxNode: "pve2" }), node({ name: "cp-3", proxmoxNode: "pve1" })],
      "local",
      { url: "https://factory.talos.dev/image/x/v1.13.9/nocloud-amd64.raw.zst", fileName: "t.img" },
    );
    assert.deepEqual(
      plans.map((p) => [p.resourceName, p.proxmoxNode, p.datastore]),
      [
        ["talos-image-pve1-local", "pve1", "local"],
        ["talos-image-pve2-local", "pve2", "local"],
      ],
    );
  });

  it("names the image after schematic and version", () => {
    assert.equal(
      imageFileName("ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515", "1.13.9"),
      "talos-ce4c980550dd-v1.13.9-nocloud-amd64.img",
    );
  });
});
