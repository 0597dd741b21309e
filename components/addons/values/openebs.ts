/**
 * Helm values for OpenEBS LocalPV hostpath (the standalone `localpv-provisioner` chart, which
 * carries no other engine): one StorageClass, the cluster's default, storing volumes under the
 * host path Talos mounts into the kubelet (`OPENEBS_HOSTPATH_BASE`).
 */
import { OPENEBS_HOSTPATH_BASE } from "../../talos/constants";
import { type HelmValues, helmMerge } from "./merge";

/** The keys this program sets in localpv-provisioner's values. */
export interface OpenebsValues extends HelmValues {
  localpv: { basePath: string };
  hostpathClass: { enabled: true; name: string; isDefaultClass: true; basePath: string };
  analytics: { enabled: boolean };
}

export function openebsBaseValues(storageClassName: string, basePath = OPENEBS_HOSTPATH_BASE): OpenebsValues {
  return {
    localpv: { basePath },
    hostpathClass: {
      enabled: true,
      name: storageClassName,
      isDefaultClass: true,
      basePath,
    },
    // No usage pings to Google Analytics from a homelab.
    analytics: { enabled: false },
  };
}

/**
 * LocalPV values with the user's `addons.openebs.values` merged last. `basePath` is where volumes
 * live on the nodes: OPENEBS_HOSTPATH_BASE, or a data disk's user volume (/var/mnt/<name>).
 */
export function openebsValues(storageClassName: string, user?: HelmValues, basePath?: string): HelmValues {
  return helmMerge(openebsBaseValues(storageClassName, basePath), user);
}
