/**
 * Stack-level rules of the platform addons that need more than the `addons` key: Cilium's LB IPAM
 * pools must own their addresses exactly as MetalLB's must (disjoint from nodes, VIP, gateway and
 * each other: the same `poolIssues`), the rules spanning addons (`platformAddonIssues`) hold, and
 * the secret keys each enabled addon needs are set. They run after the schema, beside the other
 * cross-field rules, so their faults are reported together with every other one.
 */
import type { AddonsConfig } from "../addons/config";
import { platformAddonIssues, platformSecretIssues } from "../addons/platform-config";
import { type ConfigIssue, showValue } from "./errors";
import { poolIssues, type ReservedAddresses } from "./rules";
import type { SecretKey } from "./schema";

export function platformConfigIssues(
  addons: AddonsConfig,
  reserved: ReservedAddresses,
  secrets: Partial<Record<SecretKey, string>>,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of platformAddonIssues(addons)) {
    const cut = issue.message.indexOf(" — ");
    const path = issue.path.reduce<string>(
      (acc, p) => (typeof p === "number" ? `${acc}[${p}]` : `${acc}.${p}`),
      "addons",
    );
    const what = cut < 0 ? issue.message : issue.message.slice(0, cut);
    issues.push({
      path,
      message: issue.input === undefined ? what : `${showValue(issue.input)} ${what}`,
      ...(cut < 0 ? {} : { fix: issue.message.slice(cut + 3) }),
    });
  }
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
