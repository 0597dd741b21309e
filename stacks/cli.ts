/**
 * Command line over the Automation API:
 *
 *   tsx stacks/cli.ts preview <stack>            # plan
 *   tsx stacks/cli.ts up <stack> [--allow-node-removal]   # converge (waits for ClusterReady)
 *   tsx stacks/cli.ts destroy <stack> [--yes-destroy-production]
 *   tsx stacks/cli.ts rebuild <stack> [--yes-destroy-production]
 *   tsx stacks/cli.ts ephemeral <base-stack> [--vmid-offset N --ip-offset N] [--name NAME]
 *   tsx stacks/cli.ts snapshot <stack> [--out FILE] [--unencrypted]
 *   tsx stacks/cli.ts restore <stack> --from FILE [--force] [--yes-restore-production] [--identity FILE]
 *
 * Flags: --json (one JSON object per line, for CI), --plain (no updating line on a TTY),
 * --allow-empty-passphrase (a non-production stack may run with an empty passphrase).
 * Exit code: 0 success, 1 failure, 2 usage.
 */

import { ephemeral } from "./commands/ephemeral";
import { rebuild } from "./commands/rebuild";
import { restore } from "./commands/restore";
import { runStackOperation } from "./commands/simple";
import { snapshot } from "./commands/snapshot";
import type { Context } from "./context";
import { describeError, UserError } from "./errors";
import type { ProgressMode, Sink } from "./progress";
import type { SmokeRunner } from "./smoke";
import type { WorkspaceOptions } from "./workspace";

export const USAGE = `usage: stack <command> <stack> [flags]
commands:
  preview <stack>     show what up would change
  up <stack>          create or update the cluster (waits until it is ready); a production stack
                      takes removed nodes out only with --allow-node-removal
  destroy <stack>     delete every resource of the stack (--yes-destroy-production for a production stack)
  rebuild <stack>     destroy, then up (--yes-destroy-production for a production stack)
  ephemeral <base>    throwaway copy of <base>: up, smoke checks, destroy, remove
                      (--vmid-offset N --ip-offset N, or proxmox-talos:ephemeral in <base>; --name NAME)
  snapshot <stack>    etcd snapshot into backups/<stack>/ (--out FILE, --unencrypted)
  restore <stack>     etcd recovery after quorum loss: --from FILE (--force, --yes-restore-production,
                      --identity FILE for an .age snapshot)
flags: --json (JSON lines), --plain (no live line),
       --allow-empty-passphrase (up/destroy/rebuild/ephemeral of a non-production stack without
       PULUMI_CONFIG_PASSPHRASE(_FILE): its secrets are then encrypted with an empty passphrase)`;

export interface ParsedArgs {
  readonly command: string;
  readonly stack: string;
  readonly flags: Readonly<Record<string, string | true>>;
}

const VALUE_FLAGS = new Set(["vmid-offset", "ip-offset", "name", "out", "from", "identity"]);
const BOOL_FLAGS = new Set([
  "json",
  "plain",
  "yes-destroy-production",
  "allow-node-removal",
  "allow-empty-passphrase",
  "help",
  "force",
  "unencrypted",
  "yes-restore-production",
]);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h") {
      flags.help = true;
    } else if (a.startsWith("--")) {
      const [name, inline] = a.slice(2).split("=", 2);
      if (VALUE_FLAGS.has(name)) {
        const v = inline ?? argv[++i];
        if (v === undefined) throw new UserError(`--${name} needs a value`, 2);
        flags[name] = v;
      } else if (BOOL_FLAGS.has(name) && inline === undefined) {
        flags[name] = true;
      } else {
        throw new UserError(`unknown flag ${a}`, 2);
      }
    } else {
      positional.push(a);
    }
  }
  if (flags.help) return { command: "help", stack: "", flags };
  const [command, stack, ...rest] = positional;
  if (!command) throw new UserError("no command given", 2);
  if (!stack) throw new UserError(`${command}: which stack? e.g. stack ${command} homelab`, 2);
  if (rest.length > 0) throw new UserError(`unexpected argument ${rest[0]}`, 2);
  return { command, stack, flags };
}

