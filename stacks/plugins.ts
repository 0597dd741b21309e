/**
 * The provider plugins a stack needs, checked before an operation: a missing one is installed
 * through the Automation API (from the plugin server its npm package declares — a community plugin
 * such as proxmoxve is not on Pulumi's default server); only when that fails does the run stop,
 * with one line naming the command that would install it, instead of an engine failure halfway.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CommandError, type ConfigMap, type PluginInfo } from "@pulumi/pulumi/automation";
import { cliErrorLine, describeError, UserError } from "./errors";
import { configValue, enabledAddons } from "./stack-config";

export interface PluginRequirement {
  readonly kind: "resource";
  readonly name: string;
  readonly version: string;
  readonly why: string;
  /** Plugin server the package declares (`pulumi.server`); absent: Pulumi's default server. */
  readonly server?: string;
}

/** The plugin version and server an SDK package declares in its package.json. */
function packagePlugin(root: string, pkg: string): { version: string; server?: string } {
  const file = path.join(root, "node_modules", pkg, "package.json");
  const json: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
  const p = json as { version?: unknown; pulumi?: { version?: unknown; server?: unknown } };
  const v = p.pulumi?.version ?? p.version;
  if (typeof v !== "string") throw new UserError(`${file} has no version`);
  const server = p.pulumi?.server;
  return { version: v.replace(/^v/, ""), ...(typeof server === "string" && server ? { server } : {}) };
}

/** Proxmox when the config has `proxmox-talos:proxmox`; Kubernetes when any addon is enabled. */
export function requiredPlugins(config: ConfigMap, root: string): PluginRequirement[] {
  const out: PluginRequirement[] = [];
  if (configValue(config, "proxmox") !== undefined) {
    out.push({
      kind: "resource",
      name: "proxmoxve",
      ...packagePlugin(root, "@muhlba91/pulumi-proxmoxve"),
      why: "proxmox-talos:proxmox is set",
    });
  }
  const addons = enabledAddons(config);
  if (addons.length > 0) {
    out.push({
      kind: "resource",
      name: "kubernetes",
      ...packagePlugin(root, "@pulumi/kubernetes"),
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

/** The command that installs a plugin by hand (with `--server` where the package names one). */
export function installCommand(m: PluginRequirement): string {
  return `pulumi plugin install ${m.kind} ${m.name} ${m.version}${m.server ? ` --server ${m.server}` : ""}`;
}

/** One line per plugin that could not be installed: why, and the command to run. */
export function missingPluginMessage(
  failed: ReadonlyArray<{ plugin: PluginRequirement; why?: string }>,
): string {
  return failed
    .map(
      ({ plugin: m, why }) =>
        `missing Pulumi plugin ${m.name} v${m.version} (${m.why})${why ? `, and installing it failed (${why})` : ""}: run \`${installCommand(m)}\``,
    )
    .join("\n");
}

/** What `ensurePlugins` needs of a workspace (LocalWorkspace has all three). */
export interface PluginWorkspace {
  listPlugins(): Promise<PluginInfo[]>;
  installPlugin(name: string, version: string, kind?: string): Promise<void>;
  installPluginFromServer(name: string, version: string, server: string): Promise<void>;
}

/**
 * Installs every missing plugin (`log` says which, one line each); throws a UserError with one line
 * per plugin that could not be installed.
 */
export async function ensurePlugins(
  config: ConfigMap,
  root: string,
  ws: PluginWorkspace,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  const needed = requiredPlugins(config, root);
  if (needed.length === 0) return;
  const missing = missingPlugins(needed, await ws.listPlugins());
  const failed: { plugin: PluginRequirement; why: string }[] = [];
  for (const m of missing) {
    log(`installing Pulumi plugin ${m.name} v${m.version} (${m.why})${m.server ? ` from ${m.server}` : ""}`);
    try {
      if (m.server) await ws.installPluginFromServer(m.name, m.version, m.server);
      else await ws.installPlugin(m.name, m.version, m.kind);
    } catch (err) {
      failed.push({ plugin: m, why: err instanceof CommandError ? cliErrorLine(err) : describeError(err) });
    }
  }
  if (failed.length > 0) throw new UserError(missingPluginMessage(failed));
}
