/**
 * Renders the Talos machine config of one node as one (multi-document) YAML text, following what
 * `talosctl gen config` emits for each supported Talos minor (the rows of talos-minors.ts; the
 * fully multi-document layout of 1.14+ is machineconfig-multidoc.ts), plus this project's settings
 * (install disk/image, nameservers, VIP, cert SANs, CNI/kube-proxy, OpenEBS mount …).
 * Pure: no network, no Pulumi.
 */
import { isIP } from "node:net";
import { NODE_DEFAULTS } from "../../defaults";
import {
  SUPPORTED_TALOS_MINORS,
  type TalosMinor,
  type TalosMinorFacts,
  talosMinorFacts,
} from "../../talos-minors";
import { mustParseVersion, parseVersion } from "../../version";
import { DEFAULT_DNS_DOMAIN, KUBEPRISM_PORT, OPENEBS_HOSTPATH_BASE } from "../constants";
import type { MachineRole, SecretsBundle } from "../types";
import { addHardwareMachineFields, hardwareDocuments, type MachineHardware } from "./hardware";
import { buildMultiDocConfig, defaultAuditPolicy, podSecurityConfiguration } from "./multidoc";
import {
  DEFAULT_VIP_LINK,
  hostnameDocument,
  legacyVipInterface,
  resolverDocument,
  type VipLink,
  vipDocuments,
} from "./network";
import { applyPatchesToDocuments, type ConfigPatch } from "./patch";
import type { PlainObject, PlainValue } from "./patch-yaml";
import type { ValidateExpectations } from "./validate";

export type { VipLink } from "./network";

/** Everything needed to render one node's machine config. */
export interface MachineConfigInput {
  /** Talos version the node runs: `1.11`, `1.11.5` or `v1.11.5` (a supported minor). */
  readonly talosVersion: string;
  /** Kubernetes version, `1.34.1` or `v1.34.1`. */
  readonly kubernetesVersion: string;
  readonly clusterName: string;
  /** Kubernetes API endpoint, `https://<vip or host>:6443`. */
  readonly endpoint: string;
  readonly role: MachineRole;
  readonly hostname: string;
  /** The node's own IP (from the Proxmox cloud-init drive); added to the cert SANs. */
  readonly nodeIp: string;
  /** Shared control-plane VIP; only used on control-plane nodes. */
  readonly vip?: string;
  /** Link carrying the VIP (default: the physical link). */
  readonly vipLink?: VipLink;
  readonly nameservers: readonly string[];
  /** Default `/dev/sda`. */
  readonly installDisk?: string;
  /** Installer image, e.g. `factory.talos.dev/nocloud-installer/<schematic>:v1.13.9`. */
  readonly installImage: string;
  /** Extra SANs for the Talos API (machine.certSANs) and, where emitted, the kube-apiserver. */
  readonly certSANs?: readonly string[];
  /** `none` when Cilium (or another CNI) is installed as an addon. */
  readonly cni: "none" | "flannel";
  /** Cilium's kube-proxy replacement: disables kube-proxy. */
  readonly kubeProxyDisabled: boolean;
  /** Mount OPENEBS_HOSTPATH_BASE into the kubelet for OpenEBS LocalPV hostpath. */
  readonly openebsHostpath: boolean;
  /** OpenEBS LocalPV's base path when not OPENEBS_HOSTPATH_BASE (a data disk's /var/mnt/<name>). */
  readonly openebsBasePath?: string;
  /** Data disks, disk encryption, GPU kernel modules (see machineconfig-hardware.ts). */
  readonly hardware?: MachineHardware;
  readonly allowSchedulingOnControlPlanes: boolean;
  /** Talos cluster discovery (service registry). */
  readonly discovery: boolean;
  readonly podSubnets: readonly string[];
  readonly serviceSubnets: readonly string[];
  /** Default `cluster.local`. */
  readonly dnsDomain?: string;
  readonly bundle: SecretsBundle;
  /** Applied last, in order, with Talos' patch semantics (see patch.ts). */
  readonly patches?: readonly ConfigPatch[];
}

/** The row of the Talos minor of `1.11`, `1.11.5`, `v1.11.5`, or throws naming the supported ones. */
export function talosMinorRow(version: string): TalosMinorFacts {
  const row = talosMinorFacts(parseVersion(version)?.minorKey ?? "");
  if (!row) {
    throw new Error(
      `unsupported Talos version "${version}" (supported minors: ${SUPPORTED_TALOS_MINORS.join(", ")})`,
    );
  }
  return row;
}

/** Parses `1.11`, `1.11.5`, `v1.11.5` into a supported minor, or throws. */
export function talosMinorOf(version: string): TalosMinor {
  return talosMinorRow(version).minor as TalosMinor;
}

const b64 = (pem: string): string => Buffer.from(pem, "utf8").toString("base64");

