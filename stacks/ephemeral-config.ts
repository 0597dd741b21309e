/**
 * The config of a throwaway stack derived from a base stack: its own cluster name, VM ids and
 * addresses shifted by offsets, never production. It gets a fresh cluster identity: the base's
 * `talosSecrets`, `sopsAgeKey`, `fluxGitPassword` and Flux source (`addons.flux.git`) are left
 * behind unless `proxmox-talos:ephemeral.copy` names them; patches that name an address of the
 * base's node network are refused (the copy would claim a production address).
 */
import type { ConfigMap } from "@pulumi/pulumi/automation";
import { decodeConfigValue } from "../components/config/source";
import { parseCidr, parseIpv4, rangeContains } from "../components/net/ipv4";
import { UserError } from "./errors";
import { configValue, isRecord, key } from "./stack-config";

export interface Offsets {
  readonly vmidOffset: number;
  readonly ipOffset: number;
}

const IPV4 = /\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b/g;

export function shiftIp(ip: string, offset: number): string {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new UserError(`not an IPv4 address: ${ip}`);
  }
  const n = (((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3] + offset) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Shifts every IPv4 literal in a string (an address, `a-b` range, `ip/32`, URL). */
export function shiftIps(text: string, offset: number): string {
  return text.replace(IPV4, (m) => shiftIp(m, offset));
}

function toInt(v: unknown, what: string): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
  if (!Number.isInteger(n)) throw new UserError(`${what} must be an integer (got ${JSON.stringify(v)})`);
  return n;
}

/** Offsets from flags, else from the base stack's `proxmox-talos:ephemeral` {vmidOffset, ipOffset}. */
export function resolveOffsets(
  base: ConfigMap,
  flags: { vmidOffset?: string; ipOffset?: string },
  baseName: string,
): Offsets {
  const cfg = configValue(base, "ephemeral");
  const fromCfg = isRecord(cfg) ? cfg : {};
  const vmid = flags.vmidOffset ?? fromCfg.vmidOffset;
  const ip = flags.ipOffset ?? fromCfg.ipOffset;
  if (vmid === undefined || ip === undefined) {
    throw new UserError(
      `ephemeral needs --vmid-offset and --ip-offset (or ${key("ephemeral")}: {vmidOffset, ipOffset} in stack '${baseName}') so the throwaway cluster does not collide with '${baseName}'`,
    );
  }
  const out = { vmidOffset: toInt(vmid, "--vmid-offset"), ipOffset: toInt(ip, "--ip-offset") };
  if (out.vmidOffset === 0 || out.ipOffset === 0) {
    throw new UserError(
      "--vmid-offset and --ip-offset must be non-zero: the throwaway cluster would reuse the base's VMs or addresses",
    );
  }
  return out;
}

/** A DNS label from a stack name (cluster names are DNS labels). */
export function clusterNameFor(stackName: string): string {
  const label = stackName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return label || "ephemeral";
}

function shiftNodes(nodes: unknown, off: Offsets): unknown {
  if (!Array.isArray(nodes)) return nodes;
  return nodes.map((n: unknown) => {
    if (!isRecord(n)) return n;
    const out: Record<string, unknown> = { ...n };
    if (n.vmId !== undefined) out.vmId = toInt(n.vmId, `nodes[${String(n.name)}].vmId`) + off.vmidOffset;
    if (typeof n.ip === "string") out.ip = shiftIps(n.ip, off.ipOffset);
    return out;
  });
}

function shiftControlPlane(cp: unknown, off: Offsets): unknown {
  if (!isRecord(cp)) return cp;
  const out: Record<string, unknown> = { ...cp };
  if (typeof cp.vip === "string") out.vip = shiftIps(cp.vip, off.ipOffset);
  if (typeof cp.endpoint === "string") {
    // A host name would point at the base cluster: drop it, the VIP-based default applies.
    if (/^(https?:\/\/)?\d{1,3}(\.\d{1,3}){3}(:\d+)?\/?$/.test(cp.endpoint))
      out.endpoint = shiftIps(cp.endpoint, off.ipOffset);
    else delete out.endpoint;
  }
  return out;
}

