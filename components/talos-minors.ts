/**
 * Every fact about a Talos minor that this project depends on, one row per minor, each fact
 * named. Supporting a new minor = one row here + its talos-oracle build (../shared/tools/talos-oracle)
 * + the defaults in versions.ts; code and tests read the rows (no other module lists minors).
 *
 * Sources (Sidero's Go machinery at `machineryRelease`, the module the oracle is built from):
 * Kubernetes range and upgrade floor: `pkg/machinery/compatibility/talosNNN`; default Kubernetes:
 * `constants.DefaultKubernetesVersion`; config layout: `pkg/machinery/config/contract.go` gates and
 * `config/generate`; document kinds: `registry.Register` in `config/types/**`; API: the release's
 * descriptors (../shared/reference/talos/proto/talos-api-<minor>.binpb).
 */

import { parseVersion } from "./version";

/** How `talosctl gen config` lays out the machine config of this minor (contract.go gates). */
export interface ConfigLayout {
  /** 1.12+ `MultidocNetworkConfigSupported`: hostname, nameservers and VIP as HostnameConfig/ResolverConfig/Layer2VIPConfig documents. */
  readonly multiDocNetwork: boolean;
  /** ≤ 1.11 (`!HideRBACAndKeyUsage`, `StableHostnameEnabled`): features.rbac/stableHostname/apidCheckExtKeyUsage emitted. */
  readonly legacyFeatureFlags: boolean;
  /** ≤ 1.11 `PopulateClusterSANsFromEndpoint`, `!HideDisablePSP`: cluster.apiServer.certSANs and disablePodSecurityPolicy emitted. */
  readonly apiServerCertSANs: boolean;
  /** 1.12+ `GrubUseUKICmdlineDefault`: machine.install.grubUseUKICmdline: true (where machine.install exists). */
  readonly grubUseUKICmdline: boolean;
  /** ≤ 1.12 (`!KubeSpanMultidocConfig`): an empty `machine.network: {}` emitted. */
  readonly emptyNetworkSection: boolean;
  /**
   * 1.14+ `MultidocKubernetesConfigSupported` (with `UnattendedInstallConfig`, `HostDNSMultidocConfig`,
   * `DiscoveryServiceMultidocConfig`, `DiscoveryIdentityMultidocConfig`, `FilesystemTrimEnabledByDefault`,
   * `WorkloadIsolationEnabledByDefault`, all gated on the same version): the v1alpha1 document keeps
   * only machine type/token/CA/certSANs/features and cluster token/etcd; everything else is one
   * Kube*Config, Discovery*Config, UnattendedInstallConfig, ResolverConfig (hostDNS), VolumeConfig
   * EPHEMERAL, FilesystemTrimConfig and SecurityProfileConfig document each.
   */
  readonly multiDocKubernetes: boolean;
  /** 1.11+: STATE/EPHEMERAL encryption is a `VolumeConfig` document (`machine.systemDiskEncryption` left the schema). */
  readonly volumeConfigEncryption: boolean;
  /** 1.14+: kernel modules and sysctls are `KernelModuleConfig`/`SysctlConfig` documents (`machine.kernel`/`machine.sysctls` left the schema). */
  readonly kernelDocuments: boolean;
}

/** Behaviour of Talos' own config patcher (`configpatcher`) in this minor. */
export interface PatcherFacts {
  /** 1.12+: `$patch: delete` reaches inside free-form (Unstructured) fields. */
  readonly deleteInsideUnstructured: boolean;
  /**
   * ≤ 1.11: a `$patch: delete` under an absent parent section (a worker's `cluster.apiServer`)
   * panics Talos (reflect on a nil pointer); 1.12+ refuse it with "lookup failed".
   */
  readonly panicsOnDeleteUnderMissingParent: boolean;
  /** ≤ 1.11: `ProvisioningSpec.maxSize` is a byte size, replaced whenever its section merges; 1.12+ merge it normally. */
  readonly maxSizeReplacedOnMerge: boolean;
  /**
   * Groups of integer fields that are Go pointers, so an explicit 0 in a patch replaces the value
   * (named in patch-quirks.ts): `zswap` (1.11+ `ZswapConfig.maxPoolPercent`), `bond` (1.12+ BondConfig).
   */
  readonly pointerIntegers: readonly ("zswap" | "bond")[];
  /**
   * 1.14: an explicit `!!timestamp` scalar where the config wants a string is refused ("cannot
   * construct !!timestamp … into string"); ≤ 1.13 keep its text (talos-oracle-<minor> patch).
   */
  readonly refusesTimestampIntoString: boolean;
  /**
   * ≤ 1.13: deleting a named document the config does not have leaves a placeholder Talos cannot
   * encode (it panics writing the config), an unnamed one a `{}` document its loader refuses
   * (talos-oracle-<minor> patch + validate); 1.14 accepts both and drops the placeholder.
   */
  readonly crashesOnUnmatchedNamedDocumentDelete: boolean;
}

