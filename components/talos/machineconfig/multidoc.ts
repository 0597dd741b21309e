/**
 * The machine config of a Talos minor whose generator is fully multi-document (1.14+, the
 * `multiDocKubernetes` fact of its row in talos-minors.ts): the v1alpha1 document keeps only
 * machine type/token/CA/certSANs/features and cluster token/etcd CA, and every other setting is a
 * document of its own, in the order `talosctl gen config` emits them (`config/generate/init.go`,
 * `worker.go`, `kubernetes.go`, `block.go`, `security_profile.go` at machinery 1.14.1).
 *
 * This project's settings on top of the generator's output (tests/talos/machineconfig-oracle.test.ts
 * checks that nothing else differs): install disk and image (UnattendedInstallConfig), the node's
 * static hostname, nameservers (in the generator's own ResolverConfig), machine.certSANs, the VIP
 * (LinkAliasConfig + Layer2VIPConfig), CNI none (no KubeFlannelCNIConfig), kube-proxy off
 * (`KubeProxyConfig.enabled: false`), scheduling on control planes (no taint), discovery off (no
 * DiscoveryServiceConfig), and the OpenEBS hostpath mount: 1.14's KubeletConfig document has no
 * extra mounts (its `ExtraMounts()` is nil), so with that mount the kubelet settings stay in the
 * v1alpha1 `machine.kubelet` section (still accepted) instead of a KubeletConfig document.
 * Pure.
 */
import { KUBEPRISM_PORT, OPENEBS_HOSTPATH_BASE } from "../constants";
import type { MachineRole, SecretsBundle } from "../types";
import { hostnameDocument, type VipLink, vipDocuments } from "./network";
import type { PlainObject } from "./patch-yaml";

/** What the multi-document layout needs, already resolved by machineconfig.ts. */
export interface MultiDocInput {
  readonly role: MachineRole;
  readonly k8s: string;
  readonly clusterName: string;
  readonly endpoint: string;
  readonly hostname: string;
  readonly certSANs: readonly string[];
  readonly vip: string | undefined;
  readonly vipLink: VipLink;
  readonly nameservers: readonly string[];
  readonly installDisk: string;
  readonly installImage: string;
  readonly cni: "none" | "flannel";
  readonly kubeProxyDisabled: boolean;
  readonly openebsHostpath: boolean;
  /** Host path of the OpenEBS LocalPV base directory. Defaults to OPENEBS_HOSTPATH_BASE. */
  readonly openebsBasePath?: string;
  readonly allowSchedulingOnControlPlanes: boolean;
  readonly discovery: boolean;
  readonly podSubnets: readonly string[];
  readonly serviceSubnets: readonly string[];
  readonly dnsDomain: string;
  readonly bundle: SecretsBundle;
}

/** `constants.DefaultDiscoveryServiceEndpoint`. */
export const DISCOVERY_SERVICE_ENDPOINT = "https://discovery.talos.dev/";
/** `constants.DefaultFilesystemTrimInterval` (7 days) as Go prints a time.Duration. */
const FILESYSTEM_TRIM_INTERVAL = "168h0m0s";
const CONTROL_PLANE_ROLE_LABEL = "node-role.kubernetes.io/control-plane";
const EXCLUDE_FROM_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";

const b64 = (pem: string): string => Buffer.from(pem, "utf8").toString("base64");
const doc = (kind: string, body: PlainObject = {}): PlainObject => ({
  apiVersion: "v1alpha1",
  kind,
  ...body,
});

/** The Pod Security admission defaults (`k8s.DefaultPodSecurityAdmissionControlConfig`), a fresh copy. */
export const podSecurityConfiguration = (): PlainObject => ({
  apiVersion: "pod-security.admission.config.k8s.io/v1alpha1",
  defaults: {
    audit: "restricted",
    "audit-version": "latest",
    enforce: "baseline",
    "enforce-version": "latest",
    warn: "restricted",
    "warn-version": "latest",
  },
  exemptions: { namespaces: ["kube-system"], runtimeClasses: [], usernames: [] },
  kind: "PodSecurityConfiguration",
});

