/**
 * Issue #19 at the runner: destroy of a production stack, the empty passphrase, owner-only state
 * files, the run-only node-removal allowance, and the throwaway copy's fresh identity — against the
 * fake `pulumi` CLI (tests/fakes/pulumi-cli), whose call log shows every argv the runner used.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ALLOW_NODE_REMOVAL_ENV } from "../../components/production";
import { passphraseRefusal } from "../../stacks/passphrase";
import type { SmokeRunner } from "../../stacks/smoke";
import { ALL_PLUGINS, cfg, homelabConfig, ops, Sandbox } from "./harness";

const prod = () => homelabConfig({ "proxmox-talos:production": cfg(true) });
const okSmoke: SmokeRunner = async () => [{ name: "nodes Ready", ok: true, detail: "2/2" }];
const UP_OUTPUTS = { upOutputs: { kubeconfig: "apiVersion: v1\n" }, upSecretOutputs: ["kubeconfig"] };

describe("stacks cli: safe by default (#19)", function () {
  this.timeout(60_000);
  let sb: Sandbox | undefined;
  afterEach(() => sb?.dispose());

  it("destroy of a production stack is refused without --yes-destroy-production, touching nothing", async () => {
    sb = new Sandbox({ stacks: { prod: { config: prod(), resources: 4 } }, plugins: ALL_PLUGINS });
    const r = await sb.run(["destroy", "prod"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: refusing to destroy 'prod': it is marked production .*--yes-destroy-production/,
    );
    assert.ok(!ops(r.calls).includes("destroy"));
    assert.equal(r.world.stacks?.prod?.resources, 4);
    const yes = await sb.run(["destroy", "prod", "--yes-destroy-production"]);
    assert.equal(yes.code, 0, yes.stderr);
    assert.ok(ops(yes.calls).includes("destroy"));
  });

  it("up/destroy/rebuild/ephemeral refuse an empty passphrase unless --allow-empty-passphrase; production always", async () => {
    sb = new Sandbox({
      stacks: { dev: { config: homelabConfig(), resources: 1 }, prod: { config: prod(), resources: 1 } },
      plugins: ALL_PLUGINS,
    });
    const ws = await sb.workspace({ env: sb.env({ PULUMI_CONFIG_PASSPHRASE: "" }) });
    for (const argv of [
      ["up", "dev"],
      ["destroy", "dev"],
      ["rebuild", "dev"],
      ["ephemeral", "dev", "--vmid-offset", "1", "--ip-offset", "1"],
    ]) {
      const r = await sb.run(argv, { workspace: ws });
      assert.equal(r.code, 1, argv.join(" "));
      assert.match(
        r.stderr,
        /without a passphrase: .*PULUMI_CONFIG_PASSPHRASE_FILE.*--allow-empty-passphrase/,
      );
      assert.ok(
        !ops(r.calls).some((o) => ["up", "destroy", "stack init"].includes(o)),
        `${argv.join(" ")}: ${ops(r.calls).join(", ")}`,
      );
    }
    const allowed = await sb.run(["up", "dev", "--allow-empty-passphrase"], { workspace: ws });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(allowed.lastEnv.PULUMI_CONFIG_PASSPHRASE, "");
    // A production stack refuses even with the flag (its config comes from the backend here).
    const p = await sb.run(["up", "prod", "--allow-empty-passphrase"], { workspace: ws });
    assert.equal(p.code, 1);
    assert.match(p.stderr, /production stack .*never encrypted with an empty passphrase/);
    assert.ok(!p.calls.some((c) => c[0] === "up" && c.includes("prod")), "no up of prod");
    // preview stays possible (it writes no secrets).
    const pre = await sb.run(["preview", "dev"], { workspace: ws });
    assert.equal(pre.code, 0, pre.stderr);
  });

  it("a stack file naming another secrets provider needs no passphrase; production in the stack file refuses", () => {
    assert.equal(
      passphraseRefusal("up", "x", {}, { production: true, allowEmpty: false, otherProvider: true }),
      undefined,
    );
    assert.equal(
      passphraseRefusal(
        "up",
        "x",
        { PULUMI_CONFIG_PASSPHRASE_FILE: "/run/p" },
        { production: true, allowEmpty: false, otherProvider: false },
      ),
      undefined,
    );
    assert.match(
      passphraseRefusal("up", "x", {}, { production: true, allowEmpty: true, otherProvider: false }) ?? "",
      /production stack/,
    );
  });

  it("the CLI runs with umask 077 and the local backend dir is 0700", async () => {
    sb = new Sandbox({ stacks: { dev: { config: homelabConfig() } }, plugins: ALL_PLUGINS });
    const r = await sb.run(["up", "dev"]);
    assert.equal(r.code, 0, r.stderr);
    const log = fs
      .readFileSync(sb.logFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { argv: string[]; umask: number })
      .filter((l) => l.argv[0] !== "version"); // PulumiCommand.get, before the runner starts
    assert.ok(log.length > 0 && log.every((l) => l.umask === 0o077), JSON.stringify(log.map((l) => l.umask)));
    assert.equal(fs.statSync(path.join(sb.project, ".pulumi")).mode & 0o777, 0o700);
  });

  it("up --allow-node-removal allows removals for that one run only", async () => {
    sb = new Sandbox({ stacks: { prod: { config: prod() } }, plugins: ALL_PLUGINS });
    const seen: (string | undefined)[] = [];
    const ws = await sb.workspace({
      program: async () => {
        seen.push(process.env[ALLOW_NODE_REMOVAL_ENV]);
        return {};
      },
    });
    const before = process.env[ALLOW_NODE_REMOVAL_ENV];
    const r = await sb.run(["up", "prod", "--allow-node-removal"], { workspace: ws });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(process.env[ALLOW_NODE_REMOVAL_ENV], before, "restored after the run");
    // The fake CLI does not run the program; the allowance is visible to the inline program while up runs.
    assert.match(r.stdout, /may take removed nodes out \(--allow-node-removal\)/);
  });

  it("ephemeral: fresh identity, no Flux source, secrets only through config cp, opt-in per key", async () => {
    const base = homelabConfig({
      "proxmox-talos:talosSecrets": cfg("cluster: {id: x}", true),
      "proxmox-talos:sopsAgeKey": cfg("AGE-SECRET-KEY-1QQQ", true),
      "proxmox-talos:fluxGitPassword": cfg("ghp_gitpassword", true),
      "proxmox-talos:addons": cfg({
        cilium: { enabled: true },
        flux: { enabled: true, git: { url: "https://git.example.lan/fleet.git" } },
      }),
    });
    sb = new Sandbox({ stacks: { homelab: { config: base } }, plugins: ALL_PLUGINS, ...UP_OUTPUTS });
    const r = await sb.run(
      ["ephemeral", "homelab", "--vmid-offset", "1000", "--ip-offset", "100", "--name", "e1"],
      {
        smoke: okSmoke,
      },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const cps = r.calls.filter((c) => c[0] === "config" && c[1] === "cp").map((c) => c[2]);
    assert.deepEqual(cps, ["proxmox-talos:proxmoxApiToken"]);
    const setAll = r.calls.find((c) => c[0] === "config" && c[1] === "set-all") ?? [];
    const conf = JSON.parse(setAll[setAll.indexOf("--json") + 1] ?? "{}") as Record<
      string,
      { value: string }
    >;
    for (const k of ["talosSecrets", "sopsAgeKey", "fluxGitPassword", "proxmoxApiToken"])
      assert.equal(conf[`proxmox-talos:${k}`], undefined, k);
    assert.deepEqual(JSON.parse(conf["proxmox-talos:addons"]!.value).flux, { enabled: true });
    for (const argv of r.calls)
      assert.ok(!/secret-token|ghp_gitpassword|AGE-SECRET-KEY/.test(argv.join(" ")), argv.join(" "));

    // Opted in per key: exactly those are copied (still through config cp), and the Flux source.
    sb.dispose();
    sb = new Sandbox({
      stacks: {
        homelab: {
          config: {
            ...base,
            "proxmox-talos:ephemeral": cfg({ vmidOffset: 1000, ipOffset: 100, copy: ["sopsAgeKey", "flux"] }),
          },
        },
      },
      plugins: ALL_PLUGINS,
      ...UP_OUTPUTS,
    });
    const o = await sb.run(["ephemeral", "homelab", "--name", "e2"], { smoke: okSmoke });
    assert.equal(o.code, 0, o.stdout + o.stderr);
    assert.deepEqual(
      o.calls
        .filter((c) => c[0] === "config" && c[1] === "cp")
        .map((c) => c[2])
        .sort(),
      ["proxmox-talos:proxmoxApiToken", "proxmox-talos:sopsAgeKey"],
    );
    const setAll2 = o.calls.find((c) => c[0] === "config" && c[1] === "set-all") ?? [];
    const conf2 = JSON.parse(setAll2[setAll2.indexOf("--json") + 1] ?? "{}") as Record<
      string,
      { value: string }
    >;
    assert.equal(
      JSON.parse(conf2["proxmox-talos:addons"]!.value).flux.git.url,
      "https://git.example.lan/fleet.git",
    );
  });

  it("ephemeral refuses patches naming an address of the base's node network, creating nothing", async () => {
    const base = homelabConfig({
      "proxmox-talos:patches": cfg({
        all: ["machine:\n  network:\n    extraHostEntries:\n      - ip: 192.168.50.11\n"],
      }),
    });
    const nodes = JSON.parse(base["proxmox-talos:nodes"]!.value) as Record<string, unknown>[];
    nodes[1]!.patches = [{ machine: { kubelet: { nodeIP: { validSubnets: ["192.168.50.0/24"] } } } }];
    base["proxmox-talos:nodes"] = cfg(nodes);
    sb = new Sandbox({ stacks: { homelab: { config: base } }, plugins: ALL_PLUGINS });
    const r = await sb.run(["ephemeral", "homelab", "--vmid-offset", "1000", "--ip-offset", "100"], {
      smoke: okSmoke,
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /proxmox-talos:patches\.all\[0\]: 192\.168\.50\.11 is in the base's node network/);
    assert.match(
      r.stderr,
      /proxmox-talos:nodes\[1\]\.patches\[0\]\.machine\.kubelet\.nodeIP\.validSubnets\[0\]: 192\.168\.50\.0/,
    );
    assert.ok(!ops(r.calls).includes("stack init"));
    // Addresses outside the node network (public DNS) pass.
    sb.dispose();
    sb = new Sandbox({
      stacks: {
        homelab: {
          config: homelabConfig({
            "proxmox-talos:patches": cfg({ all: [{ machine: { network: { nameservers: ["1.1.1.1"] } } }] }),
          }),
        },
      },
      plugins: ALL_PLUGINS,
      ...UP_OUTPUTS,
    });
    const ok = await sb.run(["ephemeral", "homelab", "--vmid-offset", "1000", "--ip-offset", "100"], {
      smoke: okSmoke,
    });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  });
});
