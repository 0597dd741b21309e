/**
 * `snapshot` and `restore` as commands: a stack (the fake Pulumi CLI holding its outputs and
 * config) over three fake control planes sharing one (simulated) etcd and a fake Kubernetes API.
 * Snapshots are age-encrypted for the stack's SOPS recipient, 0600, pruned to `backup.keep`; the
 * restore is refused while etcd has quorum and on a production stack without its flag, runs after
 * quorum loss, and resumes after a failure without repeating what is done.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as clientConfigsLogic from "../../components/talos/resources/logic/client-configs";
import { verifySnapshotFile } from "../../components/talos/resources/logic/snapshot-file";
import { parseArgs } from "../../stacks/cli";
import { restore } from "../../stacks/commands/restore";
import { snapshot } from "../../stacks/commands/snapshot";
import type { Context } from "../../stacks/context";
import { FakeCluster } from "../day2/harness";
import type { SimulatedEtcdStore } from "../fakes/etcd/talos-etcd";
import { type Capture, capture, cfg, Sandbox } from "../stacks/harness";

const V = { talos: "1.12.6", kubernetes: "1.35.4" };
const CPS = [
  { name: "cp-1", role: "controlplane" as const },
  { name: "cp-2", role: "controlplane" as const },
  { name: "cp-3", role: "controlplane" as const },
];

describe("backup: the snapshot and restore commands against fake control planes", function () {
  this.timeout(120_000);
  let cluster: FakeCluster;
  let sandbox: Sandbox;
  let identityFile: string;
  let store: SimulatedEtcdStore;
  let out: Capture;

  async function ctx(): Promise<Context> {
    out = capture();
    return { out, err: capture(), mode: "plain", workspace: await sandbox.workspace() };
  }

  const setConfig = (extra: Record<string, ReturnType<typeof cfg>>) => {
    const world = JSON.parse(fs.readFileSync(sandbox.stateFile, "utf8"));
    world.stacks.homelab.config = { "proxmox-talos:production": cfg(false), ...extra };
    fs.writeFileSync(sandbox.stateFile, JSON.stringify(world));
  };

  before(async () => {
    cluster = await FakeCluster.start(CPS, V, { rebootDelayMs: 30 });
    store = cluster.node("cp-1").etcdData.store as SimulatedEtcdStore;
    for (let i = 0; i < 50; i++) store.keys.set(`/registry/k${i}`, `v${i}`);
    store.padBytes = 2 * 1024 * 1024;
    const age = await import("age-encryption");
    const identity = await age.generateX25519Identity();
    const recipient = await age.identityToRecipient(identity);
    const { talosconfig } = await clientConfigsLogic.generate({
      secretsYaml: cluster.secretsYaml,
      clusterName: "homelab",
      endpoint: cluster.kube.url,
      endpoints: ["127.0.0.1"],
      nodes: ["127.0.0.1"],
    });
    sandbox = new Sandbox({
      stacks: {
        homelab: {
          config: { "proxmox-talos:production": cfg(false) },
          outputs: {
            nodes: CPS.map((c) => ({ ...c, ip: "127.0.0.1", apiAddress: cluster.node(c.name).address })),
            talosconfig,
            kubeconfig: cluster.kubeconfig,
            sopsRecipient: recipient,
          },
          secretOutputs: ["talosconfig", "kubeconfig"],
        },
      },
    });
    identityFile = path.join(sandbox.dir, "age.key");
    fs.writeFileSync(identityFile, `# test identity\n${identity}\n`, { mode: 0o600 });
  });

  after(async () => {
    await cluster?.close();
    sandbox?.dispose();
  });

  const backups = () => path.join(sandbox.project, "backups", "homelab");

  it("parses the command lines; restore without --from is a usage error", async () => {
    assert.deepEqual(parseArgs(["snapshot", "homelab", "--out", "x.db", "--unencrypted"]).flags, {
      out: "x.db",
      unencrypted: true,
    });
    assert.deepEqual(
      parseArgs([
        "restore",
        "homelab",
        "--from=f.db.age",
        "--force",
        "--yes-restore-production",
        "--identity",
        "k",
      ]).flags,
      { from: "f.db.age", force: true, "yes-restore-production": true, identity: "k" },
    );
    const r = await sandbox.run(["restore", "homelab"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /restore: which snapshot\? pass --from FILE/);
  });

  it("writes an age-encrypted, 0600, verified snapshot and prints size, node, time and hashes (no secrets)", async () => {
    const r = await snapshot(await ctx(), "homelab", {});
    assert.ok(r.file.startsWith(backups()) && r.file.endsWith(".db.age"), r.file);
    assert.equal(fs.statSync(r.file).mode & 0o777, 0o600);
    assert.ok(r.encrypted);
    assert.notEqual(fs.readFileSync(r.file).subarray(0, 21).toString(), "", "file written");
    assert.equal(fs.readFileSync(r.file).subarray(0, 21).toString("latin1"), "age-encryption.org/v1");
    await assert.rejects(verifySnapshotFile(r.file), /age-encrypted: give the identity/);
    const v = await verifySnapshotFile(r.file, [fs.readFileSync(identityFile, "utf8").split("\n")[1]!]);
    assert.equal(v.dbSha256, r.dbSha256);
    assert.ok(r.snapshotBytes > 2 * 1024 * 1024);
    assert.match(out.text, /node: +cp-1/);
    assert.match(out.text, /revision: unknown/, "the simulated store is no bbolt database");
    assert.match(out.text, /size: +2\.\d\d MiB/);
    assert.match(out.text, new RegExp(`file sha256: +${r.fileSha256}`));
    assert.match(out.text, /snapshot: [0-9.]+ MiB/, "progress while the bytes stream");
    assert.doesNotMatch(out.text, /PRIVATE KEY|AGE-SECRET-KEY/);
  });

  it("keeps the newest backup.keep snapshots; --unencrypted and --out write a plain file where asked", async () => {
    setConfig({ "proxmox-talos:backup": cfg({ keep: 2 }) });
    for (let i = 0; i < 3; i++) await snapshot(await ctx(), "homelab", {});
    assert.equal(fs.readdirSync(backups()).filter((f) => f.endsWith(".age")).length, 2);
    assert.match(out.text, /retention \(keep 2\): deleted homelab-etcd-/);
    const plain = path.join(sandbox.dir, "manual.db");
    const r = await snapshot(await ctx(), "homelab", { out: plain, unencrypted: true });
    assert.equal(r.file, plain);
    assert.ok(!r.encrypted);
    assert.equal((await verifySnapshotFile(plain)).dbSha256, r.dbSha256);
    await assert.rejects(
      snapshot(await ctx(), "homelab", { out: path.join(sandbox.dir, "x.db") }),
      /name it ….age/,
    );
    setConfig({ "proxmox-talos:backup": cfg({ keep: "ten" }) });
    await assert.rejects(
      snapshot(await ctx(), "homelab", {}),
      /proxmox-talos:backup\.keep: must be a whole number/,
    );
    setConfig({});
  });

  let file = "";

  it("refuses to restore while etcd has quorum, and a production stack without --yes-restore-production", async () => {
    file = (await snapshot(await ctx(), "homelab", {})).file;
    const resets = () => CPS.reduce((n, c) => n + cluster.node(c.name).callsOf("Reset").length, 0);
    await assert.rejects(
      restore(await ctx(), "homelab", { from: file, identity: identityFile, pollMs: 50 }),
      /refusing to restore 'homelab': etcd has quorum: 3 of 3 etcd members healthy \(cp-1, cp-2, cp-3\)/,
    );
    setConfig({ "proxmox-talos:production": cfg(true) });
    await assert.rejects(
      restore(await ctx(), "homelab", { from: file, identity: identityFile, force: true, pollMs: 50 }),
      /it is marked production .* pass --yes-restore-production/,
    );
    setConfig({});
    assert.equal(resets(), 0, "nothing touched");
  });

  it("after quorum loss restores, resuming after a failure without repeating the wipe", async () => {
    const before = new Map(store.keys);
    cluster.node("cp-2").etcdHealthy = false;
    cluster.node("cp-3").etcdHealthy = false;
    store.keys.set("/registry/after-snapshot", "lost");
    cluster.node("cp-1").failNext("EtcdRecover", grpc.status.INTERNAL, "disk full");
    await assert.rejects(
      restore(await ctx(), "homelab", {
        from: file,
        identity: identityFile,
        pollMs: 50,
        stepTimeoutMs: 20_000,
      }),
      /restore of 'homelab' stopped: .*disk full.* run the same command again; it resumes/,
    );
    assert.match(out.text, /guard: 1 of 3 etcd members healthy \(cp-1\), 2 needed for quorum/);
    for (const c of CPS) assert.equal(cluster.node(c.name).callsOf("Reset").length, 1, c.name);
    assert.ok(fs.existsSync(path.join(backups(), ".restore-journal.json")));
    assert.equal(fs.statSync(path.join(backups(), ".restore-journal.json")).mode & 0o777, 0o600);

    const started = Date.now();
    const r = await restore(await ctx(), "homelab", {
      from: file,
      identity: identityFile,
      pollMs: 50,
      stepTimeoutMs: 20_000,
    });
    console.log(
      `      restore (3 control planes, resumed at upload): ${((Date.now() - started) / 1000).toFixed(2)} s`,
    );
    assert.deepEqual(r.ran, ["verify", "upload", "bootstrap", "etcd", "kubernetes"]);
    for (const c of CPS) {
      const resets = cluster.node(c.name).callsOf("Reset");
      assert.equal(resets.length, 1, `${c.name} wiped once`);
      assert.equal(resets[0]!.request.graceful, false);
      assert.deepEqual(resets[0]!.request.system_partitions_to_wipe, [{ label: "EPHEMERAL", wipe: true }]);
    }
    assert.equal(cluster.node("cp-1").callsOf("Bootstrap").at(-1)!.request.recover_etcd, true);
    assert.deepEqual(
      [...store.keys.entries()].sort(),
      [...before.entries()].sort(),
      "the snapshot's keys, nothing after",
    );
    assert.deepEqual(cluster.etcd.hostnames().sort(), ["cp-1", "cp-2", "cp-3"]);
    assert.match(out.text, /run `npm run up -- homelab` next/);
    assert.ok(!fs.existsSync(path.join(backups(), ".restore-journal.json")));
  });
});
