/**
 * Running the real talosctl (built by scripts/build-peers.sh) against fake Talos nodes in the
 * conformance suites: a private temporary HOME, talosconfigs with client certs, and the check
 * that talosctl failed with the gRPC code and message gist real Talos answers.
 */
import * as assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import type { PemPair } from "../fakes/certs";

export interface Run {
  readonly ok: boolean;
  readonly out: string;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

export class Talosctl {
  readonly dir: string;

  constructor(
    readonly binary: string,
    prefix: string,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  }

  private env(): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH ?? "", HOME: this.dir, TALOSCONFIG: path.join(this.dir, "none") };
  }

  /** Runs talosctl to its end without blocking the event loop (the fake answers in this process). */
  run(args: readonly string[], timeoutMs = 60_000): Promise<Run> {
    return new Promise((resolve) => {
      execFile(this.binary, args, { timeout: timeoutMs, env: this.env() }, (err, stdout, stderr) =>
        resolve({ ok: err === null, out: `${stdout}${stderr}` }),
      );
    });
  }

  /**
   * Starts a long-running talosctl (e.g. `events`, which streams until the node goes away) and
   * collects its output; `until` resolves when the output satisfies `done` (or rejects on timeout),
   * `exit` when the process ends on its own.
   */
  start(args: readonly string[]): {
    output: () => string;
    until: (done: (out: string) => boolean, timeoutMs?: number) => Promise<string>;
    exit: (timeoutMs?: number) => Promise<Run>;
    stop: () => void;
  } {
    let out = "";
    const child: ChildProcess = spawn(this.binary, args, { env: this.env() });
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
    });
    child.stderr?.on("data", (b: Buffer) => {
      out += b.toString();
    });
    const exited = new Promise<Run>((resolve) =>
      child.on("close", (code) => resolve({ ok: code === 0, out })),
    );
    return {
      output: () => out,
      until: async (done, timeoutMs = 30_000) => {
        const end = Date.now() + timeoutMs;
        while (!done(out)) {
          if (Date.now() > end)
            throw new Error(`talosctl ${args.join(" ")}: condition not met; output:\n${out}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        return out;
      },
      exit: (timeoutMs = 30_000) =>
        Promise.race([
          exited,
          new Promise<Run>((_, reject) =>
            setTimeout(
              () => reject(new Error(`talosctl ${args.join(" ")} did not exit; output:\n${out}`)),
              timeoutMs,
            ),
          ),
        ]),
      stop: () => {
        if (child.exitCode === null) child.kill("SIGTERM");
      },
    };
  }

  /** A talosconfig for the endpoint `address` with a client cert, in the temporary directory. */
  talosconfig(name: string, address: string, ca: string, client: PemPair): string {
    const file = path.join(this.dir, `${name}.yaml`);
    const ctx = {
      endpoints: [address],
      nodes: ["127.0.0.1"],
      ca: b64(ca),
      crt: b64(client.crt),
      key: b64(client.key),
    };
    fs.writeFileSync(file, YAML.stringify({ context: name, contexts: { [name]: ctx } }), { mode: 0o600 });
    return file;
  }

  file(name: string, text: string): string {
    const p = path.join(this.dir, name);
    fs.writeFileSync(p, text, { mode: 0o600 });
    return p;
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** talosctl failed, and its output carries the gRPC code and the message gist. */
export function refused(r: Run, code: string, gist: RegExp): void {
  assert.equal(r.ok, false, r.out);
  assert.match(r.out, new RegExp(`code = ${code} desc = `), r.out);
  assert.match(r.out, gist, r.out);
}