/** The Talos API this project calls, as this minor serves it. */
export interface ApiFacts {
  /**
   * The RPC a rolling upgrade calls. `machine.MachineService/Upgrade` exists with the same shape in
   * every supported minor; 1.13 marked it deprecated (removal planned for 1.18) and added the
   * streaming `machine.LifecycleService/Upgrade`, which 1.14 keeps unchanged.
   */
  readonly upgradeRpc: "machine.MachineService/Upgrade";
  /** Marked `deprecated` in this minor's descriptors (the call still works the same). */
  readonly upgradeRpcDeprecated: boolean;
}

/**
 * When a v1alpha1 field counts as set for Talos' conflict checks, read on the config as Talos'
 * patcher writes it (its encoder drops empty strings, lists and maps, keeps `{}` of a struct pointer).
 */
export type V1Alpha1SetWhen =
  /** A Go pointer: any value but null counts, `{}` and `false` included. */
  | "present"
  /** A string, list or map with content. */
  | "nonEmpty"
  /** A boolean flag that is true. */
  | "true"
  /** A number or duration other than zero. */
  | "nonZero"
  /** A list holding at least one IP address (Talos ignores the entries that do not parse). */
  | "anyIp";

/**
 * Talos refuses a v1alpha1 field beside the document that replaced it ("… is already set in v1alpha1
 * config"): the `V1Alpha1ConflictValidate` methods of the document kinds (1.12+; 1.11: the container's
 * own system disk encryption check), read in the machinery at `machineryRelease`.
 */
export interface V1Alpha1Conflict {
  /** The document kind whose presence makes the fields conflict. */
  readonly kind: string;
  /** Dotted paths in the v1alpha1 document; any of them set is refused. */
  readonly paths: readonly string[];
  readonly set: V1Alpha1SetWhen;
  /** Only a document of this name conflicts (VolumeConfig STATE/EPHEMERAL). */
  readonly documentName?: string;
  /** Only when this dotted field of the document is set (non-empty). */
  readonly documentField?: string;
  /** Where the setting belongs instead, when not in `kind` itself. */
  readonly replacement?: string;
  /** The gist of Talos' refusal; absent: Talos names the path (`.<path> is already set in v1alpha1 config`). */
  readonly talos?: string;
}

export interface TalosMinorFacts {
  /** `1.14`. */
  readonly minor: string;
  /** The release whose machinery the talos-oracle for this minor is built from; tests use it as the minor's example release. */
  readonly machineryRelease: string;
  /** `constants.DefaultKubernetesVersion` of `machineryRelease`. */
  readonly defaultKubernetes: string;
  /** Kubernetes supported (`talosNNN.MinimumKubernetesVersion`, `MaximumKubernetesVersion` = `<maxMinor>.99`). */
  readonly kubernetes: { readonly min: string; readonly maxMinor: string };
  /** `talosNNN.MinimumHostUpgradeVersion`: the oldest Talos a node may upgrade from. */
  readonly minUpgradeFrom: string;
  readonly config: ConfigLayout;
  /** Document kinds (apiVersion v1alpha1) first registered in this minor (1.10: all it registers). */
  readonly newDocumentKinds: readonly string[];
  readonly patcher: PatcherFacts;
  readonly api: ApiFacts;
  /**
   * Document kinds Talos refuses on a worker (`container.ControlplaneOnlyConfig`, checked by the
   * container's validation: "the following document kinds are only allowed on control plane machines").
   */
  readonly controlPlaneOnlyKinds: readonly string[];
  /** v1alpha1 fields Talos refuses beside the document that replaced them (every one of the minor). */
  readonly v1alpha1Conflicts: readonly V1Alpha1Conflict[];
}

