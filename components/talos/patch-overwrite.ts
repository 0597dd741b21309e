/**
 * Talos' merge quirk for fields whose Go type implements its own `Merge` (block.ByteSize,
 * block.Size, cel.Expression): `merge.Merge` calls it for every such field of the target document,
 * set in the patch or not, and it copies the patch's value — so a strategic-merge patch of a
 * volume document replaces its disk selector, minSize and maxSize with the patch's (dropping them
 * when the patch leaves them out). Found with talos-oracle `patch` on 1.10–1.14
 * (`pkg/machinery/config/merge/merge.go`, `config/types/block/byte_size.go`).
 */
import { isPlainObject, type PlainObject, type PlainValue } from "./patch-yaml";

/** Volume kinds with a `provisioning` spec, and its merger-typed leaves. */
const VOLUME_KINDS = new Set(["VolumeConfig", "UserVolumeConfig", "RawVolumeConfig", "SwapVolumeConfig"]);
const OVERWRITTEN_PATHS: readonly (readonly string[])[] = [
  ["provisioning", "diskSelector", "match"],
  ["provisioning", "minSize"],
  ["provisioning", "maxSize"],
];

function get(doc: PlainValue | undefined, path: readonly string[]): PlainValue | undefined {
  let cur: PlainValue | undefined = doc;
  for (const k of path) cur = isPlainObject(cur) ? cur[k] : undefined;
  return cur;
}

/** Sets or removes `path` in `doc`, pruning maps left empty. */
function put(doc: PlainObject, path: readonly string[], value: PlainValue | undefined): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    if (value === undefined) delete doc[head];
    else doc[head] = value;
    return;
  }
  let child = doc[head];
  if (!isPlainObject(child)) {
    if (value === undefined) return;
    child = {};
    doc[head] = child;
  }
  put(child, rest, value);
  if (Object.keys(child).length === 0) delete doc[head];
}

/** After merging `patch` into `target` (a document of `kind`), applies the overwrite quirk. */
export function applyMergerOverwrites(kind: string, target: PlainObject, patch: PlainObject): void {
  if (!VOLUME_KINDS.has(kind)) return;
  for (const path of OVERWRITTEN_PATHS) put(target, path, get(patch, path));
}
