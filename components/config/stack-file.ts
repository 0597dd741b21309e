/**
 * Reads a `Pulumi.<stack>.yaml` file the way the Pulumi CLI hands its config to a program:
 * `namespace:key` → text (scalars as text, objects and lists as JSON); keys without a namespace get
 * the project's. Encrypted (`secure:`) values cannot be read offline: they come back as secret
 * entries without a value. Plain scalars YAML 1.1 (the CLI's Go reader) and YAML 1.2 read
 * differently are faults (`vlan: 010` is 8 to the CLI, 10 to a YAML 1.2 reader; `yes`/`on` are
 * booleans to one reader and words to another), each with its fix.
 */
import * as fs from "node:fs";
import * as YAML from "yaml";
import type { ConfigIssue } from "./errors";
import { CONFIG_NAMESPACE } from "./schema";
import type { ConfigEntry } from "./source";

export interface StackFileConfig {
  /** `proxmox-talos:key` → value text, as `pulumi.runtime.allConfig()` would hold it. */
  readonly config: Record<string, string>;
  /** Keys whose values are encrypted (`secure:`) in the file. */
  readonly secureKeys: readonly string[];
  /** Every key as the shared loader (source.ts) takes it. */
  readonly entries: Record<string, ConfigEntry>;
  /** Ambiguous YAML 1.1 scalars, by config key path below the project namespace. */
  readonly issues: readonly ConfigIssue[];
}

/** Converts one parsed YAML config value to the text form Pulumi passes to programs. */
export function configText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

const YAML11_BOOL = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
const OCTAL_LOOKING = /^[-+]?0[0-9_]+$/;
const UNDERSCORED_NUMBER = /^[-+]?[0-9][0-9_]*_[0-9_]*$/;

function ambiguity(source: string): { message: string; fix: string } | undefined {
  if (OCTAL_LOOKING.test(source)) {
    const digits = source.replace(/_/g, "");
    const octal = /^[-+]?0[0-7]+$/.test(digits) ? Number.parseInt(digits, 8) : undefined;
    return {
      message: `${source} is ambiguous: the Pulumi CLI reads a leading 0 as octal${octal === undefined ? "" : ` (${octal})`}, YAML 1.2 as ${Number(digits)}`,
      fix: `write the number without the leading zero (${Number(digits)}), or quote it if it is text`,
    };
  }
  if (UNDERSCORED_NUMBER.test(source)) {
    return {
      message: `${source} is ambiguous: YAML 1.1 reads it as the number ${source.replace(/_/g, "")}, YAML 1.2 as text`,
      fix: `write ${source.replace(/_/g, "")}, or quote it if it is text`,
    };
  }
  if (YAML11_BOOL.test(source)) {
    return {
      message: `${source} is ambiguous: YAML 1.1 reads it as a boolean, YAML 1.2 (and the Pulumi CLI) as the word "${source}"`,
      fix: `write true or false, or quote "${source}" if you mean the word`,
    };
  }
  return undefined;
}

function scanAmbiguous(node: unknown, path: string, out: ConfigIssue[]): void {
  if (YAML.isScalar(node)) {
    if (node.type === "PLAIN" && node.source !== undefined) {
      const found = ambiguity(String(node.source));
      if (found) out.push({ path, ...found });
    }
    return;
  }
  if (YAML.isMap(node)) {
    for (const item of node.items) {
      const key = YAML.isScalar(item.key) ? String(item.key.value) : String(item.key);
      scanAmbiguous(item.value, path === "" ? key : `${path}.${key}`, out);
    }
    return;
  }
  if (YAML.isSeq(node)) {
    node.items.forEach((item, i) => {
      scanAmbiguous(item, `${path}[${i}]`, out);
    });
  }
}

/** Parses the text of a stack file. Keys without a namespace get the project's. */
export function parseStackFile(text: string, source = "stack file"): StackFileConfig {
  const document = YAML.parseDocument(text);
  if (document.errors.length > 0) {
    throw new Error(`${source}: not valid YAML: ${document.errors[0]!.message}`);
  }
  const doc: unknown = document.toJS();
  const config: Record<string, string> = {};
  const secureKeys: string[] = [];
  const entries: Record<string, ConfigEntry> = {};
  const issues: ConfigIssue[] = [];
  const section = (doc as { config?: unknown } | null)?.config;
  if (section === undefined || section === null) return { config, secureKeys, entries, issues };
  if (typeof section !== "object" || Array.isArray(section))
    throw new Error(`${source}: "config" must be a map`);
  const sectionNode = document.get("config", true);
  for (const [rawKey, value] of Object.entries(section as Record<string, unknown>)) {
    const key = rawKey.includes(":") ? rawKey : `${CONFIG_NAMESPACE}:${rawKey}`;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
      secureKeys.push(key);
      entries[key] = { value: undefined, secret: true };
      continue;
    }
    config[key] = configText(value);
    entries[key] = { value: config[key], secret: false };
    if (key.startsWith(`${CONFIG_NAMESPACE}:`) && YAML.isMap(sectionNode)) {
      scanAmbiguous(sectionNode.get(rawKey, true), key.slice(CONFIG_NAMESPACE.length + 1), issues);
    }
  }
  return { config, secureKeys, entries, issues };
}

export function readStackFile(path: string): StackFileConfig {
  return parseStackFile(fs.readFileSync(path, "utf8"), path);
}