/** Host part of an `https://host:port` endpoint (IPv6 brackets removed). */
export function endpointHost(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`endpoint "${endpoint}" is not a URL`);
  }
  if (url.protocol !== "https:") throw new Error(`endpoint "${endpoint}" must use https://`);
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

function unique(values: readonly (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const v of values) if (v && !out.includes(v)) out.push(v);
  return out;
}

function checkInput(input: MachineConfigInput): void {
  const problems: string[] = [];
  if (!input.clusterName) problems.push("clusterName is empty");
  if (!input.hostname) problems.push("hostname is empty");
  if (!input.installImage) problems.push("installImage is empty");
  if (input.podSubnets.length === 0) problems.push("podSubnets is empty");
  if (input.serviceSubnets.length === 0) problems.push("serviceSubnets is empty");
  if (input.role !== "controlplane" && input.role !== "worker") problems.push(`unknown role "${input.role}"`);
  if (isIP(input.nodeIp) === 0) problems.push(`nodeIp "${input.nodeIp}" is not an IP address`);
  if (input.vip !== undefined && isIP(input.vip) === 0)
    problems.push(`vip "${input.vip}" is not an IP address`);
  for (const ns of input.nameservers)
    if (isIP(ns) === 0) problems.push(`nameserver "${ns}" is not an IP address`);
  if (problems.length > 0) {
    throw new Error(`machine config for ${input.hostname || "<unnamed node>"}: ${problems.join("; ")}`);
  }
}

/**
 * `docs` plus `extra`; an extra document naming a document that is already there (same kind and
 * name, e.g. 1.14's default `VolumeConfig` EPHEMERAL) is merged into it, key by key, so the config
 * never carries the same document twice (Talos refuses duplicates).
 */
function withDocuments(docs: PlainObject[], extra: readonly PlainObject[]): PlainObject[] {
  for (const doc of extra) {
    const same = docs.find((d) => d.kind !== undefined && d.kind === doc.kind && d.name === doc.name);
    if (same) Object.assign(same, doc);
    else docs.push(doc);
  }
  return docs;
}

