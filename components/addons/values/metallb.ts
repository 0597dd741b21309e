/**
 * Helm values for MetalLB: chart defaults, with the speaker's FRR container off (the program
 * announces pools over layer 2 only; turn FRR back on through `addons.metallb.values` for BGP).
 */
import { type HelmValues, helmMerge } from "./merge";

/** The keys this program sets in MetalLB's values. */
export interface MetallbValues extends HelmValues {
  speaker: { frr: { enabled: boolean } };
}

export function metallbBaseValues(): MetallbValues {
  return { speaker: { frr: { enabled: false } } };
}

/** MetalLB values with the user's `addons.metallb.values` merged last. */
export function metallbValues(user?: HelmValues): HelmValues {
  return helmMerge(metallbBaseValues(), user);
}
