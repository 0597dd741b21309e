/**
 * The resources the sample stack (Pulumi.homelab.yaml) registers, shaped as the policy engine hands
 * them over, built from the program's own builders (`vmArgs`, the chart pins) rather than by hand.
 * Used until the whole program runs under mocks (see pack.test.ts).
 */
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { ClusterSpecWire } from "../../components/plan";
import { type VmNode, type VmPlacement, vmArgs } from "../../components/proxmox/vm";
import { CHARTS } from "../../components/versions";
import { PROJECT_ROOT } from "../helpers/shared";
import { type ResourceSpec, STACK, urnOf } from "./harness";

export type RawConfig = Record<string, unknown>;

/** The sample stack's config, keys without the `proxmox-talos:` prefix. */
export function sampleConfig(): RawConfig {
  const doc = parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.homelab.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  const out: RawConfig = {};
  for (const [k, v] of Object.entries(doc.config)) {
    if (k.startsWith("proxmox-talos:")) out[k.slice("proxmox-talos:".length)] = v;
  }
  return out;
}

interface RawNode {
  name: string;
  role: "controlplane" | "worker";
  ip: string;
  proxmoxNode?: string;
  vmId?: number;
  cores?: number;
  memoryMiB?: number;
  diskGiB?: number;
  tags?: string[];
}
interface RawPool {
  name: string;
  addresses: string[];
}
interface RawAddon {
  enabled?: boolean;
  pools?: RawPool[];
}

