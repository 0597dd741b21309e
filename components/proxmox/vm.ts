/**
 * Pure builders for the Proxmox side: the Talos boot image to download per Proxmox host and
 * datastore, and one VM's arguments. Tested without Pulumi mocks.
 */
import type * as proxmox from "@muhlba91/pulumi-proxmoxve";
import type * as pulumi from "@pulumi/pulumi";
import { parseCidr } from "../net/ipv4";

/** The Proxmox settings a VM needs (from the validated `proxmox` and `network` config). */
export interface VmPlacement {
  readonly diskDatastore: string;
  readonly imageDatastore: string;
  readonly bios: "ovmf" | "seabios";
  readonly cpuType: string;
  readonly bridge: string;
  readonly vlan?: number;
  readonly cidr: string;
  readonly gateway: string;
  readonly dnsServers: readonly string[];
  readonly tags: readonly string[];
}

/** What a VM is built from. */
export interface VmNode {
  readonly name: string;
  readonly role: "controlplane" | "worker";
  readonly ip: string;
  readonly proxmoxNode: string;
  readonly vmId: number;
  readonly cores: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
  readonly tags: readonly string[];
}

/** One Talos boot image on one Proxmox host's datastore. */
export interface ImagePlan {
  /** Stable resource name, e.g. `talos-image-pve1-local`. */
  readonly resourceName: string;
  readonly proxmoxNode: string;
  readonly datastore: string;
  readonly url: string;
  readonly fileName: string;
}

/**
 * The images to download: one per (Proxmox host, image datastore) that carries a VM. The image is
 * fetched compressed (zstd) from the Image Factory and decompressed by Proxmox.
 */
export function planImages(
  nodes: readonly VmNode[],
  imageDatastore: string,
  image: { url: string; fileName: string },
): ImagePlan[] {
  const hosts = [...new Set(nodes.map((n) => n.proxmoxNode))].sort();
  return hosts.map((host) => ({
    resourceName: `talos-image-${host}-${imageDatastore}`,
    proxmoxNode: host,
    datastore: imageDatastore,
    url: image.url,
    fileName: image.fileName,
  }));
}

/** Image file name as stored on the datastore (Proxmox wants `.img` for iso-content disk images). */
export function imageFileName(schematicId: string, talosVersion: string): string {
  return `talos-${schematicId.slice(0, 12)}-v${talosVersion}-nocloud-amd64.img`;
}

/** The VM tags: the placement's, the role, and the node's own; sorted and unique as Proxmox stores them. */
export function vmTags(node: VmNode, placement: VmPlacement, clusterName: string): string[] {
  return [...new Set([...placement.tags, clusterName, node.role, ...node.tags])].sort();
}

/**
 * Arguments of one node's VM. `imageFileId` is the downloaded image's id
 * (`<datastore>:iso/<file>`). Memory is fixed (no ballooning): Kubernetes schedules by it.
 */
export function vmArgs(
  node: VmNode,
  placement: VmPlacement,
  clusterName: string,
  imageFileId: pulumi.Input<string>,
): proxmox.VmLegacyArgs {
  const prefix = parseCidr(placement.cidr)?.prefix ?? 24;
  return {
    nodeName: node.proxmoxNode,
    vmId: node.vmId,
    name: node.name,
    description: `Talos ${node.role} of cluster ${clusterName}, managed by Pulumi (proxmox-talos).`,
    tags: vmTags(node, placement, clusterName),
    onBoot: true,
    started: true,
    machine: "q35",
    bios: placement.bios,
    ...(placement.bios === "ovmf"
      ? {
          efiDisk: {
            datastoreId: placement.diskDatastore,
            fileFormat: "raw",
            type: "4m",
            preEnrolledKeys: false,
          },
        }
      : {}),
    operatingSystem: { type: "l26" },
    cpu: { type: placement.cpuType, cores: node.cores, sockets: 1 },
    memory: { dedicated: node.memoryMiB, floating: 0 },
    agent: { enabled: true, trim: true, type: "virtio" },
    scsiHardware: "virtio-scsi-single",
    disks: [
      {
        interface: "scsi0",
        datastoreId: placement.diskDatastore,
        fileId: imageFileId,
        fileFormat: "raw",
        size: node.diskGiB,
        iothread: true,
        discard: "on",
        ssd: true,
        cache: "none",
      },
    ],
    networkDevices: [
      {
        bridge: placement.bridge,
        model: "virtio",
        ...(placement.vlan !== undefined ? { vlanId: placement.vlan } : {}),
      },
    ],
    initialization: {
      type: "nocloud",
      datastoreId: placement.diskDatastore,
      ipConfigs: [{ ipv4: { address: `${node.ip}/${prefix}`, gateway: placement.gateway } }],
      dns: { servers: [...placement.dnsServers] },
    },
    stopOnDestroy: true,
    timeoutStopVm: 300,
  };
}
