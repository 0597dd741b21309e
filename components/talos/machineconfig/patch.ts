/**
 * Talos machine-config patches with the semantics of Talos' own `configpatcher`
 * (`pkg/machinery/config/configpatcher`, `config/merge`, `configloader` delete selectors), checked
 * against it empirically (tests/talos/patch-oracle.test.ts):
 *
 * Strategic merge (a YAML map, possibly several documents):
 * - a patch document with `apiVersion`/`kind` targets the config document with the same apiVersion,
 *   kind and `name` (when it has one); a document without kind (keys machine/cluster/…) targets the
 *   v1alpha1 document. A patch document matching nothing is appended.
 * - maps merge key by key; lists append; a scalar replaces, except that an empty string or 0 leaves
 *   the existing value alone (Go zero values), while `false` does replace; `null` changes nothing.
 * - special lists: `cluster.network.podSubnets`/`serviceSubnets` are replaced, `cluster.apiServer.auditPolicy`
 *   is replaced as a whole, `*.extraArgs` are merged key by key with replacement,
 *   `machine.network.interfaces` merge by `interface` (or an identical `deviceSelector` without
 *   `physical`), their `vlans` by `vlanId`, `cluster.apiServer.admissionControl` by `name`,
 *   ExtensionServiceConfig `configFiles` by `mountPath`.
 * - free-form (`Unstructured`) fields — kubelet.extraConfig, admissionControl[].configuration,
 *   auditPolicy … — merge like maps, but a scalar of another type than the existing one is an error.
 * - `$patch: delete` in a map deletes that map's key (the rest of that map in the patch is ignored);
 *   in a list item it deletes the first existing item whose field `<first other key>` equals the
 *   given string value (a key-less item, or one nested deeper, is refused); at document level (with
 *   apiVersion/kind[/name]) it deletes the document. Deletes run before the merge of the same patch
 *   document. Deleting a missing key of a Go map (nodeLabels, sysctls, extraArgs …) or of a free-form
 *   field fails ("lookup failed"); Talos ≤ 1.11 cannot delete inside free-form fields at all.
 * - duplicate documents in one patch, unknown kinds and unknown top-level v1alpha1 keys are refused
 *   (deeper unknown keys are not detected here: that needs Talos' types).
 *
 * RFC 6902 (a YAML/JSON list of operations): only on a single-document config (Talos 1.12+ configs
 * are multi-document, so Talos refuses them there).
 *
 * Patches apply in the order given, as `talosctl --config-patch` does.
 */

import { decodeDocument, tableKind } from "./fields/decode";
import { type FieldSpec, fieldsFor, type MinorFields, registeredKinds } from "./fields/table";
import { applyJson6902, type JsonPatchOperation, toJsonPatchOperations } from "./patch-json6902";
import { type PatcherQuirks, quirksFor } from "./patch-quirks";
import {
  clonePlain,
  isPlainObject,
  type PlainObject,
  type PlainValue,
  parseYamlDocuments,
  plainEqual,
  stringifyYamlDocuments,
  toPlain,
} from "./patch-yaml";
import { formatIssues, type ValidateExpectations, validateMachineConfigDocuments } from "./validate";

export type { JsonPatchOperation } from "./patch-json6902";
export type { PlainObject, PlainValue } from "./patch-yaml";

/**
 * One patch: YAML text (a map, possibly multi-document = strategic merge; a list of operations =
 * RFC 6902), a parsed strategic-merge document, or a parsed list of RFC 6902 operations.
 */
export type ConfigPatch =
  | string
  | { readonly [key: string]: unknown }
  | readonly JsonPatchOperation[]
  | readonly { readonly [key: string]: unknown }[];

export interface ApplyPatchesOptions {
  /** Node name used in error messages. */
  readonly node: string;
  /** Validate the patched config (validate.ts); default true. */
  readonly validate?: boolean;
  /** Cross-field expectations for that validation (role, VIP). */
  readonly expect?: ValidateExpectations;
  /**
   * Talos version the config is for (`1.11`, `v1.11.6` …); selects version-specific patcher
   * behaviour (≤ 1.11 cannot `$patch: delete` inside free-form maps). Default: newest behaviour.
   */
  readonly talosVersion?: string;
}

