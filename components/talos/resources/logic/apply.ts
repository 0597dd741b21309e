/**
 * Logic of the `MachineConfigApply` dynamic resource: applies one node's machine config.
 *
 * - create: probes the declared address for maintenance mode (TLS without client cert and without
 *   verifying the per-boot server cert, like `talosctl apply --insecure`). Only a node KNOWN to be
 *   new (`maintenanceAllowed`: its VM was created or replaced in this update, or the stack marks
 *   the machine new) gets its config over that unauthenticated connection (mode auto: it installs
 *   and reboots into mTLS); any other node in maintenance mode is refused, naming the way to
 *   re-provision it. A configured node gets the config over mutual TLS with the admin cert. Transport trouble is
 *   retried until `timeoutSeconds`; Talos' permanent answers for the mode the node is in (a config it
 *   refuses or cannot parse, a mode it does not support, a role it denies) fail at once.
 * - check: refuses an unsupported Talos upgrade path or a Kubernetes minor skip before any RPC.
 * - diff: on the non-secret config hash and the installer image (and mode/address); a changed
 *   `machineIdentity` (the VM behind the node was replaced) replaces the apply, so the new machine
 *   is configured again; the rollout peers and the kubeconfig are not compared (they change with
 *   the cluster, not with this node).
 * - update: one node's rollout step (logic/rollout.ts): gates, upgrade when the installer image
 *   changed, apply over mTLS (mode auto; staged on request), gates. A node that was configured
 *   before and now answers only in maintenance mode is an error, never a silent re-apply.
 * - delete: nothing, unless `resetOnDelete` (graceful reset wiping STATE and EPHEMERAL, reboot);
 *   a scale-down's ceremony is `ClusterMembership`'s, so a whole-stack destroy stays fast.
 */
import * as YAML from "yaml";
import { kubernetesUpgradeError, talosUpgradeError } from "../../../compat";
import { TIMEOUT_DEFAULTS } from "../../../defaults";
import { imageTag, parseVersion, sameVersion } from "../../../version";
import type { ApplyMode } from "../../api/client";
import { probeMaintenance } from "../../api/client";
import { bootSecurityChange, checkBootSecurity } from "./boot-security";
import {
  type DiffResult,
  defaultLog,
  isPermanentTalosError,
  type LogFn,
  type MtlsCredentials,
  maintenanceClient,
  markPermanent,
  mtlsClient,
  Props,
  type ReadMode,
  RefusedByNode,
  retryUntil,
  sha256Hex,
  WIPE_STATE_AND_EPHEMERAL,
} from "./common";
import type { PeerNode } from "./etcd";
import { type RolloutDeps, rollNode } from "./rollout";

export { checkBootSecurity } from "./boot-security";

export type ApplyRequestMode = "auto" | "staged";

export interface ApplyInputs extends MtlsCredentials {
  /** Node name (for messages). */
  readonly node: string;
  /** apid address: `ip` or `ip:port`. */
  readonly address: string;
  readonly role: "controlplane" | "worker";
  /** Rendered machine config (secret). */
  readonly config: string;
  /** sha256 of `config` (non-secret). */
  readonly configHash: string;
  readonly talosVersion: string;
  readonly mode: ApplyRequestMode;
  readonly resetOnDelete: boolean;
  /** Bound of a create/update/delete. Default TIMEOUT_DEFAULTS.applySeconds. */
  readonly timeoutSeconds: number;
  /** Installer image the node must run ("" in states from before upgrades were managed). */
  readonly installImage: string;
  readonly kubernetesVersion: string;
  /** Non-secret redacted view of `config`, for `pulumi preview --diff` (never used to act). */
  readonly configView: string;
  /** Rollout gates: the cluster's control planes (etcd) and the admin kubeconfig (Ready). */
  readonly controlPlanes: readonly PeerNode[];
  readonly kubeconfig: string;
  readonly checkKubernetes: boolean;
  /**
   * Identity of the machine behind the node (e.g. Proxmox host/VM id/MACs; "" when unknown): a
   * change means a new machine, which replaces this apply.
   */
  readonly machineIdentity: string;
  /** The node is known to be new: its first apply may use the unauthenticated maintenance API. */
  readonly maintenanceAllowed: boolean;
}

export interface ApplyOutputs extends ApplyInputs {
  /** Mode the node reported for the last apply (auto resolves to reboot/no_reboot). */
  readonly appliedMode: ApplyMode;
  /** True when the last create found the node in maintenance mode. */
  readonly fromMaintenance: boolean;
  readonly appliedAt: string;
}

