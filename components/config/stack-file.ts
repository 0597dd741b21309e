/**
 * Reads a `Pulumi.<stack>.yaml` file the way the Pulumi CLI hands its config to a program:
 * `namespace:key` → text (scalars as text, objects and lists as JSON). Encrypted (`secure:`) values
 * cannot be read offline; they are reported by key so callers can say what is missing.
 */
import * as fs from "node:fs";
import * as YAML from "yaml";
import { CONFIG_NAMESPACE } from "./schema";

export interface StackFileConfig {
  /** `proxmox-talos:key` → value text, as `pulumi.runtime.allConfig()` would hold it. */
  readonly config: Record<string, string>;
  /** Keys whose values are encrypted (`secure:`) in the file. */
  readonly secureKeys: readonly string[];
}

/** Converts one parsed YAML config value to the text form Pulumi passes to programs. */
export function configText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** Parses the text of a stack file. Keys without a namespace get the project's. */
export function parseStackFile(text: string, source = "stack file"): StackFileConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  const config: Record<string, string> = {};
  const secureKeys: string[] = [];
  const section = (doc as { config?: unknown } | null)?.config;
  if (section === undefined || section === null) return { config, secureKeys };
  if (typeof section !== "object" || Array.isArray(section))
    throw new Error(`${source}: "config" must be a map`);
  for (const [rawKey, value] of Object.entries(section as Record<string, unknown>)) {
    const key = rawKey.includes(":") ? rawKey : `${CONFIG_NAMESPACE}:${rawKey}`;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
      secureKeys.push(key);
      continue;
    }
    config[key] = configText(value);
  }
  return { config, secureKeys };
}

export function readStackFile(path: string): StackFileConfig {
  return parseStackFile(fs.readFileSync(path, "utf8"), path);
}