/** A patch that cannot be loaded or applied, or that leaves an invalid config. */
export class ConfigPatchError extends Error {
  constructor(
    readonly node: string,
    readonly patchIndex: number | undefined,
    readonly detail: string,
  ) {
    super(`node ${node}: ${patchIndex === undefined ? "" : `patch #${patchIndex + 1}: `}${detail}`);
    this.name = "ConfigPatchError";
  }
}

const V1ALPHA1_KEYS = new Set(["version", "debug", "persist", "machine", "cluster"]);

/** Identity of a config document: `apiVersion/kind[/name]`; the v1alpha1 document is `/v1alpha1`. */
export interface DocumentId {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name?: string;
}

export function documentId(doc: PlainObject): DocumentId {
  const kind = typeof doc.kind === "string" && doc.kind !== "" ? doc.kind : undefined;
  if (kind === undefined) return { apiVersion: "", kind: "v1alpha1" };
  const apiVersion = typeof doc.apiVersion === "string" ? doc.apiVersion : "";
  const name = typeof doc.name === "string" && doc.name !== "" ? doc.name : undefined;
  return name === undefined ? { apiVersion, kind } : { apiVersion, kind, name };
}

export function documentIdString(id: DocumentId): string {
  return `${id.apiVersion}/${id.kind}${id.name === undefined ? "" : `/${id.name}`}`;
}

// ---------------------------------------------------------------------------------------------
// Loading

interface DeleteSelector {
  readonly type: "delete";
  readonly id: DocumentId;
  /** Path of keys; a list-item delete ends with the list's key. */
  readonly path: readonly string[];
  /** For list items: the field and (string) value the item is selected by. */
  readonly match?: { readonly key: string; readonly value: string };
}

interface MergeDocument {
  readonly type: "merge";
  readonly id: DocumentId;
  readonly doc: PlainObject;
}

type StrategicItem = DeleteSelector | MergeDocument;

/** A loaded patch. */
export type LoadedPatch =
  | { readonly type: "strategic"; readonly items: readonly StrategicItem[] }
  | { readonly type: "json6902"; readonly ops: readonly JsonPatchOperation[] };

function isDeleteMarker(key: string, value: PlainValue): boolean {
  return key === "$patch" && value === "delete";
}

/**
 * Extracts `$patch: delete` markers from one patch document (mutating it like Talos' decoder:
 * deleted maps/items vanish, containers left empty vanish too). Returns whether the whole document
 * is gone.
 */
function extractDeletes(root: PlainObject, out: DeleteSelector[]): boolean {
  const selectorFor = (path: string[], match?: { key: string; value: string }): DeleteSelector => {
    const apiVersion = typeof root.apiVersion === "string" ? root.apiVersion : "";
    const kind = typeof root.kind === "string" ? root.kind : "";
    if (path.length === 0 && apiVersion === "") {
      throw new Error("missing apiVersion in document for which $patch: delete is used");
    }
    if (path.length === 0 && kind === "") {
      throw new Error("missing kind in document for which $patch: delete is used");
    }
    if ((kind === "") !== (apiVersion === "")) {
      throw new Error(`kind and apiVersion must be both set for path ${path.join(".")}`);
    }
    const name = typeof root.name === "string" && root.name !== "" ? root.name : undefined;
    const id: DocumentId =
      kind === ""
        ? { apiVersion: "", kind: "v1alpha1" }
        : name
          ? { apiVersion, kind, name }
          : { apiVersion, kind };
    return match ? { type: "delete", id, path, match } : { type: "delete", id, path };
  };

  // Returns true when `node` must be removed from its parent.
  const visit = (node: PlainValue, path: string[], parentIsList: boolean): boolean => {
    if (isPlainObject(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (isDeleteMarker(k, v)) {
          if (parentIsList) {
            const other = Object.entries(node).find(([ok, ov]) => !isDeleteMarker(ok, ov));
            if (!other) throw new Error(`no key:val found in sequence node for path ${path.join(".")}`);
            const value = typeof other[1] === "string" ? other[1] : other[1] === null ? "" : String(other[1]);
            out.push(selectorFor(path.slice(0, -1), { key: other[0], value }));
          } else {
            if (path.some((p) => p.startsWith("["))) {
              throw new Error(`cannot delete an inner key in '${path.join(".")}'`);
            }
            out.push(selectorFor(path));
          }
          return true;
        }
        if (visit(v, [...path, k], false)) {
          delete node[k];
          if (Object.keys(node).length === 0) return true;
        }
      }
    } else if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        if (visit(node[i]!, [...path, `[${i}]`], true)) {
          node.splice(i, 1);
          i--;
          if (node.length === 0) return true;
        }
      }
    }
    return false;
  };

  if (visit(root, [], false)) return true;
  // A document left with only version/kind/name scalars is dropped too.
  return Object.entries(root).every(
    ([k, v]) => (k === "version" || k === "kind" || k === "name") && !isPlainObject(v) && !Array.isArray(v),
  );
}

