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
  // The scheme pattern backtracks at every position: skip texts without a URL (a 1 MB value stays fast).
  if (!text.includes("://")) return text;
  // Up to the last '@' of the authority: a Proxmox token (`root@pam!id=secret`) holds one itself.
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s"]*@/gi, "$1(credentials)@");
}

/** Stands in for a value that must not be shown (a secret someone put in plain config). */
export const REDACTED: unique symbol = Symbol("redacted");

/** Formats a value for a message: short, JSON-ish, never a secret (callers pass no secrets). */
export function showValue(value: unknown): string {
  if (value === undefined) return "(unset)";
  if (value === REDACTED) return "(a secret, not shown)";
  // Only the start is shown: mask a bounded prefix (the pattern is quadratic on huge texts).
  if (typeof value === "string")
    value = maskUrlCredentials(value.length > 4096 ? value.slice(0, 4096) : value);
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

/** Plain words for zod's type names: what the value is not, and how to write one. */
const TYPE_WORDS: Readonly<Record<string, { readonly noun: string; readonly fix: string }>> = {
  string: { noun: "text", fix: "write it as text (quote it in YAML)" },
  number: { noun: "a number", fix: "write a number, unquoted" },
  int: { noun: "a whole number", fix: "write a whole number, unquoted" },
  bigint: { noun: "a whole number", fix: "write a whole number, unquoted" },
  boolean: { noun: "true or false", fix: "set it to true or false, unquoted" },
  array: { noun: "a list", fix: "write a YAML list (one `- item` per line)" },
  object: { noun: "a map of settings", fix: "write a YAML map of `key: value` lines" },
  record: { noun: "a map of settings", fix: "write a YAML map of `key: value` lines" },
};

const plural = (n: number | bigint, one: string, many: string) => `${n} ${Number(n) === 1 ? one : many}`;

/** What an origin's size counts (zod's `origin` of a size issue). */
function sizeUnit(origin: string, n: number | bigint): string | undefined {
  if (origin === "array" || origin === "set") return plural(n, "entry", "entries");
  if (origin === "string") return plural(n, "character", "characters");
  return undefined;
}

/**
 * zod's built-in issues in the project's style (our own schemas' messages carry their fix after
 * " — "): what is wrong, then the fix. Unknown codes keep zod's wording.
 */
function zodDefaultIssue(issue: z.core.$ZodIssue): { message: string; fix?: string } {
  switch (issue.code) {
    case "invalid_type": {
      if (issue.input === undefined) return { message: "is required but unset", fix: "set it" };
      const words = TYPE_WORDS[issue.expected] ?? {
        noun: `a ${issue.expected}`,
        fix: `write a ${issue.expected}`,
      };
      return { message: `is not ${words.noun}`, fix: words.fix };
    }
    case "invalid_value":
      return {
        message: "is not one of the accepted values",
        fix: `use ${issue.values.length === 1 ? "" : "one of "}${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
      };
    case "too_small": {
      if (Number(issue.minimum) === 1 && (issue.origin === "string" || issue.origin === "array"))
        return {
          message: "is empty",
          fix: issue.origin === "string" ? "give it a value" : "give it at least one entry",
        };
      const unit = sizeUnit(issue.origin, issue.minimum);
      if (unit) return { message: `has fewer than ${unit}`, fix: `give it at least ${unit}` };
      return issue.inclusive
        ? { message: `is less than ${issue.minimum}`, fix: `use ${issue.minimum} or more` }
        : { message: `is not more than ${issue.minimum}`, fix: `use more than ${issue.minimum}` };
    }
    case "too_big": {
      const unit = sizeUnit(issue.origin, issue.maximum);
      if (unit) return { message: `has more than ${unit}`, fix: `give it at most ${unit}` };
      return issue.inclusive
        ? { message: `is more than ${issue.maximum}`, fix: `use ${issue.maximum} or less` }
        : { message: `is not less than ${issue.maximum}`, fix: `use less than ${issue.maximum}` };
    }
    case "not_multiple_of":
      return { message: `is not a multiple of ${issue.divisor}`, fix: `use a multiple of ${issue.divisor}` };
    case "invalid_union":
      return {
        message: "matches none of the accepted forms",
        fix: "see the README's config table for this key",
      };
    default:
      return { message: issue.message };
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
 * message and fix; zod's own messages are reworded in the same style by issue code.
 */
export function zodIssues(key: string, issues: readonly z.core.$ZodIssue[], secret = false): ConfigIssue[] {
  return issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => ({
        path: pathOf(key, [...issue.path, k]),
        message: "is not a known setting",
        fix: "remove it or correct its spelling",
      }));
    }
    // A map's key failed its own schema: report that schema's verdict on the key, not "Invalid key in record".
    if (issue.code === "invalid_key") {
      return zodIssues(
        key,
        issue.issues.map((inner) => ({ ...inner, path: issue.path, input: issue.input }) as z.core.$ZodIssue),
        secret,
      );
    }
    const shown = secret ? "(secret value)" : showValue(issue.input);
    const path = pathOf(key, issue.path);
    if (isZodDefault(issue)) {
      const { message, fix } = zodDefaultIssue(issue);
      // An unset value is named by its key alone: "(unset) is required" reads twice.
      const text =
        issue.code === "invalid_type" && issue.input === undefined ? message : `${shown} ${message}`;
      return [{ path, message: text, ...(fix ? { fix } : {}) }];
    }
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
