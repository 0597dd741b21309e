/**
 * The cluster plan: everything `HomelabCluster` builds, derived from the validated stack config as
 * plain data (no Pulumi, no network) — the Image Factory image, the Proxmox VMs, the Talos cluster
 * args, the addons and the facts the policy pack checks. The component only turns it into
 * resources; `npm run render`, `npm run bench` and the tests read the same plan.
 */

import type { AddonsConfig } from "./addons/config";
import { withEtcdBackupPatch } from "./addons/etcd-backup";
import { withPlatformPatches } from "./addons/platform-cluster";
import type { RuleNode, RulePool } from "./config/rules";
import type { StackConfig } from "./config/validate";
import { openebsBasePath, planNodes } from "./hardware/plan";
import type { ProxmoxNodesArgs } from "./proxmox/nodes";
import { imageFileName } from "./proxmox/vm";
import { installerImage, nocloudImageUrl, schematicId, schematicYaml } from "./talos/schematic";
import type { TalosClusterArgs, TalosNodeArgs } from "./talos/talos-cluster";

/**
 * What `HomelabCluster` registers as its `clusterSpec` output: the plain cluster facts (no secrets)
 * stack policies check, since they see component outputs only (see policy/README.md).
 */
export interface ClusterSpecWire {
  readonly clusterName?: string;
  readonly production?: boolean;
  readonly talosVersion?: string;
  readonly kubernetesVersion?: string;
  readonly controlPlane?: { readonly vip?: string; readonly allowEvenCount?: boolean };
  readonly network?: { readonly cidr?: string; readonly gateway?: string };
  /** The nodes and pools as the cross-field rules take them (policy/lib/facts.ts passes them on). */
  readonly nodes?: readonly RuleNode[];
  readonly metallbPools?: readonly RulePool[];
}

export interface ClusterPlan {
  /** The Image Factory schematic and the images made from it. */
  readonly image: {
    readonly schematic: string;
    readonly schematicId: string;
    /** Installer image the nodes install and upgrade to. */
    readonly installImage: string;
    /** Boot disk image for the Proxmox VMs. */
    readonly diskImageUrl: string;
  };
  /** The Proxmox provider settings and VMs; absent for existing machines. */
  readonly proxmox?: {
    readonly provider: { readonly endpoint: string; readonly insecure: boolean };
    readonly nodes: ProxmoxNodesArgs;
  };
  /** `TalosCluster` args, but for the imported secrets (a Pulumi secret) and each node's VM dependency. */
  readonly talos: Omit<TalosClusterArgs, "nodes" | "importedSecrets"> & {
    readonly nodes: readonly Omit<TalosNodeArgs, "dependsOn" | "apiAddress">[];
  };
  /** The addons to install; absent when every addon is off (then no Kubernetes provider is needed). */
  readonly addons?: AddonsConfig;
  readonly spec: ClusterSpecWire;
}

export interface ClusterPlanOptions {
  /** Plain settings the stack stores as secrets (`loadStackConfig`): they must not show in config views. */
  readonly secretSettings?: readonly string[];
}

