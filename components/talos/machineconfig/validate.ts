/**
 * Structural and cross-field checks of a rendered (and patched) machine config, for runtime and
 * tests. Not a replacement for Talos' own validation (the talos-oracle does that in tests): it
 * catches what this project's patches are likely to break, with the config path in the message.
 */
import { isIP } from "node:net";
import { talosMinorFactsOrNewest } from "../../talos-minors";
import { v1alpha1ConflictIssues } from "./conflicts";
import { isPlainObject, type PlainObject, type PlainValue, parseYamlDocuments, plainAt } from "./patch-yaml";

export interface ValidationIssue {
  /** `<document>: <dotted path>`, e.g. `v1alpha1: machine.install.disk`. */
  readonly path: string;
  readonly message: string;
}

export interface ValidateExpectations {
  /** The node's role; the config must say the same. */
  readonly role?: "controlplane" | "worker";
  /** The VIP the control plane should carry; absent = no VIP may be configured. */
  readonly vip?: string;
  /** The Talos version the config is for: its minor's v1alpha1-vs-document conflicts apply (newest row when absent). */
  readonly talosVersion?: string;
}

const CNI_NAMES = new Set(["flannel", "custom", "none"]);
const V1ALPHA1_KEYS = new Set(["version", "debug", "persist", "machine", "cluster"]);

function isCidr(s: string): boolean {
  const m = /^(.+)\/(\d{1,3})$/.exec(s);
  if (!m) return false;
  const family = isIP(m[1]!);
  const bits = Number(m[2]);
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}

/** The VIPs configured in a config (v1alpha1 interfaces/vlans and Layer2VIPConfig documents). */
export function configuredVips(docs: readonly PlainObject[]): string[] {
  const vips: string[] = [];
  for (const doc of docs) {
    if (doc.kind === "Layer2VIPConfig" && typeof doc.name === "string") vips.push(doc.name);
    if (doc.kind !== undefined) continue;
    const ifaces = plainAt(doc, "machine.network.interfaces");
    if (!Array.isArray(ifaces)) continue;
    for (const iface of ifaces) {
      const ip = plainAt(iface, "vip.ip");
      if (typeof ip === "string") vips.push(ip);
      const vlans = plainAt(iface, "vlans");
      if (Array.isArray(vlans)) {
        for (const vlan of vlans) {
          const vip = plainAt(vlan, "vip.ip");
          if (typeof vip === "string") vips.push(vip);
        }
      }
    }
  }
  return vips;
}

