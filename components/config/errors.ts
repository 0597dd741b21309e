/**
 * Config problems are collected, never thrown one at a time: the user sees every fault of a stack
 * together, each naming the config key path, the bad value and the fix.
 */

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

export function formatIssue(namespace: string, issue: ConfigIssue): string {
  const key = issue.path ? `${namespace}:${issue.path}` : namespace;
  return `${key}: ${issue.message}${issue.fix ? ` — ${issue.fix}` : ""}`;
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