export interface ApplyDeps extends RolloutDeps {
  readonly log?: LogFn;
  /** Pause between attempts (ms). Default 2000. */
  readonly pollMs?: number;
}

/** Parses new inputs, or (mode `state`) a stored state with the same defaults. */
export function parseApplyInputs(raw: unknown, mode: ReadMode = "inputs"): ApplyInputs {
  const p = new Props("MachineConfigApply", raw, mode);
  const config = p.str("config");
  const configHash = p.optStr("configHash") || (config ? sha256Hex(config) : "");
  return {
    node: p.str("node"),
    address: p.str("address"),
    role: p.oneOf("role", ["controlplane", "worker"]),
    config,
    configHash,
    talosVersion: p.optStr("talosVersion"),
    mode: p.oneOf("mode", ["auto", "staged"], "auto"),
    resetOnDelete: p.bool("resetOnDelete", false),
    timeoutSeconds: p.num("timeoutSeconds", TIMEOUT_DEFAULTS.applySeconds),
    installImage: p.optStr("installImage"),
    kubernetesVersion: p.optStr("kubernetesVersion"),
    configView: p.optStr("configView"),
    controlPlanes: p.has("controlPlanes") ? p.nodes("controlPlanes") : [],
    kubeconfig: p.optStr("kubeconfig"),
    checkKubernetes: p.bool("checkKubernetes", false),
    machineIdentity: p.optStr("machineIdentity"),
    maintenanceAllowed: p.bool("maintenanceAllowed", false),
    ...p.mtls(),
  };
}

/** A refusal that no retry can fix (the node is in a state only the user can resolve). */
export class MaintenanceRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MaintenanceRefusal";
  }
}

const isFatal = (e: unknown): boolean => e instanceof MaintenanceRefusal || e instanceof RefusedByNode;

/** How to configure the node again, for the refusals below. */
function reprovisionHint(i: Pick<ApplyInputs, "node">): string {
  return (
    `if the machine was reinstalled or its disk wiped on purpose, re-provision it: replace its apply with ` +
    `\`pulumi up --target-replace <urn of the MachineConfigApply ...-apply-${i.node}>\` ` +
    `(\`pulumi stack --show-urns\` lists it; on existing machines also set nodes[].newMachine: true for ${i.node}); ` +
    "otherwise find out why it lost its configuration before handing it the cluster's keys"
  );
}

export { kubernetesUpgradeError } from "../../../compat";

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

/**
 * Refusals known before any node is touched: the Talos upgrade path, Kubernetes skips, and
 * boot-security changes that may not reinstall the node (boot-security.ts).
 */
export function checkUpgrade(olds: unknown, news: unknown): CheckFailure[] {
  return [...versionFailures(olds, news), ...checkBootSecurity(olds, news)];
}

function versionFailures(olds: unknown, news: unknown): CheckFailure[] {
  const o = (olds ?? {}) as Partial<Record<string, unknown>>;
  const n = (news ?? {}) as Partial<Record<string, unknown>>;
  const failures: CheckFailure[] = [];
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const [oldTalos, newTalos] = [str(o.talosVersion), str(n.talosVersion)];
  if (oldTalos && newTalos && !sameVersion(oldTalos, newTalos)) {
    const why = talosUpgradeError(oldTalos, newTalos);
    if (why) failures.push({ property: "talosVersion", reason: `node ${String(n.node)}: ${why}` });
  }
  const [oldK8s, newK8s] = [str(o.kubernetesVersion), str(n.kubernetesVersion)];
  if (oldK8s && newK8s && !sameVersion(oldK8s, newK8s)) {
    const why = kubernetesUpgradeError(oldK8s, newK8s);
    if (why) failures.push({ property: "kubernetesVersion", reason: `node ${String(n.node)}: ${why}` });
  }
  return failures;
}

/**
 * The installer image the node last got: recorded in state, or — in states from before upgrades
 * were managed — `machine.install.image` of the config it was given.
 */
export function previousImage(o: Partial<ApplyOutputs>): string {
  if (o.installImage) return o.installImage;
  if (typeof o.config !== "string" || o.config === "") return "";
  try {
    for (const doc of YAML.parseAllDocuments(o.config)) {
      const image = (doc.toJS() as { machine?: { install?: { image?: unknown } } } | null)?.machine?.install
        ?.image;
      if (typeof image === "string") return image;
    }
  } catch {
    // an unreadable old config: fall back to the recorded version
  }
  return "";
}

