/**
 * The one loader of stack config, shared by the program (`load.ts`), `npm run render` and the
 * `preview`/`up` runner (stacks/): from `namespace:key` → {value text, secret?} entries, as the Pulumi
 * CLI hands them to a program, it picks the project's keys, decodes them, separates the secrets
 * (a secret key stored in plain text is a fault), and warns about keys of a near-miss namespace
 * (`proxmoxtalos:production` would be silently ignored, leaving production unprotected).
 */
import { ConfigError, type ConfigIssue } from "./errors";
import { CONFIG_NAMESPACE, SECRET_KEYS, type SecretKey } from "./schema";
import { type StackConfig, validateStackConfig } from "./validate";

/** One config value as the Pulumi CLI passes it: its text (JSON for objects) and whether it is secret. */
export interface ConfigEntry {
  /** Undefined when the value cannot be read here (an encrypted value read offline). */
  readonly value: string | undefined;
  readonly secret: boolean;
}

export interface ConfigSource {
  /** Project keys (no namespace) → decoded values. */
  readonly raw: Record<string, unknown>;
  readonly secrets: Partial<Record<SecretKey, string>>;
  /** Plain settings the stack stores as secrets anyway (e.g. `patches` set with `--secret`). */
  readonly secretSettings: string[];
  /** Faults of the source itself (plain-text secrets); reported with the validation's. */
  readonly issues: ConfigIssue[];
  /** Things worth saying that are not faults (near-miss namespaces). */
  readonly warnings: string[];
}

/** Keys whose value is a plain string (everything else is YAML/JSON structured config). */
const STRING_KEYS = new Set(["clusterName", "talosVersion", "kubernetesVersion", "fluxGitUsername"]);

/** Parses a config value: structured config arrives as JSON text, scalars as plain text. */
export function decodeConfigValue(key: string, text: string): unknown {
  if (STRING_KEYS.has(key)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function squash(ns: string): string {
  return ns.toLowerCase().replace(/[-_.\s]/g, "");
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** A namespace that is almost the project's (a typo of it), not another project's or provider's. */
export function isNearMissNamespace(ns: string, project = CONFIG_NAMESPACE): boolean {
  if (ns === project) return false;
  return squash(ns) === squash(project) || editDistance(ns.toLowerCase(), project) <= 2;
}

export function configFromEntries(
  entries: Readonly<Record<string, ConfigEntry>>,
  project = CONFIG_NAMESPACE,
): ConfigSource {
  const raw: Record<string, unknown> = {};
  const secrets: Partial<Record<SecretKey, string>> = {};
  const secretSettings: string[] = [];
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const prefix = `${project}:`;
  for (const [fullKey, entry] of Object.entries(entries)) {
    if (!fullKey.startsWith(prefix)) {
      const ns = fullKey.includes(":") ? fullKey.slice(0, fullKey.indexOf(":")) : "";
      const bare = fullKey.slice(ns.length + 1);
      if (ns && isNearMissNamespace(ns, project) && bare in SECRET_KEYS && !entry.secret) {
        // Ignored by the program, but a secret written in plain text all the same.
        issues.push({
          path: bare,
          message: `is stored in plain text under the namespace "${ns}" (which the program ignores)`,
          fix: `remove ${fullKey} from the stack file and run: pulumi config set --secret ${prefix}${bare} <value>`,
        });
      } else if (ns && isNearMissNamespace(ns, project)) {
        warnings.push(
          `${fullKey} is ignored: its namespace "${ns}" is not "${project}" — rename it to ${prefix}${fullKey.slice(ns.length + 1)}`,
        );
      }
      continue;
    }
    const key = fullKey.slice(prefix.length);
    if (key in SECRET_KEYS) {
      if (!entry.secret) {
        issues.push({
          path: key,
          message: "is stored in plain text",
          fix: `remove it from the stack file and run: pulumi config set --secret ${fullKey} <value>`,
        });
      }
      if (entry.value !== undefined) secrets[key as SecretKey] = entry.value;
      continue;
    }
    if (entry.value !== undefined) raw[key] = decodeConfigValue(key, entry.value);
    else if (entry.secret) {
      // Only offline (render reads the file itself): the engine hands the program decrypted values.
      issues.push({
        path: key,
        message: "is encrypted (secure:) and cannot be read offline, and it is no secret",
        fix: `store it in plain text: pulumi config set ${fullKey} <value> (only secret keys need --secret)`,
      });
    }
    if (entry.secret) secretSettings.push(key);
  }
  return { raw, secrets, secretSettings, issues, warnings };
}

/**
 * Validates what a source holds: the source's own faults (plain-text secrets), `extra` faults (an
 * ambiguous scalar in the stack file) and every validation fault, thrown together as one ConfigError.
 * `offlineSecrets` stand in for secrets that cannot be read here (render needs no Proxmox token).
 */
export function validateSource(
  src: ConfigSource,
  extra: readonly ConfigIssue[] = [],
  offlineSecrets: Partial<Record<SecretKey, string>> = {},
): StackConfig {
  const before = [...extra, ...src.issues];
  let config: StackConfig;
  try {
    config = validateStackConfig(src.raw, { ...offlineSecrets, ...src.secrets }, src.secretSettings);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // A key already reported as ambiguous is not reported again for the type its reading gave.
    const named = new Set(before.map((i) => i.path));
    throw new ConfigError(CONFIG_NAMESPACE, [...before, ...err.issues.filter((i) => !named.has(i.path))]);
  }
  if (before.length > 0) throw new ConfigError(CONFIG_NAMESPACE, before);
  return config;
}
