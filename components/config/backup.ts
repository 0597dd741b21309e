/**
 * The stack config key `backup`: etcd snapshots on disk (`npm run snapshot`, and the one `up` takes
 * before a risky step). Plain data; the age recipient of an encrypted snapshot is public.
 */
import * as path from "node:path";
import { z } from "zod";
import { BACKUP_DEFAULTS as D } from "../defaults";

export const BackupSchema = z.strictObject({
  /** Take an etcd snapshot before the rolling chain touches the first control plane. Default true. */
  beforeRiskySteps: z
    .boolean({ error: "must be true or false — write beforeRiskySteps: true or beforeRiskySteps: false" })
    .default(D.beforeRiskySteps),
  /** Folder of the stack's snapshots, relative to the project. Default `backups/<stack>`. */
  dir: z
    .string({ error: 'must be a folder path — write dir: "backups/homelab"' })
    .min(1, { error: 'must not be empty — write dir: "backups/homelab" or leave it out' })
    // Snapshots hold every cluster secret: an absolute path (`/tmp/x`, `C:\x`, `~/x`) leaves the project too.
    .refine((d) => !d.split(/[\\/]/).includes("..") && !/^([\\/~]|[A-Za-z]:)/.test(d), {
      error: 'must stay inside the project (a relative path, no "..") — write a path like backups/homelab',
    })
    .optional(),
  /** Snapshots of the stack to keep in `dir` (older ones are deleted). Default 10. */
  keep: z
    .number({ error: "must be a whole number — write keep: 10" })
    .int({ error: "must be a whole number — write keep: 10" })
    .min(1, { error: "must be at least 1 — keep at least the newest snapshot" })
    .max(1000)
    .default(D.keep),
  /** Encrypt snapshots for the stack's SOPS age recipient when it has one. Default true. */
  encrypt: z.boolean({ error: "must be true or false — write encrypt: true" }).default(D.encrypt),
});
export type BackupConfig = z.infer<typeof BackupSchema>;
export const BACKUP_DEFAULTS: BackupConfig = BackupSchema.parse({});

/** The stack's snapshot folder: `backup.dir`, else `backups/<stack>`, absolute under `root`. */
export function backupDir(root: string, stack: string, dir: string | undefined): string {
  return path.resolve(root, dir ?? path.join("backups", stack));
}