function tableVersion(quirks: PatcherQuirks): string {
  return quirks.talosVersion ?? "99.99";
}

function knownKind(kind: string, quirks: PatcherQuirks): boolean {
  return registeredKinds(tableVersion(quirks)).has(kind);
}

function loadStrategic(docs: readonly PlainValue[], quirks: PatcherQuirks): LoadedPatch {
  const items: StrategicItem[] = [];
  const seen = new Set<string>();
  for (const raw of docs) {
    if (raw === null) continue;
    if (!isPlainObject(raw)) throw new Error("expected a YAML document (a map) in a strategic merge patch");
    const doc = clonePlain(raw);
    const deletes: DeleteSelector[] = [];
    const gone = extractDeletes(doc, deletes);
    items.push(...deletes);
    if (gone) continue;
    // Any other `$patch` is an ordinary key: Talos refuses it in typed sections (unknown key),
    // keeps it in map-typed ones (nodeLabels …); only the top level is checked here.
    if (Object.hasOwn(doc, "$patch")) throw new Error("unknown keys found during decoding: $patch");
    const kind = typeof doc.kind === "string" ? doc.kind : "";
    const apiVersion = typeof doc.apiVersion === "string" ? doc.apiVersion : "";
    const name = typeof doc.name === "string" ? doc.name : "";
    const key = `${apiVersion}/${kind || "v1alpha1"}/${name}`;
    if (seen.has(key)) throw new Error(`duplicate document ${key} is not allowed`);
    seen.add(key);
    const isV1alpha1 = kind === "" && Object.keys(doc).some((k) => k !== "version" && V1ALPHA1_KEYS.has(k));
    if (isV1alpha1) {
      const unknown = Object.keys(doc).filter((k) => !V1ALPHA1_KEYS.has(k));
      if (unknown.length > 0) throw new Error(`unknown keys found during decoding: ${unknown.join(", ")}`);
    } else if (kind === "") {
      throw new Error(`error decoding document ${key}: missing kind`);
    } else if (apiVersion === "") {
      throw new Error(`error decoding document ${key}: missing apiVersion`);
    } else if (apiVersion !== "v1alpha1" || !knownKind(kind, quirks)) {
      throw new Error(`error decoding document ${key}: "${kind}" "${apiVersion}": not registered`);
    }
    // Talos decodes every patch document into its typed config: unknown keys and wrong types fail here.
    const issues = decodeDocument(doc, tableVersion(quirks));
    if (issues.length > 0) {
      throw new Error(
        `error decoding document ${key}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
      );
    }
    items.push({ type: "merge", id: documentId(doc), doc });
  }
  return { type: "strategic", items };
}

/** Talos tries a patch as JSON first: JSON text keeps JSON's null semantics. */
function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads one patch (YAML text or parsed form), deciding strategic merge vs RFC 6902. With
 * `talosVersion`, document kinds that version does not know are refused.
 */
export function loadPatch(patch: ConfigPatch, opts: { readonly talosVersion?: string } = {}): LoadedPatch {
  const quirks = quirksFor(opts.talosVersion);
  if (typeof patch === "string") {
    const docs = parseYamlDocuments(patch, "patch", {
      refuseTimestamps: quirks.refusesTimestampIntoString,
    }).filter((d) => d !== null);
    // Talos reads a patch with no document (empty, comments only) as an empty RFC 6902 list.
    if (docs.length === 0) return { type: "json6902", ops: [] };
    const first = docs[0];
    if (docs.length === 1 && Array.isArray(first)) {
      return { type: "json6902", ops: toJsonPatchOperations(first, isJsonText(patch)) };
    }
    if (docs.some((d) => Array.isArray(d))) throw new Error("expected a YAML document, got a list");
    return loadStrategic(docs, quirks);
  }
  const plain = toPlain(patch, "patch");
  // Structured patches arrive from Pulumi config as JSON.
  if (Array.isArray(plain)) return { type: "json6902", ops: toJsonPatchOperations(plain, true) };
  return loadStrategic([plain], quirks);
}

// ---------------------------------------------------------------------------------------------
// Strategic merge

/** Path of a value: doc kind + keys, list items as `[]`. */
type MergePath = readonly string[];

const REPLACE_PATHS = new Set([
  "v1alpha1:cluster.network.podSubnets",
  "v1alpha1:cluster.network.serviceSubnets",
  "v1alpha1:cluster.apiServer.auditPolicy",
  "NetworkRuleConfig:ingress",
  "NetworkRuleConfig:portSelector.ports",
]);

/** v1alpha1 fields typed as Go maps: deleting a key they do not have fails ("lookup failed"). */
const MAP_PATHS = new Set([
  "v1alpha1:machine.sysctls",
  "v1alpha1:machine.sysfs",
  "v1alpha1:machine.nodeLabels",
  "v1alpha1:machine.nodeAnnotations",
  "v1alpha1:machine.nodeTaints",
  "v1alpha1:machine.env",
  "v1alpha1:machine.registries.mirrors",
  "v1alpha1:machine.registries.config",
  "v1alpha1:machine.kubelet.extraArgs",
  "v1alpha1:cluster.extraManifestHeaders",
  "v1alpha1:cluster.apiServer.extraArgs",
  "v1alpha1:cluster.controllerManager.extraArgs",
  "v1alpha1:cluster.scheduler.extraArgs",
  "v1alpha1:cluster.proxy.extraArgs",
  "v1alpha1:cluster.etcd.extraArgs",
]);

/**
 * v1alpha1 fields of Talos' `Unstructured` type (free-form maps): inside them a scalar of another
 * type is a merge error, and `$patch: delete` cannot reach into them.
 */
const UNSTRUCTURED_PATHS = new Set([
  "v1alpha1:machine.baseRuntimeSpecOverrides",
  "v1alpha1:machine.kubelet.extraConfig",
  "v1alpha1:machine.kubelet.credentialProviderConfig",
  "v1alpha1:cluster.apiServer.auditPolicy",
  "v1alpha1:cluster.apiServer.admissionControl.[].configuration",
  "v1alpha1:cluster.apiServer.authorizationConfig.[].webhook",
  "v1alpha1:cluster.scheduler.config",
]);

/** True when `path` lies strictly inside an Unstructured field. */
function insideUnstructured(path: MergePath): boolean {
  for (let n = 2; n < path.length; n++) {
    if (UNSTRUCTURED_PATHS.has(pathKey(path.slice(0, n)))) return true;
  }
  return false;
}

/** Go's name of the type a YAML value decodes to inside an Unstructured map. */
function goType(v: PlainValue): string {
  if (Array.isArray(v)) return "[]interface {}";
  if (isPlainObject(v)) return "map[string]interface {}";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float64";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

type ItemMatcher = (a: PlainObject, b: PlainObject) => boolean;

function selectorEqual(a: PlainValue | undefined, b: PlainValue | undefined): boolean {
  // Go compares the selector structs by value; `physical` is a *bool, compared by pointer, so a
  // selector carrying `physical` never matches another one.
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  if ((a.physical ?? null) !== null || (b.physical ?? null) !== null) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? "") !== (b[k] ?? "")) return false;
  return true;
}

const KEYED_LISTS: ReadonlyMap<string, ItemMatcher> = new Map<string, ItemMatcher>([
  [
    "v1alpha1:machine.network.interfaces",
    (a, b) => {
      const name = b.interface ?? "";
      if (name !== "") return a.interface === name;
      if ((b.deviceSelector ?? null) !== null) return selectorEqual(a.deviceSelector, b.deviceSelector);
      return false;
    },
  ],
  ["v1alpha1:machine.network.interfaces.[].vlans", (a, b) => (a.vlanId ?? 0) === (b.vlanId ?? 0)],
  ["v1alpha1:cluster.apiServer.admissionControl", (a, b) => (a.name ?? "") === (b.name ?? "")],
  ["ExtensionServiceConfig:configFiles", (a, b) => (a.mountPath ?? "") === (b.mountPath ?? "")],
]);

function pathKey(path: MergePath): string {
  return `${path[0]}:${path.slice(1).join(".")}`;
}

function describe(v: PlainValue | undefined): string {
  if (Array.isArray(v)) return "a list";
  if (isPlainObject(v)) return "a map";
  return v === null || v === undefined ? "null" : typeof v;
}

function shownPath(path: MergePath): string {
  return path.slice(1).join(".") || "(document root)";
}

function isZeroScalar(v: PlainValue): boolean {
  return v === "" || v === 0;
}

/** What the merge knows about the document being merged: its field types and the minor's quirks. */
interface MergeContext {
  readonly fields: MinorFields;
  readonly quirks: PatcherQuirks;
}

/** The type of `key` inside a value of type `spec` (undefined: unknown, merged by shape). */
function childSpec(ctx: MergeContext, spec: FieldSpec | undefined, key: string): FieldSpec | undefined {
  if (spec === undefined) return undefined;
  if (typeof spec === "string") {
    if (!spec.startsWith("@")) return undefined;
    const type = ctx.fields.types[spec.slice(1)];
    return type && Object.hasOwn(type, key) ? type[key] : undefined;
  }
  if ("l" in spec) return key === "[]" ? spec.l : undefined;
  if ("m" in spec) return spec.m;
  return undefined;
}

function structName(spec: FieldSpec | undefined): string | undefined {
  return typeof spec === "string" && spec.startsWith("@") ? spec.slice(1) : undefined;
}

/**
 * Talos merges struct fields one by one, also those the patch leaves out: a field whose type
 * merges by replacement (quirks.replacedOnMerge) ends up as the patch's value, or nothing.
 */
function resetReplacedFields(
  ctx: MergeContext,
  left: PlainObject,
  right: PlainObject,
  spec: FieldSpec | undefined,
  depth = 0,
): void {
  const name = structName(spec);
  const type = name ? ctx.fields.types[name] : undefined;
  if (!name || !type || depth > 8) return;
  for (const field of Object.keys(type)) {
    if (ctx.quirks.replacedOnMerge.has(`${name}.${field}`)) {
      const given = right[field];
      if (given === undefined || given === null) delete left[field];
      continue;
    }
    const sub = left[field];
    if (isPlainObject(sub) && structName(type[field]) && !isPlainObject(right[field])) {
      const before = Object.keys(sub).length;
      resetReplacedFields(ctx, sub, {}, type[field], depth + 1);
      if (before > 0 && Object.keys(sub).length === 0) delete left[field];
    }
  }
}

/** Merges `right` into `left` (returns the merged value; `left` may be mutated). */
function mergeValue(
  left: PlainValue | undefined,
  right: PlainValue,
  path: MergePath,
  ctx: MergeContext,
  spec: FieldSpec | undefined,
): PlainValue | undefined {
  if (right === null) return left;
  const key = pathKey(path);
  if (left !== undefined && left !== null && goType(left) !== goType(right) && insideUnstructured(path)) {
    throw new Error(
      `merge type mismatch at ${shownPath(path)}: merge type mismatch left ${goType(left)} right ${goType(right)}`,
    );
  }
  if (left === undefined || left === null) {
    // Merging into nothing still runs the keyed-list merge (duplicates inside the patch collapse).
    if (Array.isArray(right) && KEYED_LISTS.has(key)) return mergeValue([], right, path, ctx, spec);
    // Into an absent struct field (not a Go map entry, not free-form): a Go zero value stays zero,
    // which Talos' encoder omits (omitempty), e.g. `kubePrism: {port: 0}` on a 1.14 config. Pointer
    // fields, where an explicit 0 is a value, are settled by the caller (zeroReplaces).
    const typed = !insideUnstructured(path);
    if (
      typed &&
      typeof right !== "boolean" &&
      isZeroScalar(right) &&
      !MAP_PATHS.has(pathKey(path.slice(0, -1)))
    ) {
      return undefined;
    }
    if (typed && isPlainObject(right) && !MAP_PATHS.has(key)) return mergeValue({}, right, path, ctx, spec);
    return clonePlain(right);
  }
  if (Array.isArray(right)) {
    if (!Array.isArray(left)) {
      throw new Error(
        `merge type mismatch at ${shownPath(path)}: config has ${describe(left)}, patch has a list`,
      );
    }
    if (REPLACE_PATHS.has(key)) return clonePlain(right);
    const matcher = KEYED_LISTS.get(key);
    if (!matcher) return [...left, ...clonePlain(right)];
    const itemSpec = childSpec(ctx, spec, "[]");
    const out = [...left];
    for (const item of right) {
      const existingIndex = isPlainObject(item)
        ? out.findIndex((x) => isPlainObject(x) && matcher(x, item))
        : -1;
      if (existingIndex >= 0) {
        out[existingIndex] = mergeValue(out[existingIndex], item, [...path, "[]"], ctx, itemSpec) ?? null;
      } else {
        out.push(
          isPlainObject(item)
            ? (mergeValue(undefined, item, [...path, "[]"], ctx, itemSpec) ?? null)
            : clonePlain(item),
        );
      }
    }
    return out;
  }
  if (isPlainObject(right)) {
    if (!isPlainObject(left)) {
      throw new Error(
        `merge type mismatch at ${shownPath(path)}: config has ${describe(left)}, patch has a map`,
      );
    }
    if (REPLACE_PATHS.has(key)) return clonePlain(right);
    if (path[path.length - 1] === "extraArgs" && path[0] === "v1alpha1") {
      return { ...left, ...clonePlain(right) };
    }
    for (const [k, v] of Object.entries(right)) {
      const sub = childSpec(ctx, spec, k);
      const name = structName(spec);
      if (name && ctx.quirks.replacedOnMerge.has(`${name}.${k}`)) {
        if (v !== null) left[k] = clonePlain(v);
        continue;
      }
      if (v === 0 && name && ctx.quirks.zeroReplaces.has(`${name}.${k}`)) {
        left[k] = 0; // a pointer field: an explicit 0 is a value
        continue;
      }
      const merged = mergeValue(left[k], v, [...path, k], ctx, sub);
      if (merged !== undefined) left[k] = merged;
    }
    resetReplacedFields(ctx, left, right, spec);
    return left;
  }
  if (Array.isArray(left) || isPlainObject(left)) {
    throw new Error(
      `merge type mismatch at ${shownPath(path)}: config has ${describe(left)}, patch has ${describe(right)}`,
    );
  }
  // Go zero values leave the old value alone (pointer fields are handled by the caller).
  if (typeof right !== "boolean" && isZeroScalar(right)) return left;
  return right;
}

interface ConfigDoc {
  id: DocumentId;
  doc: PlainObject;
  /**
   * A delete selector for a document the config did not have: Talos keeps it as a placeholder
   * document (encoded as `{}`), which still counts as a document and cannot be merged into.
   * Never emitted here.
   */
  phantom?: boolean;
}

function sameId(a: DocumentId, b: DocumentId): boolean {
  return a.apiVersion === b.apiVersion && a.kind === b.kind && (a.name ?? "") === (b.name ?? "");
}

function applyDelete(docs: ConfigDoc[], sel: DeleteSelector, quirks: PatcherQuirks): void {
  const idx = docs.findIndex((d) => sameId(d.id, sel.id));
  const where = `${sel.id.apiVersion}/${sel.id.kind}`;
  const shown = sel.path.join(".");
  if (idx < 0) {
    // Talos appends the delete selector itself as a placeholder document (see ConfigDoc.phantom).
    docs.push({ id: sel.id, doc: {}, phantom: true });
    return;
  }
  if (docs[idx]!.phantom) {
    if (sel.path.length === 0) {
      docs.splice(idx, 1);
      return;
    }
    throw new Error(
      `patch delete: path '${sel.path.join(".")}' in document '${sel.id.apiVersion}/${sel.id.kind}': lookup failed`,
    );
  }
  if (sel.path.length === 0) {
    if (sel.id.kind === "v1alpha1") {
      throw new Error(
        `patch delete: path '' in document '${where}': can't delete the root of the legacy document`,
      );
    }
    docs.splice(idx, 1);
    return;
  }
  const fail = (why: string): never => {
    throw new Error(
      `patch delete: path '${shown}' in document '${where}': failed to delete path '${shown}': ${why}`,
    );
  };
  let cur: PlainValue = docs[idx]!.doc;
  const keys = sel.path;
  if (keys.some((k) => k.startsWith("["))) {
    fail("searching for complex paths in slices is not supported");
    return;
  }
  const root = sel.id.kind === "v1alpha1" ? "v1alpha1" : sel.id.kind;
  const inFreeForm = insideUnstructured([root, ...keys]);
  if (inFreeForm && quirks.noDeleteInsideUnstructured) {
    fail("lookup failed");
    return;
  }
  for (let i = 0; i < keys.length - 1; i++) {
    if (!isPlainObject(cur)) {
      fail("lookup failed");
      return;
    }
    const next: PlainValue | undefined = cur[keys[i]!];
    if (next === undefined || next === null) {
      // An absent parent section: Talos ≤ 1.11 panics (reflect on a nil pointer), 1.12+ fail the lookup.
      if (quirks.panicsOnDeleteUnderMissingParent) {
        throw new Error(
          `patch delete: path '${shown}' in document '${where}': '${keys.slice(0, i + 1).join(".")}' is absent; Talos ${quirks.talosVersion ?? ""} crashes on such a delete (1.12+ refuse it: lookup failed) — remove this $patch: delete or target a section the config has`,
        );
      }
      fail("lookup failed");
      return;
    }
    cur = next;
  }
  const last = keys[keys.length - 1]!;
  if (!isPlainObject(cur)) {
    fail("lookup failed");
    return;
  }
  if (sel.match) {
    const list = cur[last];
    if (!Array.isArray(list)) {
      fail("lookup failed");
      return;
    }
    const at = list.findIndex((item) => isPlainObject(item) && item[sel.match!.key] === sel.match!.value);
    if (at < 0) {
      fail("lookup failed");
      return;
    }
    list.splice(at, 1);
    return;
  }
  if (!Object.hasOwn(cur, last) && (inFreeForm || MAP_PATHS.has(pathKey([root, ...keys.slice(0, -1)])))) {
    fail("lookup failed");
    return;
  }
  delete cur[last];
}

