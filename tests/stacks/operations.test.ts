import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ALL_PLUGINS, cfg, homelabConfig, ops, PROXMOX_VERSION, Sandbox } from "./harness";

const KUBECONFIG = "apiVersion: v1\nkind: Config\n";

describe("stacks cli: preview / up / destroy against the fake pulumi", function () {
  this.timeout(30_000);
  let sb: Sandbox | undefined;
  afterEach(() => sb?.dispose());

  it("up prints plain progress lines and a summary with secrets masked", async () => {
    sb = new Sandbox({
      stacks: { dev: { config: homelabConfig() } },
      plugins: ALL_PLUGINS,
      resources: 3,
      upOutputs: {
        endpoint: "https://192.168.50.10:6443",
        kubeconfig: KUBECONFIG,
        nodes: ["cp-1", "worker-1"],
      },
      upSecretOutputs: ["kubeconfig"],
    });
    const r = await sb.run(["up", "dev"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[up dev\] starting$/m);
    assert.match(r.stdout, /^\[up dev\] 1\/\d+ create fake:index:Thing r1 \(\d+s\)$/m);
    assert.match(r.stdout, /^\[up dev\] 3\/3 create fake:index:Thing r3 \(\d+s\)$/m);
    assert.match(r.stdout, /^\[up dev\] succeeded in \d+s — create 3$/m);
    assert.match(r.stdout, /^ {2}endpoint: https:\/\/192\.168\.50\.10:6443$/m);
    assert.match(r.stdout, /^ {2}kubeconfig: \[secret\]$/m);
    assert.match(r.stdout, /^ {2}nodes: \["cp-1","worker-1"\]$/m);
    assert.ok(!r.stdout.includes("apiVersion"), "secret output leaked");
    const up = r.calls.find((c) => c[0] === "up");
    assert.ok(up, "no up call");
    assert.ok(up.includes("--exec-kind") && up.includes("auto.inline"), "program not inline");
    assert.ok(up.some((a) => a.startsWith("--client=127.0.0.1:")));
    assert.equal(r.lastEnv.PULUMI_SKIP_UPDATE_CHECK, "true");
    assert.equal(r.lastEnv.PULUMI_BACKEND_URL, `file://${path.join(sb.project, ".pulumi")}`);
    assert.ok(fs.existsSync(path.join(sb.project, ".pulumi")), "local backend dir not created");
  });

  it("--json prints one JSON object per line, ending with the summary", async () => {
    sb = new Sandbox({
      stacks: { dev: { config: homelabConfig() } },
      plugins: ALL_PLUGINS,
      resources: 2,
      upOutputs: { kubeconfig: KUBECONFIG },
      upSecretOutputs: ["kubeconfig"],
    });
    const r = await sb.run(["up", "dev", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(objs[0].type, "start");
    const progress = objs.filter((o) => o.type === "progress");
    assert.equal(progress.length, 4, "pre + done for 2 resources");
    assert.deepEqual(
      progress.map((p) => [p.phase, p.done]),
      [
        ["pre", 0],
        ["done", 1],
        ["pre", 1],
        ["done", 2],
      ],
    );
    const summary = objs[objs.length - 1];
    assert.equal(summary.type, "summary");
    assert.equal(summary.ok, true);
    assert.deepEqual(summary.changes, { create: 2 });
    assert.deepEqual(summary.outputs, { kubeconfig: "[secret]" });
    assert.equal(typeof summary.durationMs, "number");
  });

  it("on a TTY keeps one updating line", async () => {
    sb = new Sandbox({ stacks: { dev: { config: {} } }, resources: 2, plugins: ALL_PLUGINS });
    const r = await sb.run(["preview", "dev"], { tty: true });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.stdout.includes("\r\u001b[2K[preview dev] 2/2 resources · create fake:index:Thing r2 · "),
      r.stdout,
    );
    assert.match(r.stdout, /\[preview dev\] succeeded in \d+s — create 2\n/);
    assert.ok(!/^\[preview dev\] 1\/2 create/m.test(r.stdout), "TTY mode printed plain lines");
  });

  it("a failed up exits 1 with the engine's error, colour tags removed", async () => {
    sb = new Sandbox({
      stacks: { dev: { config: {} } },
      plugins: ALL_PLUGINS,
      resources: 4,
      fail: { up: "proxmox: VM 8101 already exists" },
    });
    const r = await sb.run(["up", "dev"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^\[up dev\] error: fake:index:Thing r2: proxmox: VM 8101 already exists$/m);
    assert.match(r.stdout, /^\[up dev\] failed in \d+s/m);
    assert.match(
      r.stdout,
      /^\[up dev\] failed in \d+s — create 1\n\[up dev\] error: fake:index:Thing r2: proxmox: VM 8101 already exists$/m,
    );
    assert.ok(!r.stdout.includes("<{%"));
  });

  it("a missing provider plugin that cannot be installed stops before the operation with one line naming the fix", async () => {
    sb = new Sandbox({ stacks: { dev: { config: homelabConfig() } }, plugins: [ALL_PLUGINS[1]] });
    const r = await sb.run(["up", "dev"]);
    assert.equal(r.code, 1);
    // The community plugin's own server (from @muhlba91/pulumi-proxmoxve's package.json) is in the command.
    const server = "github://api.github.com/muhlba91/pulumi-proxmoxve";
    assert.equal(
      r.stderr,
      `error: missing Pulumi plugin proxmoxve v${PROXMOX_VERSION} (proxmox-talos:proxmox is set), and installing it failed ([resource plugin proxmoxve-${PROXMOX_VERSION}] downloading from ${server}: 404 HTTP error fetching plugin): run \`pulumi plugin install resource proxmoxve ${PROXMOX_VERSION} --server ${server}\`\n`,
    );
    assert.ok(!ops(r.calls).includes("up"), "up ran despite the missing plugin");
  });

  it("Cilium is on by default: a stack without an addons key needs the kubernetes plugin", async () => {
    sb = new Sandbox({ stacks: { dev: { config: {} } }, plugins: [] });
    const r = await sb.run(["preview", "dev"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing Pulumi plugin kubernetes v[\d.]+ \(addons enabled: cilium\)/);
  });

  it("a stack without proxmox and addons needs no plugins", async () => {
    sb = new Sandbox({
      stacks: { dev: { config: { "proxmox-talos:addons": cfg({ cilium: { enabled: false } }) } } },
      plugins: [],
    });
    const r = await sb.run(["preview", "dev"]);
    assert.equal(r.code, 0, r.stderr);
  });

  it("an unknown stack is one clear line", async () => {
    sb = new Sandbox({ stacks: {} });
    const r = await sb.run(["destroy", "nope"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^error: unknown stack 'nope' in file:\/\//);
  });

  it("up creates a stack that has a Pulumi.<stack>.yaml but no state yet", async () => {
    sb = new Sandbox({ stacks: {}, plugins: ALL_PLUGINS });
    fs.writeFileSync(path.join(sb.project, "Pulumi.lab.yaml"), "config: {}\n");
    const r = await sb.run(["up", "lab"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ops(r.calls), ["stack init", "config --show-secrets", "up"]);
  });

  it("no stack is created without a passphrase, not even by preview: its secrets would stay bound to ''", async () => {
    sb = new Sandbox({ stacks: {}, plugins: ALL_PLUGINS });
    const file = path.join(sb.project, "Pulumi.lab.yaml");
    fs.writeFileSync(file, "config: {}\n");
    const ws = await sb.workspace({ env: sb.env({ PULUMI_CONFIG_PASSPHRASE: "" }) });
    for (const op of ["preview", "up"]) {
      const r = await sb.run([op, "lab"], { workspace: ws });
      assert.equal(r.code, 1, op);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(
        r.stderr,
        /^error: refusing to (create stack 'lab'|up 'lab') without a passphrase: .*PULUMI_CONFIG_PASSPHRASE_FILE/,
      );
      assert.ok(!ops(r.calls).includes("stack init"), `${op}: ${ops(r.calls).join(", ")}`);
    }
    assert.equal(fs.readFileSync(file, "utf8"), "config: {}\n", "the stack file is untouched");
    // With a passphrase, preview creates it as before.
    const ok = await sb.run(["preview", "lab"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(ops(ok.calls).includes("stack init"));
  });

  it("no Pulumi CLI: one line saying how to install it", async () => {
    sb = new Sandbox({});
    const ws = await sb.workspace();
    const r = await sb.run(["up", "dev"], {
      workspace: { ...ws, pulumiCommand: undefined, env: sb.env({ PATH: path.join(sb.dir, "empty") }) },
    });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, r.stderr);
    assert.match(r.stderr, /^error: no Pulumi CLI found .*npm run engine.*pulumi\.com/);
  });

  it("usage errors exit 2", async () => {
    sb = new Sandbox({});
    assert.equal((await sb.run(["up"])).code, 2);
    assert.equal((await sb.run(["frobnicate", "dev"])).code, 2);
    assert.equal((await sb.run(["up", "dev", "--bogus"])).code, 2);
    const help = await sb.run(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /ephemeral <base>/);
  });
});
