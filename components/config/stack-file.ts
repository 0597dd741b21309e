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
import { ConfigError, type ConfigIssue } from "./errors";
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

/**
 * A value as the Pulumi CLI passes it (sdk/go/common/resource/config/value.go `unmarshalValue`): a
 * top-level scalar is first read as a Go string, so it keeps its source text (`1.10` stays "1.10",
 * `!!binary` is decoded, null is ""); anything else becomes JSON. Only a map of exactly one string
 * `secure` is an encrypted value; a map with more keys is a plain object.
 */
function cliValue(node: unknown, value: unknown): { text: string; secure: boolean } {
  if (YAML.isScalar(node)) {
    if (value === null || value === undefined) return { text: "", secure: false };
    if (value instanceof Uint8Array) return { text: Buffer.from(value).toString("utf8"), secure: false };
    if (node.type === "PLAIN" && node.source !== undefined && typeof value !== "string")
      return { text: String(node.source), secure: false };
    return { text: configText(value), secure: false };
  }
  if (isSecureValue(value)) return { text: "", secure: true };
  return { text: configText(plainJson(value)), secure: hasSecureValue(value) };
}

function isSecureValue(value: unknown): boolean {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 && keys[0] === "secure" && typeof (value as { secure: unknown }).secure === "string"
  );
}

/** An object holding an encrypted value anywhere (the CLI decrypts it and makes the whole key secret). */
function hasSecureValue(value: unknown): boolean {
  if (isSecureValue(value)) return true;
  if (Array.isArray(value)) return value.some(hasSecureValue);
  if (value !== null && typeof value === "object") return Object.values(value).some(hasSecureValue);
  return false;
}

/** Nested values as the CLI's JSON holds them: `!!binary` decoded to text (yaml.v3 decodes it to a string). */
function plainJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  if (Array.isArray(value)) return value.map(plainJson);
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainJson(v)]));
  return value;
}

