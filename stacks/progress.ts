/**
 * Live progress from engine events: resources done / total, the current operation and the
 * elapsed time — one updating line on a TTY, plain lines otherwise, one JSON object per line
 * with --json — and a summary at the end.
 */
import type { EngineEvent, OpMap, OutputMap } from "@pulumi/pulumi/automation";

export type ProgressMode = "tty" | "plain" | "json";

export interface Sink {
  write(text: string): void;
}

export interface ProgressOptions {
  readonly mode: ProgressMode;
  readonly out: Sink;
  /** What runs, e.g. "up". */
  readonly operation: string;
  readonly stack: string;
  /** Resources expected (e.g. from the last update); the total shown is at least this. */
  readonly expectedTotal?: number;
  readonly now?: () => number;
}

export interface FinishInfo {
  readonly ok: boolean;
  readonly changes?: OpMap;
  readonly outputs?: OutputMap;
  readonly error?: string;
}

/** Removes Pulumi's color tags (`<{%fg 1%}>`) and ANSI escapes. */
export function plainText(message: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what we strip
  return message.replace(/<\{%[^%]*%\}>/g, "").replace(/\u001b\[[0-9;]*m/g, "");
}

/** Drops stack-trace lines (`    at ...`) and a leading "Unhandled exception:" from a message. */
export function stripTrace(message: string): string {
  return message
    .split("\n")
    .filter((l) => !/^\s+at /.test(l))
    .join("\n")
    .replace(/^Unhandled exception:\s*(\w*Error:\s*)?/, "")
    .trim();
}

/** The root `pulumi:pulumi:Stack` resource, where program errors are reported. */
export function isStackUrn(urn: string): boolean {
  return urn.split("::")[2] === "pulumi:pulumi:Stack";
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** `urn:pulumi:stack::project::type::name` → `type name`. */
export function shortUrn(urn: string): string {
  const parts = urn.split("::");
  if (parts.length < 4) return urn;
  const type = parts[2].split("$").pop() ?? parts[2];
  return `${type} ${parts.slice(3).join("::")}`;
}

/** Renders an output value for the summary; secrets never. */
export function showOutput(value: unknown, secret: boolean): string {
  if (secret) return "[secret]";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) return "undefined";
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

const ING: Record<string, string> = {
  same: "checking",
  create: "creating",
  update: "updating",
  delete: "deleting",
  replace: "replacing",
  "create-replacement": "creating replacement",
  "delete-replaced": "deleting replaced",
  read: "reading",
  refresh: "refreshing",
};

export class Progress {
  private readonly started = new Set<string>();
  private readonly done = new Set<string>();
  private readonly failed = new Set<string>();
  private current = "starting";
  private changes: OpMap | undefined;
  private readonly errors: { urn?: string; message: string }[] = [];
  private readonly t0: number;
  private readonly now: () => number;
  private lineOpen = false;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? Date.now;
    this.t0 = this.now();
    this.emit({ type: "start", operation: opts.operation, stack: opts.stack }, `${this.tag()} starting`);
  }

  /** Engine diagnostics of severity error seen so far, as plain text (`type name: message`). */
  get errorMessages(): readonly string[] {
    return this.errors.map((e) => (e.urn ? `${shortUrn(e.urn)}: ${e.message}` : e.message));
  }

  /** The error that says most: the last one about a resource, else the program's (the first). */
  get mainError(): string | undefined {
    const withUrn = this.errors.filter((e) => e.urn);
    const e = withUrn.length > 0 ? withUrn[withUrn.length - 1] : this.errors[0];
    if (!e) return undefined;
    return e.urn ? `${shortUrn(e.urn)}: ${e.message}` : e.message;
  }

  get counts(): { done: number; total: number } {
    return { done: this.done.size, total: Math.max(this.started.size, this.opts.expectedTotal ?? 0) };
  }

  readonly onEvent = (event: EngineEvent): void => {
    if (event.resourcePreEvent) {
      const m = event.resourcePreEvent.metadata;
      this.started.add(m.urn);
      this.current = `${ING[m.op] ?? m.op} ${shortUrn(m.urn)}`;
      this.progress(m.op, m.urn, "pre");
    } else if (event.resOutputsEvent) {
      const m = event.resOutputsEvent.metadata;
      this.started.add(m.urn);
      this.done.add(m.urn);
      this.current = `${m.op} ${shortUrn(m.urn)}`;
      this.progress(m.op, m.urn, "done");
    } else if (event.resOpFailedEvent) {
      const m = event.resOpFailedEvent.metadata;
      this.failed.add(m.urn);
      this.current = `failed ${m.op} ${shortUrn(m.urn)}`;
      this.progress(m.op, m.urn, "failed");
    } else if (event.diagnosticEvent) {
      const d = event.diagnosticEvent;
      if (d.ephemeral || (d.severity !== "error" && d.severity !== "warning")) return;
      const message = stripTrace(plainText(d.message));
      if (!message) return;
      const onStack = !d.urn || isStackUrn(d.urn);
      if (d.severity === "error") {
        this.errors.push({ urn: onStack ? undefined : d.urn, message });
        // Program-level errors (an invalid config, say) are reported once, in the summary.
        if (onStack) return;
      }
      const where = d.urn && !onStack ? ` ${shortUrn(d.urn)}:` : "";
      this.emit(
        { type: "diagnostic", severity: d.severity, urn: d.urn, message },
        `${this.tag()} ${d.severity}:${where} ${message}`,
      );
    } else if (event.summaryEvent) {
      this.changes = event.summaryEvent.resourceChanges;
    } else if (event.preludeEvent) {
      this.current = "planning";
      this.render();
    }
  };

  /** Prints the summary: result, changes by op, duration, outputs (secrets as [secret]). */
  finish(info: FinishInfo): void {
    this.closeLine();
    const elapsedMs = this.now() - this.t0;
    const changes = info.changes ?? this.changes ?? {};
    const outputs: Record<string, string> = {};
    for (const [k, v] of Object.entries(info.outputs ?? {})) outputs[k] = showOutput(v.value, v.secret);
    const { done, total } = this.counts;
    if (this.opts.mode === "json") {
      this.line(
        JSON.stringify({
          type: "summary",
          operation: this.opts.operation,
          stack: this.opts.stack,
          ok: info.ok,
          changes,
          done,
          total,
          durationMs: elapsedMs,
          outputs,
          ...(info.error ? { error: info.error } : {}),
        }),
      );
      return;
    }
    const ops = Object.entries(changes)
      .filter(([, n]) => (n ?? 0) > 0)
      .map(([op, n]) => `${op} ${n}`)
      .join(", ");
    const verb = info.ok ? "succeeded" : "failed";
    this.line(`${this.tag()} ${verb} in ${formatDuration(elapsedMs)} — ${ops || "no changes"}`);
    if (!info.ok && info.error) this.line(`${this.tag()} error: ${info.error}`);
    const keys = Object.keys(outputs).sort();
    if (keys.length > 0) {
      this.line("outputs:");
      for (const k of keys) this.line(`  ${k}: ${outputs[k]}`);
    }
  }

  private tag(): string {
    return `[${this.opts.operation} ${this.opts.stack}]`;
  }

  private elapsed(): string {
    return formatDuration(this.now() - this.t0);
  }

  private progress(op: string, urn: string, phase: "pre" | "done" | "failed"): void {
    const { done, total } = this.counts;
    if (this.opts.mode === "json") {
      this.line(
        JSON.stringify({
          type: "progress",
          phase,
          op,
          urn,
          done,
          total,
          elapsedMs: this.now() - this.t0,
        }),
      );
    } else if (this.opts.mode === "plain") {
      if (phase !== "pre")
        this.line(
          `${this.tag()} ${done}/${total} ${phase === "failed" ? "failed " : ""}${op} ${shortUrn(urn)} (${this.elapsed()})`,
        );
    } else {
      this.render();
    }
  }

  private render(): void {
    if (this.opts.mode !== "tty") return;
    const { done, total } = this.counts;
    const text = `${this.tag()} ${done}/${total} resources · ${this.current} · ${this.elapsed()}`;
    const width = 160;
    this.opts.out.write(`\r\u001b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.lineOpen = true;
  }

  private emit(json: Record<string, unknown>, text: string): void {
    if (this.opts.mode === "json") this.line(JSON.stringify(json));
    else {
      this.closeLine();
      this.line(text);
      this.render();
    }
  }

  private closeLine(): void {
    if (this.lineOpen) {
      this.opts.out.write("\r\u001b[2K");
      this.lineOpen = false;
    }
  }

  private line(text: string): void {
    this.opts.out.write(`${text}\n`);
  }
}
