/**
 * Strict decoding of machine-config documents the way Talos' decoder (yaml.v3 into the typed
 * config, unknown keys refused) treats them, per Talos minor, from the derived field table: unknown
 * keys and values of the wrong type (a list where a string goes, a quoted "true" for a boolean …).
 */
import { isPlainObject, type PlainObject, type PlainValue } from "../patch-yaml";
import { type FieldSpec, fieldsFor, type MinorFields } from "./table";

export interface DecodeIssue {
  /** Path inside the document, e.g. `machine.kubelet.extraArg`. */
  readonly path: string;
  /** What Talos says (its wording, shortened). */
  readonly message: string;
}

/** YAML 1.1 booleans yaml.v3 still reads into a bool field; this project refuses them (ambiguous). */
const YAML11_BOOLS = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;

/** Go's base64.StdEncoding, which skips line breaks. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function yamlTag(v: PlainValue): string {
  if (Array.isArray(v)) return "!!seq";
  if (isPlainObject(v)) return "!!map";
  if (typeof v === "boolean") return "!!bool";
  if (typeof v === "number") return Number.isInteger(v) ? "!!int" : "!!float";
  return "!!str";
}

function goName(spec: FieldSpec): string {
  if (typeof spec === "string") {
    switch (spec) {
      case "s":
      case "p":
        return "string";
      case "i":
        return "int";
      case "n":
        return "float64";
      case "b":
        return "bool";
      case "u":
        return "map[string]interface {}";
      default:
        return spec.startsWith("@") ? spec.slice(1) : "value";
    }
  }
  if ("l" in spec) return `[]${goName(spec.l)}`;
  if ("m" in spec) return `map[string]${goName(spec.m)}`;
  return "value";
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function decodeValue(
  fields: MinorFields,
  spec: FieldSpec,
  value: PlainValue,
  path: string,
  out: DecodeIssue[],
): void {
  if (value === null) return;
  const mismatch = () =>
    out.push({ path, message: `cannot unmarshal ${yamlTag(value)} into ${goName(spec)}` });
  if (typeof spec === "string") {
    switch (spec) {
      case "*":
        return;
      case "s":
        if (Array.isArray(value) || isPlainObject(value)) mismatch();
        return;
      case "p":
        if (Array.isArray(value) || isPlainObject(value)) mismatch();
        else if (!BASE64.test(String(value).replace(/[\r\n]/g, "")))
          out.push({ path, message: "illegal base64 data (a PEM block is written base64-encoded)" });
        return;
      case "i":
        if (typeof value !== "number" || !Number.isInteger(value)) mismatch();
        return;
      case "n":
        if (typeof value !== "number") mismatch();
        return;
      case "b":
        if (typeof value === "string" && YAML11_BOOLS.test(value)) {
          out.push({
            path,
            message: `${JSON.stringify(value)} is a YAML 1.1 boolean: write true or false`,
          });
        } else if (typeof value !== "boolean") mismatch();
        return;
      case "u":
        if (!isPlainObject(value)) mismatch();
        return;
      default: {
        const type = fields.types[spec.slice(1)];
        if (!type) return; // a type the schema does not describe: anything decodes
        if (!isPlainObject(value)) {
          mismatch();
          return;
        }
        decodeStruct(fields, type, value, path, out);
        return;
      }
    }
  }
  if ("l" in spec) {
    if (!Array.isArray(value)) {
      mismatch();
      return;
    }
    value.forEach((item, i) => {
      decodeValue(fields, spec.l, item, `${path}[${i}]`, out);
    });
    return;
  }
  if ("m" in spec) {
    if (!isPlainObject(value)) {
      mismatch();
      return;
    }
    for (const [k, v] of Object.entries(value)) decodeValue(fields, spec.m, v, join(path, k), out);
    return;
  }
  // One of: the first alternative that decodes without issues wins.
  for (const alt of spec.o) {
    const trial: DecodeIssue[] = [];
    decodeValue(fields, alt, value, path, trial);
    if (trial.length === 0) return;
  }
  out.push({ path, message: `cannot unmarshal ${yamlTag(value)} into ${spec.o.map(goName).join(" or ")}` });
}

function decodeStruct(
  fields: MinorFields,
  type: Readonly<Record<string, FieldSpec>>,
  value: PlainObject,
  path: string,
  out: DecodeIssue[],
): void {
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const spec = Object.hasOwn(type, k) ? type[k] : undefined;
    if (spec === undefined) unknown.push(join(path, k));
    else decodeValue(fields, spec, v, join(path, k), out);
  }
  if (unknown.length > 0) {
    out.push({ path: unknown[0]!, message: `unknown keys found during decoding: ${unknown.join(", ")}` });
  }
}

/** The document's kind for the table: `v1alpha1` for the legacy document (no `kind`). */
export function tableKind(doc: PlainObject): string {
  return typeof doc.kind === "string" && doc.kind !== "" ? doc.kind : "v1alpha1";
}

/**
 * Decodes one document as Talos `version` would; returns every problem (empty when it decodes).
 * A kind the version does not register is one problem.
 */
export function decodeDocument(doc: PlainObject, version: string): DecodeIssue[] {
  const fields = fieldsFor(version);
  const kind = tableKind(doc);
  const typeName = fields.kinds[kind];
  if (typeName === undefined) {
    return [
      {
        path: "kind",
        message: `"${kind}" "${String(doc.apiVersion ?? "")}": not registered in Talos ${version}`,
      },
    ];
  }
  const out: DecodeIssue[] = [];
  const type = fields.types[typeName];
  if (type) decodeStruct(fields, type, doc, "", out);
  return out;
}