/** Tag the node last ran: from its previous installer image, else its recorded Talos version. */
function previousTag(o: Partial<ApplyOutputs>): string {
  const fromImage = imageTag(previousImage(o));
  if (fromImage) return fromImage;
  return parseVersion(o.talosVersion ?? "")?.tag ?? "";
}

/** Upgrade when the installer image changed (or, without any record of it, the Talos version). */
function upgradeNeeded(o: Partial<ApplyOutputs>, n: ApplyInputs): boolean {
  if (!n.installImage) return false;
  const before = previousImage(o);
  if (before) return before !== n.installImage;
  return previousTag(o) !== "" && previousTag(o) !== imageTag(n.installImage);
}

function label(i: Pick<ApplyInputs, "node" | "address">): string {
  return `node ${i.node} (${i.address})`;
}

const PER_ATTEMPT_MS = 30_000;

async function applyOnce(
  i: ApplyInputs,
  remainingMs: number,
  firstApply: boolean,
): Promise<{ mode: ApplyMode; maintenance: boolean }> {
  const timeoutMs = Math.max(1, Math.min(PER_ATTEMPT_MS, remainingMs));
  const maintenance = firstApply
    ? await probeMaintenance(i.address, { timeoutMs: Math.min(5000, timeoutMs) })
    : false;
  if (maintenance && !i.maintenanceAllowed) {
    throw new MaintenanceRefusal(
      `MachineConfigApply: ${label(i)} answers in maintenance mode, but it is not known to be new: ` +
        "refusing to send its config (with the cluster's keys) over the unauthenticated maintenance API. " +
        `If this is a freshly booted machine, set proxmox-talos:nodes[].newMachine: true for ${i.node}; ${reprovisionHint(i)}`,
    );
  }
  const opts = { timeoutMs, retry: { attempts: 1 } };
  const client = maintenance ? maintenanceClient(i.address, opts) : mtlsClient(i.address, i, opts);
  try {
    // Maintenance mode knows no STAGED (1.9–1.12): the first apply is always auto.
    const mode: ApplyMode = maintenance ? "auto" : i.mode;
    const r = await client
      .applyConfiguration({ data: i.config, mode })
      .catch((e: unknown) => markPermanent(e, maintenance ? "maintenance" : "normal"));
    return { mode: r.mode, maintenance };
  } finally {
    client.close();
  }
}

async function apply(i: ApplyInputs, firstApply: boolean, deps: ApplyDeps): Promise<ApplyOutputs> {
  const log = deps.log ?? defaultLog;
  const r = await retryUntil(
    {
      what: `MachineConfigApply: apply config on ${label(i)}`,
      timeoutMs: i.timeoutSeconds * 1000,
      pollMs: deps.pollMs,
      fatal: isFatal,
      log,
    },
    (remaining) => applyOnce(i, remaining, firstApply),
  ).catch((e: unknown) => {
    throw e instanceof RefusedByNode ? e.refusal : e;
  });
  log(
    `MachineConfigApply: applied config ${i.configHash.slice(0, 12)} to ${label(i)}` +
      `${r.maintenance ? " (maintenance mode)" : ""}, mode ${r.mode}`,
  );
  return {
    ...i,
    appliedMode: r.mode,
    fromMaintenance: r.maintenance,
    appliedAt: new Date().toISOString(),
  };
}

export async function create(
  raw: unknown,
  deps: ApplyDeps = {},
): Promise<{ id: string; outs: ApplyOutputs }> {
  const i = parseApplyInputs(raw);
  const outs = await apply(i, true, deps);
  return { id: `${i.node}@${i.address}`, outs };
}

/** Compares state (olds) with new inputs: config by hash only, never by the secret text. */
export function diff(olds: unknown, news: unknown): DiffResult {
  const o = parseApplyInputs(olds, "state");
  const n = parseApplyInputs(news);
  const replaces: string[] = [];
  if (o.address !== n.address) replaces.push("address");
  if (o.node !== n.node) replaces.push("node");
  const updates: string[] = [];
  // A new machine behind the node: configure it again (states without an identity only record it).
  const oldIdentity = typeof o.machineIdentity === "string" ? o.machineIdentity : "";
  if (oldIdentity !== "" && n.machineIdentity !== "" && oldIdentity !== n.machineIdentity)
    replaces.push("machineIdentity");
  else if (oldIdentity !== n.machineIdentity) updates.push("machineIdentity");
  if (o.configHash !== n.configHash) updates.push("configHash");
  if (upgradeNeeded(o, n)) updates.push("installImage");
  if (o.mode !== n.mode) updates.push("mode");
  if (o.resetOnDelete !== n.resetOnDelete) updates.push("resetOnDelete");
  if (o.timeoutSeconds !== n.timeoutSeconds) updates.push("timeoutSeconds");
  // A state without a role (older versions; read as "") keeps its node.
  if (o.role && o.role !== n.role) replaces.push("role");
  if (bootSecurityChange(olds, news)) replaces.push("bootSecurity");
  return {
    changes: replaces.length + updates.length > 0,
    replaces,
    stables: ["node", "address"].filter((k) => !replaces.includes(k)),
    deleteBeforeReplace: replaces.length > 0,
  };
}