/** The config key (below the namespace) whose entry holds `line` (1-based), when one does. */
function keyAtLine(document: YAML.Document.Parsed, text: string, line: number): string {
  const section =
    document.contents && YAML.isMap(document.contents) ? document.contents.get("config", true) : undefined;
  let found = "";
  if (YAML.isMap(section)) {
    for (const item of section.items) {
      const at = YAML.isScalar(item.key) && item.key.range ? item.key.range[0] : undefined;
      if (at === undefined) continue;
      const keyLine = lineOf(text, at);
      if (keyLine <= line) found = String((item.key as YAML.Scalar).value);
    }
  }
  return found.startsWith(`${CONFIG_NAMESPACE}:`) ? found.slice(CONFIG_NAMESPACE.length + 1) : found;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Keys written twice in one map (the Pulumi CLI's YAML reader refuses them: "mapping key already defined"). */
function duplicateKeyIssues(node: unknown, path: string, text: string, out: ConfigIssue[]): void {
  if (YAML.isMap(node)) {
    const seen = new Map<string, number>();
    for (const item of node.items) {
      const key = YAML.isScalar(item.key) ? String(item.key.value) : String(item.key);
      const at = YAML.isNode(item.key) && item.key.range ? lineOf(text, item.key.range[0]) : 0;
      const child = path === "" ? key : `${path}.${key}`;
      const first = seen.get(key);
      if (first !== undefined) {
        out.push({
          path: child,
          message: `is written twice in the stack file (lines ${first} and ${at}); the Pulumi CLI refuses the file`,
          fix: "keep one of the two entries",
        });
      } else seen.set(key, at);
      duplicateKeyIssues(item.value, child, text, out);
    }
  } else if (YAML.isSeq(node)) {
    node.items.forEach((item, i) => {
      duplicateKeyIssues(item, `${path}[${i}]`, text, out);
    });
  }
}

/** A stack file the YAML reader cannot take at all: one ConfigError naming where and how to fix it. */
function unreadable(source: string, path: string, message: string, fix: string): ConfigError {
  return new ConfigError(CONFIG_NAMESPACE, [{ path, message: `${source}: ${message}`, fix }]);
}

/**
 * Parses the text of a stack file. Keys without a namespace get the project's. A file the Pulumi
 * CLI would refuse (not YAML, duplicate keys, several documents, `config` not a map) throws a
 * ConfigError naming the key and the line.
 */
export function parseStackFile(text: string, source = "stack file"): StackFileConfig {
  // yaml.v3 (the CLI's reader) applies `<<` merge keys; it reads only the first of several documents.
  const all = YAML.parseAllDocuments(text, { merge: true, uniqueKeys: false });
  const docs = Array.isArray(all) ? all : [];
  if (docs.length > 1) {
    throw unreadable(
      source,
      "config",
      `holds ${docs.length} YAML documents (separated by "---"); the Pulumi CLI reads only the first and ignores the rest`,
      "merge them into one document",
    );
  }
  const document = docs[0] ?? YAML.parseDocument("", { merge: true });
  if (document.errors.length > 0) {
    const error = document.errors[0]!;
    const line = error.linePos?.[0]?.line ?? 0;
    const tabs = /Tabs are not allowed/.test(error.message);
    throw unreadable(
      source,
      keyAtLine(document, text, line) || "config",
      `is not valid YAML at line ${line}: ${error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`,
      tabs ? "indent with spaces, not tabs" : "correct the YAML there (indentation, quotes, brackets)",
    );
  }
  const dupes: ConfigIssue[] = [];
  duplicateKeyIssues(document.contents, "", text, dupes);
  let doc: unknown;
  try {
    // Throws on an alias without its anchor, and on aliases that expand past yaml's limit (an alias bomb).
    doc = document.toJS();
  } catch (err) {
    throw unreadable(
      source,
      "config",
      `cannot be read: ${err instanceof Error ? err.message : String(err)}`,
      "define each &anchor before its *alias, and expand no alias more than a few times",
    );
  }
  const config: Record<string, string> = {};
  const secureKeys: string[] = [];
  const entries: Record<string, ConfigEntry> = {};
  // Paths below the namespace, as every other issue's (`config.proxmox-talos:nodes[0].name` → `nodes[0].name`).
  const issues: ConfigIssue[] = dupes.map((d) => ({
    ...d,
    path: d.path.replace(/^config\./, "").replace(`${CONFIG_NAMESPACE}:`, ""),
  }));
  const section = (doc as { config?: unknown } | null)?.config;
  if (section === undefined || section === null) return { config, secureKeys, entries, issues };
  if (typeof section !== "object" || Array.isArray(section))
    throw unreadable(
      source,
      "config",
      '"config" is not a map',
      "write config as a map of `namespace:key: value` lines",
    );
  const sectionNode = document.get("config", true);
  for (const [rawKey, value] of Object.entries(section as Record<string, unknown>)) {
    const key = rawKey.includes(":") ? rawKey : `${CONFIG_NAMESPACE}:${rawKey}`;
    const node = YAML.isMap(sectionNode) ? sectionNode.get(rawKey, true) : undefined;
    const read = cliValue(node, value);
    if (read.secure) {
      secureKeys.push(key);
      // An encrypted value (or an object holding one) cannot be read offline.
      entries[key] = { value: undefined, secret: true };
      continue;
    }
    config[key] = read.text;
    entries[key] = { value: config[key], secret: false };
    if (key.startsWith(`${CONFIG_NAMESPACE}:`) && YAML.isMap(sectionNode)) {
      scanAmbiguous(node, key.slice(CONFIG_NAMESPACE.length + 1), issues);
    }
  }
  return { config, secureKeys, entries, issues };
}

export function readStackFile(path: string): StackFileConfig {
  const bytes = fs.readFileSync(path);
  let text: string;
  try {
    // The CLI's YAML reader refuses bytes that are not UTF-8; a lenient read would turn them into U+FFFD.
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const bad = firstNonUtf8(bytes);
    const line = bytes.subarray(0, bad).toString("latin1").split("\n").length;
    throw unreadable(
      path,
      "config",
      `is not UTF-8 text (an invalid byte at line ${line})`,
      "save the file as UTF-8 (for example `iconv -f latin1 -t utf-8`)",
    );
  }
  return parseStackFile(text, path);
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence. */
function firstNonUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len =
      b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > bytes.length) return i;
    for (let k = 1; k < len; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += len;
  }
  return i;
}