/** Checks parsed config documents; returns the problems found (empty = fine). */
export function validateMachineConfigDocuments(
  docs: readonly PlainValue[],
  expect: ValidateExpectations = {},
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const add = (doc: string, path: string, message: string): void => {
    issues.push({ path: `${doc}: ${path}`, message });
  };
  const objects: PlainObject[] = [];
  docs.forEach((d, i) => {
    if (!isPlainObject(d)) add(`document #${i + 1}`, "(root)", "is not a map");
    else objects.push(d);
  });

  const legacy = objects.filter((d) => d.kind === undefined);
  if (legacy.length !== 1)
    add("v1alpha1", "(root)", `expected exactly one v1alpha1 document, found ${legacy.length}`);
  const v1 = legacy[0];
  const seen = new Set<string>();
  for (const d of objects) {
    if (d.kind === undefined) continue;
    const id = `${String(d.apiVersion)}/${String(d.kind)}/${typeof d.name === "string" ? d.name : ""}`;
    if (seen.has(id)) add(String(d.kind), "(root)", `duplicate document ${id}`);
    seen.add(id);
    if (d.apiVersion !== "v1alpha1")
      add(String(d.kind), "apiVersion", `must be v1alpha1, got ${String(d.apiVersion)}`);
  }

  if (v1) {
    for (const k of Object.keys(v1)) if (!V1ALPHA1_KEYS.has(k)) add("v1alpha1", k, "unknown key");
    if (v1.version !== "v1alpha1") add("v1alpha1", "version", "must be v1alpha1");
    const type = plainAt(v1, "machine.type");
    if (type !== "controlplane" && type !== "worker" && type !== "init") {
      add("v1alpha1", "machine.type", `must be controlplane or worker, got ${JSON.stringify(type ?? null)}`);
    }
    if (expect.role && type !== expect.role)
      add("v1alpha1", "machine.type", `expected ${expect.role}, got ${String(type)}`);
    // 1.14+ configs carry the endpoint in a KubeClusterConfig document instead (both: conflicts.ts).
    const kubeCluster = objects.find((d) => d.kind === "KubeClusterConfig");
    const legacyEndpoint = plainAt(v1, "cluster.controlPlane.endpoint");
    const endpoint = kubeCluster ? kubeCluster.endpoint : legacyEndpoint;
    if (typeof endpoint !== "string" || !endpoint.startsWith("https://")) {
      if (kubeCluster) add("KubeClusterConfig", "endpoint", "must be an https:// URL");
      else add("v1alpha1", "cluster.controlPlane.endpoint", "must be an https:// URL");
    }
    // Talos' ClusterConfig.Validate: a `.cluster.controlPlane` section (even `{}`) needs its endpoint,
    // and the legacy service account derives its issuer from it; beside KubeClusterConfig (which
    // forbids that endpoint, conflicts.ts) both have to go.
    if (kubeCluster && legacyEndpoint == null) {
      const controlPlane = plainAt(v1, "cluster.controlPlane");
      if (controlPlane != null) {
        add(
          "v1alpha1",
          "cluster.controlPlane",
          "Talos refuses this section without .cluster.controlPlane.endpoint, and the KubeClusterConfig document carries the endpoint — remove the whole section (localAPIServerPort belongs in KubeAPIServerConfig)",
        );
      }
      if (plainAt(v1, "cluster.serviceAccount") != null) {
        add(
          "v1alpha1",
          "cluster.serviceAccount",
          "Talos refuses it without .cluster.controlPlane.endpoint in the same document, and the KubeClusterConfig document carries the endpoint — set it in KubeServiceAccountConfig instead",
        );
      }
    }
    for (const p of ["machine.certSANs", "cluster.apiServer.certSANs", "machine.network.nameservers"]) {
      const v = plainAt(v1, p);
      // Go decodes any scalar into a string (null → "", false → "false"): Talos accepts them.
      if (v !== undefined && (!Array.isArray(v) || v.some((x) => x !== null && typeof x === "object"))) {
        add("v1alpha1", p, "must be a list of strings");
      }
    }
    for (const p of ["cluster.network.podSubnets", "cluster.network.serviceSubnets"]) {
      const v = plainAt(v1, p);
      if (
        v !== undefined &&
        (!Array.isArray(v) || v.some((x) => x !== null && (typeof x !== "string" || !isCidr(x))))
      ) {
        add("v1alpha1", p, "must be a list of CIDRs");
      }
    }
    const disk = plainAt(v1, "machine.install.disk");
    if (disk !== undefined && (typeof disk !== "string" || !disk.startsWith("/dev/"))) {
      add("v1alpha1", "machine.install.disk", "must be a /dev/… path");
    }
    const cni = plainAt(v1, "cluster.network.cni.name");
    if (cni !== undefined && (typeof cni !== "string" || !CNI_NAMES.has(cni))) {
      add(
        "v1alpha1",
        "cluster.network.cni.name",
        `must be one of flannel, custom, none; got ${JSON.stringify(cni)}`,
      );
    }
    if (cni === "custom" && !Array.isArray(plainAt(v1, "cluster.network.cni.urls"))) {
      add("v1alpha1", "cluster.network.cni.urls", "required with cni name custom");
    }
    const port = plainAt(v1, "machine.features.kubePrism.port");
    if (
      port !== undefined &&
      (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
    ) {
      add("v1alpha1", "machine.features.kubePrism.port", "must be a TCP port");
    }
    const caKey = plainAt(v1, "machine.ca.key");
    if (type === "worker" && caKey !== "" && caKey !== undefined) {
      add("v1alpha1", "machine.ca.key", "a worker must not carry the Talos CA key");
    }
    if (type === "controlplane" && (typeof caKey !== "string" || caKey === "")) {
      add("v1alpha1", "machine.ca.key", "a control plane needs the Talos CA key");
    }
    if (type === "worker" && plainAt(v1, "machine.features.kubernetesTalosAPIAccess.enabled") === true) {
      add(
        "v1alpha1",
        "machine.features.kubernetesTalosAPIAccess.enabled",
        "Talos enables Kubernetes Talos API access on control planes only — set it in a control plane patch",
      );
    }
    if (type === "worker") {
      const row = talosMinorFactsOrNewest(expect.talosVersion);
      for (const d of objects) {
        if (typeof d.kind === "string" && row.controlPlaneOnlyKinds.includes(d.kind))
          add(
            d.kind,
            "(root)",
            `Talos ${row.minor} takes this document on control planes only — set it in a control plane patch`,
          );
      }
    }
    const clusterCaKey = plainAt(v1, "cluster.ca.key");
    if (type === "worker" && typeof clusterCaKey === "string" && clusterCaKey !== "") {
      add("v1alpha1", "cluster.ca.key", "a worker must not carry the Kubernetes CA key");
    }
    // Talos' ClusterDiscoveryConfig.Validate: the enabled discovery service needs the v1alpha1 identity.
    if (
      plainAt(v1, "cluster.discovery.enabled") === true &&
      plainAt(v1, "cluster.discovery.registries.service.disabled") !== true
    ) {
      for (const p of ["cluster.id", "cluster.secret"]) {
        const v = plainAt(v1, p);
        if (typeof v !== "string" || v === "")
          add(
            "v1alpha1",
            p,
            "is required while cluster.discovery is enabled (Talos' discovery service uses it)",
          );
      }
    }
    // Talos' container Validate (1.14, config/container/validate.go): a DiscoveryServiceConfig needs a
    // cluster identity, from v1alpha1 (.cluster.id/.cluster.secret) or a DiscoveryIdentityConfig.
    if (objects.some((d) => d.kind === "DiscoveryServiceConfig")) {
      const identity = objects.find((d) => d.kind === "DiscoveryIdentityConfig");
      for (const [legacy, field, what] of [
        ["cluster.id", "clusterID", "cluster ID"],
        ["cluster.secret", "clusterSecret", "cluster secret"],
      ] as const) {
        const v = plainAt(v1, legacy) || identity?.[field];
        if (typeof v !== "string" || v === "")
          add(
            "DiscoveryIdentityConfig",
            field,
            `the ${what} (.${legacy} or DiscoveryIdentityConfig) is required while discovery (DiscoveryServiceConfig) is enabled`,
          );
      }
    }
    // Talos refuses a setting given both in v1alpha1 and in the document that replaced it.
    for (const c of v1alpha1ConflictIssues(objects, expect.talosVersion)) add("v1alpha1", c.path, c.message);
    const vips = configuredVips(objects);
    if (expect.role !== undefined && type === "worker" && vips.length > 0)
      add("v1alpha1", "machine.network", "a worker must not carry a VIP");
    if (expect.role === "controlplane" || type === "controlplane") {
      if (expect.vip === undefined && vips.length > 0 && "vip" in expect) {
        add("v1alpha1", "machine.network", `unexpected VIP ${vips.join(", ")}`);
      }
      if (expect.vip !== undefined && !vips.includes(expect.vip)) {
        add("v1alpha1", "machine.network", `VIP ${expect.vip} is not configured`);
      }
    }
  }

  for (const d of objects) {
    switch (d.kind) {
      case "HostnameConfig":
        if (d.auto !== undefined && d.hostname !== undefined)
          add("HostnameConfig", "auto", "conflicts with hostname");
        if (d.auto !== undefined && d.auto !== "stable" && d.auto !== "off") {
          add("HostnameConfig", "auto", "must be stable or off");
        }
        if (d.auto === undefined && (typeof d.hostname !== "string" || d.hostname === "")) {
          add("HostnameConfig", "hostname", "either auto or hostname is required");
        }
        break;
      case "Layer2VIPConfig":
        if (typeof d.name !== "string" || isIP(d.name) === 0)
          add("Layer2VIPConfig", "name", "must be an IP address");
        if (typeof d.link !== "string" || d.link === "") add("Layer2VIPConfig", "link", "is required");
        break;
      case "KubeNetworkConfig":
        for (const p of ["podSubnets", "serviceSubnets"]) {
          const v = d[p];
          if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== "string" || !isCidr(x)))) {
            add("KubeNetworkConfig", p, "must be a list of CIDRs");
          }
        }
        break;
      case "LinkAliasConfig":
        if (typeof d.name !== "string" || d.name === "") add("LinkAliasConfig", "name", "is required");
        break;
      case "ResolverConfig": {
        const ns = d.nameservers;
        if (
          ns !== undefined &&
          (!Array.isArray(ns) || ns.some((n) => typeof plainAt(n, "address") !== "string"))
        ) {
          add("ResolverConfig", "nameservers", "must be a list of {address}");
        } else if (Array.isArray(ns)) {
          for (const n of ns) {
            const a = plainAt(n, "address");
            if (typeof a === "string" && isIP(a) === 0)
              add("ResolverConfig", "nameservers", `${a} is not an IP`);
          }
        }
        break;
      }
      case "UserVolumeConfig":
      case "RawVolumeConfig":
      case "SwapVolumeConfig": {
        // Talos' Validate (block volume configs): a partition needs a disk selector and a size bound.
        // Merging a patch resets the selector's CEL expression and minSize (patch-quirks.ts).
        const kind = d.kind;
        const directory = kind === "UserVolumeConfig" && d.volumeType === "directory";
        if (!directory) {
          const match = plainAt(d, "provisioning.diskSelector.match");
          if (typeof match !== "string" || match === "")
            add(kind, "provisioning.diskSelector", "disk selector is required");
          const min = plainAt(d, "provisioning.minSize");
          const max = plainAt(d, "provisioning.maxSize");
          if ((min === undefined || min === "") && (max === undefined || max === ""))
            add(kind, "provisioning", "min size or max size is required");
        }
        break;
      }
      default:
        break;
    }
  }
  return issues;
}

/** Parses and checks a machine config YAML text. */
export function validateMachineConfig(yaml: string, expect: ValidateExpectations = {}): ValidationIssue[] {
  return validateMachineConfigDocuments(parseYamlDocuments(yaml, "machine config"), expect);
}

export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}
