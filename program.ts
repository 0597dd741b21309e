/**
 * The Pulumi program as a function, shared by `index.ts` (plain `pulumi up`) and the Automation
 * API runner in `stacks/` (inline program). Reads and validates the stack config — every fault is
 * reported before any resource is registered — builds the cluster and returns the stack outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { platformStackOutputs } from "./components/addons/platform-cluster";
import { HomelabCluster } from "./components/cluster";
import { loadStackConfig } from "./components/config/load";

export async function clusterProgram(): Promise<Record<string, unknown>> {
  const { config, secrets, secretSettings } = loadStackConfig();
  const cluster = new HomelabCluster(config.clusterName, { config, secrets, secretSettings });
  return {
    endpoint: cluster.endpoint,
    vip: cluster.vip,
    nodes: cluster.nodes,
    schematicId: cluster.schematicId,
    talosVersion: cluster.talosVersion,
    kubernetesVersion: cluster.kubernetesVersion,
    talosconfig: pulumi.secret(cluster.talosconfig),
    kubeconfig: pulumi.secret(cluster.kubeconfig),
    talosconfigExpiresAt: cluster.talosconfigExpiresAt,
    kubeconfigExpiresAt: cluster.kubeconfigExpiresAt,
    ...(cluster.sopsRecipient ? { sopsRecipient: cluster.sopsRecipient } : {}),
    ...(cluster.sopsConfig ? { sopsConfig: cluster.sopsConfig } : {}),
    ...platformStackOutputs(cluster.platform),
  };
}