const V1ALPHA1_LAYOUT: ConfigLayout = {
  multiDocNetwork: false,
  legacyFeatureFlags: true,
  apiServerCertSANs: true,
  grubUseUKICmdline: false,
  emptyNetworkSection: true,
  multiDocKubernetes: false,
  volumeConfigEncryption: true,
  kernelDocuments: false,
};
const MULTIDOC_NETWORK_LAYOUT: ConfigLayout = {
  multiDocNetwork: true,
  legacyFeatureFlags: false,
  apiServerCertSANs: false,
  grubUseUKICmdline: true,
  emptyNetworkSection: true,
  multiDocKubernetes: false,
  volumeConfigEncryption: true,
  kernelDocuments: false,
};

/** 1.11+: STATE/EPHEMERAL encryption in both places (container validation in 1.11, VolumeConfig's from 1.12). */
const VOLUME_ENCRYPTION_CONFLICTS: readonly V1Alpha1Conflict[] = (["STATE", "EPHEMERAL"] as const).map(
  (name) => ({
    kind: "VolumeConfig",
    documentName: name,
    documentField: "encryption.provider",
    paths: [`machine.systemDiskEncryption.${name.toLowerCase()}`],
    set: "present",
    talos: `system disk encryption for "${name}" is configured in both v1alpha1.Config and VolumeConfig`,
  }),
);

/** 1.12+ (network/resolver.go, time_sync.go, hostname.go), unchanged in 1.13 and 1.14. */
const NETWORK_DOCUMENT_CONFLICTS: readonly V1Alpha1Conflict[] = [
  ...VOLUME_ENCRYPTION_CONFLICTS,
  {
    kind: "ResolverConfig",
    paths: ["machine.network.searchDomains"],
    set: "nonEmpty",
    talos: ".machine.network.searchDomains is already set in v1alpha1 config",
  },
  {
    kind: "ResolverConfig",
    paths: ["machine.network.nameservers"],
    set: "anyIp",
    talos: ".machine.network.nameservers is already set in v1alpha1 config",
  },
  {
    kind: "ResolverConfig",
    paths: ["machine.network.disableSearchDomain"],
    set: "true",
    talos: ".machine.network.disableSearchDomain is already set in v1alpha1 config",
  },
  {
    kind: "TimeSyncConfig",
    paths: ["machine.time.disabled"],
    set: "true",
    talos: "time sync cannot be disabled in both v1alpha1 and new-style configuration",
  },
  {
    kind: "TimeSyncConfig",
    paths: ["machine.time.servers"],
    set: "nonEmpty",
    talos: "time servers cannot be specified in both v1alpha1 and new-style configuration",
  },
  {
    kind: "TimeSyncConfig",
    paths: ["machine.time.bootTimeout"],
    set: "nonZero",
    talos: "boot timeout cannot be specified in both v1alpha1 and new-style configuration",
  },
  {
    kind: "HostnameConfig",
    paths: ["machine.network.hostname"],
    set: "nonEmpty",
    talos: "static hostname is already set in v1alpha1 config",
  },
  {
    kind: "HostnameConfig",
    paths: ["machine.features.stableHostname"],
    set: "true",
    talos: "stable hostname is already set in v1alpha1 config",
  },
];

/** 1.13+: KubeSpanConfig (network/kubespan.go). */
const KUBESPAN_DOCUMENT_CONFLICTS: readonly V1Alpha1Conflict[] = [
  ...NETWORK_DOCUMENT_CONFLICTS,
  {
    kind: "KubeSpanConfig",
    paths: ["machine.network.kubespan"],
    set: "present",
    talos: "kubespan is already configured in v1alpha1 machine.network.kubespan",
  },
];

