/**
 * Stack-level rules of the platform addons that need more than the `addons` key: Cilium's LB IPAM
 * pools must own their addresses exactly as MetalLB's must (disjoint from nodes, VIP, gateway and
 * each other: the same `poolIssues`), and the secret keys each enabled addon needs must be set.
 */
import type { AddonsConfig } from "../addons/config";
import { platformSecretIssues } from "../addons/platform-config";
import type { ConfigIssue } from "./errors";
import { poolIssues, type RuleNode } from "./rules";
import type { SecretKey } from "./schema";

export function platformConfigIssues(
  addons: AddonsConfig,
  reserved: { nodes: readonly RuleNode[]; vip?: string; gateway?: string },
  secrets: Partial<Record<SecretKey, string>>,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (addons.cilium.enabled && addons.cilium.loadBalancer === "l2") {
    for (const issue of poolIssues(addons.cilium.pools, reserved)) {
      issues.push({
        ...issue,
        path: issue.path.replace(/^addons\.metallb\.pools/, "addons.cilium.pools"),
        fix: issue.fix?.replace(/^MetalLB/, "Cilium's LB IPAM"),
      });
    }
  }
  issues.push(...platformSecretIssues(addons, (key) => secrets[key] !== undefined));
  return issues;
}
