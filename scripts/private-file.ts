/**
 * Writes a file the way secrets must be written: into a fresh temp file beside the target, created
 * exclusively (O_EXCL) without following a symlink (O_NOFOLLOW) with mode 0600, then renamed over
 * the target. The target never exists with looser permissions, an existing file's mode is not
 * inherited, and a symlink planted at the target is replaced, not followed.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export function writePrivateFile(file: string, text: string, mode = 0o600): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${crypto.randomBytes(6).toString("hex")}.tmp`);
  const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600);
  try {
    fs.writeFileSync(fd, text);
    // Exactly `mode` (the umask may have narrowed it; a public file may widen it on purpose).
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