/** 1.14: the v1alpha1 fields its Kube*, Discovery*, CRI, Resolver and install documents replaced. */
const MULTIDOC_KUBERNETES_CONFLICTS: readonly V1Alpha1Conflict[] = [
  ...KUBESPAN_DOCUMENT_CONFLICTS,
  {
    kind: "ResolverConfig",
    documentField: "hostDNS",
    paths: ["machine.features.hostDNS"],
    set: "present",
    talos: ".machine.features.hostDNS is already set in v1alpha1 config",
  },
  {
    kind: "KubeClusterConfig",
    paths: ["cluster.clusterName"],
    set: "nonEmpty",
    talos: "cluster name is already set in the v1alpha1 config (.cluster.clusterName)",
  },
  {
    kind: "KubeClusterConfig",
    paths: ["cluster.controlPlane.endpoint"],
    set: "present",
    talos: "cluster endpoint is already set in the v1alpha1 config (.cluster.controlPlane.endpoint)",
  },
  {
    kind: "KubeNetworkConfig",
    paths: ["cluster.network"],
    set: "present",
    talos: "cluster network config is already set in the v1alpha1 config",
  },
  {
    kind: "KubeFlannelCNIConfig",
    paths: ["cluster.network"],
    set: "present",
    replacement: "KubeNetworkConfig",
    talos: "can't be used with KubeFlannelCNIConfig document",
  },
  {
    kind: "KubeAPIServerConfig",
    paths: ["cluster.apiServer"],
    set: "present",
    talos: "kube-apiserver config is already set in v1alpha1 config (.cluster.apiServer)",
  },
  {
    kind: "KubeAPIServerConfig",
    paths: ["cluster.controlPlane.localAPIServerPort"],
    set: "nonZero",
    talos:
      "kube-apiserver API port is already set in v1alpha1 config (.cluster.controlPlane.localAPIServerPort)",
  },
  {
    kind: "KubeAuditPolicyConfig",
    paths: ["cluster.apiServer.auditPolicy"],
    set: "nonEmpty",
    talos: "audit policy config is already set in v1alpha1 config",
  },
  {
    kind: "KubeAdmissionControlConfig",
    paths: ["cluster.apiServer.admissionControl"],
    set: "nonEmpty",
    talos: "admission control plugin config is already set in v1alpha1 config",
  },
  {
    kind: "KubeAuthorizerConfig",
    paths: ["cluster.apiServer.admissionControl"],
    set: "nonEmpty",
    replacement: "KubeAdmissionControlConfig",
    talos: "admission control plugin config is already set in v1alpha1 config",
  },
  {
    kind: "KubeAPIServerCAConfig",
    paths: ["cluster.ca"],
    set: "present",
    talos: "kube-apiserver CA is already set in v1alpha1 config (.cluster.ca)",
  },
  {
    kind: "KubeAggregatorCAConfig",
    paths: ["cluster.aggregatorCA"],
    set: "present",
    talos: "kube-apiserver aggregator CA is already set in v1alpha1 config (.cluster.aggregatorCA)",
  },
  {
    kind: "KubeServiceAccountConfig",
    paths: ["cluster.serviceAccount"],
    set: "present",
    talos: "service account is already set in v1alpha1 config (.cluster.serviceAccount)",
  },
  {
    kind: "KubeEtcdEncryptionConfig",
    paths: ["cluster.secretboxEncryptionSecret", "cluster.aescbcEncryptionSecret"],
    set: "nonEmpty",
    talos: "etcd encryption config is already set in v1alpha1 config",
  },
  {
    kind: "KubeControllerManagerConfig",
    paths: ["cluster.controllerManager", "machine.controlPlane.controllerManager"],
    set: "present",
    talos: "kube-controller-manager config is already set in v1alpha1 config",
  },
  {
    kind: "KubeSchedulerConfig",
    paths: ["cluster.scheduler", "machine.controlPlane.scheduler"],
    set: "present",
    talos: "kube-scheduler config is already set in v1alpha1 config",
  },
  {
    kind: "KubeProxyConfig",
    paths: ["cluster.proxy"],
    set: "present",
    talos:
      "cluster proxy config in v1alpha1 config (.machine.cluster.proxy) can't be used with KubeProxyConfig document",
  },
  {
    kind: "KubeCoreDNSConfig",
    paths: ["cluster.coreDNS"],
    set: "present",
    talos: "CoreDNS config is already set in v1alpha1 config (.cluster.coreDNS)",
  },
  {
    kind: "KubeletConfig",
    paths: ["machine.kubelet"],
    set: "present",
    talos: "kubelet config is already set in v1alpha1 config (.machine.kubelet)",
  },
  {
    kind: "KubeCredentialProviderConfig",
    paths: ["machine.kubelet"],
    set: "present",
    replacement: "KubeletConfig",
    talos: "cannot use KubeCredentialProviderConfig with legacy kubelet configuration (.machine.kubelet)",
  },
  {
    kind: "KubeNodeConfig",
    paths: [
      "cluster.allowSchedulingOnControlPlanes",
      "cluster.allowSchedulingOnMasters",
      "machine.kubelet.skipNodeRegistration",
      "machine.kubelet.registerWithFQDN",
      "machine.kubelet.nodeIP",
    ],
    set: "present",
  },
  {
    kind: "KubeNodeConfig",
    paths: ["machine.nodeLabels", "machine.nodeAnnotations", "machine.nodeTaints"],
    set: "nonEmpty",
  },
  {
    kind: "KubePrismConfig",
    paths: ["machine.features.kubePrism"],
    set: "present",
    talos:
      "KubePrism config in v1alpha1 config (.machine.features.kubePrism) can't be used with KubePrismConfig document",
  },
  {
    kind: "KubeTalosAPIAccessConfig",
    paths: ["machine.features.kubernetesTalosAPIAccess"],
    set: "present",
    talos: ".machine.features.kubernetesTalosAPIAccess is already set in v1alpha1 config",
  },
  {
    kind: "DiscoveryServiceConfig",
    paths: ["cluster.discovery"],
    set: "present",
    talos: "discovery service is already configured in .cluster.discovery of the v1alpha1 config",
  },
  {
    kind: "DiscoveryIdentityConfig",
    paths: ["cluster.id", "cluster.secret"],
    set: "nonEmpty",
    talos: "cluster identity is already configured in .cluster.id/.cluster.secret of the v1alpha1 config",
  },
  {
    kind: "UnattendedInstallConfig",
    paths: ["machine.install"],
    set: "present",
    talos: "UnattendedInstallConfig config is incompatible with v1alpha1 config (.machine.install)",
  },
  {
    kind: "CRIBaseRuntimeSpecConfig",
    paths: ["machine.baseRuntimeSpecOverrides"],
    set: "nonEmpty",
    talos: "base runtime spec overrides are already set in v1alpha1 config",
  },
  {
    kind: "ImageCacheConfig",
    paths: ["machine.features.imageCache"],
    set: "present",
    talos: "image cache config is already set in v1alpha1 config",
  },
];

