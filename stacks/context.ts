/** What every command gets: where to write, how to show progress, how to open stacks. */
import type { ProgressMode, Sink } from "./progress";
import type { SmokeRunner } from "./smoke";
import type { WorkspaceOptions } from "./workspace";

export interface Context {
  /** Progress, summaries, results. */
  readonly out: Sink;
  /** Error lines. */
  readonly err: Sink;
  readonly mode: ProgressMode;
  readonly workspace: WorkspaceOptions;
  /** Smoke checks for `ephemeral` (default: the Kubernetes API checks). */
  readonly smoke?: SmokeRunner;
  readonly now?: () => number;
}

/** A line of information (JSON object in --json mode). */
export function info(ctx: Context, message: string, extra: Record<string, unknown> = {}): void {
  if (ctx.mode === "json") ctx.out.write(`${JSON.stringify({ type: "info", message, ...extra })}\n`);
  else ctx.out.write(`${message}\n`);
}

/** A context writing to this process's stdout/stderr (TTY line when stdout is a terminal). */
export function consoleContext(opts: { json?: boolean; workspace?: Context["workspace"] } = {}): Context {
  return {
    out: process.stdout,
    err: process.stderr,
    mode: opts.json ? "json" : process.stdout.isTTY ? "tty" : "plain",
    workspace: opts.workspace ?? {},
  };
}
