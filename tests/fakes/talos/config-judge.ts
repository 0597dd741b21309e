/**
 * How the fake Talos node judges an applied machine config, as Talos does:
 *
 * - decoding and validation by Sidero's own machinery (`talos-oracle-<minor> validate`, built by
 *   scripts/build-oracle.sh) for the Talos minor the node runs: strict decoding (unknown keys are
 *   refused) and full validation. Where that oracle is absent only the fake's structural checks run
 *   (`ConfigVerdict.judge` says which, and the node logs it once).
 * - error codes per mode, from Talos 1.11.5:
 *   maintenance (`internal/app/maintenance/server.go`): a config that does not load is a plain error,
 *   so gRPC UNKNOWN "failed to parse config: …"; a validation failure is InvalidArgument
 *   "configuration validation failed: …";
 *   normal (`internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go`): both are
 *   InvalidArgument with the bare error, and a config without a v1alpha1 document is refused.
 *
 * The oracle validates in metal mode, which requires `machine.install`; an installed real node does
 * not require it for a later apply (Talos' `modeWrapper`), a difference no project config reaches.
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { oraclePath } from "../../helpers/shared";
import { GrpcFailure } from "./failure";

export type ConfigJudge = "oracle" | "structure";

/** `v1.11.5` → `1.11`. */
export function minorOf(tag: string): string {
  const m = /^v?(\d+)\.(\d+)/.exec(tag);
  return m ? `${m[1]}.${m[2]}` : "";
}

/** The oracle binary judging configs for a node running `tag`, if it was built. */
export function oracleFor(tag: string): string | undefined {
  const p = oraclePath(minorOf(tag));
  return fs.existsSync(p) ? p : undefined;
}

interface OracleFinding {
  readonly stage: "load" | "validate";
  readonly message: string;
}

/** Verdicts by oracle and config hash: a rollout re-applies the same texts. */
const verdicts = new Map<string, OracleFinding | undefined>();

function runOracle(binary: string, text: string): OracleFinding | undefined {
  const key = `${binary}\0${crypto.createHash("sha256").update(text).digest("hex")}`;
  if (!verdicts.has(key)) verdicts.set(key, runOracleOnce(binary, text));
  return verdicts.get(key);
}

/** Runs `talos-oracle validate` on the config, written to a private temporary file (0600, removed). */
function runOracleOnce(binary: string, text: string): OracleFinding | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-talos-"));
  const file = path.join(dir, "config.yaml");
  let r: ReturnType<typeof spawnSync>;
  try {
    fs.writeFileSync(file, text, { mode: 0o600 });
    r = spawnSync(binary, ["validate", file], { encoding: "utf8", timeout: 30_000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (r.status === 0) return undefined;
  const out = `${String(r.stdout ?? "")}${String(r.stderr ?? "")}`.trim();
  const m = /^FAIL [^:]*: (load|validate): ([\s\S]*)$/.exec(out);
  if (!m) throw new Error(`talos-oracle gave no verdict (exit ${r.status}): ${out || String(r.error)}`);
  return { stage: m[1] as "load" | "validate", message: m[2]!.trim() };
}

/**
 * Throws the GrpcFailure Talos would answer for `text` in `mode`, or returns which judge passed it.
 * `structural` runs the fake's own checks (throws an Error with a message) after the oracle's.
 */
export function judgeConfig(
  text: string,
  o: { readonly mode: "maintenance" | "normal"; readonly talosTag: string; readonly judge: ConfigJudge },
  structural: (text: string) => void,
): ConfigJudge {
  const binary = o.judge === "oracle" ? oracleFor(o.talosTag) : undefined;
  const finding = binary ? runOracle(binary, text) : undefined;
  if (finding) {
    if (o.mode === "maintenance") {
      throw finding.stage === "load"
        ? new GrpcFailure(grpc.status.UNKNOWN, `failed to parse config: ${finding.message}`)
        : new GrpcFailure(
            grpc.status.INVALID_ARGUMENT,
            `configuration validation failed: ${finding.message}`,
          );
    }
    throw new GrpcFailure(grpc.status.INVALID_ARGUMENT, finding.message);
  }
  try {
    structural(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const unparsable = message.startsWith("failed to parse config");
    if (o.mode === "maintenance" && unparsable) throw new GrpcFailure(grpc.status.UNKNOWN, message);
    if (o.mode === "normal" && message.startsWith("config has no v1alpha1")) {
      throw new GrpcFailure(
        grpc.status.INVALID_ARGUMENT,
        "the applied machine configuration doesn't contain v1alpha1 config, did you mean to patch the machine config instead?",
      );
    }
    throw new GrpcFailure(grpc.status.INVALID_ARGUMENT, message);
  }
  return binary ? "oracle" : "structure";
}
