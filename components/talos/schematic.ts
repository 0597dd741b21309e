/**
 * Image Factory schematics (facts.md §6): canonical schematic YAML, its ID, and download/installer
 * references. The ID is the hex SHA-256 of the YAML exactly as the factory canonicalises it
 * (go yaml v4: 4-space indent, omitempty, lists in the given order), so we emit that text by hand.
 */
import { sha256Hex } from "../hash";
import { mustParseVersion } from "../version";
import { IMAGE_FACTORY_URL } from "../versions";

/** One `customization.meta` entry: a Talos META key (0–255) and its value. */
export interface SchematicMeta {
  readonly key: number;
  readonly value: string;
}

export interface SchematicOptions {
  /** Extra kernel command-line arguments (`customization.extraKernelArgs`). */
  readonly extraKernelArgs?: readonly string[];
  /** Talos META entries written into the image (`customization.meta`). */
  readonly meta?: readonly SchematicMeta[];
  /** `customization.secureboot.includeWellKnownCertificates`: enroll Microsoft's UEFI CAs too. */
  readonly includeWellKnownCertificates?: boolean;
}

// Only values go yaml emits as plain scalars are accepted, so the hand-written YAML stays canonical.
/** An official extension is `<owner>/<name>` (siderolabs/qemu-guest-agent), each part starting alphanumeric. */
const EXTENSION_RE = /^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*$/;

/** True for an official extension name the stack config accepts and the schematic can carry. */
export function isOfficialExtensionName(name: string): boolean {
  return EXTENSION_RE.test(name);
}

/**
 * META keys the image must not set (pkg/machinery/meta/constants.go, 1.10–1.14): 0 marks an empty
 * slot (`meta.Value.Parse`: "key cannot be 0"); 6–9 and 17 are Talos' own (upgrade state, staged
 * upgrade, STATE encryption config, disk-image bootloader), which `IsAPIWriteable` refuses too.
 */
export const RESERVED_META_KEYS: ReadonlyMap<number, string> = new Map([
  [0, "the empty-slot marker"],
  [6, "Talos' upgrade state"],
  [7, "Talos' staged upgrade image"],
  [8, "Talos' staged upgrade options"],
  [9, "Talos' STATE encryption config"],
  [17, "Talos' disk-image bootloader"],
]);
/**
 * A string yaml.v3 writes unquoted: starts (after at most two dashes) with a letter or `_`, has no
 * space, quote, `#` or flow character, does not end in `:` and is not a YAML 1.1 boolean or null
 * (those are quoted). Checked against image-factory's own Marshal with ../shared/tools/schematic-id.
 */
const PLAIN_SCALAR_RE = /^-{0,2}[A-Za-z_][A-Za-z0-9_.,=/:+@-]*$/;
const QUOTED_WORDS = new Set(["y", "yes", "n", "no", "on", "off", "true", "false", "null"]);

/** True when the factory's canonical YAML carries `value` as a plain (unquoted) scalar. */
export function isPlainSchematicScalar(value: string): boolean {
  return PLAIN_SCALAR_RE.test(value) && !value.endsWith(":") && !QUOTED_WORDS.has(value.toLowerCase());
}

function list(indent: string, items: readonly string[]): string {
  return items.map((i) => `${indent}- ${i}\n`).join("");
}

