/**
 * Restore of etcd from a snapshot after quorum loss, Talos' documented recovery as one guarded,
 * resumable procedure over the Talos API:
 *
 *   verify    the file's SHA-256 trailer (decrypting an `.age` file on the fly);
 *   guard     etcd must really have lost quorum, or be absent on every control plane (what was
 *             seen is reported); `force` skips the refusal;
 *   wipe      each control plane: Reset wiping EPHEMERAL only (non-graceful, reboot), wait back;
 *   upload    `EtcdRecover` to the first control plane;
 *   bootstrap `Bootstrap{recover_etcd}` there;
 *   etcd      wait until every control plane is a healthy member again;
 *   kubernetes wait for the Kubernetes API's /readyz (when a kubeconfig is given).
 *
 * Progress is journaled (0600, beside the backups) after each step, keyed by the snapshot's
 * database hash: a re-run after a failure resumes at the first step not done; a run with another
 * snapshot starts over. Nothing in the Pulumi state changes: the cluster keeps its identity.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { TalosApiError } from "../api/client";
import { RETRYABLE_CODES } from "../api/retry";
import {
  errorText,
  type LogFn,
  type MtlsCredentials,
  mtlsClient,
  retryUntil,
  sleep,
} from "../resources/logic/common";
import { type EtcdHealth, etcdHealth, type PeerNode, quorum } from "../resources/logic/etcd";
import { checkReadyz } from "../resources/logic/ready";
import { readSnapshot, verifySnapshotFile } from "../resources/logic/snapshot-file";

export const RESTORE_STEPS = [
  "verify",
  "guard",
  "wipe",
  "upload",
  "bootstrap",
  "etcd",
  "kubernetes",
] as const;
export type RestoreStep = (typeof RESTORE_STEPS)[number];

export interface RestoreOptions {
  readonly controlPlanes: readonly PeerNode[];
  readonly creds: MtlsCredentials;
  /** Snapshot file (plain or `.age`). */
  readonly from: string;
  /** age identities for an encrypted file. */
  readonly identities?: readonly string[];
  /** Restore even though etcd has quorum. */
  readonly force?: boolean;
  /** Journal file of this stack's restore. */
  readonly journal: string;
  /** Admin kubeconfig: wait for the Kubernetes API at the end. */
  readonly kubeconfig?: string;
  /** Bound of each waiting step (ms). Default 15 min. */
  readonly stepTimeoutMs?: number;
  /** Bound of each API call (ms). Default 30 s. */
  readonly callTimeoutMs?: number;
  /** Pause between polls (ms). Default 2 s. */
  readonly pollMs?: number;
  readonly log?: LogFn;
  /** Called as a step starts (`done` true when the journal says it is done already). */
  readonly onStep?: (step: RestoreStep, detail: string, done: boolean) => void;
  readonly onProgress?: (step: RestoreStep, bytes: number, total: number) => void;
}

/** The guard refused: etcd still has quorum. */
export class RestoreRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RestoreRefused";
  }
}

interface Journal {
  dbSha256: string;
  from: string;
  target: string;
  guard?: string;
  wiped: string[];
  uploaded?: boolean;
  bootstrapped?: boolean;
  etcd?: boolean;
}

/** Upload and bootstrap wait only for "not ready yet" (FAILED_PRECONDITION) and transport trouble. */
const notWorthWaiting = (e: unknown): boolean =>
  !(e instanceof TalosApiError && (e.code === 9 || RETRYABLE_CODES.has(e.code)));

function readJournal(file: string): Journal | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Journal;
  } catch {
    return undefined;
  }
}

