/**
 * Disaster recovery through the REAL engine (built by `npm run engine`; skipped without it):
 * TalosCluster with `backup` on 3 fake control planes + 1 worker (shared simulated etcd).
 * A Talos upgrade previews the `EtcdSnapshotStep` update, and `up` takes the snapshot before the
 * first node is upgraded (file name and hash as plain outputs); a second preview shows no
 * changes; a failing snapshot stops `up` before any node is touched; after quorum loss the restore
 * procedure brings etcd back and the next `up` changes nothing.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { restoreEtcd } from "../../components/talos/recovery/restore";
import { credentialsFromTalosconfig } from "../../components/talos/resources/credentials";
import { verifySnapshotFile } from "../../components/talos/resources/logic/snapshot-file";
import type { NodeSpec } from "../day2/harness";
import type { SimulatedEtcdStore } from "../fakes/etcd/talos-etcd";
import { changes } from "../helpers/engine";
import { engineClusterSuite } from "../helpers/engine-cluster";

const SPECS: readonly NodeSpec[] = [
  { name: "cp-1", role: "controlplane" },
  { name: "cp-2", role: "controlplane" },
  { name: "cp-3", role: "controlplane" },
  { name: "w-1", role: "worker" },
];
const CPS = SPECS.filter((s) => s.role === "controlplane");
const STEP = "pulumi-nodejs:dynamic/talos:EtcdSnapshotStep";

describe("backup under the real engine: snapshot before the upgrade, restore, up converges", function () {
  this.timeout(600_000);
  let talosVersion = "1.12.6";
  const world = engineClusterSuite({
    stackName: "dr",
    specs: SPECS,
    program: async (w) => {
      const c = w.cluster({
        talosVersion,
        nodes: SPECS.map((s) => w.nodeArgs(s)),
        rollout: { nodeTimeoutSeconds: 30, drainTimeoutSeconds: 30 },
        backup: { stack: "dr", beforeRiskySteps: true, dir: backups(), keep: 3 },
      });
      return {
        talosconfig: c.talosconfig,
        etcdSnapshotFile: c.snapshotStep!.snapshotFile,
        etcdSnapshotSha256: c.snapshotStep!.snapshotSha256,
      };
    },
  });
  const { etcd } = world;
  const backups = () => path.join(world.dir, "backups");
  const node = (name: string) => world.node(name);
  const count = (method: string) => world.count(method);

  it("the first up creates the step without a snapshot (no etcd yet)", async () => {
    const { stack } = world;
    const r = await stack.up();
    assert.equal(r.summary.result, "succeeded");
    assert.deepEqual(count("EtcdSnapshot"), [0, 0, 0, 0]);
    assert.equal(r.outputs.etcdSnapshotFile?.value, "");
    (node("cp-1").etcdData.store as SimulatedEtcdStore).keys.set("/registry/ns/default", "v1");
  });

  it("a Talos upgrade previews the snapshot step; up snapshots before the first node is upgraded", async () => {
    const { stack } = world;
    talosVersion = "1.13.9";
    const events: EngineEvent[] = [];
    await stack.preview({ onEvent: (e) => events.push(e) });
    const step = events.map((e) => e.resourcePreEvent?.metadata).find((m) => m?.type === STEP);
    assert.equal(step?.op, "update");
    assert.deepEqual(count("EtcdSnapshot"), [0, 0, 0, 0], "preview takes none");

    let out = "";
    const r = await stack.up({ onOutput: (s) => (out += s) });
    assert.equal(r.summary.result, "succeeded", out);
    const snaps = SPECS.flatMap((s) => node(s.name).callsOf("EtcdSnapshot"));
    assert.equal(snaps.length, 1);
    const firstUpgrade = Math.min(...SPECS.map((s) => node(s.name).callsOf("Upgrade")[0]!.at));
    assert.ok(snaps[0]!.at < firstUpgrade, "snapshot before any node is touched");
    const file = r.outputs.etcdSnapshotFile;
    const sha = r.outputs.etcdSnapshotSha256;
    assert.ok(file && !file.secret && /^dr-etcd-.*-cp-1\.db$/.test(String(file.value)), JSON.stringify(file));
    assert.ok(sha && !sha.secret);
    const onDisk = path.join(backups(), String(file.value));
    assert.equal(crypto.createHash("sha256").update(fs.readFileSync(onDisk)).digest("hex"), sha.value);
    assert.equal(fs.statSync(onDisk).mode & 0o777, 0o600);
    await verifySnapshotFile(onDisk);
    assert.match(out, /etcd snapshot before Talos upgrade to v1\.13\.9/);
  });

  it("a second preview shows no changes", async () => {
    const { stack } = world;
    const p = await stack.preview();
    assert.deepEqual(changes(p.changeSummary), []);
  });

  it("a failing snapshot stops up before any node is touched", async () => {
    const { stack } = world;
    talosVersion = "1.13.10";
    for (const s of CPS)
      node(s.name).failNext("EtcdSnapshot", grpc.status.PERMISSION_DENIED, "snapshot refused", 5);
    const upgrades = count("Upgrade");
    await assert.rejects(stack.up(), /snapshot refused/);
    assert.deepEqual(count("Upgrade"), upgrades);
    for (const s of CPS) node(s.name).failNext("EtcdSnapshot", grpc.status.PERMISSION_DENIED, "", 0);
    talosVersion = "1.13.9";
    const p = await stack.preview();
    assert.deepEqual(changes(p.changeSummary), [], "back at the deployed version: nothing to do");
  });

  it("after quorum loss, the restore brings etcd back and up changes nothing", async () => {
    const { stack } = world;
    const outputs = await stack.outputs();
    const file = path.join(backups(), String(outputs.etcdSnapshotFile!.value));
    const creds = credentialsFromTalosconfig(String(outputs.talosconfig!.value));
    const store = node("cp-1").etcdData.store as SimulatedEtcdStore;
    store.keys.set("/registry/ns/late", "lost in the disaster");
    node("cp-1").etcdHealthy = false;
    node("cp-2").etcdHealthy = false;
    const t0 = Date.now();
    const r = await restoreEtcd({
      controlPlanes: CPS.map((s) => ({ name: s.name, address: node(s.name).address })),
      creds,
      from: file,
      journal: path.join(backups(), ".restore-journal.json"),
      pollMs: 100,
      stepTimeoutMs: 30_000,
    });
    console.log(
      `      restore of 3 control planes against the fakes: ${((Date.now() - t0) / 1000).toFixed(2)} s`,
    );
    assert.equal(r.target, "cp-1");
    assert.deepEqual(etcd.hostnames().sort(), ["cp-1", "cp-2", "cp-3"]);
    assert.deepEqual([...store.keys.keys()], ["/registry/ns/default"]);
    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    assert.deepEqual(
      changes(up.summary.resourceChanges ?? {}),
      [],
      JSON.stringify(up.summary.resourceChanges),
    );
  });
});
