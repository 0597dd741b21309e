/**
 * etcd snapshots through the Talos API: pick a healthy control plane (the etcd member list, as
 * the rollout gate reads it), stream `EtcdSnapshot` into a 0600 file (temp + rename, trailer
 * checked, age-encrypted when a recipient is given), prune to the newest N of the stack.
 *
 * Also the logic of the `EtcdSnapshotStep` dynamic resource: the snapshot `up` takes before the
 * rolling chain touches the first control plane. Its inputs are what makes a step risky (the
 * installer image, the Kubernetes version, the control-plane set); `diff` reports a change when
 * one of them (or a backup setting) changes, and `update` snapshots when the change is risky —
 * a Talos or Kubernetes upgrade or a control-plane removal. `create` takes none: a new cluster
 * has no etcd yet, and an adopted one gets its first snapshot before its next risky change.
 */
import * as path from "node:path";
import { BACKUP_DEFAULTS, TIMEOUT_DEFAULTS } from "../../../defaults";
import {
  type DiffResult,
  defaultLog,
  errorText,
  type LogFn,
  type MtlsCredentials,
  mtlsClient,
  Props,
} from "./common";
import { etcdHealth, type PeerNode } from "./etcd";
import { pruneSnapshots, type SnapshotFileInfo, SnapshotFileWriter, snapshotFileName } from "./snapshot-file";

export interface TakeSnapshotOptions {
  readonly stack: string;
  readonly controlPlanes: readonly PeerNode[];
  readonly creds: MtlsCredentials;
  /** Folder of the stack's snapshots (created 0700 when missing). */
  readonly dir: string;
  /** Exact file to write instead of a generated name in `dir` (no pruning then). */
  readonly out?: string;
  /** age recipient (`age1…`): the file is encrypted for it (`.age`). */
  readonly recipient?: string;
  /** Snapshots of the stack to keep in `dir` (default 10). */
  readonly keep?: number;
  /** Wait bound for each chunk and each health call (ms). Default 30 s. */
  readonly timeoutMs?: number;
  readonly log?: LogFn;
  readonly onProgress?: (bytes: number) => void;
  readonly now?: () => Date;
}

export interface SnapshotResult extends SnapshotFileInfo {
  /** Control plane the snapshot came from. */
  readonly node: string;
  /** ISO time the snapshot was started. */
  readonly takenAt: string;
  /** Seconds the transfer took. */
  readonly seconds: number;
  /** Older snapshots deleted by the retention. */
  readonly pruned: readonly string[];
}

export const DEFAULT_KEEP = BACKUP_DEFAULTS.keep;

/** The healthy control planes in config order (etcd member list + each member's own answer). */
export async function healthySources(
  controlPlanes: readonly PeerNode[],
  creds: MtlsCredentials,
  timeoutMs: number,
): Promise<PeerNode[]> {
  const h = await etcdHealth(controlPlanes, creds, { timeoutMs });
  const ok = controlPlanes.filter((c) => h.healthy.includes(c.name));
  if (ok.length === 0) {
    const why = Object.entries(h.unhealthy)
      .map(([n, w]) => `${n}: ${w}`)
      .join("; ");
    throw new Error(`no healthy etcd member to take a snapshot from (${why || "no members"})`);
  }
  return ok;
}

export async function takeSnapshot(o: TakeSnapshotOptions): Promise<SnapshotResult> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const log = o.log ?? (() => undefined);
  const sources = await healthySources(o.controlPlanes, o.creds, timeoutMs);
  const errors: string[] = [];
  for (const source of sources) {
    const at = o.now?.() ?? new Date();
    const encrypted = Boolean(o.recipient);
    const file = o.out
      ? path.resolve(o.out)
      : path.resolve(o.dir, snapshotFileName(o.stack, source.name, at, encrypted));
    const writer = await SnapshotFileWriter.open(file, { recipient: o.recipient });
    const client = mtlsClient(source.address, o.creds, {
      timeoutMs,
      retry: { attempts: 3, baseDelayMs: 500 },
    });
    const start = Date.now();
    try {
      log(`snapshot: streaming etcd from ${source.name} (${source.address})`);
      await client.etcdSnapshot(writer, { onProgress: o.onProgress });
      const info = await writer.finish();
      const pruned = o.out ? [] : pruneSnapshots(path.dirname(file), o.stack, o.keep ?? DEFAULT_KEEP);
      return {
        ...info,
        node: source.name,
        takenAt: at.toISOString(),
        seconds: (Date.now() - start) / 1000,
        pruned,
      };
    } catch (e) {
      await writer.abort();
      errors.push(`${source.name}: ${errorText(e)}`);
      log(`snapshot: ${source.name} failed (${errorText(e)})`);
    } finally {
      client.close();
    }
  }
  throw new Error(`etcd snapshot failed on every healthy control plane (${errors.join("; ")})`);
}

// ---- the EtcdSnapshotStep resource ----

export interface SnapshotStepInputs {
  readonly stack: string;
  readonly enabled: boolean;
  readonly dir: string;
  readonly keep: number;
  readonly recipient: string;
  readonly installImage: string;
  readonly kubernetesVersion: string;
  readonly controlPlanes: PeerNode[];
  readonly creds: MtlsCredentials;
  readonly timeoutSeconds: number;
}

