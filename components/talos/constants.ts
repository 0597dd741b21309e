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

/** Where Talos' kubelet keeps pods' volumes (its standard root dir); Velero's node agent mounts it. */
export const TALOS_KUBELET_PODS_DIR = "/var/lib/kubelet/pods";

/** etcd's plain-HTTP metrics listener on control planes, opened for Prometheus by the monitoring addon. */
export const ETCD_METRICS_PORT = 2381;
