/**
 * Locates the real upstream programs scripts/build-peers.sh builds from Go modules into
 * `$TEST_PEERS_DIR` (default ~/.cache/test-peers): talosctl, etcd, kube-apiserver. Tests call
 * `requirePeer(this, name)` and are skipped with a message saying how to get it where it is absent.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export type PeerName = "talosctl" | "etcd" | "kube-apiserver";

export const PEERS_DIR = path.resolve(
  process.env.TEST_PEERS_DIR ?? path.join(os.homedir(), ".cache", "test-peers"),
);

export function peerPath(name: PeerName): string {
  return path.join(PEERS_DIR, name);
}

export function hasPeer(name: PeerName): boolean {
  return fs.existsSync(peerPath(name));
}

/** Skips the running test/suite when `name` was not built (Go absent, or the build failed). */
export function requirePeer(ctx: Mocha.Context, name: PeerName): string {
  const p = peerPath(name);
  if (!fs.existsSync(p)) {
    console.log(
      `      skipped: ${p} is absent (built from Go modules by scripts/build-peers.sh, run by .ci/run)`,
    );
    ctx.skip();
  }
  return p;
}
