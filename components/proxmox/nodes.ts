/**
 * `ProxmoxNodes`: the Proxmox provider's view of the cluster — the Talos boot image on each host
 * that carries a VM, and one VM per node with a cloud-init (nocloud) drive holding its static IP.
 */
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { imageKey, nodeBootImage, planImages, type VmNode, type VmPlacement, vmArgs } from "./vm";

export interface ProxmoxNodesArgs {
  readonly clusterName: string;
  readonly nodes: readonly VmNode[];
  readonly placement: VmPlacement;
  /** The cluster's default Image Factory image (nocloud, zstd raw disk) and its datastore file name. */
  readonly image: { readonly url: string; readonly fileName: string };
  /** Protect the VMs from deletion (production stacks). Defaults to false. */
  readonly protect?: boolean;
}

export class ProxmoxNodes extends pulumi.ComponentResource {
  /** VM per node name. */
  public readonly vms: Readonly<Record<string, proxmox.VmLegacy>>;
  /** Downloaded image per `<host>/<datastore>/<file name>` (see `imageKey`). */
  public readonly images: Readonly<Record<string, proxmox.download.File>>;
  /** Proxmox VM id per node name. */
  public readonly vmIds: pulumi.Output<Record<string, number>>;

  constructor(name: string, args: ProxmoxNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("proxmox-talos:index:ProxmoxNodes", name, {}, opts);

    const images: Record<string, proxmox.download.File> = {};
    for (const plan of planImages(args.nodes, args.placement.imageDatastore, args.image)) {
      images[imageKey(plan.proxmoxNode, plan.datastore, plan)] = new proxmox.download.File(
        plan.resourceName,
        {
          nodeName: plan.proxmoxNode,
          datastoreId: plan.datastore,
          contentType: "iso",
          url: plan.url,
          fileName: plan.fileName,
          decompressionAlgorithm: "zst",
          overwrite: false,
          uploadTimeout: 1800,
        },
        { parent: this },
      );
    }

    const vms: Record<string, proxmox.VmLegacy> = {};
    for (const node of args.nodes) {
      const image =
        images[imageKey(node.proxmoxNode, args.placement.imageDatastore, nodeBootImage(node, args.image))];
      vms[node.name] = new proxmox.VmLegacy(
        node.name,
        vmArgs(node, args.placement, args.clusterName, image.id),
        {
          parent: this,
          dependsOn: [image],
          protect: args.protect ?? false,
          // The boot image only seeds a new disk; Talos upgrades itself through its installer
          // image, so a new Talos version must not recreate existing VMs.
          ignoreChanges: ["disks[0].fileId"],
          // Secure Boot or disk encryption changed: a reinstall on a fresh disk and vTPM, never in
          // place (only for nodes given a profile: workers; a control plane's apply refuses it).
          ...(node.bootSecurity !== undefined
            ? { replaceOnChanges: ["tpmState"], replacementTrigger: node.bootSecurity }
            : {}),
          customTimeouts: { create: "20m", update: "20m", delete: "10m" },
        },
      );
    }

    this.vms = vms;
    this.images = images;
    this.vmIds = pulumi.output(Object.fromEntries(args.nodes.map((n) => [n.name, n.vmId])));
    this.registerOutputs({ vmIds: this.vmIds });
  }
}
