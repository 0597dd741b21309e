/**
 * Values that set each v1alpha1 field of a v1alpha1-vs-document conflict (talos-minors.ts
 * `v1alpha1Conflicts`) and valid documents of the kinds our render does not emit, valid for Talos'
 * decoder: used by the conflict table test and the patch generator.
 */
import type { PlainObject } from "../../components/talos/machineconfig/patch-yaml";
import type { SecretsBundle } from "../../components/talos/types";
import type { V1Alpha1Conflict } from "../../components/talos-minors";

/** 32 random bytes, base64: what Talos' secretbox/AES-CBC etcd encryption takes. */
const ETCD_SECRET = "TtkqS3nSFb1ZKqzITTBEgwn1+bNj99BOnUTCFAvx/3c=";

const pemB64 = (pem: string): string => Buffer.from(pem).toString("base64");

/**
 * A v1alpha1 patch setting each path, valid for Talos' decoder. Some set a companion Talos needs
 * once the document is gone (an identity is id and secret together), said beside them.
 */
export function v1alpha1Examples(bundle: SecretsBundle): Record<string, PlainObject> {
  const encryption = { provider: "luks2", keys: [{ slot: 0, nodeID: {} }] };
  const examples: Record<string, PlainObject> = {
    "machine.systemDiskEncryption.state": { machine: { systemDiskEncryption: { state: encryption } } },
    "machine.systemDiskEncryption.ephemeral": {
      machine: { systemDiskEncryption: { ephemeral: encryption } },
    },
    "machine.network.searchDomains": { machine: { network: { searchDomains: ["home.arpa"] } } },
    "machine.network.nameservers": { machine: { network: { nameservers: ["1.1.1.1"] } } },
    "machine.network.disableSearchDomain": { machine: { network: { disableSearchDomain: true } } },
    "machine.time.disabled": { machine: { time: { disabled: true } } },
    "machine.time.servers": { machine: { time: { servers: ["pool.ntp.org"] } } },
    "machine.time.bootTimeout": { machine: { time: { bootTimeout: "2m0s" } } },
    "machine.network.hostname": { machine: { network: { hostname: "other-host" } } },
    "machine.features.stableHostname": { machine: { features: { stableHostname: true } } },
    "machine.network.kubespan": { machine: { network: { kubespan: { enabled: false } } } },
    "machine.features.hostDNS": { machine: { features: { hostDNS: { enabled: true } } } },
    "cluster.clusterName": { cluster: { clusterName: "homelab" } },
    "cluster.controlPlane.endpoint": { cluster: { controlPlane: { endpoint: "https://10.0.0.10:6443" } } },
    "cluster.network": { cluster: { network: { dnsDomain: "cluster.local" } } },
    "cluster.apiServer": { cluster: { apiServer: { certSANs: ["api.example"] } } },
    "cluster.controlPlane.localAPIServerPort": { cluster: { controlPlane: { localAPIServerPort: 6444 } } },
    "cluster.apiServer.auditPolicy": {
      cluster: {
        apiServer: {
          auditPolicy: { apiVersion: "audit.k8s.io/v1", kind: "Policy", rules: [{ level: "Metadata" }] },
        },
      },
    },
    "cluster.apiServer.admissionControl": {
      cluster: {
        apiServer: {
          admissionControl: [{ name: "PodSecurity", configuration: { defaults: { enforce: "baseline" } } }],
        },
      },
    },
    "cluster.ca": {
      cluster: { ca: { crt: pemB64(bundle.certs.k8s.crt), key: pemB64(bundle.certs.k8s.key) } },
    },
    "cluster.aggregatorCA": {
      cluster: {
        aggregatorCA: {
          crt: pemB64(bundle.certs.k8sAggregator.crt),
          key: pemB64(bundle.certs.k8sAggregator.key),
        },
      },
    },
    "cluster.serviceAccount": {
      cluster: { serviceAccount: { key: pemB64(bundle.certs.k8sServiceAccount.key) } },
    },
    "cluster.secretboxEncryptionSecret": {
      cluster: { secretboxEncryptionSecret: ETCD_SECRET },
    },
    "cluster.aescbcEncryptionSecret": {
      cluster: { aescbcEncryptionSecret: ETCD_SECRET },
    },
    "cluster.controllerManager": { cluster: { controllerManager: { extraArgs: { v: "2" } } } },
    "machine.controlPlane.controllerManager": {
      machine: { controlPlane: { controllerManager: { disabled: false } } },
    },
    "cluster.scheduler": { cluster: { scheduler: { extraArgs: { v: "2" } } } },
    "machine.controlPlane.scheduler": { machine: { controlPlane: { scheduler: { disabled: false } } } },
    "cluster.proxy": { cluster: { proxy: { disabled: true } } },
    "cluster.coreDNS": { cluster: { coreDNS: { disabled: false } } },
    "machine.kubelet": { machine: { kubelet: { extraArgs: { v: "2" } } } },
    "cluster.allowSchedulingOnControlPlanes": { cluster: { allowSchedulingOnControlPlanes: false } },
    "cluster.allowSchedulingOnMasters": { cluster: { allowSchedulingOnMasters: false } },
    "machine.kubelet.skipNodeRegistration": { machine: { kubelet: { skipNodeRegistration: false } } },
    "machine.kubelet.registerWithFQDN": { machine: { kubelet: { registerWithFQDN: false } } },
    "machine.kubelet.nodeIP": { machine: { kubelet: { nodeIP: { validSubnets: ["10.0.0.0/24"] } } } },
    "machine.nodeLabels": { machine: { nodeLabels: { zone: "a" } } },
    "machine.nodeAnnotations": { machine: { nodeAnnotations: { note: "x" } } },
    "machine.nodeTaints": { machine: { nodeTaints: { dedicated: "infra:NoSchedule" } } },
    "machine.features.kubePrism": { machine: { features: { kubePrism: { enabled: true, port: 7445 } } } },
    "machine.features.kubernetesTalosAPIAccess": {
      machine: {
        features: {
          kubernetesTalosAPIAccess: {
            enabled: true,
            allowedRoles: ["os:reader"],
            allowedKubernetesNamespaces: ["kube-system"],
          },
        },
      },
    },
    "cluster.discovery": { cluster: { discovery: { enabled: true } } },
    // A discovery identity is both halves: alone, Talos refuses the other one missing.
    "cluster.id": { cluster: { id: bundle.cluster.id, secret: bundle.cluster.secret } },
    "cluster.secret": { cluster: { id: bundle.cluster.id, secret: bundle.cluster.secret } },
    "machine.install": { machine: { install: { disk: "/dev/sda" } } },
    "machine.baseRuntimeSpecOverrides": {
      machine: { baseRuntimeSpecOverrides: { process: { rlimits: [] } } },
    },
    "machine.features.imageCache": { machine: { features: { imageCache: { localEnabled: true } } } },
  };
  return examples;
}