/** The v1alpha1 document and the extra documents of one node, before patches. */
export function buildMachineConfigDocuments(input: MachineConfigInput): PlainObject[] {
  checkInput(input);
  const gates = talosMinorRow(input.talosVersion).config;
  const k8s = mustParseVersion(input.kubernetesVersion, "kubernetesVersion").plain;
  const cp = input.role === "controlplane";
  const host = endpointHost(input.endpoint);
  const vip = cp ? input.vip : undefined;
  const vipLink = input.vipLink ?? DEFAULT_VIP_LINK;
  const b = input.bundle;
  const sans = unique([vip, host, input.nodeIp, ...(input.certSANs ?? [])]);
  if (gates.multiDocKubernetes) {
    const docs = buildMultiDocConfig({
      role: input.role,
      k8s,
      clusterName: input.clusterName,
      endpoint: input.endpoint,
      hostname: input.hostname,
      certSANs: sans,
      vip,
      vipLink,
      nameservers: input.nameservers,
      installDisk: input.installDisk ?? NODE_DEFAULTS.installDisk,
      installImage: input.installImage,
      cni: input.cni,
      kubeProxyDisabled: input.kubeProxyDisabled,
      openebsHostpath: input.openebsHostpath,
      allowSchedulingOnControlPlanes: input.allowSchedulingOnControlPlanes,
      discovery: input.discovery,
      podSubnets: input.podSubnets,
      serviceSubnets: input.serviceSubnets,
      dnsDomain: input.dnsDomain ?? DEFAULT_DNS_DOMAIN,
      openebsBasePath: input.openebsBasePath,
      bundle: b,
    });
    const main = docs[0]?.machine;
    if (main && typeof main === "object" && !Array.isArray(main)) {
      addHardwareMachineFields(main as PlainObject, input.hardware, gates);
    }
    return withDocuments(docs, hardwareDocuments(input.hardware, gates));
  }

  // machine
  const kubelet: PlainObject = {
    image: `ghcr.io/siderolabs/kubelet:v${k8s}`,
    defaultRuntimeSeccompProfileEnabled: true,
    disableManifestsDirectory: true,
  };
  if (input.openebsHostpath) {
    const openebsPath = input.openebsBasePath ?? OPENEBS_HOSTPATH_BASE;
    kubelet.extraMounts = [
      {
        destination: openebsPath,
        type: "bind",
        source: openebsPath,
        options: ["bind", "rshared", "rw"],
      },
    ];
  }

  const network: PlainObject = {};
  if (!gates.multiDocNetwork) {
    network.hostname = input.hostname;
    if (input.nameservers.length > 0) network.nameservers = [...input.nameservers];
    if (vip) network.interfaces = [legacyVipInterface(vip, vipLink)];
  }

  const install: PlainObject = {
    disk: input.installDisk ?? NODE_DEFAULTS.installDisk,
    image: input.installImage,
    wipe: false,
  };
  if (gates.grubUseUKICmdline) install.grubUseUKICmdline = true;

  const features: PlainObject = {};
  if (gates.legacyFeatureFlags) {
    features.rbac = true;
    features.stableHostname = true;
    features.apidCheckExtKeyUsage = true;
  }
  features.diskQuotaSupport = true;
  features.kubePrism = { enabled: true, port: KUBEPRISM_PORT };
  features.hostDNS = { enabled: true, forwardKubeDNSToHost: true };

  const machine: PlainObject = {
    type: input.role,
    token: b.trustdInfo.token,
    ca: { crt: b64(b.certs.os.crt), key: cp ? b64(b.certs.os.key) : "" },
    certSANs: sans,
    kubelet,
  };
  if (Object.keys(network).length > 0 || gates.emptyNetworkSection) machine.network = network;
  machine.install = install;
  machine.features = features;
  if (cp) machine.nodeLabels = { "node.kubernetes.io/exclude-from-external-load-balancers": "" };
  addHardwareMachineFields(machine, input.hardware, gates);

  // cluster
  const clusterNetwork: PlainObject = {
    dnsDomain: input.dnsDomain ?? DEFAULT_DNS_DOMAIN,
    podSubnets: [...input.podSubnets],
    serviceSubnets: [...input.serviceSubnets],
  };
  if (input.cni === "none") clusterNetwork.cni = { name: "none" };

  const discovery: PlainObject = input.discovery
    ? { enabled: true, registries: { kubernetes: { disabled: true }, service: {} } }
    : { enabled: false };

  const cluster: PlainObject = {
    id: b.cluster.id,
    secret: b.cluster.secret,
    controlPlane: { endpoint: input.endpoint },
    clusterName: input.clusterName,
    network: clusterNetwork,
    token: b.secrets.bootstrapToken,
  };
  if (cp) {
    if (b.secrets.secretboxEncryptionSecret) {
      cluster.secretboxEncryptionSecret = b.secrets.secretboxEncryptionSecret;
    } else if (b.secrets.aescbcEncryptionSecret) {
      cluster.aescbcEncryptionSecret = b.secrets.aescbcEncryptionSecret;
    }
    cluster.ca = { crt: b64(b.certs.k8s.crt), key: b64(b.certs.k8s.key) };
    cluster.aggregatorCA = { crt: b64(b.certs.k8sAggregator.crt), key: b64(b.certs.k8sAggregator.key) };
    cluster.serviceAccount = { key: b64(b.certs.k8sServiceAccount.key) };
    const apiServer: PlainObject = { image: `registry.k8s.io/kube-apiserver:v${k8s}` };
    if (gates.apiServerCertSANs) {
      apiServer.certSANs = sans;
      apiServer.disablePodSecurityPolicy = true;
    }
    apiServer.admissionControl = [{ name: "PodSecurity", configuration: podSecurityConfiguration() }];
    apiServer.auditPolicy = defaultAuditPolicy();
    cluster.apiServer = apiServer;
    cluster.controllerManager = { image: `registry.k8s.io/kube-controller-manager:v${k8s}` };
    const proxy: PlainObject = { image: `registry.k8s.io/kube-proxy:v${k8s}` };
    if (input.kubeProxyDisabled) proxy.disabled = true;
    cluster.proxy = proxy;
    cluster.scheduler = { image: `registry.k8s.io/kube-scheduler:v${k8s}` };
    cluster.discovery = discovery;
    cluster.etcd = { ca: { crt: b64(b.certs.etcd.crt), key: b64(b.certs.etcd.key) } };
    if (input.allowSchedulingOnControlPlanes) cluster.allowSchedulingOnControlPlanes = true;
  } else {
    cluster.ca = { crt: b64(b.certs.k8s.crt), key: "" };
    cluster.discovery = discovery;
  }

  const v1alpha1: PlainObject = { version: "v1alpha1", debug: false, persist: true, machine, cluster };
  const docs: PlainObject[] = [v1alpha1];
  if (gates.multiDocNetwork) {
    docs.push(hostnameDocument(input.hostname));
    if (input.nameservers.length > 0) docs.push(resolverDocument(input.nameservers));
    if (vip) docs.push(...vipDocuments(vip, vipLink));
  }
  withDocuments(docs, hardwareDocuments(input.hardware, gates));
  return docs;
}

/**
 * The node's machine config as one multi-document YAML text (v1alpha1 document first), with
 * `input.patches` applied. Deterministic: same input, same text.
 */
export function renderMachineConfig(input: MachineConfigInput): string {
  const docs: PlainValue[] = buildMachineConfigDocuments(input);
  const expect: ValidateExpectations = {
    role: input.role,
    ...(input.role === "controlplane" && input.vip ? { vip: input.vip } : {}),
  };
  // With no patches it still validates.
  return applyPatchesToDocuments(docs, input.patches ?? [], {
    node: input.hostname,
    expect,
    talosVersion: input.talosVersion,
  });
}