function writeJournal(file: string, j: Journal): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(j, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** What the guard saw, in words, and whether etcd has quorum. */
export function judgeQuorum(h: EtcdHealth): { hasQuorum: boolean; seen: string } {
  const voters = h.members.filter((m) => !m.isLearner);
  const healthy = voters.filter((m) => h.healthy.includes(m.hostname));
  const bad = Object.entries(h.unhealthy).map(([n, why]) => `${n}: ${why}`);
  const seen =
    `${healthy.length} of ${voters.length} etcd members healthy (${healthy.map((m) => m.hostname).join(", ") || "none"}), ` +
    `${quorum(voters.length)} needed for quorum${bad.length ? `; ${bad.join("; ")}` : ""}`;
  return { hasQuorum: voters.length > 0 && healthy.length >= quorum(voters.length), seen };
}

export interface RestoreResult {
  readonly target: string;
  readonly dbSha256: string;
  readonly snapshotBytes: number;
  /** Steps run now (not skipped as already done). */
  readonly ran: readonly RestoreStep[];
  readonly seconds: number;
}

export async function restoreEtcd(o: RestoreOptions): Promise<RestoreResult> {
  const start = Date.now();
  const log = o.log ?? (() => undefined);
  const stepTimeoutMs = o.stepTimeoutMs ?? 15 * 60_000;
  const callTimeoutMs = o.callTimeoutMs ?? 30_000;
  const pollMs = o.pollMs ?? 2000;
  const ran: RestoreStep[] = [];
  const first = o.controlPlanes[0];
  if (!first) throw new Error("restore: the stack has no control planes");
  const step = (s: RestoreStep, detail: string, done: boolean) => {
    if (!done) ran.push(s);
    o.onStep?.(s, detail, done);
    log(`restore: ${s}: ${done ? "done already" : detail}`);
  };

  // verify
  step("verify", `checking ${o.from}`, false);
  const { dbSha256, snapshotBytes } = await verifySnapshotFile(o.from, o.identities);
  log(`restore: snapshot OK: ${snapshotBytes} bytes, database sha256 ${dbSha256}`);

  let j = readJournal(o.journal);
  if (j && j.dbSha256 !== dbSha256) {
    log(`restore: the journal is of another snapshot (${j.from}); starting over`);
    j = undefined;
  }
  const journal: Journal = j ?? { dbSha256, from: path.resolve(o.from), target: first.name, wiped: [] };
  const save = () => writeJournal(o.journal, journal);
  const target = o.controlPlanes.find((c) => c.name === journal.target) ?? first;

  // guard
  if (journal.guard) {
    step("guard", journal.guard, true);
  } else {
    step("guard", "checking etcd on every control plane", false);
    let seen: string;
    try {
      const h = await etcdHealth(o.controlPlanes, o.creds, { timeoutMs: callTimeoutMs });
      const q = judgeQuorum(h);
      seen = q.seen;
      if (q.hasQuorum && !o.force) {
        throw new RestoreRefused(
          `etcd has quorum: ${q.seen}. Nothing was touched. A restore discards every change since the snapshot; pass --force to restore anyway`,
        );
      }
    } catch (e) {
      if (e instanceof RestoreRefused) throw e;
      seen = `etcd answers on no control plane (${errorText(e)})`;
    }
    log(`restore: guard: ${seen}${o.force ? " (--force)" : ""}`);
    journal.guard = seen;
    save();
  }

  // wipe
  const toWipe = o.controlPlanes.filter((c) => !journal.wiped.includes(c.name));
  step("wipe", `EPHEMERAL reset of ${toWipe.map((c) => c.name).join(", ")}`, toWipe.length === 0);
  for (const cp of toWipe) {
    await wipeEtcd(cp, o.creds, { timeoutMs: stepTimeoutMs, callTimeoutMs, pollMs, log });
    journal.wiped.push(cp.name);
    save();
    log(`restore: ${cp.name} wiped and back`);
  }

  // upload
  step("upload", `EtcdRecover to ${target.name}`, journal.uploaded === true);
  if (!journal.uploaded) {
    const client = mtlsClient(target.address, o.creds, {
      timeoutMs: callTimeoutMs,
      retry: { attempts: 3, baseDelayMs: 500 },
    });
    try {
      await retryUntil(
        {
          what: `restore: upload the snapshot to ${target.name}`,
          timeoutMs: stepTimeoutMs,
          pollMs,
          log,
          fatal: notWorthWaiting,
        },
        () =>
          client.etcdRecover(() => readSnapshot(o.from, o.identities), {
            onProgress: (bytes) => o.onProgress?.("upload", bytes, snapshotBytes),
          }),
      );
    } finally {
      client.close();
    }
    journal.uploaded = true;
    save();
  }

  // bootstrap
  step("bootstrap", `Bootstrap{recover_etcd} on ${target.name}`, journal.bootstrapped === true);
  if (!journal.bootstrapped) {
    const client = mtlsClient(target.address, o.creds, { timeoutMs: callTimeoutMs, retry: { attempts: 3 } });
    try {
      const r = await retryUntil(
        {
          what: `restore: bootstrap etcd from the snapshot on ${target.name}`,
          timeoutMs: stepTimeoutMs,
          pollMs,
          log,
          fatal: notWorthWaiting,
        },
        () => client.bootstrap({ recoverEtcd: true }),
      );
      if (r.alreadyBootstrapped) {
        // Only fine when a crashed run bootstrapped already: then etcd answers there.
        const answers = await client.etcdMemberList({ queryLocal: true }).then(
          () => true,
          () => false,
        );
        if (!answers) {
          throw new Error(
            `restore: ${target.name} says its etcd data directory is not empty, yet its etcd does not answer; the EPHEMERAL wipe did not take effect`,
          );
        }
      }
    } finally {
      client.close();
    }
    journal.bootstrapped = true;
    save();
  }

  // etcd
  step("etcd", "waiting for every control plane to be a healthy etcd member", journal.etcd === true);
  if (!journal.etcd) {
    await retryUntil({ what: "restore: wait for etcd", timeoutMs: stepTimeoutMs, pollMs, log }, async () => {
      const h = await etcdHealth(o.controlPlanes, o.creds, { timeoutMs: callTimeoutMs });
      const missing = o.controlPlanes.filter((c) => !h.healthy.includes(c.name)).map((c) => c.name);
      if (missing.length > 0) throw new Error(`not yet healthy members: ${missing.join(", ")}`);
    });
    journal.etcd = true;
    save();
  }

  // kubernetes
  step(
    "kubernetes",
    o.kubeconfig ? "waiting for the Kubernetes API" : "no kubeconfig: skipped",
    !o.kubeconfig,
  );
  if (o.kubeconfig) {
    const kubeconfig = o.kubeconfig;
    await retryUntil(
      { what: "restore: wait for the Kubernetes API", timeoutMs: stepTimeoutMs, pollMs, log },
      async () => {
        if (!(await checkReadyz(kubeconfig, callTimeoutMs))) throw new Error("/readyz does not answer ok");
      },
    );
  }
  fs.rmSync(o.journal, { force: true });
  return { target: target.name, dbSha256, snapshotBytes, ran, seconds: (Date.now() - start) / 1000 };
}

/**
 * Reset wiping EPHEMERAL (etcd's data; the config on STATE stays), not graceful (there is no
 * quorum to leave), with a reboot; then wait until the node answers again with its etcd gone.
 */
async function wipeEtcd(
  cp: PeerNode,
  creds: MtlsCredentials,
  o: { timeoutMs: number; callTimeoutMs: number; pollMs: number; log: LogFn },
): Promise<void> {
  const client = mtlsClient(cp.address, creds, { timeoutMs: o.callTimeoutMs, retry: { attempts: 3 } });
  try {
    await client.reset({
      graceful: false,
      reboot: true,
      systemPartitionsToWipe: [{ label: "EPHEMERAL", wipe: true }],
    });
  } finally {
    client.close();
  }
  // The reset answers before it wipes: never poll before a pause.
  await sleep(Math.min(o.pollMs, 1000));
  let wentDown = false;
  await retryUntil(
    {
      what: `restore: wait for ${cp.name} to come back wiped`,
      timeoutMs: o.timeoutMs,
      pollMs: Math.min(o.pollMs, 1000),
      log: o.log,
    },
    async () => {
      const c = mtlsClient(cp.address, creds, {
        timeoutMs: Math.min(5000, o.callTimeoutMs),
        retry: { attempts: 1 },
      });
      try {
        try {
          await c.version();
        } catch (e) {
          wentDown = true;
          throw e;
        }
        // Back: its etcd must not answer as a member any more (it waits for a bootstrap or to join).
        const etcdAnswers = await c.etcdMemberList({ queryLocal: true }).then(
          () => true,
          () => false,
        );
        if (etcdAnswers && !wentDown) throw new Error("still runs its old etcd");
      } finally {
        c.close();
      }
    },
  );
}