/** 1.12's patcher (typed merges, deletes inside free-form fields), unchanged in 1.13. */
const TYPED_PATCHER_1_12: PatcherFacts = {
  deleteInsideUnstructured: true,
  panicsOnDeleteUnderMissingParent: false,
  maxSizeReplacedOnMerge: false,
  pointerIntegers: ["zswap", "bond"],
  crashesOnUnmatchedNamedDocumentDelete: true,
  refusesTimestampIntoString: false,
};

/** The rows, oldest first. */
export const TALOS_MINORS = [
  {
    minor: "1.10",
    machineryRelease: "1.10.6",
    defaultKubernetes: "1.33.3",
    kubernetes: { min: "1.28.0", maxMinor: "1.33" },
    minUpgradeFrom: "1.8.0",
    config: { ...V1ALPHA1_LAYOUT, volumeConfigEncryption: false },
    newDocumentKinds: [
      "EventSinkConfig",
      "KmsgLogConfig",
      "NetworkDefaultActionConfig",
      "NetworkRuleConfig",
      "SideroLinkConfig",
      "ExtensionServiceConfig",
      "WatchdogTimerConfig",
      "KubeSpanEndpointsConfig",
      "TrustedRootsConfig",
      "VolumeConfig",
      "EthernetConfig",
      "PCIDriverRebindConfig",
      "UserVolumeConfig",
    ],
    patcher: {
      deleteInsideUnstructured: false,
      panicsOnDeleteUnderMissingParent: true,
      maxSizeReplacedOnMerge: true,
      pointerIntegers: [],
      crashesOnUnmatchedNamedDocumentDelete: true,
      refusesTimestampIntoString: false,
    },
    api: { upgradeRpc: "machine.MachineService/Upgrade", upgradeRpcDeprecated: false },
    controlPlaneOnlyKinds: [],
    v1alpha1Conflicts: [],
  },
  {
    minor: "1.11",
    machineryRelease: "1.11.6",
    defaultKubernetes: "1.34.1",
    kubernetes: { min: "1.29.0", maxMinor: "1.34" },
    minUpgradeFrom: "1.9.0",
    config: V1ALPHA1_LAYOUT,
    newDocumentKinds: ["ExistingVolumeConfig", "RawVolumeConfig", "SwapVolumeConfig", "ZswapConfig"],
    patcher: {
      deleteInsideUnstructured: false,
      panicsOnDeleteUnderMissingParent: true,
      maxSizeReplacedOnMerge: true,
      pointerIntegers: ["zswap"],
      crashesOnUnmatchedNamedDocumentDelete: true,
      refusesTimestampIntoString: false,
    },
    api: { upgradeRpc: "machine.MachineService/Upgrade", upgradeRpcDeprecated: false },
    controlPlaneOnlyKinds: [],
    v1alpha1Conflicts: VOLUME_ENCRYPTION_CONFLICTS,
  },
  {
    minor: "1.12",
    machineryRelease: "1.12.6",
    defaultKubernetes: "1.35.2",
    kubernetes: { min: "1.30.0", maxMinor: "1.35" },
    minUpgradeFrom: "1.10.0",
    config: MULTIDOC_NETWORK_LAYOUT,
    newDocumentKinds: [
      "HostnameConfig",
      "Layer2VIPConfig",
      "HCloudVIPConfig",
      "LinkConfig",
      "LinkAliasConfig",
      "DHCPv4Config",
      "DHCPv6Config",
      "BondConfig",
      "BridgeConfig",
      "VLANConfig",
      "DummyLinkConfig",
      "WireguardConfig",
      "ResolverConfig",
      "StaticHostConfig",
      "TimeSyncConfig",
      "OOMConfig",
      "RegistryMirrorConfig",
      "RegistryAuthConfig",
      "RegistryTLSConfig",
    ],
    patcher: TYPED_PATCHER_1_12,
    api: { upgradeRpc: "machine.MachineService/Upgrade", upgradeRpcDeprecated: false },
    controlPlaneOnlyKinds: [],
    v1alpha1Conflicts: NETWORK_DOCUMENT_CONFLICTS,
  },
  {
    minor: "1.13",
    machineryRelease: "1.13.9",
    defaultKubernetes: "1.36.3",
    kubernetes: { min: "1.31.0", maxMinor: "1.36" },
    minUpgradeFrom: "1.11.0",
    config: { ...MULTIDOC_NETWORK_LAYOUT, emptyNetworkSection: false },
    newDocumentKinds: [
      "BlackholeRouteConfig",
      "RoutingRuleConfig",
      "VRFConfig",
      "TCPProbeConfig",
      "KubeSpanConfig",
      "EnvironmentConfig",
      "ExternalVolumeConfig",
      "ImageVerificationConfig",
    ],
    patcher: TYPED_PATCHER_1_12,
    api: { upgradeRpc: "machine.MachineService/Upgrade", upgradeRpcDeprecated: true },
    controlPlaneOnlyKinds: [],
    v1alpha1Conflicts: KUBESPAN_DOCUMENT_CONFLICTS,
  },
  {
    minor: "1.14",
    machineryRelease: "1.14.1",
    defaultKubernetes: "1.37.0",
    kubernetes: { min: "1.32.0", maxMinor: "1.37" },
    minUpgradeFrom: "1.12.0",
    config: {
      ...MULTIDOC_NETWORK_LAYOUT,
      emptyNetworkSection: false,
      multiDocKubernetes: true,
      kernelDocuments: true,
    },
    newDocumentKinds: [
      "BGPInstanceConfig",
      "CRIBaseRuntimeSpecConfig",
      "CRICustomizationConfig",
      "ContainerConfig",
      "DiscoveryIdentityConfig",
      "DiscoveryServiceConfig",
      "EtcFileConfig",
      "FilesystemScrubConfig",
      "FilesystemTrimConfig",
      "HTTPProbeConfig",
      "ImageCacheConfig",
      "KernelModuleConfig",
      "KubeAPIServerCAConfig",
      "KubeAPIServerConfig",
      "KubeAdmissionControlConfig",
      "KubeAggregatorCAConfig",
      "KubeAuditPolicyConfig",
      "KubeAuthenticationConfig",
      "KubeAuthorizerConfig",
      "KubeClusterConfig",
      "KubeControllerManagerConfig",
      "KubeCoreDNSConfig",
      "KubeCredentialProviderConfig",
      "KubeEtcdEncryptionConfig",
      "KubeExternalManifestConfig",
      "KubeFlannelCNIConfig",
      "KubeInlineManifestConfig",
      "KubeNetworkConfig",
      "KubeNodeConfig",
      "KubePrismConfig",
      "KubeProxyConfig",
      "KubeSchedulerConfig",
      "KubeServiceAccountConfig",
      "KubeStaticPodConfig",
      "KubeTalosAPIAccessConfig",
      "KubeletConfig",
      "LVMLogicalVolumeConfig",
      "LVMVolumeGroupConfig",
      "RAIDArrayConfig",
      "SecurityProfileConfig",
      "SysctlConfig",
      "SysfsConfig",
      "UdevRulesConfig",
      "UnattendedInstallConfig",
      "VethConfig",
    ],
    patcher: {
      ...TYPED_PATCHER_1_12,
      crashesOnUnmatchedNamedDocumentDelete: false,
      refusesTimestampIntoString: true,
    },
    api: { upgradeRpc: "machine.MachineService/Upgrade", upgradeRpcDeprecated: true },
    controlPlaneOnlyKinds: [
      "KubeAPIServerConfig",
      "KubeAdmissionControlConfig",
      "KubeAggregatorCAConfig",
      "KubeAuditPolicyConfig",
      "KubeAuthenticationConfig",
      "KubeAuthorizerConfig",
      "KubeControllerManagerConfig",
      "KubeCoreDNSConfig",
      "KubeEtcdEncryptionConfig",
      "KubeFlannelCNIConfig",
      "KubeProxyConfig",
      "KubeSchedulerConfig",
      "KubeServiceAccountConfig",
      "KubeTalosAPIAccessConfig",
    ],
    v1alpha1Conflicts: MULTIDOC_KUBERNETES_CONFLICTS,
  },
] as const satisfies readonly TalosMinorFacts[];

