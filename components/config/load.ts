/**
 * Reads the stack config from Pulumi, validates it (all faults at once, before any resource) and
 * wraps every secret value in `pulumi.secret` the moment it is read.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import type { SecretKey } from "./schema";
import { type ConfigEntry, type ConfigSource, configFromEntries, validateSource } from "./source";
import type { StackConfig } from "./validate";

export { decodeConfigValue } from "./source";

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

/** Every config value the program was given, through the shared loader (source.ts). */
export function readRawConfig(): ConfigSource {
  const entries: Record<string, ConfigEntry> = {};
  for (const [fullKey, value] of Object.entries(runtimeConfig.allConfig())) {
    entries[fullKey] = { value, secret: isSecretKey(fullKey) };
  }
  return configFromEntries(entries);
}

/**
 * Loads and validates the current stack's config. Throws `ConfigError` listing every problem.
 * Secret values come back only as secret Outputs.
 */
export function loadStackConfig(): LoadedConfig {
  const source = readRawConfig();
  for (const w of source.warnings) void pulumi.log.warn(w);
  const config = validateSource(source);
  const { secrets, secretSettings } = source;
  const wrapped: { [K in SecretKey]?: pulumi.Output<string> } = {};
  for (const [key, value] of Object.entries(secrets)) {
    if (value !== undefined) wrapped[key as SecretKey] = pulumi.secret(value);
  }
  return { config, secrets: wrapped, secretSettings };
}