function keyPem(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** A talosconfig / kubeconfig shaped like the real ones (base64 PEM key inside). */
export function fakeTalosconfig(cluster: string): string {
  const key = Buffer.from(keyPem()).toString("base64");
  return `context: ${cluster}\ncontexts:\n  ${cluster}:\n    endpoints: [192.168.50.11]\n    ca: Y2E=\n    crt: Y3J0\n    key: ${key}\n`;
}
export function fakeKubeconfig(cluster: string): string {
  const key = Buffer.from(keyPem()).toString("base64");
  return `apiVersion: v1\nkind: Config\nclusters: [{name: ${cluster}}]\nusers:\n- name: admin@${cluster}\n  user:\n    client-certificate-data: Y3J0\n    client-key-data: ${key}\n`;
}
export const FAKE_AGE_IDENTITY = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZ9K4CN";

/** The `clusterSpec` output HomelabCluster registers (the code proposed in the policy README). */
export function clusterSpecOf(c: RawConfig): ClusterSpecWire {
  const nodes = c.nodes as RawNode[];
  const addons = (c.addons ?? {}) as Record<string, RawAddon>;
  const controlPlane = c.controlPlane as { vip: string; allowEvenCount?: boolean };
  const network = c.network as {
    cidr: string;
    gateway: string;
    podSubnets?: string[];
    serviceSubnets?: string[];
  };
  return {
    clusterName: c.clusterName as string,
    production: (c.production as boolean | undefined) ?? false,
    talosVersion: String(c.talosVersion),
    kubernetesVersion: String(c.kubernetesVersion),
    controlPlane: { vip: controlPlane.vip, allowEvenCount: controlPlane.allowEvenCount ?? false },
    network: {
      cidr: network.cidr,
      gateway: network.gateway,
      ...(network.podSubnets ? { podSubnets: network.podSubnets } : {}),
      ...(network.serviceSubnets ? { serviceSubnets: network.serviceSubnets } : {}),
    },
    nodes: nodes.map((n) => ({
      name: n.name,
      role: n.role,
      ip: n.ip,
      ...(n.proxmoxNode ? { proxmoxNode: n.proxmoxNode } : {}),
      ...(n.vmId !== undefined ? { vmId: n.vmId } : {}),
    })),
    metallbPools: addons.metallb?.enabled ? (addons.metallb.pools ?? []) : [],
  };
}

const PLATFORM_ADDONS: readonly string[] = ["certManager", "headlamp", "monitoring", "velero"];

/** Namespaces the addons install into. */
const ADDON_NAMESPACES: Record<keyof typeof CHARTS, string> = {
  cilium: "kube-system",
  metallb: "metallb-system",
  openebs: "openebs",
  flux: "flux-system",
  certManager: "cert-manager",
  headlamp: "headlamp",
  monitoring: "monitoring",
  velero: "velero",
};

export interface StackOptions {
  readonly stack?: string;
  /** Register `clusterSpec` on HomelabCluster (the program change this pack asks for). Default true. */
  readonly withClusterSpec?: boolean;
  /** Protect the VMs (the program does when `production` is true). Defaults to config.production. */
  readonly protect?: boolean;
}

/** Every resource of the sample stack as the policy engine would see it. */
export function stackResources(c: RawConfig, opts: StackOptions = {}): ResourceSpec[] {
  const stack = opts.stack ?? STACK;
  const clusterName = c.clusterName as string;
  const nodes = c.nodes as RawNode[];
  const network = c.network as {
    cidr: string;
    gateway: string;
    dnsServers: string[];
    bridge?: string;
    vlan?: number;
  };
  const proxmox = c.proxmox as
    | {
        endpoint: string;
        insecure?: boolean;
        diskDatastore?: string;
        imageDatastore?: string;
        bios?: "ovmf" | "seabios";
        cpuType?: string;
        tags?: string[];
      }
    | undefined;
  const addons = (c.addons ?? {}) as Record<string, RawAddon>;
  const production = (c.production as boolean | undefined) ?? false;
  const vip = (c.controlPlane as { vip: string }).vip;

  const stackType = "pulumi:pulumi:Stack";
  const rootUrn = urnOf(stackType, `proxmox-talos-${stack}`, stack);
  const clusterType = "proxmox-talos:index:HomelabCluster";
  const clusterUrn = urnOf(clusterType, clusterName, stack, stackType);
  const talosconfig = fakeTalosconfig(clusterName);
  const kubeconfig = fakeKubeconfig(clusterName);
  const publicNodes = nodes.map((n) => ({ name: n.name, role: n.role, ip: n.ip }));
  const common = {
    endpoint: `https://${vip}:6443`,
    vip,
    nodes: publicNodes,
    schematicId: "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515",
  };

  const out: ResourceSpec[] = [
    {
      type: stackType,
      name: `proxmox-talos-${stack}`,
      urn: rootUrn,
      stack,
      props: {
        ...common,
        talosVersion: String(c.talosVersion),
        kubernetesVersion: String(c.kubernetesVersion),
        talosconfig,
        kubeconfig,
        talosconfigExpiresAt: "2027-11-22T21:00:00Z",
        kubeconfigExpiresAt: "2027-11-22T21:00:00Z",
        sopsRecipient: "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
        sopsConfig:
          "creation_rules:\n  - path_regex: .*.yaml\n    age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n",
      },
    },
    {
      type: clusterType,
      name: clusterName,
      urn: clusterUrn,
      stack,
      parentUrn: rootUrn,
      props: {
        ...common,
        talosconfig,
        kubeconfig,
        ...(opts.withClusterSpec === false ? {} : { clusterSpec: clusterSpecOf(c) }),
      },
    },
  ];

  if (proxmox) {
    const providerType = "pulumi:providers:proxmoxve";
    const provider = {
      type: providerType,
      name: "proxmox",
      urn: urnOf(providerType, "proxmox", stack, `${stackType}$${clusterType}`),
      props: {
        endpoint: proxmox.endpoint,
        // Provider inputs reach the engine in their string form, as the SDK sends them.
        insecure: String(proxmox.insecure ?? false),
        apiToken: "root@pam!pulumi=00000000-0000-0000-0000-000000000000",
      },
    };
    out.push({ ...provider, stack, parentUrn: clusterUrn });
    const nodesType = "proxmox-talos:index:ProxmoxNodes";
    const nodesUrn = urnOf(nodesType, "nodes", stack, `${stackType}$${clusterType}`);
    out.push({ type: nodesType, name: "nodes", urn: nodesUrn, stack, parentUrn: clusterUrn, props: {} });
    const placement: VmPlacement = {
      diskDatastore: proxmox.diskDatastore ?? "local-lvm",
      imageDatastore: proxmox.imageDatastore ?? "local",
      bios: proxmox.bios ?? "ovmf",
      cpuType: proxmox.cpuType ?? "host",
      bridge: network.bridge ?? "vmbr0",
      ...(network.vlan !== undefined ? { vlan: network.vlan } : {}),
      cidr: network.cidr,
      gateway: network.gateway,
      dnsServers: network.dnsServers,
      tags: proxmox.tags ?? ["talos", "kubernetes"],
    };
    const vmParent = `${stackType}$${clusterType}$${nodesType}`;
    for (const host of [...new Set(nodes.map((n) => n.proxmoxNode ?? "pve1"))].sort()) {
      const fileType = "proxmoxve:download/file:File";
      const name = `talos-image-${host}-${placement.imageDatastore}`;
      out.push({
        type: fileType,
        name,
        urn: urnOf(fileType, name, stack, vmParent),
        stack,
        parentUrn: nodesUrn,
        provider,
        props: {
          nodeName: host,
          datastoreId: placement.imageDatastore,
          contentType: "iso",
          url: "https://factory.talos.dev/image/x/v1.13.9/nocloud-amd64.raw.zst",
        },
      });
    }
    for (const n of nodes) {
      const vmNode: VmNode = {
        name: n.name,
        role: n.role,
        ip: n.ip,
        proxmoxNode: n.proxmoxNode ?? "pve1",
        vmId: n.vmId ?? 0,
        cores: n.cores ?? 2,
        memoryMiB: n.memoryMiB ?? 4096,
        diskGiB: n.diskGiB ?? 32,
        tags: n.tags ?? [],
      };
      const vmType = "proxmoxve:index/vmLegacy:VmLegacy";
      const args = vmArgs(vmNode, placement, clusterName, `${placement.imageDatastore}:iso/talos.img`);
      out.push({
        type: vmType,
        name: n.name,
        urn: urnOf(vmType, n.name, stack, vmParent),
        stack,
        parentUrn: nodesUrn,
        provider,
        protect: opts.protect ?? production,
        props: JSON.parse(JSON.stringify(args)) as Record<string, unknown>,
      });
    }
  }

  const talosType = "proxmox-talos:index:TalosCluster";
  const talosUrn = urnOf(talosType, "talos", stack, `${stackType}$${clusterType}`);
  out.push({
    type: talosType,
    name: "talos",
    urn: talosUrn,
    stack,
    parentUrn: clusterUrn,
    props: { talosconfig, kubeconfig },
  });
  for (const n of nodes) {
    const dyn = "pulumi-nodejs:dynamic:Resource";
    out.push({
      type: dyn,
      name: `${n.name}-apply`,
      urn: urnOf(dyn, `${n.name}-apply`, stack, `${stackType}$${clusterType}$${talosType}`),
      stack,
      parentUrn: talosUrn,
      props: { node: n.ip, machineConfig: "(secret machine config)" },
    });
  }

  const addonsType = "proxmox-talos:index:ClusterAddons";
  const addonsUrn = urnOf(addonsType, "addons", stack, `${stackType}$${clusterType}`);
  out.push({ type: addonsType, name: "addons", urn: addonsUrn, stack, parentUrn: clusterUrn, props: {} });
  const releaseType = "kubernetes:helm.sh/v3:Release";
  for (const [addon, pin] of Object.entries(CHARTS) as Array<
    [keyof typeof CHARTS, (typeof CHARTS)[keyof typeof CHARTS]]
  >) {
    if (addons[addon]?.enabled === false) continue;
    // The platform addons are off unless a stack turns them on.
    if (PLATFORM_ADDONS.includes(addon) && addons[addon]?.enabled !== true) continue;
    out.push({
      type: releaseType,
      name: addon,
      urn: urnOf(releaseType, addon, stack, `${stackType}$${clusterType}$${addonsType}`),
      stack,
      parentUrn: addonsUrn,
      props: {
        name: addon,
        chart: pin.chart,
        version: pin.version,
        repositoryOpts: { repo: pin.repository },
        namespace: ADDON_NAMESPACES[addon],
        values: {},
      },
    });
  }
  return out;
}

/** A deep copy of a config to mutate in a test. */
export function cloneConfig(c: RawConfig): RawConfig {
  return structuredClone(c);
}