function applyStrategic(
  docs: ConfigDoc[],
  patch: { items: readonly StrategicItem[] },
  quirks: PatcherQuirks,
): ConfigDoc[] {
  const out = docs.map((d) => ({ ...d, doc: clonePlain(d.doc) }));
  for (const item of patch.items) {
    if (item.type === "delete") {
      applyDelete(out, item, quirks);
      continue;
    }
    const target = out.find((d) => sameId(d.id, item.id));
    if (!target) {
      out.push({ id: item.id, doc: clonePlain(item.doc) });
      continue;
    }
    if (target.phantom) {
      throw new Error(
        `merge type mismatch: document ${documentIdString(item.id)} was deleted by an earlier patch that did not find it (Talos keeps a placeholder that cannot be merged into)`,
      );
    }
    const root: MergePath = [item.id.kind === "v1alpha1" ? "v1alpha1" : item.id.kind];
    const fields = fieldsFor(tableVersion(quirks));
    const typeName = fields.kinds[tableKind(item.doc)];
    const ctx: MergeContext = { fields, quirks };
    mergeValue(target.doc, item.doc, root, ctx, typeName === undefined ? undefined : `@${typeName}`);
  }
  return out;
}

/** A copy of `v` without the empty maps and lists of map- and list-typed fields (Go's omitempty). */
function withoutEmptyCollections(
  fields: MinorFields,
  v: PlainObject,
  spec: FieldSpec | undefined,
): PlainObject {
  const name = structName(spec);
  const type = name ? fields.types[name] : undefined;
  const out: PlainObject = {};
  for (const [k, x] of Object.entries(v)) {
    const sub = type?.[k];
    const collection = typeof sub === "object" && ("m" in sub || "l" in sub);
    if (
      collection &&
      ((Array.isArray(x) && x.length === 0) || (isPlainObject(x) && Object.keys(x).length === 0))
    )
      continue;
    out[k] = isPlainObject(x) && structName(sub) ? withoutEmptyCollections(fields, x, sub) : clonePlain(x);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Entry point

function configDocs(docs: readonly PlainValue[]): ConfigDoc[] {
  return docs.map((d, i) => {
    if (!isPlainObject(d)) throw new Error(`machine config document #${i + 1} is not a map`);
    return { id: documentId(d), doc: d };
  });
}

/**
 * Applies `patches` in order to a (multi-document) machine config and returns the patched YAML.
 * Throws a ConfigPatchError naming the node (and the patch, and the config path) when a patch
 * cannot be loaded or applied or leaves an invalid config.
 */
export function applyPatches(
  configYaml: string,
  patches: readonly ConfigPatch[],
  opts: ApplyPatchesOptions,
): string {
  let values: PlainValue[];
  try {
    values = parseYamlDocuments(configYaml, "machine config");
  } catch (e) {
    throw new ConfigPatchError(opts.node, undefined, (e as Error).message);
  }
  return applyPatchesToDocuments(values, patches, opts);
}

/**
 * `applyPatches` over config documents built in memory (fresh plain values, which it may change):
 * the same result without writing and re-reading the YAML first.
 */
export function applyPatchesToDocuments(
  documents: readonly PlainValue[],
  patches: readonly ConfigPatch[],
  opts: ApplyPatchesOptions,
): string {
  return stringifyYamlDocuments(patchConfigDocuments(documents, patches, opts));
}

/**
 * `applyPatchesToDocuments` without writing the YAML: the patched documents, for callers that go on
 * working with them (the config-time patch check, one patch at a time).
 */
export function patchConfigDocuments(
  documents: readonly PlainValue[],
  patches: readonly ConfigPatch[],
  opts: ApplyPatchesOptions,
): PlainValue[] {
  let docs: ConfigDoc[];
  try {
    docs = configDocs(documents);
  } catch (e) {
    throw new ConfigPatchError(opts.node, undefined, (e as Error).message);
  }
  return patchDocuments(docs, patches, opts);
}

function patchDocuments(
  docs: ConfigDoc[],
  patches: readonly ConfigPatch[],
  opts: ApplyPatchesOptions,
): PlainValue[] {
  const quirks = quirksFor(opts.talosVersion);
  patches.forEach((patch, i) => {
    try {
      const loaded = loadPatch(patch, { talosVersion: opts.talosVersion });
      if (loaded.type === "json6902") {
        if (docs.length !== 1) {
          throw new Error("JSON6902 patches are not supported for multi-document machine configuration");
        }
        let patched: PlainValue;
        try {
          // RFC 6902 works on the encoded config, where Go omits empty maps and lists.
          const fields = fieldsFor(quirks.talosVersion ?? "99.99");
          const typeName = fields.kinds[tableKind(docs[0]!.doc)];
          patched = applyJson6902(
            withoutEmptyCollections(fields, docs[0]!.doc, typeName ? `@${typeName}` : undefined),
            loaded.ops,
          );
        } catch (e) {
          throw new Error(
            `failure applying rfc6902 patches to talos machine config: ${(e as Error).message}`,
          );
        }
        if (!isPlainObject(patched)) throw new Error("JSON patch left a config that is not a map");
        docs = [{ id: documentId(patched), doc: patched }];
      } else {
        docs = applyStrategic(docs, loaded, quirks);
      }
    } catch (e) {
      throw new ConfigPatchError(opts.node, i, (e as Error).message);
    }
  });
  // Up to 1.13 the placeholder stays: a named one crashes the writer; an unnamed one is written as
  // `{}`, which Talos' loader (validation, not the patcher) refuses as a second v1alpha1 document.
  const phantom = docs.find((d) => d.phantom && (d.id.name !== undefined || opts.validate !== false));
  if (phantom && quirks.crashesOnUnmatchedNamedDocumentDelete) {
    const outcome =
      phantom.id.name !== undefined
        ? "crashes writing such a config"
        : "writes it as an empty document `{}` and then refuses to load the config (duplicate document /v1alpha1/)";
    throw new ConfigPatchError(
      opts.node,
      undefined,
      `$patch: delete of document ${documentIdString(phantom.id)}, which the config does not have: Talos ${quirks.talosVersion ?? ""} ${outcome} — remove that delete`,
    );
  }
  const result = docs.filter((d) => !d.phantom).map((d) => d.doc);
  if (opts.validate !== false) {
    // What Talos' config loader would refuse (e.g. an unknown key an RFC 6902 patch added).
    const version = quirks.talosVersion ?? "99.99";
    const undecodable = result.flatMap((doc) =>
      decodeDocument(doc, version).map(
        (i) => `${documentIdString(documentId(doc))}: ${i.path}: ${i.message}`,
      ),
    );
    if (undecodable.length > 0) {
      throw new ConfigPatchError(opts.node, undefined, `config does not decode: ${undecodable.join("; ")}`);
    }
    const issues = validateMachineConfigDocuments(result, {
      ...opts.expect,
      talosVersion: opts.talosVersion,
    });
    if (issues.length > 0) {
      throw new ConfigPatchError(
        opts.node,
        undefined,
        `config invalid after patches: ${formatIssues(issues)}`,
      );
    }
  }
  return result;
}

/** True when two configs are equal as parsed YAML (document order and map key order ignored). */
export function sameConfig(a: string, b: string): boolean {
  const pa = parseYamlDocuments(a);
  const pb = parseYamlDocuments(b);
  if (pa.length !== pb.length) return false;
  return pa.every((d) => pb.some((e) => plainEqual(d, e)));
}
