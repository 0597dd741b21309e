/**
 * Per-policy configuration: each policy declares its defaults once; the same object feeds the
 * JSON schema the engine shows and validates (`configSchema`), and the values the policy reads.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

type ConfigValue = boolean | number | string | readonly string[];
export type ConfigDefaults = Readonly<Record<string, ConfigValue>>;

type Widen<T> = T extends boolean
  ? boolean
  : T extends number
    ? number
    : T extends string
      ? string
      : readonly string[];
export type ConfigOf<D extends ConfigDefaults> = { readonly [K in keyof D]: Widen<D[K]> };

/** JSON schema of a config object with the given defaults and descriptions. */
export function schemaOf<D extends ConfigDefaults>(
  defaults: D,
  descriptions: { readonly [K in keyof D]: string },
  extra: { readonly [K in keyof D]?: PolicyConfigJSONSchema } = {},
): PolicyConfigSchema {
  const properties: Record<string, PolicyConfigJSONSchema> = {};
  for (const [key, value] of Object.entries(defaults)) {
    const base: PolicyConfigJSONSchema = Array.isArray(value)
      ? { type: "array", items: { type: "string" } }
      : { type: typeof value === "number" ? "number" : typeof value === "boolean" ? "boolean" : "string" };
    properties[key] = {
      ...base,
      ...(extra[key] ?? {}),
      description: descriptions[key],
      default: Array.isArray(value) ? [...value] : value,
    };
  }
  return { properties };
}

function sameKind(value: unknown, like: ConfigValue): boolean {
  if (Array.isArray(like)) return Array.isArray(value) && value.every((v) => typeof v === "string");
  return typeof value === typeof like;
}

/**
 * The policy's config: what the engine passed (`args.getConfig()`), over the defaults. A value of the
 * wrong kind is ignored (the engine already validates against the schema; tests call directly).
 */
export function readConfig<D extends ConfigDefaults>(
  args: { getConfig<T extends object>(): T },
  defaults: D,
): ConfigOf<D> {
  const given = args.getConfig<Record<string, unknown>>();
  const out: Record<string, unknown> = { ...defaults };
  for (const key of Object.keys(defaults)) {
    const value = given[key];
    if (value !== undefined && sameKind(value, defaults[key])) out[key] = value;
  }
  return out as ConfigOf<D>;
}
