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
export function parseYamlDocuments(text: string, what = "YAML", opts: PlainOptions = {}): PlainValue[] {
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, customTags: [TIMESTAMP_TAG] });
  const out: PlainValue[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      throw new Error(`${what}: ${doc.errors[0]!.message}`);
    }
    if (doc.contents === null) continue;
    readExplicitTags(doc, what);
    out.push(toPlain(doc.toJS({ maxAliasCount: 100 }), what, opts));
  }
  return out;
}

const CORE_TAG = "tag:yaml.org,2002:";
const YAML_V3_NULL = new Set(["", "~", "null", "Null", "NULL"]);
const YAML_V3_BOOL = new Set(["true", "True", "TRUE", "false", "False", "FALSE"]);
const YAML_V3_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const YAML_V3_SPECIAL_FLOAT = /^([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/;
const YAML_V3_INT = /^[-+]?(0b[01]+|0o?[0-7]+|0x[0-9a-fA-F]+|[0-9]+)$/;

/** The tag yaml.v3 resolves a scalar's text to when it carries no tag (its `resolve`). */
function implicitTag(text: string): string {
  if (YAML_V3_NULL.has(text)) return "null";
  if (YAML_V3_BOOL.has(text)) return "bool";
  const plain = text.replace(/_/g, "");
  if (YAML_V3_INT.test(plain)) return "int";
  if (YAML_V3_FLOAT.test(plain) || YAML_V3_SPECIAL_FLOAT.test(text)) return "float";
  return "str";
}

/** A scalar's text as yaml.v3 reads it under the tag it resolved to (`implicitTag`). */
function v3Value(text: string, tag: string): PlainValue {
  if (tag === "null") return null;
  if (tag === "bool") return /^(true|True|TRUE)$/.test(text);
  const plain = text.replace(/_/g, "");
  if (tag === "int") {
    const m = /^([-+]?)(0b|0o|0x|0(?=[0-7]))?(.*)$/.exec(plain)!;
    const radix = { "0b": 2, "0o": 8, "0x": 16, "0": 8 }[m[2] ?? ""] ?? 10;
    const n = Number.parseInt(m[3]!, radix);
    return m[1] === "-" ? -n : n;
  }
  if (YAML_V3_SPECIAL_FLOAT.test(text)) {
    if (/nan/i.test(text)) return Number.NaN;
    return text.startsWith("-") ? -Infinity : Infinity;
  }
  return Number(plain);
}

/**
 * An explicit `!!bool`, `!!int`, `!!float` or `!!null` is read as Talos' decoder (yaml.v3) reads
 * it: the scalar's value of that type, or a refusal when its text is not of that type ("cannot
 * decode !!str `accept` as a !!float"; an int may be a float). The YAML library would leave such a
 * scalar a string.
 */
function readExplicitTags(doc: YAML.Document, what: string): void {
  YAML.visit(doc, {
    Scalar(_key, node) {
      const tag = node.tag?.startsWith(CORE_TAG) ? node.tag.slice(CORE_TAG.length) : undefined;
      if (tag !== "bool" && tag !== "int" && tag !== "float" && tag !== "null") return;
      const text = String(node.source ?? node.value ?? "");
      const found = implicitTag(text);
      if (found !== tag && !(tag === "float" && found === "int")) {
        throw new Error(`${what}: cannot decode !!${found} \`${text}\` as a !!${tag}`);
      }
      node.value = v3Value(text, found);
      node.tag = undefined;
    },
  });
}

/** How an explicit YAML tag reads, as the Talos minor's decoder reads it. */
export interface PlainOptions {
  /** Talos 1.14 refuses `!!timestamp` where a string goes; ≤ 1.13 keep the scalar's text. */
  readonly refuseTimestamps?: boolean;
}

/** An explicit `!!timestamp` scalar, kept as written (Go's decoder never sees a JS Date). */
class YamlTimestamp {
  constructor(readonly text: string) {}
}
const TIMESTAMP_TAG = {
  tag: "tag:yaml.org,2002:timestamp",
  resolve: (text: string) => new YamlTimestamp(text),
};

/** Converts a JSON-like JS value (e.g. a structured patch from stack config) into a plain value. */
export function toPlain(v: unknown, what: string, opts: PlainOptions = {}): PlainValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  // Explicit YAML tags, read as Talos' decoder (yaml.v3) reads them into its typed config:
  // `!!binary` is the decoded text, `!!set` a map of nulls, `!!timestamp` its text or a refusal.
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if (v instanceof YamlTimestamp) {
    if (opts.refuseTimestamps)
      throw new Error(`${what}: cannot construct !!timestamp \`${v.text}\` into string`);
    return v.text;
  }
  if (v instanceof Set) {
    const o: PlainObject = {};
    for (const k of v) o[String(k)] = null;
    return o;
  }
  if (Array.isArray(v)) return v.map((x) => toPlain(x, what, opts));
  if (v instanceof Map) {
    const o: PlainObject = {};
    for (const [k, x] of v) o[String(k)] = toPlain(x, what, opts);
    return o;
  }
  if (typeof v === "object") {
    const o: PlainObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = toPlain(x, what, opts);
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