/** Without `flux` in `ephemeral.copy` the copy's Flux gets no Git source (nothing is reconciled). */
function dropFluxSource(addons: unknown): unknown {
  if (!isRecord(addons) || !isRecord(addons.flux) || addons.flux.git === undefined) return addons;
  const { git: _git, ...flux } = addons.flux;
  return { ...addons, flux };
}

function shiftPools(pools: unknown, off: Offsets, owner: string): unknown {
  if (!Array.isArray(pools)) return pools;
  return pools.map((p: unknown) => {
    if (!isRecord(p) || !Array.isArray(p.addresses)) return p;
    const addresses = p.addresses.map((a: unknown) => {
      if (typeof a !== "string") return a;
      const cidr = /\/(\d+)$/.exec(a);
      if (cidr && cidr[1] !== "32") {
        throw new UserError(
          `${owner} pool address ${a} is a CIDR; ephemeral clusters shift pools by --ip-offset, so give the pool as a range a.b.c.d-a.b.c.e`,
        );
      }
      return shiftIps(a, off.ipOffset);
    });
    return { ...p, addresses };
  });
}

/** `ip:port` of an exposed UI (`expose.loadBalancer`), shifted with the pools it comes from. */
function shiftExpose(holder: unknown, off: Offsets): unknown {
  if (!isRecord(holder) || !isRecord(holder.expose) || typeof holder.expose.loadBalancer !== "string")
    return holder;
  return {
    ...holder,
    expose: { ...holder.expose, loadBalancer: shiftIps(holder.expose.loadBalancer, off.ipOffset) },
  };
}

function shiftAddons(addons: unknown, off: Offsets): unknown {
  if (!isRecord(addons)) return addons;
  const out: Record<string, unknown> = { ...addons };
  if (isRecord(addons.metallb) && addons.metallb.pools !== undefined)
    out.metallb = { ...addons.metallb, pools: shiftPools(addons.metallb.pools, off, "MetalLB") };
  if (isRecord(addons.cilium) && addons.cilium.pools !== undefined)
    out.cilium = { ...addons.cilium, pools: shiftPools(addons.cilium.pools, off, "Cilium") };
  if (isRecord(addons.gateway) && typeof addons.gateway.address === "string")
    out.gateway = { ...addons.gateway, address: shiftIps(addons.gateway.address, off.ipOffset) };
  if (addons.headlamp !== undefined) out.headlamp = shiftExpose(addons.headlamp, off);
  if (isRecord(addons.monitoring) && addons.monitoring.grafana !== undefined)
    out.monitoring = { ...addons.monitoring, grafana: shiftExpose(addons.monitoring.grafana, off) };
  return out;
}

/** What `ephemeral.copy` may name: the identity secrets, and `flux` for the Flux Git source. */
export const COPYABLE = ["talosSecrets", "sopsAgeKey", "fluxGitPassword", "flux"] as const;
export type Copyable = (typeof COPYABLE)[number];

/** The base's `ephemeral.copy` list (validated: an unknown name is an error). */
export function copyList(base: ConfigMap): Copyable[] {
  const cfg = configValue(base, "ephemeral");
  const list = isRecord(cfg) ? cfg.copy : undefined;
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.some((x) => !(COPYABLE as readonly unknown[]).includes(x))) {
    throw new UserError(
      `${key("ephemeral")}.copy must be a list of ${COPYABLE.map((c) => JSON.stringify(c)).join(", ")} (got ${JSON.stringify(list)})`,
    );
  }
  return list as Copyable[];
}

/** Every IPv4 literal in `value` (strings inside objects and lists too), with its key path. */
function ipv4Literals(value: unknown, at: string, out: { path: string; ip: string }[]): void {
  if (typeof value === "string") {
    for (const m of value.matchAll(IPV4)) out.push({ path: at, ip: m[0] });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      ipv4Literals(v, `${at}[${i}]`, out);
    });
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) ipv4Literals(v, `${at}.${k}`, out);
  }
}

