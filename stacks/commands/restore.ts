/**
 * `restore <stack> --from FILE [--force] [--yes-restore-production] [--identity FILE]`: etcd
 * recovery after quorum loss (components/talos/recovery/restore.ts), guarded and resumable; the
 * journal lives in the stack's backup folder. Afterwards `up` converges with no changes.
 */
import * as path from "node:path";
import { RestoreRefused, type RestoreResult, restoreEtcd } from "../../components/talos/recovery/restore";
import { type Context, info } from "../context";
import { UserError } from "../errors";
import { key } from "../stack-config";
import { byteProgress, clusterAccess, readIdentities } from "./cluster-access";

export interface RestoreFlags {
  readonly from?: string;
  readonly force?: boolean;
  readonly yesRestoreProduction?: boolean;
  readonly identity?: string;
  /** Bounds (tests): each waiting step, the pause between polls (ms). */
  readonly stepTimeoutMs?: number;
  readonly pollMs?: number;
}

export const JOURNAL_FILE = ".restore-journal.json";

export async function restore(ctx: Context, stackName: string, flags: RestoreFlags): Promise<RestoreResult> {
  if (!flags.from) throw new UserError("restore: which snapshot? pass --from FILE", 2);
  const { access } = await clusterAccess(stackName, ctx.workspace);
  if (access.production && !flags.yesRestoreProduction) {
    throw new UserError(
      `refusing to restore '${stackName}': it is marked production (${key("production")}: true); a restore discards every change since the snapshot — pass --yes-restore-production`,
    );
  }
  const identities = readIdentities(flags.identity, ctx.workspace.env ?? process.env);
  const tty = ctx.mode === "tty";
  let upload: ((b: number) => void) | undefined;
  try {
    const r = await restoreEtcd({
      controlPlanes: access.controlPlanes,
      creds: access.creds,
      from: path.resolve(flags.from),
      identities,
      force: flags.force,
      journal: path.join(access.dir, JOURNAL_FILE),
      kubeconfig: access.kubeconfig,
      stepTimeoutMs: flags.stepTimeoutMs,
      pollMs: flags.pollMs,
      log: (m) => info(ctx, m),
      onProgress: (_step, bytes, total) => {
        upload ??=
          ctx.mode === "json" ? () => undefined : byteProgress((s) => ctx.out.write(s), tty, "upload", total);
        upload(bytes);
      },
    });
    if (tty && upload) ctx.out.write("\n");
    info(
      ctx,
      `etcd of '${stackName}' restored from ${flags.from} on ${r.target} in ${r.seconds.toFixed(1)} s; ` +
        `run \`npm run up -- ${stackName}\` next: it converges with no changes`,
      { target: r.target, seconds: r.seconds, ran: r.ran },
    );
    return r;
  } catch (e) {
    if (e instanceof RestoreRefused) throw new UserError(`refusing to restore '${stackName}': ${e.message}`);
    throw new UserError(
      `restore of '${stackName}' stopped: ${e instanceof Error ? e.message : String(e)} — fix the cause and run the same command again; it resumes where it stopped`,
    );
  }
}
