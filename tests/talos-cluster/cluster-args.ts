/** The TalosCluster args the talos-cluster suites share: a 10.0.0.0/24 cluster on Talos 1.13.9, Kubernetes 1.36.3. */
import type { TalosClusterArgs } from "../../components/talos/talos-cluster";
import { image } from "../helpers/talos-image";

export const CLUSTER_BASE = {
  clusterName: "homelab",
  endpoint: "https://10.0.0.5:6443",
  vip: "10.0.0.5",
  talosVersion: "1.13.9",
  kubernetesVersion: "1.36.3",
  installImage: image("1.13.9"),
  network: {
    dnsServers: ["10.0.0.1"],
    cni: "cilium",
    kubeProxy: false,
    podSubnets: ["10.244.0.0/16"],
    serviceSubnets: ["10.96.0.0/12"],
  },
  allowSchedulingOnControlPlanes: false,
} as const satisfies Partial<TalosClusterArgs>;
