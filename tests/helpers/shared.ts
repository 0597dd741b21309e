/**
 * Locates the upstream reference data in `../shared` (beside the checkout) and Sidero's machinery
 * oracle binaries. Tests that need either call `requireShared(this)` / `requireOracle(this, minor)`
 * in a `before`/`it` and are skipped with a clear message where it is absent.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Project root (the folder holding package.json). */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** `../shared` beside the checkout, or `$SHARED_DIR` when set. */
export const SHARED_DIR = path.resolve(process.env.SHARED_DIR ?? path.join(PROJECT_ROOT, "..", "shared"));

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}

export function hasShared(...parts: string[]): boolean {
  return fs.existsSync(sharedPath(...parts));
}

/** Skips the running test/suite when a file under `../shared` is missing, saying which. */
export function requireShared(ctx: Mocha.Context, ...parts: string[]): string {
  const p = sharedPath(...parts);
  if (!fs.existsSync(p)) {
    console.log(`      skipped: ${p} is absent (reference data lives in ../shared beside the checkout)`);
    ctx.skip();
  }
  return p;
}

/** Where `.ci/run` builds the talos-oracle binaries (`$TALOS_ORACLE_DIR`, default ~/.cache/talos-oracle). */
export const ORACLE_DIR = path.resolve(
  process.env.TALOS_ORACLE_DIR ?? path.join(os.homedir(), ".cache", "talos-oracle"),
);

export function oraclePath(minor: string): string {
  return path.join(ORACLE_DIR, `talos-oracle-${minor}`);
}

export function hasOracle(minor: string): boolean {
  return fs.existsSync(oraclePath(minor));
}

/** Skips when the oracle for `minor` was not built (Go or ../shared absent). */
export function requireOracle(ctx: Mocha.Context, minor: string): string {
  const p = oraclePath(minor);
  if (!fs.existsSync(p)) {
    console.log(
      `      skipped: ${p} not built (needs Go and ../shared/tools/talos-oracle; .ci/run builds it)`,
    );
    ctx.skip();
  }
  return p;
}

export interface OracleResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a talos-oracle binary synchronously. */
export function runOracle(minor: string, args: readonly string[], opts: { cwd?: string } = {}): OracleResult {
  const r = spawnSync(oraclePath(minor), args, { encoding: "utf8", cwd: opts.cwd, timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary directory, removed by the caller (or left for the OS). */
export function tempDir(prefix = "pt-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
