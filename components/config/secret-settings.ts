/**
 * Settings stored with `pulumi config set --secret` (e.g. `--secret --path addons.cilium.values.x`
 * makes the whole `addons` key secret): a config error about them must not echo their values.
 * Every string or number inside such a setting is replaced by `(secret value)` in the issue's
 * message and fix, whichever rule (schema or cross-field) produced it.
 */
import type { ConfigIssue } from "./errors";

/** The top-level key an issue path starts with: `addons` of `addons.metallb.pools[0]`. */
export function rootKey(path: string): string {
  return /^[^.[]*/.exec(path)?.[0] ?? path;
}

function leaves(value: unknown, out: Set<string>): void {
  if (typeof value === "string" || typeof value === "number") {
    const text = String(value);
    // Tiny values ("1", "true") would scrub unrelated words; they are no secrets either.
    if (text.length >= 3) out.add(text);
  } else if (Array.isArray(value)) {
    for (const v of value) leaves(v, out);
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) leaves(v, out);
  }
}

function scrub(text: string | undefined, secrets: readonly string[]): string | undefined {
  if (text === undefined) return undefined;
  let out = text;
  for (const s of secrets) out = out.split(s).join("(secret value)");
  return out;
}

/** The issues with every value of the secret-stored settings replaced (in all issues: a cross-field rule may quote them). */
export function scrubSecretSettings(
  issues: readonly ConfigIssue[],
  raw: Readonly<Record<string, unknown>>,
  secretSettings: readonly string[],
): ConfigIssue[] {
  if (secretSettings.length === 0) return [...issues];
  const set = new Set<string>();
  for (const key of secretSettings) leaves(raw[key], set);
  // Longest first: a value containing another is replaced whole.
  const secrets = [...set].sort((a, b) => b.length - a.length);
  return issues.map((i) => ({ ...i, message: scrub(i.message, secrets) ?? "", fix: scrub(i.fix, secrets) }));
}
