/**
 * The cluster description a stack policy checks, recovered from the resources of a stack.
 *
 * Preferred source: the `clusterSpec` output the `HomelabCluster` component registers
 * (`ClusterSpecWire` in components/plan.ts: plain data from the validated config, known during preview). Without it, the facts are pieced
 * together from the root stack's outputs (`nodes`, `vip`, `talosVersion`, `kubernetesVersion`), the
 * Proxmox VMs (host, VM id, role tag, cloud-init IP) and MetalLB `IPAddressPool` resources. Stacks on
 * existing machines have no VMs: their nodes come from the description alone.
 */
import type { PolicyResource } from "@pulumi/policy";
import type { RuleNode, RulePool } from "../../components/config/rules";
import { arr, atKnown, bool, isRecord, num, stackOfUrn, str, strings } from "./props";
import { VM_TYPE, type VmFacts, vmFacts, vmIp } from "./vm";

export const STACK_TYPE = "pulumi:pulumi:Stack";
export const CLUSTER_TYPE = "proxmox-talos:index:HomelabCluster";

export interface ClusterFacts {
  /** Where the node facts came from. */
  readonly source: "clusterSpec" | "stack outputs" | "VMs";
  readonly stack?: string;
  readonly production?: boolean;
  readonly talosVersion?: string;
  readonly kubernetesVersion?: string;
  readonly vip?: string;
  readonly allowEvenControlPlanes?: boolean;
  readonly network?: {
    readonly cidr: string;
    readonly gateway: string;
    readonly podSubnets?: readonly string[];
    readonly serviceSubnets?: readonly string[];
  };
  readonly nodes: readonly RuleNode[];
  readonly pools: readonly RulePool[];
  readonly vms: ReadonlyArray<{ readonly urn: string; readonly facts: VmFacts; readonly protect: boolean }>;
  /** The resource stack-level violations are attached to (the cluster component, else the root stack). */
  readonly urn?: string;
}

function parseNode(value: unknown): RuleNode | undefined {
  const name = str(atKnown(value, "name"));
  const role = str(atKnown(value, "role"));
  const ip = str(atKnown(value, "ip"));
  if (!name || !ip || (role !== "controlplane" && role !== "worker")) return undefined;
  const proxmoxNode = str(atKnown(value, "proxmoxNode"));
  const vmId = num(atKnown(value, "vmId"));
  return { name, role, ip, ...(proxmoxNode ? { proxmoxNode } : {}), ...(vmId !== undefined ? { vmId } : {}) };
}

function parseNodes(value: unknown): RuleNode[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const nodes = value.map(parseNode);
  return nodes.every((n): n is RuleNode => n !== undefined) ? nodes : undefined;
}

function parsePools(value: unknown): RulePool[] {
  return arr(value).flatMap((p): RulePool[] => {
    const name = str(atKnown(p, "name"));
    return name ? [{ name, addresses: strings(atKnown(p, "addresses")) }] : [];
  });
}

/** `{key: list}` when the clusterSpec carries that list (older specs do not). */
function subnets(key: "podSubnets" | "serviceSubnets", value: unknown): Record<string, string[]> {
  return Array.isArray(value) ? { [key]: strings(value) } : {};
}

/** Reads a property of a resource, treating a value unknown during preview as absent. */
function prop(resource: PolicyResource, ...path: string[]): unknown {
  return atKnown(resource.props, ...path);
}

/** The cluster facts of a stack, or undefined when no node can be found at all. */
export function clusterFacts(resources: readonly PolicyResource[]): ClusterFacts | undefined {
  const cluster = resources.find((r) => r.type === CLUSTER_TYPE);
  const root = resources.find((r) => r.type === STACK_TYPE);
  const stack = resources.length > 0 ? stackOfUrn(resources[0].urn) : undefined;
  const vms = resources
    .filter((r) => r.type === VM_TYPE)
    .map((r) => ({ urn: r.urn, facts: vmFacts(r.props, r.name, atKnown), protect: r.opts.protect }));
  const vmByName = new Map(vms.map((v) => [v.facts.name, v.facts]));

  const spec = cluster ? prop(cluster, "clusterSpec") : undefined;
  const outputs = [cluster, root].filter((r): r is PolicyResource => r !== undefined);
  const fromOutputs = (key: string): unknown => outputs.map((r) => prop(r, key)).find((v) => v !== undefined);

  const specNodes = isRecord(spec) ? parseNodes(atKnown(spec, "nodes")) : undefined;
  const outputNodes = specNodes ? undefined : parseNodes(fromOutputs("nodes"));
  const source: ClusterFacts["source"] = specNodes ? "clusterSpec" : outputNodes ? "stack outputs" : "VMs";
  let nodes: RuleNode[] =
    specNodes ??
    outputNodes ??
    vms.flatMap(({ facts }): RuleNode[] => {
      const ip = vmIp(facts);
      return facts.role && ip ? [{ name: facts.name, role: facts.role, ip }] : [];
    });
  if (nodes.length === 0) return undefined;

  // The VMs are the truth about placement: fill in (or correct) each node's host and VM id from its VM.
  nodes = nodes.map((n) => {
    const vm = vmByName.get(n.name);
    if (!vm) return n;
    return {
      ...n,
      ...(vm.proxmoxNode ? { proxmoxNode: vm.proxmoxNode } : {}),
      ...(vm.vmId !== undefined ? { vmId: vm.vmId } : {}),
    };
  });

  const s: Record<string, unknown> = isRecord(spec) ? spec : {};
  const cidr = str(atKnown(s, "network", "cidr"));
  const gateway = str(atKnown(s, "network", "gateway"));
  const pools = isRecord(spec)
    ? parsePools(atKnown(s, "metallbPools"))
    : resources
        .filter((r) => r.type.endsWith(":IPAddressPool"))
        .map((r) => ({
          name: str(prop(r, "metadata", "name")) ?? r.name,
          addresses: strings(prop(r, "spec", "addresses")),
        }));

  return {
    source,
    stack,
    production: bool(atKnown(s, "production")),
    talosVersion: str(atKnown(s, "talosVersion")) ?? str(fromOutputs("talosVersion")),
    kubernetesVersion: str(atKnown(s, "kubernetesVersion")) ?? str(fromOutputs("kubernetesVersion")),
    vip: str(atKnown(s, "controlPlane", "vip")) ?? str(fromOutputs("vip")),
    allowEvenControlPlanes: bool(atKnown(s, "controlPlane", "allowEvenCount")),
    network:
      cidr && gateway
        ? {
            cidr,
            gateway,
            ...subnets("podSubnets", atKnown(s, "network", "podSubnets")),
            ...subnets("serviceSubnets", atKnown(s, "network", "serviceSubnets")),
          }
        : undefined,
    nodes,
    pools,
    vms,
    urn: cluster?.urn ?? root?.urn,
  };
}

/** The stack name of the resources under validation. */
export function stackName(resources: readonly PolicyResource[]): string | undefined {
  return resources.length > 0 ? stackOfUrn(resources[0].urn) : undefined;
}
