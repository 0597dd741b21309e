/**
 * Config problems are collected, never thrown one at a time: the user sees every fault of a stack
 * together, each naming the config key path, the bad value and the fix.
 *
 * One style: a schema's or a rule's message says what is wrong and, after " — ", the fix ("is not
 * an IPv4 address — write it as …"); the value is shown here, by `showValue`, and nowhere else.
 */
import { z } from "zod";

export interface ConfigIssue {
  /** Key path below the project namespace, e.g. `nodes[2].ip`. */
  readonly path: string;
  /** What is wrong, naming the bad value. */
  readonly message: string;
  /** What would fix it. */
  readonly fix?: string;
}

/** Credentials in a URL (`https://user:token@host`) never reach a message. */
export function maskUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@"]+@/gi, "$1(credentials)@");
}

/** Formats a value for a message: short, JSON-ish, never a secret (callers pass no secrets). */
export function showValue(value: unknown): string {
  if (value === undefined) return "(unset)";
  if (typeof value === "string") value = maskUrlCredentials(value);
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** `namespace:path: message — fix`; without a namespace, `path: message — fix`. */
export function formatIssue(namespace: string | undefined, issue: ConfigIssue): string {
  const key = namespace === undefined ? issue.path : issue.path ? `${namespace}:${issue.path}` : namespace;
  return `${key}: ${issue.message}${issue.fix ? ` — ${issue.fix}` : ""}`;
}

function pathOf(key: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === "number" ? `${acc}[${p}]` : `${acc}.${String(p)}`),
    key,
  );
}

/** A fix for zod's built-in issue codes (our own messages carry theirs after " — "). */
function zodFix(issue: z.core.$ZodIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return `set it to a ${issue.expected}`;
    case "unrecognized_keys":
      return "remove it or correct its spelling";
    case "invalid_value":
      return `use one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return undefined;
  }
}

const zodEnglish = z.locales.en();

/** True when the message is zod's own wording for the issue, not one a schema gave. */
function isZodDefault(issue: z.core.$ZodIssue): boolean {
  const own = zodEnglish.localeError(issue as unknown as z.core.$ZodRawIssue);
  return (typeof own === "string" ? own : own?.message) === issue.message;
}

/**
 * Converts zod issues under one top-level key into config issues naming path and value (parse with
 * `{ reportInput: true }` so the value is known). A schema's message "is not … — fix" is split into
 * message and fix; zod's own messages get a fix by issue code.
 */
export function zodIssues(key: string, issues: readonly z.core.$ZodIssue[], secret = false): ConfigIssue[] {
  return issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => ({
        path: pathOf(key, [...issue.path, k]),
        message: "is not a known setting",
        fix: zodFix(issue),
      }));
    }
    const shown = secret ? "(secret value)" : showValue(issue.input);
    const path = pathOf(key, issue.path);
    if (isZodDefault(issue)) return [{ path, message: `${shown}: ${issue.message}`, fix: zodFix(issue) }];
    const cut = issue.message.indexOf(" — ");
    return cut < 0
      ? [{ path, message: `${shown} ${issue.message}` }]
      : [{ path, message: `${shown} ${issue.message.slice(0, cut)}`, fix: issue.message.slice(cut + 3) }];
  });
}

/** Thrown before any resource is created when the stack config is invalid. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(namespace: string, issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  - ${formatIssue(namespace, i)}`);
    super(
      `invalid stack config (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`,
    );
    this.name = "ConfigError";
    this.issues = issues;
  }
}
