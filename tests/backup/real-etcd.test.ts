/**
 * Disaster recovery against a REAL etcd (built by scripts/build-etcd.sh; skipped with a message
 * where absent): a fake Talos control plane serves the real etcd's snapshot; our client streams it
 * to a 0600 file whose SHA-256 trailer is checked and which `etcdutl snapshot status` reads; the
 * etcd data is destroyed; the restore procedure uploads it (EtcdRecover), bootstraps with
 * recover_etcd (the fake runs `etcdutl snapshot restore` and restarts etcd) and the keys read back.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RestoreRefused, restoreEtcd } from "../../components/talos/recovery/restore";
import type { MtlsCredentials } from "../../components/talos/resources/logic/common";
import { takeSnapshot } from "../../components/talos/resources/logic/snapshot";
import { verifySnapshotFile } from "../../components/talos/resources/logic/snapshot-file";
import { RealEtcd, requireEtcd, snapshotStatus } from "../fakes/etcd/real-etcd";
import { FakeEtcdData, RealEtcdStore } from "../fakes/etcd/talos-etcd";
import { machineConfig, newTestPki } from "../fakes/machine-config";
import { FakeEtcdCluster, FakeTalosNode } from "../fakes/talos-node";

const KEYS = 320;
const VALUE_BYTES = 64 * 1024;

describe("backup: snapshot and restore against a real etcd", function () {
  this.timeout(180_000);
  let dir: string;
  let etcd: RealEtcd;
  let data: FakeEtcdData;
  let node: FakeTalosNode;
  let creds: MtlsCredentials;
  let cps: { name: string; address: string }[];

  before(async function () {
    requireEtcd(this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dr-real-etcd-"));
    etcd = await RealEtcd.create(dir, "cp-1");
    await etcd.start();
    // ~20 MiB of keys, written 32 at a time.
    for (let k = 0; k < KEYS; k += 32) {
      await Promise.all(
        Array.from({ length: Math.min(32, KEYS - k) }, (_, j) =>
          etcd.put(`/registry/test/key-${k + j}`, Buffer.alloc(VALUE_BYTES, (k + j) % 251)),
        ),
      );
    }
    const pki = await newTestPki();
    creds = { osCa: pki.osCa.crt, clientCert: pki.admin.crt, clientKey: pki.admin.key };
    const cluster = new FakeEtcdCluster();
    data = new FakeEtcdData(new RealEtcdStore(etcd));
    node = await FakeTalosNode.start({
      hostname: "cp-1",
      config: machineConfig({ pki }),
      etcd: cluster,
      etcdData: data,
      rebootDelayMs: 50,
    });
    cluster.bootstrapped = true;
    cluster.joinAll();
    cps = [{ name: "cp-1", address: node.address }];
  });

  after(async () => {
    await node?.close();
    await etcd?.stop();
    data?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  let snapshotFile = "";

  it("streams the real etcd's snapshot through the Talos API into a 0600 file etcdutl reads", async () => {
    const progress: number[] = [];
    const started = Date.now();
    const r = await takeSnapshot({
      stack: "homelab",
      controlPlanes: cps,
      creds,
      dir: path.join(dir, "backups"),
      onProgress: (b) => progress.push(b),
    });
    const seconds = (Date.now() - started) / 1000;
    snapshotFile = r.file;
    const mb = r.snapshotBytes / 1048576;
    console.log(
      `      snapshot: ${mb.toFixed(1)} MiB in ${seconds.toFixed(2)} s = ${(mb / seconds).toFixed(1)} MiB/s through the client on loopback`,
    );
    assert.equal(r.node, "cp-1");
    assert.equal(fs.statSync(r.file).mode & 0o777, 0o600);
    assert.ok(r.snapshotBytes > KEYS * VALUE_BYTES, `${r.snapshotBytes} bytes`);
    assert.ok(progress.length > 3 && progress.at(-1) === r.snapshotBytes, "progress as the bytes stream");
    assert.deepEqual(fs.readdirSync(path.dirname(r.file)), [path.basename(r.file)], "no temp file left");
    const status = snapshotStatus(r.file);
    assert.ok(status.totalKey >= KEYS, `etcdutl sees ${status.totalKey} keys`);
    assert.ok(status.revision > KEYS, `revision ${status.revision}`);
    assert.equal(
      r.revision,
      status.revision,
      "the revision read from the bbolt database, as etcdutl reads it",
    );
    assert.equal(node.callsOf("EtcdSnapshot").length, 1);
  });

  it("refuses to restore while etcd has quorum, touching nothing", async () => {
    const resets = node.callsOf("Reset").length;
    await assert.rejects(
      restoreEtcd({
        controlPlanes: cps,
        creds,
        from: snapshotFile,
        journal: path.join(dir, "journal.json"),
        pollMs: 100,
      }),
      (e: unknown) =>
        e instanceof RestoreRefused && /etcd has quorum: 1 of 1 etcd members healthy/.test(e.message),
    );
    assert.equal(node.callsOf("Reset").length, resets);
    assert.equal(node.callsOf("EtcdRecover").length, 0);
    assert.ok(etcd.running);
  });

  it("restores the destroyed data through EtcdRecover + Bootstrap{recover_etcd}; the keys read back", async () => {
    await etcd.wipe(); // the data is gone: etcd is absent on the only control plane
    const steps: string[] = [];
    const started = Date.now();
    const r = await restoreEtcd({
      controlPlanes: cps,
      creds,
      from: snapshotFile,
      journal: path.join(dir, "journal.json"),
      pollMs: 100,
      onStep: (s, _d, done) => steps.push(done ? `${s}(done)` : s),
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `      restore: ${seconds.toFixed(2)} s wall time (verify, guard, wipe, upload, bootstrap, etcd)`,
    );
    assert.deepEqual(steps, ["verify", "guard", "wipe", "upload", "bootstrap", "etcd", "kubernetes(done)"]);
    assert.equal(r.target, "cp-1");
    const reset = node.callsOf("Reset").at(-1)!;
    assert.equal(reset.request.graceful, false);
    assert.deepEqual(reset.request.system_partitions_to_wipe, [{ label: "EPHEMERAL", wipe: true }]);
    assert.equal(node.callsOf("EtcdRecover").length, 1);
    assert.equal(node.callsOf("Bootstrap").at(-1)!.request.recover_etcd, true);
    assert.equal(data.recoveryError, undefined);
    assert.ok(etcd.running);
    for (const k of [0, 1, KEYS - 1]) {
      const v = await etcd.get(`/registry/test/key-${k}`);
      assert.ok(v?.equals(Buffer.alloc(VALUE_BYTES, k % 251)), `key-${k}`);
    }
    assert.ok(!fs.existsSync(path.join(dir, "journal.json")), "journal removed when done");
  });

  it("a corrupted snapshot fails its integrity check before anything is touched", async () => {
    const bad = path.join(dir, "bad.db");
    const bytes = fs.readFileSync(snapshotFile);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    fs.writeFileSync(bad, bytes, { mode: 0o600 });
    await assert.rejects(verifySnapshotFile(bad), /integrity check failed/);
    const resets = node.callsOf("Reset").length;
    await assert.rejects(
      restoreEtcd({ controlPlanes: cps, creds, from: bad, journal: path.join(dir, "j2.json"), force: true }),
      /integrity check failed/,
    );
    assert.equal(node.callsOf("Reset").length, resets);
  });
});