export type TalosMinor = (typeof TALOS_MINORS)[number]["minor"];

/** The supported minors, oldest first. */
export const SUPPORTED_TALOS_MINORS: readonly TalosMinor[] = TALOS_MINORS.map((r) => r.minor);

/** The newest supported minor's row. */
export const NEWEST_TALOS_MINOR: TalosMinorFacts = TALOS_MINORS[TALOS_MINORS.length - 1]!;

/** The row of `minor` (`1.14`), or undefined when this project does not support it. */
export function talosMinorFacts(minor: string): TalosMinorFacts | undefined {
  return TALOS_MINORS.find((r) => r.minor === minor);
}

/** The row of `talosVersion`'s minor (`1.13`, `v1.13.9` …); the newest row when absent or not in the table. */
export function talosMinorFactsOrNewest(talosVersion: string | undefined): TalosMinorFacts {
  const minor = talosVersion === undefined ? undefined : parseVersion(talosVersion)?.minorKey;
  return (minor !== undefined && talosMinorFacts(minor)) || NEWEST_TALOS_MINOR;
}

/** Every document kind `minor` registers (its row's and all older rows' new kinds). */
export function documentKindsOf(minor: string): ReadonlySet<string> {
  const kinds = new Set<string>();
  for (const row of TALOS_MINORS) {
    for (const k of row.newDocumentKinds) kinds.add(k);
    if (row.minor === minor) return kinds;
  }
  return kinds;
}
