/** Helm policies: charts are pinned, fetched over https, and kept out of the `default` namespace. */
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { readConfig, schemaOf } from "./lib/config";
import {
  namespaceIssues,
  RELEASE_TYPE,
  type ReleaseFacts,
  releaseFacts,
  repositoryIssues,
  versionPinIssues,
} from "./lib/helm";

function onRelease(
  check: (release: ReleaseFacts, args: ResourceValidationArgs) => readonly string[],
): NonNullable<ResourceValidationPolicy["validateResource"]> {
  return (args, reportViolation) => {
    if (args.type !== RELEASE_TYPE) return;
    for (const message of check(releaseFacts(args.props, args.name), args)) reportViolation(message);
  };
}

export const helmVersionPinned: ResourceValidationPolicy = {
  name: "helm-chart-version-pinned",
  description: "Helm releases pin one exact chart version (not empty, not a range).",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: onRelease((release) => versionPinIssues(release)),
};

export const REPO_DEFAULTS = { allowedSchemes: ["https", "oci"] } as const;

export const helmRepositoryHttps: ResourceValidationPolicy = {
  name: "helm-repository-https",
  description: "Helm charts come from an explicit repository over https (or an OCI registry).",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: schemaOf(REPO_DEFAULTS, {
    allowedSchemes: "URL schemes a chart repository or chart location may use.",
  }),
  validateResource: onRelease((release, args) =>
    repositoryIssues(release, readConfig(args, REPO_DEFAULTS).allowedSchemes),
  ),
};

export const NAMESPACE_DEFAULTS = { forbiddenNamespaces: ["default"] } as const;

export const helmNamespace: ResourceValidationPolicy = {
  name: "helm-no-default-namespace",
  description: "Helm releases install into their own namespace, never `default`.",
  enforcementLevel: "advisory",
  severity: "low",
  configSchema: schemaOf(NAMESPACE_DEFAULTS, {
    forbiddenNamespaces: "Namespaces no release may install into (an unset namespace counts as default).",
  }),
  validateResource: onRelease((release, args) =>
    namespaceIssues(release, readConfig(args, NAMESPACE_DEFAULTS).forbiddenNamespaces),
  ),
};

export const helmPolicies = [helmVersionPinned, helmRepositoryHttps, helmNamespace] as const;
