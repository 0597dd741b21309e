/**
 * RFC 6902 JSON Patch over plain values, with the behaviour of evanphx/json-patch (v4), the library
 * Talos' configpatcher uses: `add` needs an existing parent, `remove`/`replace` need an existing
 * target, array `add` accepts an index up to the length or `-`.
 */
import { clonePlain, isPlainObject, type PlainObject, type PlainValue, plainEqual } from "./patch-yaml";

export type JsonPatchOpName = "add" | "remove" | "replace" | "move" | "copy" | "test";

/** One RFC 6902 operation. */
export interface JsonPatchOperation {
  readonly op: JsonPatchOpName;
  readonly path: string;
  readonly value?: PlainValue;
  readonly from?: string;
  /**
   * The operation carries no value as json-patch sees it: `value` absent, or `null` in a patch
   * written as JSON (Go decodes a JSON null into a nil message; a YAML patch's null survives its
   * conversion to JSON). Matters for `test` on a missing path, which passes only then.
   */
  readonly nilValue?: boolean;
}

const OPS: readonly JsonPatchOpName[] = ["add", "remove", "replace", "move", "copy", "test"];

/** Checks the shape of a parsed operation list; throws naming the offending entry. */
export function toJsonPatchOperations(
  list: readonly PlainValue[],
  writtenAsJson = false,
): JsonPatchOperation[] {
  return list.map((entry, i) => {
    if (!isPlainObject(entry)) throw new Error(`JSON patch operation #${i + 1} is not a map`);
    const op = entry.op;
    if (typeof op !== "string" || !OPS.includes(op as JsonPatchOpName)) {
      throw new Error(`JSON patch operation #${i + 1}: unexpected op ${JSON.stringify(op ?? null)}`);
    }
    if (typeof entry.path !== "string")
      throw new Error(`JSON patch operation #${i + 1} (${op}): missing path`);
    const out: { op: JsonPatchOpName; path: string; value?: PlainValue; from?: string; nilValue?: boolean } =
      {
        op: op as JsonPatchOpName,
        path: entry.path,
      };
    if (!Object.hasOwn(entry, "value") || (writtenAsJson && entry.value === null)) out.nilValue = true;
    if ((op === "add" || op === "replace") && !Object.hasOwn(entry, "value")) {
      throw new Error(`JSON patch operation #${i + 1} (${op} ${entry.path}): missing value`);
    }
    if (Object.hasOwn(entry, "value")) out.value = entry.value!;
    if (op === "move" || op === "copy") {
      if (typeof entry.from !== "string") {
        throw new Error(`JSON patch operation #${i + 1} (${op} ${entry.path}): missing from`);
      }
      out.from = entry.from;
    }
    return out;
  });
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`invalid JSON pointer '${pointer}'`);
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

type Container = PlainObject | PlainValue[];

/** The container holding the last token of `tokens`, or undefined when a parent is missing. */
function parentOf(doc: PlainValue, tokens: readonly string[]): Container | undefined {
  let cur: PlainValue = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(t, cur.length - 1);
      if (i === undefined) return undefined;
      cur = cur[i]!;
    } else if (isPlainObject(cur)) {
      if (!Object.hasOwn(cur, t)) return undefined;
      cur = cur[t]!;
    } else {
      return undefined;
    }
  }
  return Array.isArray(cur) || isPlainObject(cur) ? cur : undefined;
}

/**
 * Index `token` into a list where the largest valid index is `max` (length-1 for reads, length
 * for `add`). Negative indices count from the end as evanphx/json-patch does: -1 is the last item
 * (for `add`, -1 appends).
 */
function arrayIndex(token: string, max: number): number | undefined {
  if (!/^-?(0|[1-9][0-9]*)$/.test(token)) return undefined;
  let i = Number(token);
  if (i < 0) i += max + 1;
  return i >= 0 && i <= max ? i : undefined;
}

/** True when `pointer` names a key its (existing) parent map does not have. */
function isMissingMapKey(doc: PlainValue, pointer: string): boolean {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return false;
  const parent = parentOf(doc, tokens);
  return isPlainObject(parent) && !Object.hasOwn(parent, tokens[tokens.length - 1]!);
}

