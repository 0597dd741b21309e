/**
 * `snapshot <stack> [--out FILE] [--unencrypted]`: an etcd snapshot through the Talos API from a
 * healthy control plane into the stack's backup folder (or FILE), 0600, integrity-checked,
 * age-encrypted for the stack's SOPS recipient by default, the newest `backup.keep` kept.
 */
import * as path from "node:path";
import { type SnapshotResult, takeSnapshot } from "../../components/talos/resources/logic/snapshot";
import { type Context, info } from "../context";
import { UserError } from "../errors";
import { byteProgress, clusterAccess } from "./cluster-access";

export interface SnapshotFlags {
  readonly out?: string;
  readonly unencrypted?: boolean;
}

export async function snapshot(
  ctx: Context,
  stackName: string,
  flags: SnapshotFlags,
): Promise<SnapshotResult> {
  const { access } = await clusterAccess(stackName, ctx.workspace);
  const recipient = flags.unencrypted || !access.backup.encrypt ? undefined : access.recipient;
  if (flags.out && recipient && !flags.out.endsWith(".age")) {
    throw new UserError(
      `--out ${flags.out}: the snapshot is age-encrypted for the stack's SOPS recipient; name it ….age, or pass --unencrypted`,
    );
  }
  const tty = ctx.mode === "tty";
  const progress = ctx.mode === "json" ? undefined : byteProgress((s) => ctx.out.write(s), tty, "snapshot");
  const r = await takeSnapshot({
    stack: stackName,
    controlPlanes: access.controlPlanes,
    creds: access.creds,
    dir: access.dir,
    out: flags.out,
    recipient,
    keep: access.backup.keep,
    log: (m) => info(ctx, m),
    onProgress: progress,
  });
  if (tty) ctx.out.write("\n");
  const mib = r.snapshotBytes / 1048576;
  info(
    ctx,
    [
      `etcd snapshot of '${stackName}' written: ${r.file}`,
      `  size:     ${mib.toFixed(2)} MiB (${r.snapshotBytes} bytes${r.encrypted ? `, ${r.fileBytes} encrypted` : ""})`,
      r.revision !== undefined
        ? `  revision: ${r.revision}`
        : "  revision: unknown (database not readable here; `etcdutl snapshot status FILE` shows it)",
      `  node:     ${r.node}`,
      `  time:     ${r.takenAt} (${r.seconds.toFixed(1)} s, ${(mib / Math.max(r.seconds, 0.001)).toFixed(1)} MiB/s)`,
      `  database sha256: ${r.dbSha256} (etcd's trailer, verified)`,
      `  file sha256:     ${r.fileSha256}`,
      `  encrypted: ${r.encrypted ? `yes, for ${recipient}` : "no"}`,
      ...(r.pruned.length
        ? [
            `  retention (keep ${access.backup.keep}): deleted ${r.pruned.map((f) => path.basename(f)).join(", ")}`,
          ]
        : []),
    ].join("\n"),
    {
      file: r.file,
      bytes: r.snapshotBytes,
      node: r.node,
      takenAt: r.takenAt,
      revision: r.revision,
      sha256: r.fileSha256,
      dbSha256: r.dbSha256,
      encrypted: r.encrypted,
    },
  );
  return r;
}
