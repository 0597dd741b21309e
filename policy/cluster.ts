/**
 * Cluster policies: stack policies over the cluster description (see `lib/facts.ts`). Each calls the
 * same rule function the program's config validation calls (`components/config/rules.ts`), so the
 * policy and `pulumi up`'s own check cannot drift apart.
 */
import type { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import type { ConfigIssue } from "../components/config/errors";
import {
  controlPlaneCountIssues,
  controlPlaneSpreadIssues,
  poolIssues,
  versionIssues,
  vipIssues,
} from "../components/config/rules";
import { readConfig, schemaOf } from "./lib/config";
import { type ClusterFacts, clusterFacts } from "./lib/facts";
import { issueMessage } from "./lib/report";

/** Runs `check` over the stack's cluster facts; not applicable when the stack describes no nodes. */
function onCluster(
  check: (facts: ClusterFacts, args: StackValidationArgs) => readonly ConfigIssue[],
): (args: StackValidationArgs, reportViolation: ReportViolation) => void {
  return (args, reportViolation) => {
    const facts = clusterFacts(args.resources);
    if (!facts) {
      return args.notApplicable(
        "the stack describes no cluster nodes (no clusterSpec, nodes output or tagged VMs)",
      );
    }
    for (const issue of check(facts, args)) reportViolation(issueMessage(issue, facts.source), facts.urn);
  };
}

export const COUNT_DEFAULTS = { allowEvenCount: false } as const;

export const controlPlaneCount: StackValidationPolicy = {
  name: "cluster-odd-control-planes",
  description: "The cluster has at least one control plane, and an odd number of them (etcd quorum).",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: schemaOf(COUNT_DEFAULTS, {
    allowEvenCount:
      "Accept an even number of control planes (as proxmox-talos:controlPlane.allowEvenCount does for one stack).",
  }),
  validateStack: onCluster((facts, args) =>
    controlPlaneCountIssues(
      facts.nodes,
      facts.allowEvenControlPlanes === true || readConfig(args, COUNT_DEFAULTS).allowEvenCount,
    ),
  ),
};

export const controlPlaneSpread: StackValidationPolicy = {
  name: "cluster-control-plane-spread",
  description: "With three or more control planes, they run on at least two Proxmox hosts.",
  enforcementLevel: "advisory",
  severity: "medium",
  validateStack: onCluster((facts) => controlPlaneSpreadIssues(facts.nodes)),
};

export const vip: StackValidationPolicy = {
  name: "cluster-vip-free",
  description:
    "The control-plane VIP is a free address: no node's IP (nor the gateway, inside the node network).",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateStack: onCluster((facts) => (facts.vip ? vipIssues(facts.vip, facts.nodes, facts.network) : [])),
};

export const metallbPools: StackValidationPolicy = {
  name: "cluster-metallb-pools-disjoint",
  description:
    "MetalLB address pools have their own names and are disjoint from node IPs, the VIP, the gateway, the pod and service ranges and each other.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateStack: onCluster((facts) =>
    poolIssues(facts.pools, {
      nodes: facts.nodes,
      vip: facts.vip,
      gateway: facts.network?.gateway,
      cidr: facts.network?.cidr,
      podSubnets: facts.network?.podSubnets,
      serviceSubnets: facts.network?.serviceSubnets,
    }),
  ),
};

export const versions: StackValidationPolicy = {
  name: "cluster-talos-kubernetes-supported",
  description: "The Talos / Kubernetes version pair is one Talos supports.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateStack: onCluster((facts, args) => {
    if (!facts.talosVersion || !facts.kubernetesVersion) {
      return args.notApplicable("the stack names no Talos and Kubernetes versions");
    }
    return versionIssues(facts.talosVersion, facts.kubernetesVersion);
  }),
};

export const clusterPolicies = [controlPlaneCount, controlPlaneSpread, vip, metallbPools, versions] as const;
