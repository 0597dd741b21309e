/**
 * The stack's config checked offline, before anything about plugins or the engine: the same loader
 * and rules as the program (components/config/source.ts), over the config the engine would pass
 * (`pulumi config --json`, secrets decrypted), plus the stack file's ambiguous YAML 1.1 scalars.
 * Milliseconds; its faults come first.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ConfigMap } from "@pulumi/pulumi/automation";
import { ConfigError, type ConfigIssue } from "../components/config/errors";
import { type ConfigEntry, configFromEntries, validateSource } from "../components/config/source";
import { readStackFile } from "../components/config/stack-file";
import { UserError } from "./errors";

/** Throws a UserError listing every config fault; returns the warnings (near-miss namespaces). */
export function checkStackConfig(config: ConfigMap, stackFile?: string): string[] {
  const entries: Record<string, ConfigEntry> = {};
  for (const [key, v] of Object.entries(config)) entries[key] = { value: v.value, secret: v.secret ?? false };
  const source = configFromEntries(entries);
  let fileIssues: readonly ConfigIssue[] = [];
  if (stackFile && fs.existsSync(stackFile)) {
    try {
      fileIssues = readStackFile(stackFile).issues;
    } catch (err) {
      throw new UserError((err as Error).message);
    }
  }
  try {
    validateSource(source, fileIssues);
  } catch (err) {
    if (err instanceof ConfigError) throw new UserError(err.message);
    throw err;
  }
  return source.warnings;
}

export function stackFilePath(root: string, stack: string): string {
  return path.join(root, `Pulumi.${stack}.yaml`);
}