/** The audit policy default (`v1alpha1.APIServerDefaultAuditPolicy`), a fresh copy. */
export const defaultAuditPolicy = (): PlainObject => ({
  apiVersion: "audit.k8s.io/v1",
  kind: "Policy",
  rules: [{ level: "Metadata" }],
});

function v1alpha1(i: MultiDocInput): PlainObject {
  const cp = i.role === "controlplane";
  const b = i.bundle;
  const machine: PlainObject = {
    type: i.role,
    token: b.trustdInfo.token,
    ca: { crt: b64(b.certs.os.crt), key: cp ? b64(b.certs.os.key) : "" },
    certSANs: [...i.certSANs],
  };
  if (i.openebsHostpath) {
    const openebsPath = i.openebsBasePath ?? OPENEBS_HOSTPATH_BASE;
    machine.kubelet = {
      image: `ghcr.io/siderolabs/kubelet:v${i.k8s}`,
      defaultRuntimeSeccompProfileEnabled: true,
      disableManifestsDirectory: true,
      extraMounts: [
        {
          destination: openebsPath,
          type: "bind",
          source: openebsPath,
          options: ["bind", "rshared", "rw"],
        },
      ],
    };
  }
  machine.features = { diskQuotaSupport: true };
  const cluster: PlainObject = { token: b.secrets.bootstrapToken };
  if (cp) cluster.etcd = { ca: { crt: b64(b.certs.etcd.crt), key: b64(b.certs.etcd.key) } };
  return { version: "v1alpha1", debug: false, persist: true, machine, cluster };
}

/** Documents every node gets (`generateKubernetesUniversalConfigs`). */
function universalKubernetesDocuments(i: MultiDocInput): PlainObject[] {
  const cp = i.role === "controlplane";
  const node: PlainObject = { nodeIP: {} };
  if (cp) {
    node.labels = { [CONTROL_PLANE_ROLE_LABEL]: "", [EXCLUDE_FROM_LB_LABEL]: "" };
    if (!i.allowSchedulingOnControlPlanes) node.taints = { [CONTROL_PLANE_ROLE_LABEL]: "NoSchedule" };
  }
  const docs: PlainObject[] = [
    doc("KubeClusterConfig", { clusterName: i.clusterName, endpoint: i.endpoint }),
    doc("KubeNodeConfig", node),
  ];
  if (!i.openebsHostpath) {
    docs.push(
      doc("KubeletConfig", {
        image: `ghcr.io/siderolabs/kubelet:v${i.k8s}`,
        config: {},
        defaultRuntimeSeccompProfileEnabled: true,
      }),
    );
  }
  docs.push(
    doc("KubeNetworkConfig", {
      dnsDomain: i.dnsDomain,
      podSubnets: [...i.podSubnets],
      serviceSubnets: [...i.serviceSubnets],
    }),
    doc(
      "KubeAPIServerCAConfig",
      cp
        ? { issuingCA: { cert: i.bundle.certs.k8s.crt, key: i.bundle.certs.k8s.key } }
        : { acceptedCAs: [i.bundle.certs.k8s.crt] },
    ),
    doc("KubePrismConfig", { port: KUBEPRISM_PORT }),
  );
  return docs;
}

/** The etcd encryption config: the bundle's secretbox key as `key2`, an aescbc one as `key1`. */
function etcdEncryption(b: SecretsBundle): PlainObject {
  const providers: PlainObject[] = [];
  if (b.secrets.secretboxEncryptionSecret) {
    providers.push({ secretbox: { keys: [{ name: "key2", secret: b.secrets.secretboxEncryptionSecret }] } });
  }
  if (b.secrets.aescbcEncryptionSecret) {
    providers.push({ secretbox: { keys: [{ name: "key1", secret: b.secrets.aescbcEncryptionSecret }] } });
  }
  return doc("KubeEtcdEncryptionConfig", { config: { resources: [{ providers, resources: ["secrets"] }] } });
}