export async function update(
  olds: unknown,
  news: unknown,
  deps: ApplyDeps = {},
): Promise<{ outs: ApplyOutputs }> {
  const o = olds as Partial<ApplyOutputs>;
  const n = parseApplyInputs(news);
  const upgrade = upgradeNeeded(o, n);
  const reconfigure = o.configHash !== n.configHash || !o.appliedMode;
  if (!upgrade && !reconfigure) {
    // Only settings changed (mode, resetOnDelete, timeout): record them, no call.
    return {
      outs: {
        ...n,
        appliedMode: o.appliedMode ?? "no_reboot",
        fromMaintenance: o.fromMaintenance ?? false,
        appliedAt: o.appliedAt ?? new Date().toISOString(),
      },
    };
  }
  const refused = checkUpgrade(o, n);
  if (refused.length > 0) throw new Error(refused.map((f) => f.reason).join("; "));
  if (await probeMaintenance(n.address, { timeoutMs: 5000 })) {
    throw new MaintenanceRefusal(
      `MachineConfigApply: ${label(n)} was configured before and now answers only in maintenance mode ` +
        `(its disk was wiped or its machine replaced outside this stack): refusing a silent re-apply; ${reprovisionHint(n)}`,
    );
  }
  let outs: ApplyOutputs | undefined;
  await rollNode(
    // A staged config takes effect at the next reboot: its kubelet cannot be waited for now.
    n.mode === "staged" ? { ...n, kubernetesVersion: "" } : n,
    {
      upgrade,
      previousTag: previousTag(o),
      apply: async (remainingMs) => {
        if (!reconfigure) {
          outs = {
            ...n,
            appliedMode: o.appliedMode ?? "no_reboot",
            fromMaintenance: false,
            appliedAt: new Date().toISOString(),
          };
          return { rebooting: false };
        }
        outs = await apply({ ...n, timeoutSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) }, false, deps);
        return { rebooting: outs.appliedMode === "reboot" };
      },
    },
    deps,
  );
  if (!outs) throw new Error(`MachineConfigApply: rollout of ${label(n)} ended without applying`);
  return { outs: { ...outs, timeoutSeconds: n.timeoutSeconds } };
}

/**
 * With `resetOnDelete`: a graceful reset wiping STATE and EPHEMERAL, then a reboot into maintenance
 * mode. A node already in maintenance mode (wiped before, e.g. by a scale-down) is left alone.
 */
export async function remove(props: unknown, deps: ApplyDeps = {}): Promise<void> {
  const p = props as Partial<Record<string, unknown>>;
  if (p.resetOnDelete !== true) return;
  const i = parseApplyInputs(props);
  const log = deps.log ?? defaultLog;
  let wiped = false;
  await retryUntil(
    {
      what: `MachineConfigApply: reset ${label(i)}`,
      timeoutMs: i.timeoutSeconds * 1000,
      pollMs: deps.pollMs,
      fatal: (e) => isPermanentTalosError(e, "normal"),
      log,
    },
    async (remaining) => {
      if (await probeMaintenance(i.address, { timeoutMs: Math.min(5000, remaining) })) {
        wiped = true;
        return;
      }
      const client = mtlsClient(i.address, i, {
        timeoutMs: Math.max(1, Math.min(PER_ATTEMPT_MS, remaining)),
        retry: { attempts: 1 },
      });
      try {
        await client.reset({
          graceful: true,
          reboot: true,
          systemPartitionsToWipe: WIPE_STATE_AND_EPHEMERAL,
        });
      } finally {
        client.close();
      }
    },
  );
  log(
    wiped
      ? `MachineConfigApply: ${label(i)} is in maintenance mode already; no reset`
      : `MachineConfigApply: reset ${label(i)} (STATE and EPHEMERAL wiped, rebooting)`,
  );
}
