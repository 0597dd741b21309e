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
  // 1.19: current for the Kubernetes releases Talos 1.12/1.13 default to; its schema declares kubeProxyReplacement.
  cilium: { chart: "cilium", repository: "https://helm.cilium.io/", version: "1.19.6" },
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
  certManager: { chart: "cert-manager", repository: "https://charts.jetstack.io", version: "v1.21.1" },
  headlamp: {
    chart: "headlamp",
    repository: "https://kubernetes-sigs.github.io/headlamp/",
    version: "0.45.0",
  },
  monitoring: {
    chart: "kube-prometheus-stack",
    repository: "https://prometheus-community.github.io/helm-charts",
    version: "88.5.3",
  },
  velero: { chart: "velero", repository: "https://vmware-tanzu.github.io/helm-charts", version: "12.1.0" },
} as const satisfies Record<string, ChartPin>;
export type AddonName = keyof typeof CHARTS;

/**
 * The Gateway API release whose CRDs each Cilium minor documents as its prerequisite ("The below
 * CRDs from Gateway API vX must be pre-installed", Cilium docs, network/servicemesh/gateway-api).
 * The Gateway addon applies that release's published standard-channel manifest at run time.
 */
export const GATEWAY_API_FOR_CILIUM: Readonly<Record<string, string>> = {
  "1.18": "v1.3.0",
  "1.19": "v1.4.1",
};

/** The published standard-channel CRD manifest of a Gateway API release. */
export function gatewayApiCrdsUrl(version: string): string {
  return `https://github.com/kubernetes-sigs/gateway-api/releases/download/${version}/standard-install.yaml`;
}

/** Velero's object-store plugin for S3-compatible storage, paired with Velero 1.18 (chart 12.1.0). */
export const VELERO_AWS_PLUGIN_IMAGE = "velero/velero-plugin-for-aws:v1.14.2";

/** Headlamp's Flux plugin from Artifact Hub, installed by the chart's plugin manager. */
export const HEADLAMP_FLUX_PLUGIN = {
  source: "https://artifacthub.io/packages/headlamp/headlamp-plugins/headlamp_flux",
  version: "0.7.0",
} as const;