export function clusterPlan(config: StackConfig, o: ClusterPlanOptions = {}): ClusterPlan {
  const schematic = schematicYaml(config.imageFactory.extensions);
  const id = schematicId(schematic);
  const factoryHost = new URL(config.imageFactory.url).host;
  // Per node: its schematic (cluster + class + node), image, boot security, machine hardware.
  const nodePlans = new Map(planNodes(config).map((p) => [p.name, p]));
  const planOf = (name: string) => nodePlans.get(name)!;
  const image = {
    schematic,
    schematicId: id,
    installImage: installerImage(factoryHost, id, config.talosVersion, "nocloud"),
    diskImageUrl: nocloudImageUrl(config.imageFactory.url, id, config.talosVersion),
  };

  const px = config.proxmox;
  const proxmox = px && {
    provider: { endpoint: px.endpoint, insecure: px.insecure },
    nodes: {
      clusterName: config.clusterName,
      // The config rules require both with a proxmox section.
      nodes: config.nodes.map((n) => {
        const node = planOf(n.name);
        return {
          name: n.name,
          role: n.role,
          ip: n.ip,
          proxmoxNode: n.proxmoxNode!,
          vmId: n.vmId!,
          cores: n.cores,
          memoryMiB: n.memoryMiB,
          diskGiB: n.diskGiB,
          tags: n.tags,
          ...(node.image.bootImage.variant !== "" ? { bootImage: node.image.bootImage } : {}),
          dataDisks: node.hardware.dataDisks,
          pci: node.hardware.pci,
          secureBoot: node.hardware.secureBoot,
          tpm: node.hardware.secureBoot || node.hardware.diskEncryption === "tpm",
          // Control planes are not replaced for a boot-security change (their apply refuses it).
          ...(n.role === "worker" ? { bootSecurity: node.bootSecurity } : {}),
        };
      }),
      placement: {
        diskDatastore: px.diskDatastore,
        imageDatastore: px.imageDatastore,
        bios: px.bios,
        cpuType: px.cpuType,
        bridge: config.network.bridge,
        vlan: config.network.vlan,
        cidr: config.network.cidr,
        gateway: config.network.gateway,
        dnsServers: config.network.dnsServers,
        tags: px.tags,
      },
      image: { url: image.diskImageUrl, fileName: imageFileName(id, config.talosVersion) },
      // Protected unless the stack allows node removal: a boot-security change replaces a VM too.
      protect: config.production && !config.rollout.allowNodeRemoval,
    },
  };

  const secretSettings = o.secretSettings ?? [];
  const talos: ClusterPlan["talos"] = {
    clusterName: config.clusterName,
    endpoint: config.controlPlane.endpoint,
    vip: config.controlPlane.vip,
    talosVersion: config.talosVersion,
    kubernetesVersion: config.kubernetesVersion,
    installImage: image.installImage,
    nodes: config.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      ip: n.ip,
      installDisk: n.installDisk,
      patches: n.patches,
      newMachine: n.newMachine,
      installImage: planOf(n.name).image.installImage,
      hardware: planOf(n.name).machine,
      bootSecurity: planOf(n.name).bootSecurity,
      reinstallable: config.proxmox !== undefined,
    })),
    network: config.network,
    // Addons that need Talos settings add their patch first (monitoring: control-plane metrics
    // listeners; etcdBackup: Talos API access for its namespace), so a stack patch can still override it.
    patches: withEtcdBackupPatch(
      withPlatformPatches(config.patches, config.addons, config.talosVersion),
      config.addons.etcdBackup,
    ),
    allowSchedulingOnControlPlanes: config.controlPlane.allowSchedulingOnControlPlanes,
    openebsHostpath: config.addons.openebs.enabled,
    openebsBasePath: openebsBasePath(config),
    allowReinstall: !config.production || config.rollout.allowNodeRemoval,
    rollout: config.rollout,
    clientCerts: config.clientCerts,
    // Secret patches or node settings would show in the plain config views.
    showConfigViews: !secretSettings.some((k) => k === "patches" || k === "nodes"),
    // Issue #19: production guards (see TalosClusterArgs).
    production: config.production,
    allowNodeRemoval: config.rollout.allowNodeRemoval,
    allowSecretsReplacement: config.allowTalosSecretsReplacement,
  };

  const spec: ClusterSpecWire = {
    clusterName: config.clusterName,
    production: config.production,
    talosVersion: config.talosVersion,
    kubernetesVersion: config.kubernetesVersion,
    controlPlane: { vip: config.controlPlane.vip, allowEvenCount: config.controlPlane.allowEvenCount },
    network: { cidr: config.network.cidr, gateway: config.network.gateway },
    nodes: config.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      ip: n.ip,
      ...(n.proxmoxNode !== undefined ? { proxmoxNode: n.proxmoxNode } : {}),
      ...(n.vmId !== undefined ? { vmId: n.vmId } : {}),
    })),
    metallbPools: config.addons.metallb.enabled
      ? config.addons.metallb.pools.map((p) => ({ name: p.name, addresses: [...p.addresses] }))
      : [],
  };

  const anyAddon = Object.values(config.addons).some((a) => a.enabled);
  return { image, proxmox, talos, addons: anyAddon ? config.addons : undefined, spec };
}
