/**
 * The runner sets itself up (issue #24 item 7), against the fake `pulumi` CLI: missing provider
 * plugins are installed through the Automation API from the server their npm package declares
 * (one line only when that fails, see operations.test.ts), and without any `pulumi` CLI the engine
 * is built where Go is present (progress shown) or one line says how to install the pinned Pulumi.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { sdkVersion } from "../../stacks/workspace";
import { PROJECT_ROOT } from "../helpers/shared";
import {
  cfg,
  FAKE_CLI_ROOT,
  homelabConfig,
  KUBERNETES_VERSION,
  ops,
  PROXMOX_VERSION,
  Sandbox,
  type World,
} from "./harness";

const PROXMOX_SERVER = JSON.parse(
  fs.readFileSync(path.join(PROJECT_ROOT, "node_modules/@muhlba91/pulumi-proxmoxve/package.json"), "utf8"),
).pulumi.server as string;

/** A homelab stack with no plugin installed; each plugin's server offers it. */
function installableWorld(): World {
  return {
    stacks: { dev: { config: homelabConfig() } },
    plugins: [],
    pluginServers: {
      [PROXMOX_SERVER]: [{ name: "proxmoxve", version: PROXMOX_VERSION }],
      default: [{ name: "kubernetes", version: KUBERNETES_VERSION }],
    },
  };
}

describe("stacks: the runner sets itself up", function () {
  this.timeout(60_000);
  let sb: Sandbox | undefined;
  afterEach(() => {
    sb?.dispose();
    sb = undefined;
  });

  it("installs missing plugins, a community one from its own server, then runs the operation", async () => {
    assert.equal(PROXMOX_SERVER, "github://api.github.com/muhlba91/pulumi-proxmoxve");
    sb = new Sandbox(installableWorld());
    const r = await sb.run(["up", "dev"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const installs = r.calls.filter((c) => c[0] === "plugin" && c[1] === "install");
    assert.deepEqual(installs, [
      ["plugin", "install", "resource", "proxmoxve", PROXMOX_VERSION, "--server", PROXMOX_SERVER],
      ["plugin", "install", "resource", "kubernetes", KUBERNETES_VERSION],
    ]);
    assert.deepEqual(ops(r.calls).slice(-1), ["up"]);
    assert.match(
      r.stdout,
      new RegExp(`^installing Pulumi plugin proxmoxve v${PROXMOX_VERSION} .* from ${PROXMOX_SERVER}$`, "m"),
    );
    assert.deepEqual(r.world.plugins?.map((p) => p.name).sort(), ["kubernetes", "proxmoxve"]);
  });

  it("a second run finds the plugins installed and installs nothing", async () => {
    sb = new Sandbox(installableWorld());
    assert.equal((await sb.run(["preview", "dev"])).code, 0);
    const before = fs.readFileSync(sb.logFile, "utf8").split("\n").filter(Boolean).length;
    const r = await sb.run(["preview", "dev"]);
    assert.equal(r.code, 0, r.stderr);
    const second = r.calls.slice(before);
    assert.ok(!second.some((c) => c[0] === "plugin" && c[1] === "install"), JSON.stringify(second));
  });

  it("no Pulumi CLI and no Go: one line saying how to install the pinned Pulumi", async () => {
    sb = new Sandbox({});
    const ws = await sb.workspace();
    const empty = path.join(sb.dir, "empty");
    fs.mkdirSync(empty);
    const r = await sb.run(["preview", "dev"], {
      workspace: { ...ws, pulumiCommand: undefined, env: sb.env({ PATH: empty }) },
    });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, r.stderr);
    const v = sdkVersion(sb.project);
    assert.ok(
      r.stderr.includes(`curl -fsSL https://get.pulumi.com | sh -s -- --version ${v}`),
      `no pinned install command in: ${r.stderr}`,
    );
  });

  it("no Pulumi CLI but Go: runs the engine build with progress, then the operation", async () => {
    const noAddons = { "proxmox-talos:addons": cfg({ cilium: { enabled: false } }) };
    sb = new Sandbox({ stacks: { dev: { config: noAddons } }, plugins: [], resources: 2 });
    // Stand-ins: a `go` on PATH, and an engine script that "builds" by linking the fake CLI into the
    // engine dir (the real scripts/pulumi-engine.sh writes the same place and reports on stderr).
    const goDir = path.join(sb.dir, "go-bin");
    fs.mkdirSync(goDir);
    fs.writeFileSync(path.join(goDir, "go"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    fs.mkdirSync(path.join(sb.project, "scripts"));
    fs.writeFileSync(
      path.join(sb.project, "scripts", "pulumi-engine.sh"),
      [
        "set -eu",
        'echo "pulumi-engine: building pulumi (fake)" >&2',
        'mkdir -p "$PULUMI_ENGINE_DIR"',
        `ln -sf ${JSON.stringify(path.join(FAKE_CLI_ROOT, "bin", "pulumi"))} "$PULUMI_ENGINE_DIR/pulumi"`,
        'echo "pulumi-engine: done" >&2',
        'echo "$PULUMI_ENGINE_DIR"',
      ].join("\n"),
    );
    const progress: string[] = [];
    const ws = await sb.workspace();
    const env = sb.env({
      PATH: [goDir, path.dirname(process.execPath), "/usr/bin", "/bin"].join(path.delimiter),
    });
    const r = await sb.run(["preview", "dev"], {
      workspace: { ...ws, pulumiCommand: undefined, env, log: (l) => progress.push(l) },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(progress[0] ?? "", /^no Pulumi CLI found: building the pinned engine .* `npm run engine`/);
    assert.deepEqual(progress.slice(1), ["pulumi-engine: building pulumi (fake)", "pulumi-engine: done"]);
    assert.ok(fs.existsSync(path.join(env.PULUMI_ENGINE_DIR, "pulumi")));
    assert.deepEqual(ops(r.calls).slice(-1), ["preview"]);
  });
});
