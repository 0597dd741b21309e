/** Reading the project's keys out of a stack's config (as `pulumi config --json` gives it). */
import type { ConfigMap } from "@pulumi/pulumi/automation";
import { AddonsConfigSchema } from "../components/addons/config";
import { decodeConfigValue } from "../components/config/source";
import { PROJECT_NAME } from "./workspace";

export const key = (name: string): string => `${PROJECT_NAME}:${name}`;

/** A project key's value, decoded as the program decodes it (components/config/source.ts). */
export function configValue(config: ConfigMap, name: string): unknown {
  const v = config[key(name)];
  return v === undefined ? undefined : decodeConfigValue(name, v.value);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isProduction(config: ConfigMap): boolean {
  const v = configValue(config, "production");
  return v === true || v === "true";
}

/**
 * Names of the addons `proxmox-talos:addons` turns on, defaults included (Cilium is on unless
 * disabled). An addons value the schema rejects falls back to the explicit `enabled: true` ones;
 * the program reports the fault itself.
 */
export function enabledAddons(config: ConfigMap): string[] {
  const addons = configValue(config, "addons");
  const parsed = AddonsConfigSchema.safeParse(addons ?? {});
  if (parsed.success) {
    return Object.entries(parsed.data)
      .filter(([, a]) => a.enabled)
      .map(([name]) => name);
  }
  if (!isRecord(addons)) return [];
  return Object.entries(addons)
    .filter(([, a]) => isRecord(a) && a.enabled === true)
    .map(([name]) => name);
}

export function nodeCount(config: ConfigMap): number {
  const nodes = configValue(config, "nodes");
  return Array.isArray(nodes) ? nodes.length : 0;
}
