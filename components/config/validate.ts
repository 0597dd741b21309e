/**
 * Validates a whole stack config (plain data, no Pulumi) and resolves its defaults. Every fault is
 * collected — schema faults per key, then the cross-field rules over whatever parsed — and thrown
 * together as one `ConfigError` before any resource exists.
 */
import type { z } from "zod";
import { AddonsConfigSchema } from "../addons/config";
import { etcdBackupIssues } from "../addons/etcd-backup";
import { CLIENT_CERT_DEFAULTS, NODE_DEFAULTS } from "../defaults";
import { clusterPlan } from "../plan";
import { mustParseVersion } from "../version";
import { ConfigError, type ConfigIssue, zodIssues } from "./errors";
import { hardwareIssues, type UnparsedKey } from "./hardware-rules";
import { patchIssues, planPatchIssues } from "./patch-check";
import { platformConfigIssues } from "./platform-rules";
import {
  addressingIssues,
  cniIssues,
  controlPlaneCountIssues,
  poolIssues,
  proxmoxPlacementIssues,
  roleMinimumIssues,
  subnetIssues,
  uniquenessIssues,
  versionIssues,
  vipIssues,
} from "./rules";
import { CONFIG_NAMESPACE, NodeSchema, SECRET_KEYS, type SecretKey, TOP_LEVEL } from "./schema";
import { scrubSecretSettings } from "./secret-settings";

const SCHEMAS = { ...TOP_LEVEL, addons: AddonsConfigSchema.default(AddonsConfigSchema.parse({})) };
type Parsed = { [K in keyof typeof SCHEMAS]: z.output<(typeof SCHEMAS)[K]> };

export type ResolvedNode = Parsed["nodes"][number] & {
  readonly cores: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
  readonly installDisk: string;
};

/** The validated stack config with every default resolved. */
export type StackConfig = Omit<Parsed, "nodes" | "controlPlane" | "network"> & {
  readonly nodes: readonly ResolvedNode[];
  readonly controlPlane: Parsed["controlPlane"] & { readonly endpoint: string };
  readonly network: Parsed["network"] & { readonly kubeProxy: boolean };
};

/** Top-level keys the hardware rules read besides `nodes`. */
const HARDWARE_KEYS: readonly UnparsedKey[] = ["proxmox", "security", "nodeClasses", "imageFactory"];

/**
 * Surrounding whitespace removed from every string setting once, here at the boundary, so every rule
 * compares what the parsers read. Patch texts and chart values are content, left as written.
 */
function trimStrings(value: unknown, key?: string): unknown {
  if (key === "patches" || key === "values") return value;
  if (typeof value === "string") return value.trim();
  if (Array.isArray(value)) return value.map((v) => trimStrings(v));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, trimStrings(v, k)]));
  }
  return value;
}

/**
 * Validates `raw` (top-level key → value, without the `proxmox-talos:` prefix) and the secret
 * values that are set. Throws `ConfigError` with every problem found.
 */