/** Control-plane documents (`generateKubernetesControlplaneConfigs`). */
function controlPlaneKubernetesDocuments(i: MultiDocInput): PlainObject[] {
  const b = i.bundle;
  const proxy: PlainObject = { image: `registry.k8s.io/kube-proxy:v${i.k8s}`, config: {} };
  if (i.kubeProxyDisabled) proxy.enabled = false;
  const docs: PlainObject[] = [
    doc("KubeAggregatorCAConfig", {
      issuingCA: { cert: b.certs.k8sAggregator.crt, key: b.certs.k8sAggregator.key },
    }),
    doc("KubeAdmissionControlConfig", { name: "PodSecurity", configuration: podSecurityConfiguration() }),
    doc("KubeAuditPolicyConfig", { configuration: defaultAuditPolicy() }),
    doc("KubeAuthenticationConfig", {
      configuration: {
        anonymous: {
          conditions: [{ path: "/livez" }, { path: "/readyz" }, { path: "/healthz" }],
          enabled: true,
        },
        jwt: [],
      },
    }),
    doc("KubeAuthorizerConfig", { name: "node", type: "Node" }),
    doc("KubeAuthorizerConfig", { name: "rbac", type: "RBAC" }),
    etcdEncryption(b),
    doc("KubeServiceAccountConfig", {
      issuer: { privateKey: b.certs.k8sServiceAccount.key, issuerURL: i.endpoint },
    }),
    doc("KubeAPIServerConfig", { image: `registry.k8s.io/kube-apiserver:v${i.k8s}` }),
    doc("KubeControllerManagerConfig", { image: `registry.k8s.io/kube-controller-manager:v${i.k8s}` }),
    doc("KubeSchedulerConfig", { image: `registry.k8s.io/kube-scheduler:v${i.k8s}`, config: {} }),
    doc("KubeProxyConfig", proxy),
  ];
  if (i.cni === "flannel")
    docs.push(doc("KubeFlannelCNIConfig", { backendType: "vxlan", backendPort: 4789 }));
  docs.push(doc("KubeCoreDNSConfig", { enabled: true }));
  return docs;
}

/** The node's documents before patches, in the generator's order, this project's extras last. */
export function buildMultiDocConfig(i: MultiDocInput): PlainObject[] {
  const docs: PlainObject[] = [v1alpha1(i)];
  if (i.discovery)
    docs.push(doc("DiscoveryServiceConfig", { name: "default", endpoint: DISCOVERY_SERVICE_ENDPOINT }));
  docs.push(
    doc("DiscoveryIdentityConfig", {
      clusterID: i.bundle.cluster.id,
      clusterSecret: i.bundle.cluster.secret,
    }),
    doc("UnattendedInstallConfig", {
      installer: { image: i.installImage },
      provisioning: {
        diskSelector: { match: `disk.dev_path == ${JSON.stringify(i.installDisk)}` },
        wipe: false,
      },
    }),
  );
  const resolver: PlainObject = doc("ResolverConfig");
  if (i.nameservers.length > 0) resolver.nameservers = i.nameservers.map((address) => ({ address }));
  resolver.hostDNS = { enabled: true, forwardKubeDNSToHost: true };
  docs.push(
    resolver,
    doc("VolumeConfig", { name: "EPHEMERAL", mount: { secure: true } }),
    doc("FilesystemTrimConfig", { interval: FILESYSTEM_TRIM_INTERVAL }),
    doc("SecurityProfileConfig", { workloadIsolation: true }),
    hostnameDocument(i.hostname),
    ...universalKubernetesDocuments(i),
  );
  if (i.role === "controlplane") docs.push(...controlPlaneKubernetesDocuments(i));
  if (i.vip) docs.push(...vipDocuments(i.vip, i.vipLink));
  return docs;
}