export interface SnapshotStepOutputs {
  /** File name of the last snapshot this step took ("" before the first). */
  readonly snapshotFile: string;
  /** Hex SHA-256 of that file as written. */
  readonly snapshotSha256: string;
  readonly snapshotTakenAt: string;
  readonly snapshotNode: string;
}

export function parseStepInputs(raw: unknown): SnapshotStepInputs {
  const p = new Props("EtcdSnapshotStep", raw);
  return {
    stack: p.str("stack"),
    enabled: p.bool("enabled", true),
    dir: p.str("dir"),
    keep: p.num("keep", DEFAULT_KEEP),
    recipient: p.optStr("recipient"),
    installImage: p.optStr("installImage"),
    kubernetesVersion: p.optStr("kubernetesVersion"),
    controlPlanes: p.nodes("controlPlanes"),
    creds: p.mtls(),
    timeoutSeconds: p.num("timeoutSeconds", TIMEOUT_DEFAULTS.applySeconds),
  };
}

const RISK_KEYS = ["installImage", "kubernetesVersion", "controlPlanes"] as const;
const SETTING_KEYS = ["enabled", "dir", "keep", "recipient", "stack"] as const;

function names(v: unknown): string[] {
  return Array.isArray(v)
    ? v.map((n) => (typeof n === "object" && n !== null ? String((n as { name?: unknown }).name) : ""))
    : [];
}

/** Why the change from `olds` to `news` is risky for etcd, or undefined when it is not. */
export function riskOf(olds: Record<string, unknown>, news: SnapshotStepInputs): string | undefined {
  const reasons: string[] = [];
  if (typeof olds.installImage === "string" && olds.installImage !== news.installImage)
    reasons.push(`Talos upgrade to ${news.installImage.split(":").pop()}`);
  if (typeof olds.kubernetesVersion === "string" && olds.kubernetesVersion !== news.kubernetesVersion)
    reasons.push(`Kubernetes upgrade to ${news.kubernetesVersion}`);
  const now = new Set(news.controlPlanes.map((c) => c.name));
  const removed = names(olds.controlPlanes).filter((n) => n !== "" && !now.has(n));
  if (removed.length > 0) reasons.push(`control-plane removal (${removed.join(", ")})`);
  return reasons.length > 0 ? reasons.join(", ") : undefined;
}

export function diff(olds: unknown, news: unknown): DiffResult {
  const o = (olds ?? {}) as Record<string, unknown>;
  const n = (news ?? {}) as Record<string, unknown>;
  const changed = [...RISK_KEYS, ...SETTING_KEYS].filter((k) =>
    k === "controlPlanes" ? JSON.stringify(names(o[k])) !== JSON.stringify(names(n[k])) : o[k] !== n[k],
  );
  return { changes: changed.length > 0, replaces: [] };
}

const EMPTY_OUTS: SnapshotStepOutputs = {
  snapshotFile: "",
  snapshotSha256: "",
  snapshotTakenAt: "",
  snapshotNode: "",
};

export async function create(raw: unknown): Promise<{ id: string; outs: Record<string, unknown> }> {
  const i = parseStepInputs(raw);
  return { id: `${i.stack}-etcd-snapshot`, outs: { ...(raw as object), ...EMPTY_OUTS } };
}

export async function update(
  olds: unknown,
  news: unknown,
  log: LogFn = defaultLog,
): Promise<{ outs: Record<string, unknown> }> {
  const o = (olds ?? {}) as Record<string, unknown>;
  const i = parseStepInputs(news);
  const kept: SnapshotStepOutputs = {
    snapshotFile: typeof o.snapshotFile === "string" ? o.snapshotFile : "",
    snapshotSha256: typeof o.snapshotSha256 === "string" ? o.snapshotSha256 : "",
    snapshotTakenAt: typeof o.snapshotTakenAt === "string" ? o.snapshotTakenAt : "",
    snapshotNode: typeof o.snapshotNode === "string" ? o.snapshotNode : "",
  };
  const risk = riskOf(o, i);
  if (!risk || !i.enabled) {
    if (risk) log(`etcd snapshot before ${risk}: skipped (backup.beforeRiskySteps is false)`);
    return { outs: { ...(news as object), ...kept } };
  }
  log(`etcd snapshot before ${risk}`);
  let lastPct = -1;
  const r = await takeSnapshot({
    stack: i.stack,
    controlPlanes: i.controlPlanes,
    creds: i.creds,
    dir: path.resolve(i.dir),
    recipient: i.recipient || undefined,
    keep: i.keep,
    timeoutMs: Math.min(60_000, i.timeoutSeconds * 1000),
    log,
    onProgress: (bytes) => {
      const mb = Math.floor(bytes / (16 * 1024 * 1024));
      if (mb !== lastPct) {
        lastPct = mb;
        if (mb > 0) log(`etcd snapshot: ${(bytes / 1048576).toFixed(0)} MiB`);
      }
    },
  });
  log(
    `etcd snapshot: ${path.basename(r.file)} from ${r.node}, ${(r.snapshotBytes / 1048576).toFixed(2)} MiB, sha256 ${r.fileSha256}`,
  );
  return {
    outs: {
      ...(news as object),
      snapshotFile: path.basename(r.file),
      snapshotSha256: r.fileSha256,
      snapshotTakenAt: r.takenAt,
      snapshotNode: r.node,
    },
  };
}
