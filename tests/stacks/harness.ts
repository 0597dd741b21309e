/**
 * Runs `stacks/cli.ts` in-process against the fake `pulumi` in tests/fakes/pulumi-cli: a temp
 * project dir, a JSON world the fake reads and writes, and the fake's log of every invocation.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { main } from "../../stacks/cli";
import type { SmokeRunner } from "../../stacks/smoke";
import type { WorkspaceOptions } from "../../stacks/workspace";
import { writeProject } from "../helpers/engine";
import { PROJECT_ROOT } from "../helpers/shared";

export const FAKE_CLI_ROOT = path.join(PROJECT_ROOT, "tests/fakes/pulumi-cli");

export interface ConfigEntry {
  value: string;
  secret: boolean;
}

export interface FakeStack {
  config?: Record<string, ConfigEntry>;
  outputs?: Record<string, unknown>;
  secretOutputs?: string[];
  resources?: number;
  history?: unknown[];
}

export interface World {
  stacks?: Record<string, FakeStack>;
  plugins?: { name: string; kind: string; version: string }[];
  /** What `pulumi plugin install` can fetch, per `--server` URL ("default": Pulumi's own server). */
  pluginServers?: Record<string, { name: string; version: string }[]>;
  fail?: Record<string, string>;
  resources?: number;
  upOutputs?: Record<string, unknown>;
  upSecretOutputs?: string[];
}

export interface Capture {
  text: string;
  isTTY?: boolean;
  write(s: string): void;
}

export function capture(isTTY = false): Capture {
  const c: Capture = {
    text: "",
    isTTY,
    write(s: string) {
      c.text += s;
    },
  };
  return c;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** argv of every fake CLI call, `--non-interactive` removed. */
  calls: string[][];
  /** Env the fake saw on its last call. */
  lastEnv: Record<string, string>;
  world: World;
}

/** Ops of interest in order: "up", "destroy", "stack rm", ... */
export function ops(calls: readonly string[][]): string[] {
  return calls
    .map((a) => (a[0] === "stack" || a[0] === "config" || a[0] === "plugin" ? `${a[0]} ${a[1]}` : a[0]))
    .filter((o) => !["version", "stack select", "stack history", "stack output", "plugin ls"].includes(o));
}

export class Sandbox {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "stacks-test-"));
  readonly project = path.join(this.dir, "project");
  readonly stateFile = path.join(this.dir, "world.json");
  readonly logFile = path.join(this.dir, "calls.jsonl");
  private readonly saved: Record<string, string | undefined> = {};

  constructor(world: World) {
    writeProject(this.project);
    fs.writeFileSync(this.stateFile, JSON.stringify(world));
    for (const [k, v] of Object.entries({
      FAKE_PULUMI_STATE: this.stateFile,
      FAKE_PULUMI_LOG: this.logFile,
    })) {
      this.saved[k] = process.env[k];
      process.env[k] = v;
    }
  }

  /** Environment for the workspace: no built engine, this sandbox's backend dir. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? "",
      HOME: this.dir,
      PULUMI_ENGINE_DIR: path.join(this.dir, "no-engine", "bin"),
      PULUMI_CONFIG_PASSPHRASE: "test",
      ...extra,
    };
  }

  async workspace(extra: Partial<WorkspaceOptions> = {}): Promise<WorkspaceOptions> {
    return {
      projectRoot: this.project,
      env: this.env(),
      pulumiCommand: await PulumiCommand.get({ root: FAKE_CLI_ROOT, skipVersionCheck: true }),
      program: async () => ({}),
      ...extra,
    };
  }

  async run(
    argv: string[],
    opts: { tty?: boolean; smoke?: SmokeRunner; workspace?: WorkspaceOptions } = {},
  ): Promise<RunResult> {
    const stdout = capture(opts.tty ?? false);
    const stderr = capture();
    const code = await main(argv, {
      io: { stdout, stderr },
      workspace: opts.workspace ?? (await this.workspace()),
      smoke: opts.smoke,
    });
    const lines = fs.existsSync(this.logFile)
      ? fs
          .readFileSync(this.logFile, "utf8")
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => JSON.parse(l) as { argv: string[]; env: Record<string, string> })
      : [];
    return {
      code,
      stdout: stdout.text,
      stderr: stderr.text,
      calls: lines.map((l) => l.argv),
      lastEnv: lines.length > 0 ? lines[lines.length - 1].env : {},
      world: JSON.parse(fs.readFileSync(this.stateFile, "utf8")) as World,
    };
  }

  dispose(): void {
    for (const [k, v] of Object.entries(this.saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export const cfg = (value: unknown, secret = false): ConfigEntry => ({
  value: typeof value === "string" ? value : JSON.stringify(value),
  secret,
});

/** A stack config like Pulumi.homelab.yaml's, as `pulumi config --json` gives it. */
export function homelabConfig(extra: Record<string, ConfigEntry> = {}): Record<string, ConfigEntry> {
  return {
    "proxmox-talos:clusterName": cfg("homelab"),
    "proxmox-talos:production": cfg(false),
    "proxmox-talos:controlPlane": cfg({ vip: "192.168.50.10" }),
    "proxmox-talos:network": cfg({
      cidr: "192.168.50.0/24",
      gateway: "192.168.50.1",
      dnsServers: ["192.168.50.1"],
    }),
    "proxmox-talos:proxmox": cfg({ endpoint: "https://pve1.example.lan:8006/" }),
    "proxmox-talos:nodes": cfg([
      { name: "cp-1", role: "controlplane", proxmoxNode: "pve1", vmId: 8101, ip: "192.168.50.11" },
      { name: "worker-1", role: "worker", proxmoxNode: "pve2", vmId: 8201, ip: "192.168.50.21" },
    ]),
    "proxmox-talos:addons": cfg({
      cilium: { enabled: true },
      metallb: { enabled: true, pools: [{ name: "default", addresses: ["192.168.50.200-192.168.50.220"] }] },
      openebs: { enabled: true },
    }),
    "proxmox-talos:proxmoxApiToken": cfg("root@pam!pulumi=secret-token", true),
    ...extra,
  };
}

function pkgVersion(pkg: string): string {
  const json = JSON.parse(
    fs.readFileSync(path.join(PROJECT_ROOT, "node_modules", pkg, "package.json"), "utf8"),
  ) as {
    version: string;
  };
  return json.version;
}

export const PROXMOX_VERSION = pkgVersion("@muhlba91/pulumi-proxmoxve");
export const KUBERNETES_VERSION = pkgVersion("@pulumi/kubernetes");
export const ALL_PLUGINS = [
  { name: "proxmoxve", kind: "resource", version: PROXMOX_VERSION },
  { name: "kubernetes", kind: "resource", version: KUBERNETES_VERSION },
];
