/**
 * Every version the project pins, in one place. Stack config may override each of them
 * (`talosVersion`, `kubernetesVersion`, `addons.<name>.version`); nothing else in the code
 * base hard-codes a version.
 */

/** The supported Talos minors and every fact about each: one row per minor in talos-minors.ts. */
export { SUPPORTED_TALOS_MINORS, type TalosMinor } from "./talos-minors";

/** Default Talos release (latest stable patch of the newest supported minor). */
export const DEFAULT_TALOS_VERSION = "1.14.1";
/**
 * Default Kubernetes release: the newest 1.37 patch (k8s.io/api v0.37.2 on the Go module proxy),
 * inside Talos 1.14's supported 1.32.0–1.37.x.
 */
export const DEFAULT_KUBERNETES_VERSION = "1.37.2";

/** Image Factory and the extension every Proxmox VM needs. */
export const IMAGE_FACTORY_URL = "https://factory.talos.dev";
export const DEFAULT_EXTENSIONS = ["siderolabs/qemu-guest-agent"] as const;

/** A pinned Helm chart: where it comes from and which version. */
export interface ChartPin {
  readonly chart: string;
  readonly repository: string;
  readonly version: string;
}

/**
 * Helm charts of the addons. These are the versions whose values schemas and defaults the tests
 * check against (`../shared/reference/charts/<chart>/<version>/`).
 */
export const CHARTS = {
  cilium: { chart: "cilium", repository: "https://helm.cilium.io/", version: "1.16.3" },
  metallb: { chart: "metallb", repository: "https://metallb.github.io/metallb", version: "0.15.3" },
  openebs: {
    chart: "localpv-provisioner",
    repository: "https://openebs.github.io/dynamic-localpv-provisioner",
    version: "4.1.1",
  },
  flux: {
    chart: "flux2",
    repository: "https://fluxcd-community.github.io/helm-charts",
    version: "2.18.3",
  },
} as const satisfies Record<string, ChartPin>;
export type AddonName = keyof typeof CHARTS;
