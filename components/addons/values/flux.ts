/** Helm values for Flux (flux2 chart): the chart's defaults, which install the CRDs and controllers. */
import { type HelmValues, helmMerge } from "./merge";

export function fluxBaseValues(): HelmValues {
  return {};
}

/** Flux values with the user's `addons.flux.values` merged last. */
export function fluxValues(user?: HelmValues): HelmValues {
  return helmMerge(fluxBaseValues(), user);
}
