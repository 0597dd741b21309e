/**
 * Talos refuses a v1alpha1 field set beside the document that replaced it (1.12+ `.machine.network.
 * nameservers` beside `ResolverConfig`, 1.14 `.cluster.coreDNS` beside `KubeCoreDNSConfig` …: "… is
 * already set in v1alpha1 config"). The conflicts, with when a field counts as set, are facts of the
 * minor's row (talos-minors.ts `v1alpha1Conflicts`); this is the one place that applies them.
 */
import { isIP } from "node:net";
import { talosMinorFactsOrNewest, type V1Alpha1Conflict, type V1Alpha1SetWhen } from "../../talos-minors";
import { isPlainObject, type PlainObject, type PlainValue, plainAt } from "./patch-yaml";

export interface V1Alpha1ConflictIssue {
  /** Dotted path in the v1alpha1 document. */
  readonly path: string;
  /** The document kind it conflicts with. */
  readonly kind: string;
  readonly message: string;
}

/** Go's zero duration in any spelling (`0`, `0s`, `0m0s`, `0h0m0.000s`). */
const ZERO_DURATION = /^(?:0+(?:\.0+)?(?:ns|us|µs|ms|s|m|h)?)+$/;

function isSet(v: PlainValue | undefined, when: V1Alpha1SetWhen): boolean {
  if (v === undefined || v === null) return false;
  switch (when) {
    case "present":
      return true;
    case "nonEmpty":
      if (Array.isArray(v)) return v.length > 0;
      if (isPlainObject(v)) return Object.keys(v).length > 0;
      return String(v) !== "";
    case "true":
      return v === true;
    case "nonZero":
      return typeof v === "number" ? v !== 0 : !ZERO_DURATION.test(String(v));
    case "anyIp":
      return Array.isArray(v) && v.some((x) => typeof x === "string" && isIP(x) !== 0);
  }
}

/** A field of a document counts as set when it holds anything but null, "", [] or {}. */
function documentFieldSet(doc: PlainObject, field: string): boolean {
  return isSet(plainAt(doc, field), "nonEmpty");
}

function applies(c: V1Alpha1Conflict, docs: readonly PlainObject[]): boolean {
  return docs.some(
    (d) =>
      d.kind === c.kind &&
      (c.documentName === undefined || d.name === c.documentName) &&
      (c.documentField === undefined || documentFieldSet(d, c.documentField)),
  );
}

function describeDocument(c: V1Alpha1Conflict): string {
  const name = c.documentName === undefined ? "" : ` ${c.documentName}`;
  const field = c.documentField === undefined ? "" : ` with ${c.documentField} set`;
  return `the ${c.kind}${name} document${field}`;
}

/**
 * One issue per v1alpha1 field set beside the document that replaced it, by the facts of
 * `talosVersion`'s minor (the newest row when absent: conflicts need documents only newer minors have).
 */
export function v1alpha1ConflictIssues(
  docs: readonly PlainValue[],
  talosVersion: string | undefined,
): V1Alpha1ConflictIssue[] {
  const row = talosMinorFactsOrNewest(talosVersion);
  const objects = docs.filter(isPlainObject);
  const v1 = objects.find((d) => d.kind === undefined);
  if (!v1) return [];
  const issues: V1Alpha1ConflictIssue[] = [];
  for (const c of row.v1alpha1Conflicts) {
    if (!applies(c, objects)) continue;
    for (const path of c.paths) {
      if (!isSet(plainAt(v1, path), c.set)) continue;
      // Talos' own words where they say more than the path.
      const talos = c.talos === undefined || c.talos.startsWith(`.${path} `) ? "" : ` ("${c.talos}")`;
      issues.push({
        path,
        kind: c.kind,
        message: `.${path} is already set in v1alpha1 config, which conflicts with ${describeDocument(c)}: Talos ${row.minor} refuses both${talos} — remove it and set it in ${c.replacement ?? c.kind} instead`,
      });
    }
  }
  return issues;
}
