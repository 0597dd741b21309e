/**
 * The provider plugins a stack needs, checked before an operation so a missing one stops us
 * with one line naming the fix instead of an engine failure halfway through.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ConfigMap, PluginInfo } from "@pulumi/pulumi/automation";
import { UserError } from "./errors";
import { configValue, enabledAddons } from "./stack-config";

export interface PluginRequirement {
  readonly kind: "resource";
  readonly name: string;
  readonly version: string;
  readonly why: string;
}

function packageVersion(root: string, pkg: string): string {
  const file = path.join(root, "node_modules", pkg, "package.json");
  const json: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
  const p = json as { version?: unknown; pulumi?: { version?: unknown } };
  const v = p.pulumi?.version ?? p.version;
  if (typeof v !== "string") throw new UserError(`${file} has no version`);
  return v.replace(/^v/, "");
}

/** Proxmox when the config has `proxmox-talos:proxmox`; Kubernetes when any addon is enabled. */
export function requiredPlugins(config: ConfigMap, root: string): PluginRequirement[] {
  const out: PluginRequirement[] = [];
  if (configValue(config, "proxmox") !== undefined) {
    out.push({
      kind: "resource",
      name: "proxmoxve",
      version: packageVersion(root, "@muhlba91/pulumi-proxmoxve"),
      why: "proxmox-talos:proxmox is set",
    });
  }
  const addons = enabledAddons(config);
  if (addons.length > 0) {
    out.push({
      kind: "resource",
      name: "kubernetes",
      version: packageVersion(root, "@pulumi/kubernetes"),
      why: `addons enabled: ${addons.join(", ")}`,
    });
  }
  return out;
}

export function missingPlugins(
  needed: readonly PluginRequirement[],
  installed: readonly PluginInfo[],
): PluginRequirement[] {
  return needed.filter(
    (n) =>
      !installed.some(
        (p) => p.kind === n.kind && p.name === n.name && (p.version ?? "").replace(/^v/, "") === n.version,
      ),
  );
}

/** One line per missing plugin, e.g. for the error. */
export function missingPluginMessage(missing: readonly PluginRequirement[]): string {
  return missing
    .map(
      (m) =>
        `missing Pulumi plugin ${m.name} v${m.version} (${m.why}): run \`pulumi plugin install ${m.kind} ${m.name} ${m.version}\``,
    )
    .join("\n");
}

/** Throws a UserError naming each missing plugin and its install command. */
export async function ensurePlugins(
  config: ConfigMap,
  root: string,
  listPlugins: () => Promise<PluginInfo[]>,
): Promise<void> {
  const needed = requiredPlugins(config, root);
  if (needed.length === 0) return;
  const missing = missingPlugins(needed, await listPlugins());
  if (missing.length > 0) throw new UserError(missingPluginMessage(missing));
}
