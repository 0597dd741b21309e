/**
 * The per-minor field table of Talos machine-config documents (`talos-fields.json`, derived from
 * Talos' published schemas by scripts/derive-talos-fields.ts, plus the known gaps in gaps.ts):
 * which document kinds a minor registers and each field's type.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseVersion } from "../../../version";
import { FIELD_GAPS, KIND_GAPS, TYPE_GAPS, UNREGISTERED_SCHEMA_KINDS } from "./gaps";

/**
 * A field's type: `s` string, `p` base64 string (a PEM wrapper's), `i` integer, `n` number,
 * `b` boolean, `u` free-form map, `*` anything,
 * `@Name` a named struct type, `{l}` a list, `{m}` a map, `{o}` one of.
 */
export type FieldSpec =
  | string
  | { readonly l: FieldSpec }
  | { readonly m: FieldSpec }
  | { readonly o: readonly FieldSpec[] };

export interface MinorFields {
  /** Kind (`v1alpha1` for the legacy document) → named type, or `*` when its fields are unknown. */
  readonly kinds: Readonly<Record<string, string>>;
  readonly types: Readonly<Record<string, Readonly<Record<string, FieldSpec>>>>;
}

const TABLE_FILE = path.join(__dirname, "talos-fields.json");

let raw: Record<string, MinorFields> | undefined;
const resolved = new Map<string, MinorFields>();

function minorNumber(minor: string): number {
  const [a, b] = minor.split(".");
  return Number(a) * 1000 + Number(b);
}

function loadRaw(): Record<string, MinorFields> {
  raw ??= JSON.parse(fs.readFileSync(TABLE_FILE, "utf8")) as Record<string, MinorFields>;
  return raw;
}

/** Minors the table covers, oldest first. */
export function tableMinors(): string[] {
  return Object.keys(loadRaw()).sort((a, b) => minorNumber(a) - minorNumber(b));
}

/** `1.13.9`, `v1.13`, `1.13` → `1.13`; undefined when not a version. */
export function minorOf(version: string): string | undefined {
  return parseVersion(version.trim())?.minorKey;
}

/** The field table of a Talos version (its minor; a newer minor than the table uses the newest). */
export function fieldsFor(version: string): MinorFields {
  const wanted = minorOf(version);
  const minors = tableMinors();
  const minor =
    wanted && minors.includes(wanted)
      ? wanted
      : wanted && minorNumber(wanted) > minorNumber(minors[minors.length - 1]!)
        ? minors[minors.length - 1]!
        : undefined;
  if (!minor) throw new Error(`no Talos field table for version "${version}" (have ${minors.join(", ")})`);
  const cached = resolved.get(minor);
  if (cached) return cached;
  const base = loadRaw()[minor]!;
  const n = minorNumber(minor);
  const applies = (g: { from: string; to?: string }) =>
    minorNumber(g.from) <= n && (g.to === undefined || n <= minorNumber(g.to));
  const types: Record<string, Record<string, FieldSpec>> = {};
  for (const [name, fields] of Object.entries(base.types)) types[name] = { ...fields };
  for (const gap of TYPE_GAPS) if (applies(gap)) types[gap.type] = { ...gap.fields };
  for (const gap of FIELD_GAPS) {
    if (applies(gap) && types[gap.type]) types[gap.type]![gap.field] = gap.spec;
  }
  const kinds: Record<string, string> = {};
  for (const [kind, type] of Object.entries(base.kinds)) {
    if (!UNREGISTERED_SCHEMA_KINDS.has(kind)) kinds[kind] = type;
  }
  for (const gap of KIND_GAPS) {
    if (!applies(gap)) continue;
    const fromSchema = gap.schemaKind ? base.kinds[gap.schemaKind] : undefined;
    kinds[gap.kind] = fromSchema ?? "*";
  }
  const out: MinorFields = { kinds, types };
  resolved.set(minor, out);
  return out;
}

/** Document kinds the Talos version registers (`v1alpha1` excluded). */
export function registeredKinds(version: string): ReadonlySet<string> {
  return new Set(Object.keys(fieldsFor(version).kinds).filter((k) => k !== "v1alpha1"));
}

/** The spec of a named type's field, or undefined when the type has no such field. */
export function fieldSpec(fields: MinorFields, type: string, field: string): FieldSpec | undefined {
  const t = fields.types[type];
  return t && Object.hasOwn(t, field) ? t[field] : undefined;
}
