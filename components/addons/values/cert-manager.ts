/**
 * Helm values for cert-manager: the chart installs its CRDs (`crds.enabled`) and keeps them when
 * the release goes (`crds.keep`, the chart default), so removing the addon never garbage-collects
 * certificates other workloads still reference.
 */
import { type HelmValues, helmMerge } from "./merge";

export interface CertManagerValues extends HelmValues {
  crds: { enabled: true; keep: true };
}

export function certManagerBaseValues(): CertManagerValues {
  return { crds: { enabled: true, keep: true } };
}

/** cert-manager values with the user's `addons.certManager.values` merged last. */
export function certManagerValues(user?: HelmValues): HelmValues {
  return helmMerge(certManagerBaseValues(), user);
}