/** Canonical schematic YAML; `customization: {}\n` when there is nothing to customise. */
export function schematicYaml(extensions: readonly string[], opts: SchematicOptions = {}): string {
  for (const e of extensions) {
    if (!isOfficialExtensionName(e))
      throw new Error(`schematic: invalid extension name "${e}" (expected e.g. siderolabs/qemu-guest-agent)`);
  }
  const args = opts.extraKernelArgs ?? [];
  for (const a of args) {
    if (!isPlainSchematicScalar(a)) throw new Error(`schematic: unsupported kernel argument "${a}"`);
  }
  const meta = opts.meta ?? [];
  for (const m of meta) {
    if (!(Number.isInteger(m.key) && m.key >= 0 && m.key <= 255))
      throw new Error(`schematic: META key ${m.key} is not a whole number from 0 to 255`);
    if (!isPlainSchematicScalar(m.value)) throw new Error(`schematic: unsupported META value "${m.value}"`);
  }
  let body = "";
  // Field order of the factory's Customization struct (v0.8.4): extraKernelArgs, meta,
  // systemExtensions, secureboot; empty fields are left out (omitempty).
  if (args.length > 0) body += `    extraKernelArgs:\n${list("        ", args)}`;
  if (meta.length > 0)
    body += `    meta:\n${meta.map((m) => `        - key: ${m.key}\n          value: ${m.value}\n`).join("")}`;
  if (extensions.length > 0)
    body += `    systemExtensions:\n        officialExtensions:\n${list("            ", extensions)}`;
  if (opts.includeWellKnownCertificates)
    body += "    secureboot:\n        includeWellKnownCertificates: true\n";
  return body === "" ? "customization: {}\n" : `customization:\n${body}`;
}

/** Schematic ID: hex SHA-256 of the canonical YAML. */
export function schematicId(yaml: string): string {
  return sha256Hex(yaml);
}

const ID_RE = /^[0-9a-f]{64}$/;
function checkId(id: string): void {
  if (!ID_RE.test(id)) throw new Error(`schematic: invalid schematic id "${id}"`);
}

/** `1.14.1` or `v1.14.1` (pre-releases too) → its parsed form; the URL paths use its `tag`. */
function parseVersion(v: string) {
  return mustParseVersion(v, "schematic: Talos version");
}

function base(factoryUrl: string): string {
  return factoryUrl.replace(/\/+$/, "");
}

/** `<factory>/image/<id>/v<ver>/<file>`: where the Image Factory serves a schematic's images. */
function factoryImageUrl(factoryUrl: string, id: string, talosVersion: string, file: string): string {
  checkId(id);
  return `${base(factoryUrl)}/image/${id}/${parseVersion(talosVersion).tag}/${file}`;
}

/**
 * `<factory>/image/<id>/v<ver>/nocloud-amd64[-secureboot].raw.zst` — the Proxmox VM disk image
 * (zstd since Talos 1.8; Proxmox decompresses it). The factory reads `-secureboot` after the
 * arch as the Secure Boot (signed UKI, systemd-boot) profile (`internal/profile/profile.go`).
 */
export function nocloudImageUrl(
  factoryUrl: string,
  id: string,
  talosVersion: string,
  arch = "amd64",
  secureBoot = false,
): string {
  const profile = `nocloud-${arch}${secureBoot ? "-secureboot" : ""}`;
  return factoryImageUrl(factoryUrl, id, talosVersion, `${profile}.raw.zst`);
}

/** `<factory>/image/<id>/v<ver>/<platform>-amd64.iso`. */
export function isoImageUrl(
  factoryUrl: string,
  id: string,
  talosVersion: string,
  platform = "nocloud",
  arch = "amd64",
): string {
  return factoryImageUrl(factoryUrl, id, talosVersion, `${platform}-${arch}.iso`);
}

/**
 * Installer image reference: `<host>/<platform>-installer[-secureboot]/<id>:v<ver>` for Talos >= 1.10
 * (unified installer), legacy `<host>/installer[-secureboot]/<id>:v<ver>` below. `factoryHost` may
 * be a URL or a bare host.
 */
export function installerImage(
  factoryHost: string,
  id: string,
  talosVersion: string,
  platform = "nocloud",
  secureBoot = false,
): string {
  checkId(id);
  const v = parseVersion(talosVersion);
  const host = base(factoryHost.replace(/^https?:\/\//, ""));
  const unified = v.major > 1 || (v.major === 1 && v.minor >= 10);
  const name = `${unified ? `${platform}-installer` : "installer"}${secureBoot ? "-secureboot" : ""}`;
  return `${host}/${name}/${id}:${v.tag}`;
}

/** Host part of the default Image Factory URL (`factory.talos.dev`). */
export const IMAGE_FACTORY_HOST = new URL(IMAGE_FACTORY_URL).host;
