/**
 * Pure builders for the Proxmox side: the Talos boot image to download per Proxmox host and
 * datastore, and one VM's arguments. Tested without Pulumi mocks.
 */
import type * as proxmox from "@muhlba91/pulumi-proxmoxve";
import type * as pulumi from "@pulumi/pulumi";
import type { PciDevice, ResolvedDataDisk } from "../config/hardware";
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

/** The Talos boot image a VM's disk is seeded from. */
export interface VmImage {
  readonly url: string;
  readonly fileName: string;
  /**
   * "" for the cluster's default image; otherwise a short tag of the node's own schematic (and
   * Secure Boot), which names its download resource.
   */
  readonly variant: string;
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
  /** The node's own boot image (its schematic); the cluster's default image when unset. */
  readonly bootImage?: VmImage;
  /** Extra data disks (scsi1 …), each with its serial. */
  readonly dataDisks?: readonly ResolvedDataDisk[];
  /** PCI devices passed through by resource mapping. */
  readonly pci?: readonly PciDevice[];
  /** Secure Boot: OVMF in setup mode (Talos enrolls its keys) and a vTPM 2.0. */
  readonly secureBoot?: boolean;
  /** A vTPM 2.0 state disk (Secure Boot, TPM-sealed disk encryption). */
  readonly tpm?: boolean;
  /** Secure Boot / disk encryption profile: a change replaces the VM (a reinstall). */
  readonly bootSecurity?: string;
}

/** One Talos boot image on one Proxmox host's datastore. */
export interface ImagePlan {
  /**
   * Stable resource name: `talos-image-<host>-<datastore>` for the cluster's default image (the
   * name it always had), `…-<variant>` for a node's own schematic.
   */
  readonly resourceName: string;
  readonly proxmoxNode: string;
  readonly datastore: string;
  readonly url: string;
  readonly fileName: string;
  readonly variant: string;
}

/** A node's boot image: its own, or the cluster's default. */
export function nodeBootImage(
  node: Pick<VmNode, "bootImage">,
  defaultImage: { readonly url: string; readonly fileName: string },
): VmImage {
  return node.bootImage ?? { ...defaultImage, variant: "" };
}

/** Key of a node's image download: (host, datastore, image). */
export function imageKey(proxmoxNode: string, datastore: string, image: Pick<VmImage, "fileName">): string {
  return `${proxmoxNode}/${datastore}/${image.fileName}`;
}

/**
 * The images to download: one per (Proxmox host, image datastore, schematic) that carries a VM —
 * nodes sharing a schematic on one host share one download. The image is fetched compressed
 * (zstd) from the Image Factory and decompressed by Proxmox.
 */
export function planImages(
  nodes: readonly VmNode[],
  imageDatastore: string,
  defaultImage: { readonly url: string; readonly fileName: string },
): ImagePlan[] {
  const plans = new Map<string, ImagePlan>();
  for (const n of nodes) {
    const image = nodeBootImage(n, defaultImage);
    const key = imageKey(n.proxmoxNode, imageDatastore, image);
    if (plans.has(key)) continue;
    const base = `talos-image-${n.proxmoxNode}-${imageDatastore}`;
    plans.set(key, {
      resourceName: image.variant === "" ? base : `${base}-${image.variant}`,
      proxmoxNode: n.proxmoxNode,
      datastore: imageDatastore,
      url: image.url,
      fileName: image.fileName,
      variant: image.variant,
    });
  }
  return [...plans.values()].sort((a, b) => a.resourceName.localeCompare(b.resourceName));
}

/** Image file name as stored on the datastore (Proxmox wants `.img` for iso-content disk images). */
export function imageFileName(schematicId: string, talosVersion: string, secureBoot = false): string {
  return `talos-${schematicId.slice(0, 12)}-v${talosVersion}-nocloud-amd64${secureBoot ? "-secureboot" : ""}.img`;
}

/** The data disks of a VM: scsi1 … on the node's datastore, each with the serial Talos selects it by. */
export function dataDiskArgs(disks: readonly ResolvedDataDisk[], defaultDatastore: string) {
  return disks.map((d, k) => ({
    interface: `scsi${k + 1}`,
    datastoreId: d.datastore ?? defaultDatastore,
    fileFormat: "raw",
    size: d.sizeGiB,
    iothread: d.iothread,
    discard: d.discard ? "on" : "ignore",
    ssd: d.ssd,
    cache: "none",
    serial: d.serial ?? d.name,
  }));
}

/** PCI passthrough by Proxmox resource mapping (hostpci0 …); raw ids are refused by validation. */
export function hostPciArgs(devices: readonly PciDevice[]): proxmox.types.input.VmLegacyHostpci[] {
  return devices.map((d, j) => ({
    device: `hostpci${j}`,
    mapping: d.mapping,
    pcie: d.pcie,
    rombar: d.rombar,
    xvga: d.xvga,
  }));
}

/** The VM tags: the placement's, the role, and the node's own; sorted and unique as Proxmox stores them. */
export function vmTags(node: VmNode, placement: VmPlacement, clusterName: string): string[] {
  return [...new Set([...placement.tags, clusterName, node.role, ...node.tags])].sort();
}

/**
 * Arguments of one node's VM. `imageFileId` is the downloaded image's id
 * (`<datastore>:iso/<file>`). Memory is fixed (no ballooning): Kubernetes schedules by it, and PCI
 * passthrough needs all guest memory pinned, which a balloon would defeat.
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
    // No pre-enrolled keys: OVMF starts in Secure Boot setup mode, where a Secure Boot Talos image
    // enrolls its own keys on first boot (Talos' documented Proxmox flow); `4m` is required for it.
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
    ...(node.tpm || node.secureBoot
      ? { tpmState: { datastoreId: placement.diskDatastore, version: "v2.0" } }
      : {}),
    ...(node.pci && node.pci.length > 0 ? { hostpcis: hostPciArgs(node.pci) } : {}),
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
      ...dataDiskArgs(node.dataDisks ?? [], placement.diskDatastore),
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
