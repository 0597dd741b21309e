/**
 * Safe readers for the property bags the policy engine hands over (`Record<string, any>` in the
 * SDK's types): every value is treated as `unknown` and narrowed here, so no `any` leaves this file.
 */

export type Json = unknown;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at `path` below `root`, or undefined when any step is missing. */
export function at(root: unknown, ...path: ReadonlyArray<string | number>): unknown {
  let cur: unknown = root;
  for (const step of path) {
    if (typeof step === "number") {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[step];
    } else {
      if (!isRecord(cur)) return undefined;
      cur = cur[step];
    }
  }
  return cur;
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A number, also from its text form (provider inputs sometimes arrive as strings). */
export function num(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

/** A boolean, also from its text form (`"true"`/`"false"`: provider config is often stringly). */
export function bool(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

export function arr(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function strings(value: unknown): string[] {
  return arr(value).filter((v): v is string => typeof v === "string");
}

/** The stack name in a URN `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string | undefined {
  const m = /^urn:pulumi:([^:]+)::/.exec(urn);
  return m ? m[1] : undefined;
}

/** Whether `name` matches a glob pattern where `*` stands for any run of characters. */
export function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
  return re.test(name);
}

export function matchesAny(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => globMatch(p, name));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * True for the SDK's `UnknownValueError`: during a preview, reading a value that is only known
 * after the update throws it. Its class is not in the SDK's public typings, hence the name test.
 */
export function isUnknownValueError(err: unknown): boolean {
  return err instanceof Error && err.constructor.name === "UnknownValueError";
}

/** Reads `get()`, or returns `fallback` when the value is unknown during a preview. */
export function known<T>(get: () => T, fallback: T): T {
  try {
    return get();
  } catch (err) {
    if (isUnknownValueError(err)) return fallback;
    throw err;
  }
}

/** Reads the value at a path (see `at`). */
export type Reader = (root: unknown, ...path: ReadonlyArray<string | number>) => unknown;

/** Like `at`, but a value unknown during preview reads as undefined. */
export const atKnown: Reader = (root, ...path) => known(() => at(root, ...path), undefined);
