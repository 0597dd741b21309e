/**
 * YAML plumbing shared by the machine-config renderer and the patcher: plain JSON-like values,
 * multi-document parse and a deterministic multi-document stringify (key order as given).
 */
import YAML from "yaml";

/** A JSON-like value as parsed from YAML. */
export type PlainValue = string | number | boolean | null | PlainValue[] | PlainObject;
/** A JSON-like map. */
export interface PlainObject {
  [key: string]: PlainValue;
}

export function isPlainObject(v: unknown): v is PlainObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The value at a dotted path of maps (`machine.network.interfaces`), or undefined. */
export function plainAt(doc: PlainValue | undefined, path: string): PlainValue | undefined {
  let cur: PlainValue | undefined = doc;
  for (const key of path.split(".")) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Deep copy of a plain value. */
export function clonePlain<T extends PlainValue>(v: T): T {
  return structuredClone(v);
}

/** Deep equality of plain values (map key order ignored). */
export function plainEqual(a: PlainValue | undefined, b: PlainValue | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => plainEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && plainEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Parses a (multi-document) YAML text into plain values, one per document; empty documents
 * (`---` alone, comments only) are dropped. Throws on YAML syntax errors.
 */
export function parseYamlDocuments(text: string, what = "YAML"): PlainValue[] {
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true });
  const out: PlainValue[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      throw new Error(`${what}: ${doc.errors[0]!.message}`);
    }
    if (doc.contents === null) continue;
    out.push(toPlain(doc.toJS({ maxAliasCount: 100 }), what));
  }
  return out;
}

/** Converts a JSON-like JS value (e.g. a structured patch from stack config) into a plain value. */
export function toPlain(v: unknown, what: string): PlainValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((x) => toPlain(x, what));
  if (v instanceof Map) {
    const o: PlainObject = {};
    for (const [k, x] of v) o[String(k)] = toPlain(x, what);
    return o;
  }
  if (typeof v === "object") {
    const o: PlainObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = toPlain(x, what);
    return o;
  }
  throw new Error(`${what}: unsupported YAML value of type ${typeof v}`);
}

/** Stringifies documents as one multi-document YAML text (4-space indent like Talos, no line folding). */
export function stringifyYamlDocuments(docs: readonly PlainValue[]): string {
  return docs
    .map((d) =>
      YAML.stringify(d, { indent: 4, lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false }),
    )
    .join("---\n");
}
