/**
 * Helm's values merge (`helm install -f a.yaml -f b.yaml`, chart defaults under user values):
 * maps merge key by key, lists and scalars are replaced whole, and a key set to `null` is deleted.
 */

/** Helm values: a YAML/JSON mapping. */
export type HelmValues = { [key: string]: unknown };

/** True for a plain mapping (not an array, not null). */
export function isHelmMap(value: unknown): value is HelmValues {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A copy of `value` without the keys set to `null` (Helm drops them everywhere in user values). */
function withoutNulls(value: unknown): unknown {
  if (!isHelmMap(value)) return value;
  const out: HelmValues = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== null) out[k] = withoutNulls(v);
  }
  return out;
}

/**
 * Merges `override` over `base` as Helm does; neither argument is modified. Maps merge
 * recursively; lists, scalars and type changes replace; `null` in `override` deletes the key.
 */
export function helmMerge(base: HelmValues, override: HelmValues | undefined): HelmValues {
  const out: HelmValues = { ...base };
  for (const [key, value] of Object.entries(override ?? {})) {
    if (value === null) {
      delete out[key];
    } else if (isHelmMap(value) && isHelmMap(out[key])) {
      out[key] = helmMerge(out[key] as HelmValues, value);
    } else {
      out[key] = withoutNulls(structuredClone(value));
    }
  }
  return out;
}
