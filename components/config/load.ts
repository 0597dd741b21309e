/**
 * Reads the stack config from Pulumi, validates it (all faults at once, before any resource) and
 * wraps every secret value in `pulumi.secret` the moment it is read.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { ConfigError, type ConfigIssue } from "./errors";
import { CONFIG_NAMESPACE, SECRET_KEYS, type SecretKey } from "./schema";
import { type StackConfig, validateStackConfig } from "./validate";

/** Keys whose value is a plain string (everything else is YAML/JSON structured config). */
const STRING_KEYS = new Set(["clusterName", "talosVersion", "kubernetesVersion", "fluxGitUsername"]);

export type StackSecrets = { readonly [K in SecretKey]?: pulumi.Output<string> };

export interface LoadedConfig {
  readonly config: StackConfig;
  readonly secrets: StackSecrets;
  /**
   * Plain settings the stack stores as secrets anyway (e.g. `patches` set with `--secret`): the
   * program must not show them in plain views.
   */
  readonly secretSettings: readonly string[];
}

/** `isConfigSecret` exists at run time in every 3.x SDK but is missing from its typings. */
function isSecretKey(fullKey: string): boolean {
  const fn = (runtimeConfig as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  return fn ? fn(fullKey) : false;
}

/** Parses a config value: structured config arrives as JSON text, scalars as plain text. */
export function decodeConfigValue(key: string, text: string): unknown {
  if (STRING_KEYS.has(key)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Every `proxmox-talos:*` key of the current stack, decoded, split into plain and secret values. */
export function readRawConfig(): {
  raw: Record<string, unknown>;
  secrets: Partial<Record<SecretKey, string>>;
  secretSettings: string[];
  issues: ConfigIssue[];
} {
  const raw: Record<string, unknown> = {};
  const secretSettings: string[] = [];
  const secrets: Partial<Record<SecretKey, string>> = {};
  const issues: ConfigIssue[] = [];
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [fullKey, text] of Object.entries(runtimeConfig.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    if (key in SECRET_KEYS) {
      if (!isSecretKey(fullKey)) {
        issues.push({
          path: key,
          message: "is stored in plain text",
          fix: `remove it from the stack file and run: pulumi config set --secret ${fullKey} <value>`,
        });
      }
      secrets[key as SecretKey] = text;
    } else {
      raw[key] = decodeConfigValue(key, text);
      if (isSecretKey(fullKey)) secretSettings.push(key);
    }
  }
  return { raw, secrets, secretSettings, issues };
}

/**
 * Loads and validates the current stack's config. Throws `ConfigError` listing every problem.
 * Secret values come back only as secret Outputs.
 */
export function loadStackConfig(): LoadedConfig {
  const { raw, secrets, secretSettings, issues } = readRawConfig();
  let config: StackConfig | undefined;
  try {
    config = validateStackConfig(raw, secrets, secretSettings);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(CONFIG_NAMESPACE, [...issues, ...err.issues]);
  }
  if (issues.length > 0) throw new ConfigError(CONFIG_NAMESPACE, issues);
  const wrapped: { [K in SecretKey]?: pulumi.Output<string> } = {};
  for (const [key, value] of Object.entries(secrets)) {
    if (value !== undefined) wrapped[key as SecretKey] = pulumi.secret(value);
  }
  return { config, secrets: wrapped, secretSettings };
}
