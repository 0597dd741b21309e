/**
 * Constants of the Talos layer shared with other components (addons import these).
 */

/** Host path OpenEBS LocalPV hostpath stores volumes under; mounted into the kubelet (rshared bind). */
export const OPENEBS_HOSTPATH_BASE = "/var/openebs/local";

/** KubePrism: in-cluster load balancer for the API server on every node (localhost:7445). */
export const KUBEPRISM_PORT = 7445;

/** Default Kubernetes cluster DNS domain. */
export const DEFAULT_DNS_DOMAIN = "cluster.local";

/** Link alias given (Talos 1.12+) to the node's link the shared VIP is announced on. */
export const VIP_LINK_ALIAS = "vip0";