function get(doc: PlainValue, pointer: string): PlainValue | undefined {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1]!;
  if (parent === undefined) return undefined;
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length - 1);
    return i === undefined ? undefined : parent[i];
  }
  return Object.hasOwn(parent, last) ? parent[last] : undefined;
}

function add(doc: PlainValue, pointer: string, value: PlainValue): PlainValue {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1]!;
  if (parent === undefined)
    throw new Error(`add operation does not apply: doc is missing path: "${pointer}"`);
  if (Array.isArray(parent)) {
    const i = last === "-" ? parent.length : arrayIndex(last, parent.length);
    if (i === undefined) throw new Error(`Unable to access invalid index: ${last}: invalid index referenced`);
    parent.splice(i, 0, value);
  } else {
    parent[last] = value;
  }
  return doc;
}

function remove(doc: PlainValue, pointer: string, opName: string): PlainValue {
  const tokens = parsePointer(pointer);
  const parent = tokens.length === 0 ? undefined : parentOf(doc, tokens);
  const last = tokens[tokens.length - 1] ?? "";
  if (parent === undefined) {
    throw new Error(
      `error in ${opName} for path: '${pointer}': Unable to ${opName} nonexistent key: ${last}`,
    );
  }
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length - 1);
    if (i === undefined) {
      throw new Error(`error in ${opName} for path: '${pointer}': Unable to access invalid index: ${last}`);
    }
    parent.splice(i, 1);
  } else {
    if (!Object.hasOwn(parent, last)) {
      throw new Error(
        `error in ${opName} for path: '${pointer}': Unable to ${opName} nonexistent key: ${last}: missing value`,
      );
    }
    delete parent[last];
  }
  return doc;
}

function replace(doc: PlainValue, pointer: string, value: PlainValue): PlainValue {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1]!;
  if (parent === undefined)
    throw new Error(`replace operation does not apply: doc is missing path: ${pointer}`);
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length - 1);
    if (i === undefined) throw new Error(`replace operation does not apply: doc is missing key: ${pointer}`);
    parent[i] = value;
  } else {
    // evanphx/json-patch v4 replaces a missing key of an existing map (it reads as null).
    parent[last] = value;
  }
  return doc;
}

/** Applies the operations in order to a copy of `doc`; throws on the first failing operation. */
export function applyJson6902(doc: PlainValue, ops: readonly JsonPatchOperation[]): PlainValue {
  let out = clonePlain(doc);
  for (const op of ops) {
    switch (op.op) {
      case "add":
        out = add(out, op.path, clonePlain(op.value ?? null));
        break;
      case "remove":
        out = remove(out, op.path, "remove");
        break;
      case "replace":
        out = replace(out, op.path, clonePlain(op.value ?? null));
        break;
      case "move": {
        const from = op.from!;
        const v = get(out, from);
        if (v === undefined)
          throw new Error(`move operation does not apply: doc is missing from path: ${from}`);
        out = remove(out, from, "remove");
        out = add(out, op.path, v);
        break;
      }
      case "copy": {
        const from = op.from!;
        // A missing key of an existing map reads as null (evanphx/json-patch v4).
        const v = get(out, from) ?? (isMissingMapKey(out, from) ? null : undefined);
        if (v === undefined)
          throw new Error(`copy operation does not apply: doc is missing from path: ${from}`);
        out = add(out, op.path, clonePlain(v));
        break;
      }
      case "test": {
        const tokens = parsePointer(op.path);
        const parent = tokens.length > 0 ? parentOf(out, tokens) : out;
        if (parent === undefined) {
          throw new Error(`test operation does not apply: is missing path: ${op.path}: missing value`);
        }
        // A list index past the end is an error, not a missing value (evanphx/json-patch).
        const last = tokens[tokens.length - 1];
        if (
          Array.isArray(parent) &&
          last !== undefined &&
          arrayIndex(last, parent.length - 1) === undefined
        ) {
          throw new Error(
            `error in test for path: '${op.path}': Unable to access invalid index: ${last}: invalid index referenced`,
          );
        }
        // json-patch reads a missing key and a null alike (nil); nil equals only an op without value.
        const v = get(out, op.path) ?? null;
        const passes =
          v === null ? op.nilValue === true : op.nilValue !== true && plainEqual(v, op.value ?? null);
        if (!passes) {
          throw new Error(`testing value ${op.path} failed: test failed`);
        }
        break;
      }
    }
  }
  return out;
}
