/**
 * Cross-field rules of a cluster description. Plain functions over plain data, shared by the
 * program's config validation and the CrossGuard policy pack (one implementation, two callers).
 * Each returns the problems it finds as `ConfigIssue`s (empty when all is well).
 */
import { kubernetesSupportError } from "../compat";
import {
  formatIpv4,
  type Ipv4Cidr,
  type Ipv4Range,
  isHostInCidr,
  parseCidr,
  parseIpv4,
  parseRange,
  rangeContains,
  rangesOverlap,
} from "../net/ipv4";
import { type ConfigIssue, showValue } from "./errors";
import { hostBitsProblem } from "./subnet";

export interface RuleNode {
  readonly name: string;
  readonly role: "controlplane" | "worker";
  readonly ip: string;
  readonly proxmoxNode?: string;
  readonly vmId?: number;
}

/** What an address pool must stay clear of: node IPs, the VIP, the gateway, the node network's edges. */
export interface ReservedAddresses {
  readonly nodes: readonly RuleNode[];
  readonly vip?: string;
  readonly gateway?: string;
  /** The node network (`network.cidr`). */
  readonly cidr?: string;
}

export interface RulePool {
  readonly name: string;
  readonly addresses: readonly string[];
}

/** Unique node names, VM ids and IPs. */
export function uniquenessIssues(nodes: readonly RuleNode[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const fields = [
    ["name", (n: RuleNode) => n.name],
    ["ip", (n: RuleNode) => n.ip],
    ["vmId", (n: RuleNode) => n.vmId],
  ] as const;
  for (const [field, get] of fields) {
    const seen = new Map<unknown, number>();
    nodes.forEach((node, i) => {
      const value = get(node);
      if (value === undefined) return;
      const first = seen.get(value);
      if (first === undefined) seen.set(value, i);
      else
        issues.push({
          path: `nodes[${i}].${field}`,
          message: `${showValue(value)} is already used by nodes[${first}]`,
          fix: `give each node its own ${field}`,
        });
    });
  }
  return issues;
}

/** Why `address` is not a usable host of the node network `cidr` (written `text`); undefined when it is. */
function notAHost(net: Ipv4Cidr, text: string, address: number): string | undefined {
  if (isHostInCidr(net, address)) return undefined;
  if (!rangeContains(net, address)) return `is outside network.cidr ${text}`;
  return `is the ${address === net.first ? "network" : "broadcast"} address of network.cidr ${text}, not a host`;
}

/** Node IPs and the gateway are hosts of the node network; no node takes the gateway's address. */
export function addressingIssues(
  nodes: readonly RuleNode[],
  network: { cidr: string; gateway: string },
): ConfigIssue[] {
  const net = parseCidr(network.cidr);
  if (!net) return [];
  const issues: ConfigIssue[] = [];
  const gateway = parseIpv4(network.gateway);
  const gatewayProblem = gateway === undefined ? undefined : notAHost(net, network.cidr, gateway);
  if (gatewayProblem) {
    issues.push({
      path: "network.gateway",
      message: `${showValue(network.gateway)} ${gatewayProblem}`,
      fix: "use the router's address on the node network",
    });
  }
  nodes.forEach((node, i) => {
    const ip = parseIpv4(node.ip);
    if (ip === undefined) return;
    const problem = notAHost(net, network.cidr, ip);
    if (problem) {
      issues.push({
        path: `nodes[${i}].ip`,
        message: `${showValue(node.ip)} ${problem}`,
        fix: `pick a free address between ${formatIpv4(net.first + 1)} and ${formatIpv4(net.last - 1)}`,
      });
    } else if (ip === gateway) {
      issues.push({
        path: `nodes[${i}].ip`,
        message: `${showValue(node.ip)} is the gateway's address`,
        fix: "pick a free address",
      });
    }
  });
  return issues;
}

/** The VIP is a host of the node network and no node's own address. */
export function vipIssues(
  vip: string,
  nodes: readonly RuleNode[],
  network?: { cidr: string; gateway: string },
): ConfigIssue[] {
  const address = parseIpv4(vip);
  if (address === undefined) return [];
  const issues: ConfigIssue[] = [];
  const net = network ? parseCidr(network.cidr) : undefined;
  const problem = network && net ? notAHost(net, network.cidr, address) : undefined;
  if (problem) {
    issues.push({
      path: "controlPlane.vip",
      message: `${showValue(vip)} ${problem}`,
      fix: "a layer-2 VIP must be a free host address on the node network",
    });
  }
  if (network && parseIpv4(network.gateway) === address) {
    issues.push({
      path: "controlPlane.vip",
      message: `${showValue(vip)} is the gateway's address`,
      fix: "pick a free address",
    });
  }
  const owner = nodes.findIndex((n) => n.ip === vip);
  if (owner >= 0) {
    issues.push({
      path: "controlPlane.vip",
      message: `${showValue(vip)} is also nodes[${owner}].ip (${nodes[owner].name})`,
      fix: "the VIP floats between control planes: give it an address no node owns",
    });
  }
  return issues;
}

/** At least one control plane, and an odd count unless explicitly allowed. */
export function controlPlaneCountIssues(nodes: readonly RuleNode[], allowEven: boolean): ConfigIssue[] {
  const count = nodes.filter((n) => n.role === "controlplane").length;
  if (count === 0) {
    return [
      {
        path: "nodes",
        message: "has no node with role controlplane",
        fix: "add at least one control plane (three for HA)",
      },
    ];
  }
  if (count % 2 === 0 && !allowEven) {
    return [
      {
        path: "nodes",
        message: `has ${count} control planes; an even count adds no etcd fault tolerance over ${count - 1}`,
        fix: `use ${count - 1} or ${count + 1} control planes, or set controlPlane.allowEvenCount: true`,
      },
    ];
  }
  return [];
}

/** With three or more control planes, they should not all sit on one Proxmox host. */
export function controlPlaneSpreadIssues(nodes: readonly RuleNode[]): ConfigIssue[] {
  const cps = nodes.filter((n) => n.role === "controlplane");
  const hosts = new Set(cps.map((n) => n.proxmoxNode).filter((h) => h !== undefined));
  if (cps.length >= 3 && hosts.size === 1) {
    return [
      {
        path: "nodes",
        message: `all ${cps.length} control planes run on Proxmox node ${showValue([...hosts][0])}`,
        fix: "spread control planes over at least two Proxmox nodes so one host failure keeps quorum",
      },
    ];
  }
  return [];
}

/**
 * The MetalLB pool rules, all of them: there is a pool (when `required`: MetalLB is on), every pool
 * has its own name, every address parses, and the ranges are disjoint from node IPs, the VIP, the
 * gateway and each other.
 */
export function poolIssues(
  pools: readonly RulePool[],
  reserved: ReservedAddresses,
  o: { required?: boolean } = {},
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (o.required && pools.length === 0) {
    issues.push({
      path: "addons.metallb.pools",
      message: "is empty while MetalLB is enabled",
      fix: "add a pool of free addresses, or disable addons.metallb",
    });
  }
  const names = new Set<string>();
  pools.forEach((pool, p) => {
    if (names.has(pool.name)) {
      issues.push({
        path: `addons.metallb.pools[${p}].name`,
        message: `${showValue(pool.name)} is used by two pools`,
        fix: "give every pool its own name",
      });
    }
    names.add(pool.name);
  });
  const taken: Array<{ what: string; range: Ipv4Range }> = [];
  for (const n of reserved.nodes) {
    const ip = parseIpv4(n.ip);
    if (ip !== undefined) taken.push({ what: `node ${n.name} (${n.ip})`, range: { first: ip, last: ip } });
  }
  const vip = reserved.vip !== undefined ? parseIpv4(reserved.vip) : undefined;
  if (vip !== undefined) taken.push({ what: `the VIP (${reserved.vip})`, range: { first: vip, last: vip } });
  const gw = reserved.gateway !== undefined ? parseIpv4(reserved.gateway) : undefined;
  if (gw !== undefined)
    taken.push({ what: `the gateway (${reserved.gateway})`, range: { first: gw, last: gw } });
  // The node network's own network and broadcast addresses are no host's: a Service given one is
  // unreachable on the LAN.
  const net = reserved.cidr !== undefined ? parseCidr(reserved.cidr) : undefined;
  if (net && net.prefix < 31) {
    for (const [kind, at] of [
      ["network", net.first],
      ["broadcast", net.last],
    ] as const) {
      taken.push({
        what: `the ${kind} address of network.cidr ${reserved.cidr} (${formatIpv4(at)})`,
        range: { first: at, last: at },
      });
    }
  }

  const poolRanges: Array<{ what: string; range: Ipv4Range }> = [];
  pools.forEach((pool, p) => {
    pool.addresses.forEach((text, a) => {
      const path = `addons.metallb.pools[${p}].addresses[${a}]`;
      const range = parseRange(text);
      if (!range) {
        issues.push({
          path,
          message: `${showValue(text)} is not a CIDR or range`,
          fix: 'write "10.0.0.240/28" or "10.0.0.240-10.0.0.250"',
        });
        return;
      }
      const cidr = text.includes("/") ? parseCidr(text) : undefined;
      const hostBits = cidr && hostBitsProblem(cidr);
      if (hostBits) {
        issues.push({
          path,
          message: `${showValue(text)} ${hostBits.what}`,
          fix: `${hostBits.fix}, or the range you meant as "first-last"`,
        });
        return;
      }
      const clash = [...taken, ...poolRanges].find((t) => rangesOverlap(t.range, range));
      if (clash) {
        issues.push({
          path,
          message: `${showValue(text)} overlaps ${clash.what}`,
          fix: "MetalLB must own its addresses alone: shrink or move the range",
        });
      }
      poolRanges.push({ what: `pool ${pool.name} (${text})`, range });
    });
  });
  return issues;
}

/** The Talos/Kubernetes pair is one Talos supports. */
export function versionIssues(talosVersion: string, kubernetesVersion: string): ConfigIssue[] {
  const error = kubernetesSupportError(talosVersion, kubernetesVersion);
  if (!error) return [];
  const path = /Talos .* is not supported|not a Talos/.test(error) ? "talosVersion" : "kubernetesVersion";
  return [{ path, message: error, fix: "pick a pair from Talos' support matrix" }];
}

/** CNI and kube-proxy settings agree with the Cilium addon. */
export function cniIssues(
  network: { cni: "cilium" | "flannel"; kubeProxy?: boolean },
  ciliumEnabled: boolean,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (network.cni === "cilium" && !ciliumEnabled) {
    issues.push({
      path: "addons.cilium.enabled",
      message: "is false while network.cni is cilium: the cluster would have no network",
      fix: "enable the Cilium addon or set network.cni: flannel",
    });
  }
  if (network.cni === "flannel" && ciliumEnabled) {
    issues.push({
      path: "network.cni",
      message: '"flannel" while the Cilium addon is enabled: two CNIs would fight over the pod network',
      fix: "set network.cni: cilium, or disable addons.cilium",
    });
  }
  if (network.cni === "cilium" && network.kubeProxy === true) {
    issues.push({
      path: "network.kubeProxy",
      message: "is true while Cilium replaces kube-proxy (kubeProxyReplacement: true)",
      fix: "remove network.kubeProxy (Cilium does its job) or use network.cni: flannel",
    });
  }
  if (network.cni === "flannel" && network.kubeProxy === false) {
    issues.push({
      path: "network.kubeProxy",
      message: "is false with flannel: nothing would implement Services",
      fix: "remove network.kubeProxy, or use network.cni: cilium",
    });
  }
  return issues;
}

/** With a Proxmox section, every node names its Proxmox host and VM id. */
export function proxmoxPlacementIssues(nodes: readonly RuleNode[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  nodes.forEach((node, i) => {
    if (!node.proxmoxNode) {
      issues.push({
        path: `nodes[${i}].proxmoxNode`,
        message: "is unset",
        fix: "name the Proxmox node that hosts this VM, e.g. pve1",
      });
    }
    if (node.vmId === undefined) {
      issues.push({
        path: `nodes[${i}].vmId`,
        message: "is unset",
        fix: "give the VM a free Proxmox VM id, e.g. 8001",
      });
    }
  });
  return issues;
}

/**
 * Pod and service subnets against the node network and each other: no overlap with the nodes'
 * network, the service range not inside (or over) a pod range, and an IPv4 service range no larger
 * than /12 (kube-apiserver refuses a bigger one).
 */
export function subnetIssues(network: {
  cidr: string;
  podSubnets: readonly string[];
  serviceSubnets: readonly string[];
}): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const nodeNet = parseCidr(network.cidr);
  const pods = network.podSubnets.map((s) => parseCidr(s));
  network.podSubnets.forEach((text, i) => {
    const pod = pods[i];
    if (pod && nodeNet && rangesOverlap(pod, nodeNet)) {
      issues.push({
        path: `network.podSubnets[${i}]`,
        message: `${showValue(text)} overlaps the node network ${network.cidr}`,
        fix: "pick a private range no node, router or LAN uses, like 10.244.0.0/16",
      });
    }
  });
  network.serviceSubnets.forEach((text, i) => {
    const svc = parseCidr(text);
    if (!svc) return;
    const path = `network.serviceSubnets[${i}]`;
    if (nodeNet && rangesOverlap(svc, nodeNet)) {
      issues.push({
        path,
        message: `${showValue(text)} overlaps the node network ${network.cidr}`,
        fix: "pick a private range of its own, like 10.96.0.0/12",
      });
    }
    const pod = pods.findIndex((p) => p !== undefined && rangesOverlap(p, svc));
    if (pod >= 0) {
      issues.push({
        path,
        message: `${showValue(text)} overlaps network.podSubnets[${pod}] ${network.podSubnets[pod]}`,
        fix: "services and pods need disjoint ranges, e.g. pods 10.244.0.0/16 and services 10.96.0.0/12",
      });
    }
    if (svc.prefix < 12) {
      issues.push({
        path,
        message: `${showValue(text)} is larger than /12: kube-apiserver refuses an IPv4 service range of more than 2^20 addresses`,
        fix: "use a /12 or smaller range, like 10.96.0.0/12",
      });
    }
  });
  return issues;
}

/** Talos' documented minimums per role: control planes 2 GiB and 2 cores, workers 1 GiB and 1 core. */
export const ROLE_MINIMUMS = {
  controlplane: { memoryMiB: 2048, cores: 2 },
  worker: { memoryMiB: 1024, cores: 1 },
} as const;

export function roleMinimumIssues(
  nodes: ReadonlyArray<RuleNode & { readonly cores?: number; readonly memoryMiB?: number }>,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  nodes.forEach((node, i) => {
    const min = ROLE_MINIMUMS[node.role];
    if (node.memoryMiB !== undefined && node.memoryMiB < min.memoryMiB) {
      issues.push({
        path: `nodes[${i}].memoryMiB`,
        message: `${node.memoryMiB} is below Talos' minimum for a ${node.role} (${min.memoryMiB} MiB)`,
        fix: `give it at least ${min.memoryMiB} MiB (4096 recommended)`,
      });
    }
    if (node.cores !== undefined && node.cores < min.cores) {
      issues.push({
        path: `nodes[${i}].cores`,
        message: `${node.cores} is below Talos' minimum for a ${node.role} (${min.cores} cores)`,
        fix: `give it at least ${min.cores} cores`,
      });
    }
  });
  return issues;
}
