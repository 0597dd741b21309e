import * as assert from "node:assert/strict";
import type { SmokeExpectations, SmokeRunner } from "../../stacks/smoke";
import { ALL_PLUGINS, cfg, homelabConfig, ops, Sandbox } from "./harness";

const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n";

describe("stacks cli: rebuild", function () {
  this.timeout(30_000);
  let sb: Sandbox | undefined;
  afterEach(() => sb?.dispose());

  it("destroys then ups a non-production stack", async () => {
    sb = new Sandbox({ stacks: { dev: { config: homelabConfig(), resources: 3 } }, plugins: ALL_PLUGINS });
    const r = await sb.run(["rebuild", "dev"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      ops(r.calls).filter((o) => o === "up" || o === "destroy"),
      ["destroy", "up"],
    );
    assert.match(r.stdout, /\[destroy dev\] succeeded .*delete 3/);
    assert.match(r.stdout, /\[up dev\] succeeded .*create 3/);
  });

  it("refuses a production stack without --yes-destroy-production, touching nothing", async () => {
    sb = new Sandbox({
      stacks: { prod: { config: homelabConfig({ "proxmox-talos:production": cfg(true) }), resources: 3 } },
      plugins: ALL_PLUGINS,
    });
    const r = await sb.run(["rebuild", "prod"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: refusing to rebuild 'prod': it is marked production .*--yes-destroy-production/,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.ok(!ops(r.calls).includes("destroy") && !ops(r.calls).includes("up"));
  });

  it("rebuilds a production stack with --yes-destroy-production", async () => {
    sb = new Sandbox({
      stacks: { prod: { config: homelabConfig({ "proxmox-talos:production": cfg(true) }), resources: 3 } },
      plugins: ALL_PLUGINS,
    });
    const r = await sb.run(["rebuild", "prod", "--yes-destroy-production"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      ops(r.calls).filter((o) => o === "up" || o === "destroy"),
      ["destroy", "up"],
    );
  });

  it("stops after a failed destroy", async () => {
    sb = new Sandbox({
      stacks: { dev: { config: {}, resources: 2 } },
      fail: { destroy: "VM is locked" },
    });
    const r = await sb.run(["rebuild", "dev"]);
    assert.equal(r.code, 1);
    assert.ok(!ops(r.calls).includes("up"));
  });
});

describe("stacks cli: ephemeral", function () {
  this.timeout(30_000);
  let sb: Sandbox | undefined;
  afterEach(() => sb?.dispose());

  const okSmoke =
    (seen: { kubeconfig?: string; expect?: SmokeExpectations }): SmokeRunner =>
    async (kubeconfig, expect, log) => {
      seen.kubeconfig = kubeconfig;
      seen.expect = expect;
      log("smoke: fake checks");
      return [
        { name: "nodes Ready", ok: true, detail: "2/2 nodes Ready" },
        {
          name: "LoadBalancer Service gets a MetalLB IP",
          ok: true,
          detail: "LoadBalancer IP 192.168.50.300",
        },
      ];
    };

  function world(extra: Record<string, unknown> = {}) {
    return {
      stacks: { homelab: { config: homelabConfig(), resources: 5 } },
      plugins: ALL_PLUGINS,
      upOutputs: { kubeconfig: KUBECONFIG, endpoint: "https://192.168.50.110:6443" },
      upSecretOutputs: ["kubeconfig"],
      ...extra,
    };
  }

  it("creates a shifted copy, ups it, smoke-checks, destroys and removes it", async () => {
    sb = new Sandbox(world());
    const seen: { kubeconfig?: string; expect?: SmokeExpectations } = {};
    const r = await sb.run(
      ["ephemeral", "homelab", "--vmid-offset", "1000", "--ip-offset", "100", "--name", "eph1"],
      {
        smoke: okSmoke(seen),
      },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(ops(r.calls), [
      "config --show-secrets",
      "stack init",
      "config set-all",
      "config cp",
      "config --show-secrets",
      "up",
      "config --show-secrets",
      "destroy",
      "stack rm",
    ]);
    const up = r.calls.find((c) => c[0] === "up");
    assert.ok(up?.includes("eph1"));
    assert.equal(seen.kubeconfig, KUBECONFIG);
    assert.deepEqual(seen.expect, { nodes: 2, storage: true, loadBalancer: true });
    // The throwaway stack was removed, the base untouched.
    assert.deepEqual(Object.keys(r.world.stacks ?? {}), ["homelab"]);
    const setAll = r.calls.find((c) => c[0] === "config" && c[1] === "set-all");
    const json = setAll?.[setAll.indexOf("--json") + 1] ?? "{}";
    const conf = JSON.parse(json) as Record<
      string,
      { value: string; secret: boolean; objectValue?: unknown }
    >;
    assert.equal(conf["proxmox-talos:clusterName"].value, "eph1");
    assert.equal(conf["proxmox-talos:production"].value, "false");
    assert.deepEqual(
      (conf["proxmox-talos:nodes"].objectValue as { vmId: number; ip: string }[]).map((n) => [n.vmId, n.ip]),
      [
        [9101, "192.168.50.111"],
        [9201, "192.168.50.121"],
      ],
    );
    assert.deepEqual(conf["proxmox-talos:controlPlane"].objectValue, { vip: "192.168.50.110" });
    // The Proxmox token never is on a command line (/proc/<pid>/cmdline): `config cp` copies it.
    assert.equal(conf["proxmox-talos:proxmoxApiToken"], undefined);
    for (const argv of r.calls) assert.ok(!argv.join(" ").includes("secret-token"), argv.join(" "));
    const cp = r.calls.find((c) => c[0] === "config" && c[1] === "cp");
    assert.deepEqual(cp, [
      "config",
      "cp",
      "proxmox-talos:proxmoxApiToken",
      "--stack",
      "homelab",
      "--dest",
      "eph1",
    ]);
    assert.match(r.stdout, /ephemeral eph1: smoke: nodes Ready ok — 2\/2 nodes Ready/);
    assert.match(r.stdout, /ephemeral eph1: remove stack ok/);
    assert.match(r.stdout, /ephemeral eph1: passed$/m);
  });

  it("still destroys and removes the stack when up fails; exit 1", async () => {
    sb = new Sandbox(world({ fail: { "up:eph2": "talos: bootstrap timed out" } }));
    let smokeRan = false;
    const r = await sb.run(["ephemeral", "homelab", "--vmid-offset=1000", "--ip-offset=100", "--name=eph2"], {
      smoke: async () => {
        smokeRan = true;
        return [];
      },
    });
    assert.equal(r.code, 1);
    assert.equal(smokeRan, false);
    const o = ops(r.calls);
    assert.deepEqual(o.slice(o.indexOf("up")), ["up", "config --show-secrets", "destroy", "stack rm"]);
    assert.deepEqual(Object.keys(r.world.stacks ?? {}), ["homelab"]);
    assert.match(
      r.stdout,
      /ephemeral eph2: up \(ClusterReady\) FAILED — fake:index:Thing r\d: talos: bootstrap timed out/,
    );
    assert.match(r.stdout, /ephemeral eph2: FAILED$/m);
  });

  it("still destroys and removes the stack when a smoke check fails or throws", async () => {
    for (const smoke of [
      (async () => [{ name: "PVC binds", ok: false, detail: "Pending" }]) as SmokeRunner,
      (async () => {
        throw new Error("connect ECONNREFUSED");
      }) as SmokeRunner,
    ]) {
      sb?.dispose();
      sb = new Sandbox(world());
      const r = await sb.run(
        ["ephemeral", "homelab", "--vmid-offset", "1000", "--ip-offset", "100", "--name", "eph3"],
        {
          smoke,
        },
      );
      assert.equal(r.code, 1);
      const o = ops(r.calls);
      assert.deepEqual(o.slice(-2), ["destroy", "stack rm"]);
      assert.deepEqual(Object.keys(r.world.stacks ?? {}), ["homelab"]);
    }
  });

  it("a failed destroy still removes the stack (forced) and fails", async () => {
    sb = new Sandbox(world({ fail: { "destroy:eph4": "VM 9101 locked" } }));
    const r = await sb.run(
      ["ephemeral", "homelab", "--vmid-offset", "1000", "--ip-offset", "100", "--name", "eph4"],
      {
        smoke: okSmoke({}),
      },
    );
    assert.equal(r.code, 1);
    const rm = r.calls.find((c) => c[0] === "stack" && c[1] === "rm");
    assert.ok(rm?.includes("--force"), "stack rm not forced");
    assert.match(r.stdout, /remove stack ok — forced: check Proxmox for leftover VMs/);
  });

  it("uses the base stack's proxmox-talos:ephemeral offsets and drops that key", async () => {
    sb = new Sandbox(
      world({
        stacks: {
          homelab: {
            config: homelabConfig({ "proxmox-talos:ephemeral": cfg({ vmidOffset: 500, ipOffset: 50 }) }),
          },
        },
      }),
    );
    const r = await sb.run(["ephemeral", "homelab", "--name", "eph5", "--json"], { smoke: okSmoke({}) });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const setAll = r.calls.find((c) => c[0] === "config" && c[1] === "set-all") ?? [];
    const conf = JSON.parse(setAll[setAll.indexOf("--json") + 1]) as Record<
      string,
      { objectValue?: unknown }
    >;
    assert.equal(conf["proxmox-talos:ephemeral"], undefined);
    assert.deepEqual(
      (conf["proxmox-talos:nodes"].objectValue as { vmId: number }[]).map((n) => n.vmId),
      [8601, 8701],
    );
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.some((l) => l.result === "passed"));
  });

  it("refuses without offsets, creating nothing", async () => {
    sb = new Sandbox(world());
    const r = await sb.run(["ephemeral", "homelab"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: ephemeral needs --vmid-offset and --ip-offset/);
    assert.ok(!ops(r.calls).includes("stack init"));
  });

  it("names the stack <base>-eph-<timestamp> by default", async () => {
    sb = new Sandbox(world());
    const r = await sb.run(["ephemeral", "homelab", "--vmid-offset", "1000", "--ip-offset", "100"], {
      smoke: okSmoke({}),
    });
    assert.equal(r.code, 0, r.stderr);
    const init = r.calls.find((c) => c[0] === "stack" && c[1] === "init");
    assert.match(init?.[2] ?? "", /^homelab-eph-\d{14}$/);
  });
});