/**
 * Refuses patches (`patches.*`, `nodes[].patches`) naming an address of the base's node network:
 * the throwaway cluster would claim it. Addresses elsewhere (public DNS, pod CIDRs) pass.
 */
export function patchAddressProblems(base: ConfigMap): string[] {
  const network = configValue(base, "network");
  const cidr = isRecord(network) && typeof network.cidr === "string" ? parseCidr(network.cidr) : undefined;
  if (!cidr) return [];
  const found: { path: string; ip: string }[] = [];
  ipv4Literals(configValue(base, "patches"), key("patches"), found);
  const nodes = configValue(base, "nodes");
  if (Array.isArray(nodes)) {
    nodes.forEach((n, i) => {
      if (isRecord(n)) ipv4Literals(n.patches, `${key("nodes")}[${i}].patches`, found);
    });
  }
  return found
    .filter((f) => {
      const a = parseIpv4(f.ip);
      return a !== undefined && rangeContains(cidr, a);
    })
    .map(
      (f) =>
        `${f.path}: ${f.ip} is in the base's node network ${String(network && (network as Record<string, unknown>).cidr)}`,
    );
}

/** The throwaway stack's config, in the `pulumi config --json` shape. */
export function ephemeralConfig(base: ConfigMap, stackName: string, off: Offsets): ConfigMap {
  const copy = copyList(base);
  const addressProblems = patchAddressProblems(base);
  if (addressProblems.length > 0) {
    throw new UserError(
      `ephemeral refuses to copy patches that name production addresses (the throwaway cluster would claim them):\n${addressProblems.map((p) => `  - ${p}`).join("\n")}\n  move those settings out of the patches or run the throwaway cluster from its own stack file`,
    );
  }
  const out: ConfigMap = {};
  for (const [k, v] of Object.entries(base)) out[k] = { ...v };
  // A fresh cluster identity unless opted in per key.
  for (const name of ["talosSecrets", "sopsAgeKey", "fluxGitPassword"] as const) {
    if (!copy.includes(name)) delete out[key(name)];
  }
  const set = (name: string, value: unknown) => {
    out[key(name)] = { value: typeof value === "string" ? value : JSON.stringify(value), secret: false };
  };
  delete out[key("ephemeral")];
  set("clusterName", clusterNameFor(stackName));
  set("production", false);
  const transforms: Record<string, (v: unknown, o: Offsets) => unknown> = {
    nodes: shiftNodes,
    controlPlane: shiftControlPlane,
    addons: (v, o) => shiftAddons(copy.includes("flux") ? v : dropFluxSource(v), o),
  };
  for (const [name, fn] of Object.entries(transforms)) {
    const entry = base[key(name)];
    if (entry === undefined) continue;
    if (entry.secret) throw new UserError(`${key(name)} is a secret; ephemeral cannot rewrite it`);
    set(name, fn(decodeConfigValue(name, entry.value), off));
  }
  return out;
}

/**
 * JSON for `pulumi config set-all --json` (a command line argument, visible in /proc/<pid>/cmdline):
 * the PLAIN entries only, objects as objectValue so they stay structured. Secret entries are
 * copied with `pulumi config cp` ({@link secretKeys}), never put on a command line.
 */
export function configJson(config: ConfigMap): string {
  const out: Record<string, { value: string; secret: false; objectValue?: unknown }> = {};
  for (const [k, v] of Object.entries(config)) {
    if (v.secret) continue;
    const decoded = decodeConfigValue(k.slice(k.indexOf(":") + 1), v.value);
    out[k] =
      typeof decoded === "object" && decoded !== null
        ? { value: v.value, secret: false, objectValue: decoded }
        : { value: v.value, secret: false };
  }
  return JSON.stringify(out);
}

/** The secret entries of `config` (full keys): copied from the base stack by `pulumi config cp`. */
export function secretKeys(config: ConfigMap): string[] {
  return Object.entries(config)
    .filter(([, v]) => v.secret)
    .map(([k]) => k);
}
