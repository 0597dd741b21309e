/**
 * Helm values for Cilium on Talos: the CNI and kube-proxy replacement, reaching the API server
 * through KubePrism (localhost:7445) because kube-proxy is off, with the capabilities and cgroup
 * settings Talos requires (Talos docs, "Deploying Cilium CNI").
 */
import { KUBEPRISM_PORT } from "../../talos/constants";
import { type HelmValues, helmMerge } from "./merge";

/** Capabilities of the cilium-agent container; Talos forbids SYS_MODULE, so the list omits it. */
export const CILIUM_AGENT_CAPABILITIES = [
  "CHOWN",
  "KILL",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "SYS_ADMIN",
  "SYS_RESOURCE",
  "DAC_OVERRIDE",
  "FOWNER",
  "SETGID",
  "SETUID",
] as const;

/** Capabilities of the clean-cilium-state init container. */
export const CILIUM_CLEAN_STATE_CAPABILITIES = ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"] as const;

/** The keys this program sets in Cilium's values. */
export interface CiliumValues extends HelmValues {
  ipam: { mode: "kubernetes" };
  /** Must be exactly `true` or `false`: the chart's templates reject anything else. */
  kubeProxyReplacement: true;
  k8sServiceHost: "localhost";
  k8sServicePort: number;
  securityContext: {
    capabilities: {
      ciliumAgent: string[];
      cleanCiliumState: string[];
    };
  };
  cgroup: { autoMount: { enabled: false }; hostRoot: "/sys/fs/cgroup" };
}

/** Optional Cilium features the platform addons turn on. */
export interface CiliumFeatures {
  /** L2 announcements + LB IPAM as the cluster's LoadBalancer (`addons.cilium.loadBalancer: l2`). */
  readonly l2LoadBalancer?: boolean;
  /** Cilium's Gateway API controller (`addons.gateway`). */
  readonly gatewayApi?: boolean;
}

/**
 * Values for the optional features. L2 announcements hold one Lease per Service, renewed every few
 * seconds by the agents: Cilium's docs ("L2 Announcements", sizing) tell to raise the client rate
 * limit above the default 10/20 accordingly.
 */
export function ciliumFeatureValues(features: CiliumFeatures): HelmValues {
  return {
    ...(features.l2LoadBalancer
      ? {
          l2announcements: { enabled: true },
          k8sClientRateLimit: { qps: 50, burst: 100 },
        }
      : {}),
    ...(features.gatewayApi ? { gatewayAPI: { enabled: true } } : {}),
  };
}

/** The program's own Cilium values (before user values). */
export function ciliumBaseValues(): CiliumValues {
  return {
    ipam: { mode: "kubernetes" },
    kubeProxyReplacement: true,
    k8sServiceHost: "localhost",
    k8sServicePort: KUBEPRISM_PORT,
    securityContext: {
      capabilities: {
        ciliumAgent: [...CILIUM_AGENT_CAPABILITIES],
        cleanCiliumState: [...CILIUM_CLEAN_STATE_CAPABILITIES],
      },
    },
    cgroup: { autoMount: { enabled: false }, hostRoot: "/sys/fs/cgroup" },
  };
}

/**
 * Cilium values with the user's `addons.cilium.values` merged last. Throws when the result breaks
 * a rule the chart only enforces while rendering (`kubeProxyReplacement` must be true or false).
 */
export function ciliumValues(user?: HelmValues, features: CiliumFeatures = {}): HelmValues {
  const values = helmMerge(helmMerge(ciliumBaseValues(), ciliumFeatureValues(features)), user);
  const kpr = values.kubeProxyReplacement;
  if (kpr !== undefined && typeof kpr !== "boolean") {
    throw new Error(
      `addons.cilium.values.kubeProxyReplacement: ${JSON.stringify(kpr)} is not true or false — Cilium's chart accepts only a boolean (the pre-1.14 "strict" is gone); remove the override to keep true`,
    );
  }
  return values;
}