export function v1alpha1Example(path: string, bundle: SecretsBundle): PlainObject | undefined {
  return v1alpha1Examples(bundle)[path];
}

/** A valid document of each kind our render does not emit (or not with the conflict's field set). */
export function documentExample(c: V1Alpha1Conflict): PlainObject | undefined {
  const header = { apiVersion: "v1alpha1", kind: c.kind };
  const docs: Record<string, PlainObject> = {
    VolumeConfig: {
      ...header,
      name: c.documentName ?? "STATE",
      encryption: { provider: "luks2", keys: [{ slot: 0, nodeID: {} }] },
    },
    TimeSyncConfig: { ...header, ntp: { servers: ["time.cloudflare.com"] } },
    KubeSpanConfig: { ...header, enabled: false },
    KubeletConfig: { ...header, image: "ghcr.io/siderolabs/kubelet:v1.37.0" },
    KubeCredentialProviderConfig: {
      ...header,
      configuration: {
        apiVersion: "kubelet.config.k8s.io/v1",
        kind: "CredentialProviderConfig",
        providers: [],
      },
    },
    KubeFlannelCNIConfig: { ...header, backendType: "vxlan" },
    KubeTalosAPIAccessConfig: { ...header, allowedRoles: ["os:reader"] },
    CRIBaseRuntimeSpecConfig: { ...header, overrides: { process: { rlimits: [] } } },
    ImageCacheConfig: { ...header },
  };
  return docs[c.kind];
}
