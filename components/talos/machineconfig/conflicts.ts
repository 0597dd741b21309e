/**
 * Talos refuses a v1alpha1 section beside the document that replaced it (1.14: `.cluster.network`
 * beside `KubeNetworkConfig`, "… is already set in v1alpha1 config"). The pairs are facts of the
 * minor's row (talos-minors.ts `v1alpha1Conflicts`); this applies them to a patched config.
 */
import { talosMinorFactsOrNewest } from "../../talos-minors";
import { isPlainObject, type PlainObject, type PlainValue } from "./patch-yaml";

function valueAt(doc: PlainObject, path: string): PlainValue | undefined {
  let cur: PlainValue | undefined = doc;
  for (const key of path.split(".")) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

function isSet(v: PlainValue | undefined): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** One message per v1alpha1 section that is set beside the document that replaced it. */
export function v1alpha1ConflictIssues(
  docs: readonly PlainValue[],
  talosVersion: string | undefined,
): string[] {
  const row = talosMinorFactsOrNewest(talosVersion);
  const objects = docs.filter(isPlainObject);
  const v1 = objects.find((d) => d.kind === undefined);
  if (!v1) return [];
  const kinds = new Set(objects.map((d) => d.kind).filter((k): k is string => typeof k === "string"));
  return row.v1alpha1Conflicts
    .filter((c) => kinds.has(c.kind) && isSet(valueAt(v1, c.path)))
    .map(
      (c) =>
        `.${c.path} is already set in v1alpha1 config, and Talos ${row.minor} refuses it beside the ${c.kind} document — set it in ${c.kind} instead`,
    );
}