export interface Io {
  readonly stdout: Sink & { isTTY?: boolean };
  readonly stderr: Sink;
}

export interface MainOptions {
  readonly io?: Io;
  readonly workspace?: WorkspaceOptions;
  readonly smoke?: SmokeRunner;
  readonly now?: () => number;
}

function modeFor(flags: ParsedArgs["flags"], io: Io): ProgressMode {
  if (flags.json) return "json";
  if (flags.plain || !io.stdout.isTTY) return "plain";
  return "tty";
}

function reportError(io: Io, mode: ProgressMode, message: string): void {
  if (mode === "json") io.stdout.write(`${JSON.stringify({ type: "error", message })}\n`);
  // Each line its own `error:` (several missing plugins, say); indented lines continue the one above.
  const lines = message.split("\n").map((l) => (/^\s/.test(l) ? l : `error: ${l}`));
  io.stderr.write(`${lines.join("\n")}\n`);
}

/** Runs one command line; resolves to the exit code. Never throws. */
export async function main(argv: readonly string[], opts: MainOptions = {}): Promise<number> {
  const io: Io = opts.io ?? { stdout: process.stdout, stderr: process.stderr };
  // The CLI it starts inherits this: state files, backups and logs readable by their owner only.
  const umask = process.umask(0o077);
  try {
    return await run(argv, opts, io);
  } finally {
    process.umask(umask);
  }
}

async function run(argv: readonly string[], opts: MainOptions, io: Io): Promise<number> {
  let mode: ProgressMode = argv.includes("--json") ? "json" : "plain";
  let stack: string | undefined;
  try {
    const args = parseArgs(argv);
    if (args.command === "help") {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    mode = modeFor(args.flags, io);
    stack = args.stack;
    const ctx: Context = {
      out: io.stdout,
      err: io.stderr,
      mode,
      workspace: {
        ...(opts.workspace ?? {}),
        ...(args.flags["allow-empty-passphrase"] === true ? { allowEmptyPassphrase: true } : {}),
      },
      smoke: opts.smoke,
      now: opts.now,
    };
    const str = (name: string): string | undefined => {
      const v = args.flags[name];
      return typeof v === "string" ? v : undefined;
    };
    switch (args.command) {
      case "preview":
      case "up":
      case "destroy": {
        const flags = {
          yesDestroyProduction: args.flags["yes-destroy-production"] === true,
          allowNodeRemoval: args.flags["allow-node-removal"] === true,
        };
        return (await runStackOperation(ctx, args.stack, args.command, flags)).ok ? 0 : 1;
      }
      case "rebuild":
        return (await rebuild(ctx, args.stack, args.flags["yes-destroy-production"] === true)).ok ? 0 : 1;
      case "ephemeral": {
        const r = await ephemeral(ctx, args.stack, {
          name: str("name"),
          vmidOffset: str("vmid-offset"),
          ipOffset: str("ip-offset"),
        });
        return r.ok ? 0 : 1;
      }
      case "snapshot":
        await snapshot(ctx, args.stack, { out: str("out"), unencrypted: args.flags.unencrypted === true });
        return 0;
      case "restore":
        await restore(ctx, args.stack, {
          from: str("from"),
          force: args.flags.force === true,
          yesRestoreProduction: args.flags["yes-restore-production"] === true,
          identity: str("identity"),
        });
        return 0;
      default:
        throw new UserError(`unknown command '${args.command}'`, 2);
    }
  } catch (err) {
    reportError(io, mode, describeError(err, stack));
    const code = err instanceof UserError ? err.exitCode : 1;
    if (code === 2 && mode !== "json") io.stderr.write(`${USAGE}\n`);
    return code;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // gRPC servers of the Automation API must not keep a finished run alive.
      setTimeout(() => process.exit(code), 100).unref();
    },
    (err: unknown) => {
      process.stderr.write(`error: ${describeError(err)}\n`);
      process.exit(1);
    },
  );
}
