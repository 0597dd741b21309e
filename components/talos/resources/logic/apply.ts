/**
 * Logic of the `MachineConfigApply` dynamic resource: applies one node's machine config.
 *
 * - create: probes the declared address for maintenance mode (TLS without client cert and without
 *   verifying the per-boot server cert — allowed only because the user declared this address);
 *   a maintenance node gets the config over that connection (mode auto: the node installs and
 *   reboots into mTLS), a configured node over mutual TLS with the admin cert. Transport trouble is
 *   retried until `timeoutSeconds`; INVALID_ARGUMENT (the node refused the config) fails at once.
 * - diff: on the non-secret config hash (and mode/address); an unchanged config is no diff.
 * - update: in-place apply over mTLS (mode auto; staged on request).
 * - delete: nothing, unless `resetOnDelete` (graceful reset wiping STATE and EPHEMERAL, reboot).
 */
import type { ApplyMode } from "../../api/client";
import { probeMaintenance } from "../../api/client";
import {
  defaultLog,
  isInvalidArgument,
  type LogFn,
  type MtlsCredentials,
  maintenanceClient,
  mtlsClient,
  Props,
  retryUntil,
  sha256Hex,
} from "./common";

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
  /** Bound of a create/update/delete. Default 600. */
  readonly timeoutSeconds: number;
}

export interface ApplyOutputs extends ApplyInputs {
  /** Mode the node reported for the last apply (auto resolves to reboot/no_reboot). */
  readonly appliedMode: ApplyMode;
  /** True when the last create found the node in maintenance mode. */
  readonly fromMaintenance: boolean;
  readonly appliedAt: string;
}

export interface ApplyDeps {
  readonly log?: LogFn;
  /** Pause between attempts (ms). Default 2000. */
  readonly pollMs?: number;
}

export function parseApplyInputs(raw: unknown): ApplyInputs {
  const p = new Props("MachineConfigApply", raw);
  const role = p.str("role");
  if (role !== "controlplane" && role !== "worker")
    throw new Error(`MachineConfigApply: unknown role "${role}"`);
  const mode = p.optStr("mode", "auto");
  if (mode !== "auto" && mode !== "staged")
    throw new Error(`MachineConfigApply: mode must be auto or staged, got "${mode}"`);
  const config = p.str("config");
  const configHash = p.optStr("configHash") || sha256Hex(config);
  return {
    node: p.str("node"),
    address: p.str("address"),
    role,
    config,
    configHash,
    talosVersion: p.optStr("talosVersion"),
    mode,
    resetOnDelete: p.bool("resetOnDelete", false),
    timeoutSeconds: p.num("timeoutSeconds", 600),
    ...p.mtls(),
  };
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
  const opts = { timeoutMs, retry: { attempts: 1 } };
  const client = maintenance ? maintenanceClient(i.address, opts) : mtlsClient(i.address, i, opts);
  try {
    // Maintenance mode knows no STAGED (1.9–1.12): the first apply is always auto.
    const mode: ApplyMode = maintenance ? "auto" : i.mode;
    const r = await client.applyConfiguration({ data: i.config, mode });
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
      fatal: isInvalidArgument,
      log,
    },
    (remaining) => applyOnce(i, remaining, firstApply),
  );
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

export interface DiffResult {
  readonly changes: boolean;
  readonly replaces: string[];
  readonly stables: string[];
  readonly deleteBeforeReplace: boolean;
}

/** Compares state (olds) with new inputs: config by hash only, never by the secret text. */
export function diff(olds: unknown, news: unknown): DiffResult {
  const o = olds as Partial<Record<string, unknown>>;
  const n = parseApplyInputs(news);
  const replaces: string[] = [];
  if (o.address !== n.address) replaces.push("address");
  if (o.node !== n.node) replaces.push("node");
  const updates: string[] = [];
  if (o.configHash !== n.configHash) updates.push("configHash");
  if ((o.mode ?? "auto") !== n.mode) updates.push("mode");
  if ((o.resetOnDelete ?? false) !== n.resetOnDelete) updates.push("resetOnDelete");
  if ((o.timeoutSeconds ?? 600) !== n.timeoutSeconds) updates.push("timeoutSeconds");
  if ((o.role ?? n.role) !== n.role) replaces.push("role");
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
  if (o.configHash === n.configHash && o.appliedMode) {
    // Only settings changed (mode, resetOnDelete, timeout): record them, no call.
    return {
      outs: {
        ...n,
        appliedMode: o.appliedMode,
        fromMaintenance: o.fromMaintenance ?? false,
        appliedAt: o.appliedAt ?? new Date().toISOString(),
      },
    };
  }
  return { outs: await apply(n, false, deps) };
}

export async function remove(props: unknown, deps: ApplyDeps = {}): Promise<void> {
  const p = props as Partial<Record<string, unknown>>;
  if (p.resetOnDelete !== true) return;
  const i = parseApplyInputs(props);
  const log = deps.log ?? defaultLog;
  await retryUntil(
    {
      what: `MachineConfigApply: reset ${label(i)}`,
      timeoutMs: i.timeoutSeconds * 1000,
      pollMs: deps.pollMs,
      fatal: isInvalidArgument,
      log,
    },
    async (remaining) => {
      const client = mtlsClient(i.address, i, {
        timeoutMs: Math.max(1, Math.min(PER_ATTEMPT_MS, remaining)),
        retry: { attempts: 1 },
      });
      try {
        await client.reset({
          graceful: true,
          reboot: true,
          systemPartitionsToWipe: [
            { label: "STATE", wipe: true },
            { label: "EPHEMERAL", wipe: true },
          ],
        });
      } finally {
        client.close();
      }
    },
  );
  log(`MachineConfigApply: reset ${label(i)} (STATE and EPHEMERAL wiped, rebooting)`);
}
