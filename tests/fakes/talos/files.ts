/**
 * The fake Talos node's files for `MachineService.Read`, answered as Talos 1.11.5 `Read`
 * (internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go) answers: it stats the path
 * — a missing path is NotFound with Go's `stat <path>: no such file or directory`, any other stat
 * failure (e.g. a path through a regular file: `not a directory`) a plain error (UNKNOWN) — and
 * streams only regular files, in chunks, refusing everything else with "path must be a regular
 * file" (UNKNOWN). machined runs as root, so there are no permission refusals.
 *
 * The files are the ones clients read: `/proc/sys/kernel/random/boot_id` (talosctl's action
 * tracker compares it before and after a reboot; new per boot), `/etc/os-release` (format of
 * pkg/machinery/version/os-release), `/system/state/config.yaml` (the persisted machine config:
 * constants.StateMountPoint + ConfigFilename, so a staged config shows here before the reboot).
 * `/dev/null` stands for the non-regular files.
 */
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { GrpcFailure } from "./failure";

export interface NodeFileFacts {
  readonly bootId: string;
  readonly version: string;
  /** The persisted config, if the node has one. */
  readonly persistedConfig: string | undefined;
}

/** Chunk size of Talos' stream chunker (pkg/chunker/stream: default Size 1024). */
export const READ_CHUNK = 1024;

type Entry = { kind: "file"; content: Buffer } | { kind: "dir" } | { kind: "device" };

function osRelease(version: string): string {
  return [
    'NAME="Talos"',
    "ID=talos",
    `VERSION_ID=${version}`,
    `PRETTY_NAME="Talos (${version})"`,
    'HOME_URL="https://www.talos.dev/"',
    'BUG_REPORT_URL="https://github.com/siderolabs/talos/issues"',
    'VENDOR_NAME="Sidero Labs"',
    'VENDOR_URL="https://www.siderolabs.com/"',
    "",
  ].join("\n");
}

function tree(f: NodeFileFacts): Map<string, Entry> {
  const files: Record<string, string | undefined> = {
    "/proc/sys/kernel/random/boot_id": `${f.bootId}\n`,
    "/etc/os-release": osRelease(f.version),
    "/system/state/config.yaml": f.persistedConfig,
  };
  const entries = new Map<string, Entry>([
    ["/", { kind: "dir" }],
    ["/dev", { kind: "dir" }],
    ["/dev/null", { kind: "device" }],
    ["/system/state", { kind: "dir" }],
  ]);
  for (const [p, content] of Object.entries(files)) {
    if (content === undefined) continue;
    entries.set(p, { kind: "file", content: Buffer.from(content) });
    for (let d = path.posix.dirname(p); d !== "/"; d = path.posix.dirname(d)) entries.set(d, { kind: "dir" });
  }
  return entries;
}

/** The content of `requested` as chunks, or the refusal Talos answers. */
export function readFile(facts: NodeFileFacts, requested: string): Buffer[] {
  const entries = tree(facts);
  const abs = path.posix.resolve("/", requested);
  const entry = entries.get(abs);
  if (!entry) {
    // A component that is a regular file makes stat fail with ENOTDIR (not "does not exist").
    for (let d = path.posix.dirname(abs); d !== "/"; d = path.posix.dirname(d)) {
      if (entries.get(d)?.kind === "file") {
        throw new GrpcFailure(grpc.status.UNKNOWN, `stat ${requested}: not a directory`);
      }
    }
    throw new GrpcFailure(grpc.status.NOT_FOUND, `stat ${requested}: no such file or directory`);
  }
  if (entry.kind !== "file") throw new GrpcFailure(grpc.status.UNKNOWN, "path must be a regular file");
  const chunks: Buffer[] = [];
  for (let i = 0; i < entry.content.length; i += READ_CHUNK) {
    chunks.push(entry.content.subarray(i, i + READ_CHUNK));
  }
  return chunks;
}
