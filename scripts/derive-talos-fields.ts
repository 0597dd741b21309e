/**
 * `npx tsx scripts/derive-talos-fields.ts [SCHEMA_DIR] [OUT]`: derives the compact per-minor field
 * table (`components/talos/machineconfig/fields/talos-fields.json`) the strict machine-config decoder reads, from
 * Talos' published JSON schemas (`../shared/reference/talos/v1.*\/config.schema.json`).
 *
 * Per minor: the document kinds Talos registers (kind → type) and every type's fields:
 * - a leaf is `s` (string), `i` (integer), `n` (number), `b` (boolean), `u` (free-form map, Go's
 *   `Unstructured`/`map[string]any`), `*` (anything);
 * - `@Name` refers to a named struct type; `{l: T}` a list, `{m: T}` a map, `{o: [T…]}` one of.
 * Known gaps of the schemas are NOT patched here (the decoder keeps them in `talos-field-gaps.ts`),
 * except one rule that is structural: v1alpha1 is a frozen API whose Go types keep every field, but
 * each schema documents only the non-deprecated ones (1.12 omits `machine.time`, 1.13
 * `machine.network`, 1.14 most of `machine`/`cluster`). So the v1alpha1 types of a minor are the
 * union of that minor's and every older schema's fields (checked against the oracle per minor in
 * tests/talos/fields-oracle.test.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";

type JsonSchema = {
  readonly $ref?: string;
  readonly type?: string;
  readonly properties?: Record<string, JsonSchema>;
  readonly patternProperties?: Record<string, JsonSchema>;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly oneOf?: readonly JsonSchema[];
};

export type FieldSpec = string | { l: FieldSpec } | { m: FieldSpec } | { o: FieldSpec[] };
export interface MinorFields {
  /** Document kind (`v1alpha1` for the legacy document) → named type. */
  kinds: Record<string, string>;
  /** Named struct type → field → spec. */
  types: Record<string, Record<string, FieldSpec>>;
}

function refName(ref: string): string {
  return ref.replace(/^#\/\$defs\//, "");
}

function specOf(s: JsonSchema): FieldSpec {
  if (s.$ref) return `@${refName(s.$ref)}`;
  if (s.oneOf) return { o: s.oneOf.map(specOf) };
  if (s.enum) {
    const kinds = new Set(s.enum.map((v) => typeof v));
    if (kinds.size === 1 && kinds.has("string")) return "s";
    if (kinds.size === 1 && kinds.has("number")) return "i";
    if (kinds.size === 1 && kinds.has("boolean")) return "b";
    return "*";
  }
  switch (s.type) {
    case "string":
      return "s";
    case "integer":
      return "i";
    case "number":
      return "n";
    case "boolean":
      return "b";
    case "array":
      return { l: s.items ? specOf(s.items) : "*" };
    case "object": {
      if (s.properties) return "*"; // inline struct: not emitted by Talos' generator
      const pattern = s.patternProperties ? Object.values(s.patternProperties)[0] : undefined;
      if (pattern) return { m: specOf(pattern) };
      if (typeof s.additionalProperties === "object") return { m: specOf(s.additionalProperties) };
      return "u";
    }
    default:
      return "*";
  }
}

function deriveOne(schema: { $defs: Record<string, JsonSchema>; oneOf: readonly JsonSchema[] }): MinorFields {
  const types: Record<string, Record<string, FieldSpec>> = {};
  for (const [name, def] of Object.entries(schema.$defs)) {
    if (!def.properties) continue;
    const fields: Record<string, FieldSpec> = {};
    for (const [field, fs_] of Object.entries(def.properties)) fields[field] = specOf(fs_);
    types[name] = fields;
  }
  const kinds: Record<string, string> = {};
  for (const entry of schema.oneOf) {
    if (!entry.$ref) continue;
    const name = refName(entry.$ref);
    const def = schema.$defs[name];
    const kind = def?.properties?.kind?.enum?.[0];
    if (typeof kind === "string") kinds[kind] = name;
    else if (name === "v1alpha1.Config") kinds.v1alpha1 = name;
  }
  return { kinds, types };
}

/** Adds the v1alpha1 fields (and the types they need) older minors documented. */
function carryForwardV1alpha1(current: MinorFields, older: MinorFields): void {
  for (const [name, fields] of Object.entries(older.types)) {
    if (!name.startsWith("v1alpha1.")) continue;
    const mine = current.types[name];
    if (!mine) {
      current.types[name] = { ...fields };
      continue;
    }
    for (const [field, spec] of Object.entries(fields)) {
      if (!(field in mine)) mine[field] = spec;
    }
  }
  // Types referenced by carried fields (e.g. v1alpha1.NetworkConfig → network types) come along.
  const refs = (spec: FieldSpec, out: Set<string>): void => {
    if (typeof spec === "string") {
      if (spec.startsWith("@")) out.add(spec.slice(1));
    } else if ("l" in spec) refs(spec.l, out);
    else if ("m" in spec) refs(spec.m, out);
    else for (const o of spec.o) refs(o, out);
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (const fields of Object.values(current.types)) {
      const out = new Set<string>();
      for (const spec of Object.values(fields)) refs(spec, out);
      for (const name of out) {
        if (!current.types[name] && older.types[name]) {
          current.types[name] = { ...older.types[name] };
          changed = true;
        }
      }
    }
  }
}

/** Minors present in `dir` (`v1.10/config.schema.json` …), oldest first. */
export function schemaMinors(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .map((d) => /^v(\d+\.\d+)$/.exec(d)?.[1])
    .filter(
      (m): m is string => m !== undefined && fs.existsSync(path.join(dir, `v${m}`, "config.schema.json")),
    )
    .sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
}

export function deriveFieldTable(dir: string): Record<string, MinorFields> {
  const out: Record<string, MinorFields> = {};
  const minors = schemaMinors(dir);
  const derived = minors.map((m) =>
    deriveOne(JSON.parse(fs.readFileSync(path.join(dir, `v${m}`, "config.schema.json"), "utf8"))),
  );
  minors.forEach((m, i) => {
    const table = derived[i]!;
    for (let j = i - 1; j >= 0; j--) carryForwardV1alpha1(table, derived[j]!);
    out[m] = table;
  });
  return out;
}

/** Stable, compact text: one minor per block, sorted keys. */
export function fieldTableText(table: Record<string, MinorFields>): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  const minors = Object.keys(table);
  const blocks = minors.map((m) => `  ${JSON.stringify(m)}: ${JSON.stringify(sortKeys(table[m]))}`);
  return `{\n${blocks.join(",\n")}\n}\n`;
}

export const DEFAULT_SCHEMA_DIR = path.resolve(__dirname, "..", "..", "shared", "reference", "talos");
export const FIELD_TABLE_PATH = path.resolve(
  __dirname,
  "..",
  "components",
  "talos",
  "machineconfig",
  "fields",
  "talos-fields.json",
);

if (require.main === module) {
  const dir = path.resolve(process.argv[2] ?? DEFAULT_SCHEMA_DIR);
  const out = path.resolve(process.argv[3] ?? FIELD_TABLE_PATH);
  if (!fs.existsSync(dir)) {
    console.error(`derive-talos-fields: ${dir} is absent (Talos schemas live in ../shared/reference/talos)`);
    process.exit(1);
  }
  const table = deriveFieldTable(dir);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, fieldTableText(table));
  console.log(`derive-talos-fields: wrote ${out} (${Object.keys(table).join(", ")})`);
}