export function validateStackConfig(
  raw: Readonly<Record<string, unknown>>,
  secrets: Partial<Record<SecretKey, string>> = {},
  /** Plain keys stored as secrets: their values never appear in an error. */
  secretSettings: readonly string[] = [],
): StackConfig {
  const issues: ConfigIssue[] = [];
  const parsed: Partial<Record<string, unknown>> = {};
  raw = trimStrings(raw) as Record<string, unknown>;

  const known = new Set<string>([...Object.keys(SCHEMAS), ...Object.keys(SECRET_KEYS)]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) {
      issues.push({
        path: key,
        message: "is not a known setting",
        fix: `remove it or correct its spelling (known: ${[...known].join(", ")})`,
      });
    }
  }
  for (const [key, schema] of Object.entries(SCHEMAS)) {
    const result = (schema as z.ZodType).safeParse(raw[key], { reportInput: true });
    if (result.success) parsed[key] = result.data;
    else if (raw[key] === undefined)
      issues.push({
        path: key,
        message: "is required but unset",
        fix: `set ${CONFIG_NAMESPACE}:${key} in the stack file`,
      });
    else issues.push(...zodIssues(key, result.error.issues));
  }
  for (const [key, value] of Object.entries(secrets)) {
    if (value === undefined) continue;
    const result = SECRET_KEYS[key as SecretKey].safeParse(value, { reportInput: true });
    if (!result.success) issues.push(...zodIssues(key, result.error.issues, true));
  }

  const p = parsed as Partial<Parsed>;
  const nodes = p.nodes ?? [];
  issues.push(...uniquenessIssues(nodes));
  if (p.nodes) issues.push(...controlPlaneCountIssues(nodes, p.controlPlane?.allowEvenCount ?? false));
  if (p.network) issues.push(...addressingIssues(nodes, p.network), ...subnetIssues(p.network));
  issues.push(...roleMinimumIssues(nodes));
  if (p.controlPlane) issues.push(...vipIssues(p.controlPlane.vip, nodes, p.network));
  if (p.addons) {
    if (p.addons.metallb.enabled)
      issues.push(
        ...poolIssues(
          p.addons.metallb.pools,
          { nodes, vip: p.controlPlane?.vip, gateway: p.network?.gateway, cidr: p.network?.cidr },
          { required: true },
        ),
      );
    if (p.network) issues.push(...cniIssues(p.network, p.addons.cilium.enabled));
    issues.push(
      ...platformConfigIssues(
        p.addons,
        { nodes, vip: p.controlPlane?.vip, gateway: p.network?.gateway, cidr: p.network?.cidr },
        secrets,
      ),
    );
  }
  if (p.talosVersion && p.kubernetesVersion)
    issues.push(...versionIssues(p.talosVersion, p.kubernetesVersion));
  if (p.proxmox && p.nodes) issues.push(...proxmoxPlacementIssues(nodes));
  // Hardware rules run whenever the nodes parsed; a key that failed (`"proxmox" in p` is false: an
  // absent section parses to undefined, existing machines) only turns off the rules that need it.
  if (p.nodes) {
    const unparsed = new Set(HARDWARE_KEYS.filter((k) => !(k in p)));
    issues.push(
      ...hardwareIssues({
        ...p,
        nodes,
        imageFactory: p.imageFactory ?? { extensions: [] },
        unparsed,
        openebsDataDisk: p.addons?.openebs.enabled ? p.addons.openebs.dataDisk : undefined,
        talosMinor: p.talosVersion?.replace(/^v/, "").split(".").slice(0, 2).join("."),
      }),
    );
  }
  if (p.clientCerts && p.clientCerts.renewBeforeDays >= p.clientCerts.validityDays) {
    issues.push({
      path: "clientCerts.renewBeforeDays",
      message: `${p.clientCerts.renewBeforeDays} is not shorter than clientCerts.validityDays (${p.clientCerts.validityDays}), so every \`up\` would issue new client certs`,
      fix: `set renewBeforeDays well below validityDays (default ${CLIENT_CERT_DEFAULTS.renewBeforeDays} of ${CLIENT_CERT_DEFAULTS.validityDays})`,
    });
  }
  if (p.proxmox && secrets.proxmoxApiToken === undefined) {
    issues.push({
      path: "proxmoxApiToken",
      message: "is unset while a proxmox section is configured",
      fix: `pulumi config set --secret ${CONFIG_NAMESPACE}:proxmoxApiToken 'root@pam!pulumi=<uuid>'`,
    });
  }
  if (
    p.addons?.flux.enabled &&
    p.addons.flux.git &&
    secrets.fluxGitPassword === undefined &&
    p.fluxGitUsername !== undefined
  ) {
    issues.push({
      path: "fluxGitPassword",
      message: "is unset while fluxGitUsername is set",
      fix: `pulumi config set --secret ${CONFIG_NAMESPACE}:fluxGitPassword <token>`,
    });
  }

  if (p.addons) {
    issues.push(
      ...etcdBackupIssues(p.addons.etcdBackup, {
        sopsEnabled: p.addons.sops.enabled,
        hasAccessKeys:
          secrets.etcdBackupS3AccessKeyId !== undefined && secrets.etcdBackupS3SecretAccessKey !== undefined,
      }),
    );
  }

  if (issues.length > 0) {
    // Patches are config: applied (Talos' semantics, strict decoding) to every node now, before anything
    // exists. On a stack with other faults, as far as it parsed (reported with them); on one without,
    // below, to exactly what the program renders.
    const patchNodes =
      p.nodes ??
      (Array.isArray(raw.nodes)
        ? raw.nodes.map((n) => NodeSchema.safeParse(n)).map((r) => (r.success ? r.data : undefined))
        : undefined);
    if (
      patchNodes &&
      p.network &&
      p.controlPlane &&
      p.talosVersion &&
      p.kubernetesVersion &&
      p.patches &&
      p.clusterName
    ) {
      const cni = p.network.cni;
      issues.push(
        ...patchIssues({
          clusterName: p.clusterName,
          talosVersion: p.talosVersion,
          kubernetesVersion: p.kubernetesVersion,
          endpoint: p.controlPlane.endpoint ?? `https://${p.controlPlane.vip}:6443`,
          vip: p.controlPlane.vip,
          allowSchedulingOnControlPlanes: p.controlPlane.allowSchedulingOnControlPlanes,
          openebsHostpath: p.addons?.openebs.enabled ?? false,
          network: { ...p.network, kubeProxy: p.network.kubeProxy ?? cni === "flannel" },
          patches: p.patches,
          nodes: patchNodes,
        }),
      );
    }
    throw new ConfigError(CONFIG_NAMESPACE, scrubSecretSettings(issues, raw, secretSettings));
  }

  const full = parsed as Parsed;
  const resolvedNodes = full.nodes.map(
    (n): ResolvedNode => ({
      ...n,
      cores: n.cores ?? NODE_DEFAULTS.cores,
      memoryMiB: n.memoryMiB ?? NODE_DEFAULTS.memoryMiB,
      diskGiB: n.diskGiB ?? NODE_DEFAULTS.diskGiB,
      installDisk: n.installDisk ?? NODE_DEFAULTS.installDisk,
    }),
  );
  const config: StackConfig = {
    ...full,
    // Parsed once (the schema refused anything else); the config carries the plain form.
    talosVersion: mustParseVersion(full.talosVersion, "talosVersion", { release: true }).plain,
    kubernetesVersion: mustParseVersion(full.kubernetesVersion, "kubernetesVersion", { release: true }).plain,
    nodes: resolvedNodes,
    controlPlane: {
      ...full.controlPlane,
      endpoint: full.controlPlane.endpoint ?? `https://${full.controlPlane.vip}:6443`,
    },
    network: { ...full.network, kubeProxy: full.network.kubeProxy ?? full.network.cni === "flannel" },
  };
  const patchFaults = planPatchIssues(clusterPlan(config).talos, config.patches);
  if (patchFaults.length > 0)
    throw new ConfigError(CONFIG_NAMESPACE, scrubSecretSettings(patchFaults, raw, secretSettings));
  return config;
}
