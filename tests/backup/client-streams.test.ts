/**
 * The client's streaming calls against a fake control plane: EtcdSnapshot retries a transport
 * failure (restarting the sink) within its bound and fails at once on a permanent error; the
 * idle deadline ends a stalled stream; EtcdRecover uploads in chunks with progress and fails at
 * once on a refusal; both are refused on a worker as Talos refuses them.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import {
  RECOVER_CHUNK_BYTES,
  TalosApiError,
  TalosClient,
  TalosTimeoutError,
} from "../../components/talos/api/client";
import { verifySnapshotBytes } from "../../components/talos/resources/logic/snapshot-file";
import type { SimulatedEtcdStore } from "../fakes/etcd/talos-etcd";
import { machineConfig, newTestPki, type TestPki } from "../fakes/machine-config";
import { FakeEtcdCluster, FakeTalosNode } from "../fakes/talos-node";

class MemorySink {
  chunks: Buffer[] = [];
  resets = 0;
  write(c: Buffer): void {
    this.chunks.push(c);
  }
  reset(): void {
    this.resets++;
    this.chunks = [];
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

describe("backup: EtcdSnapshot / EtcdRecover through the client", function () {
  this.timeout(30_000);
  let pki: TestPki;
  let cp: FakeTalosNode;
  let worker: FakeTalosNode;
  let store: SimulatedEtcdStore;
  const clients: TalosClient[] = [];

  const client = (node: FakeTalosNode, timeoutMs = 3000) => {
    const c = new TalosClient({
      endpoint: node.address,
      connection: { mode: "mtls", ca: pki.osCa.crt, cert: pki.admin.crt, key: pki.admin.key },
      timeoutMs,
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 50, jitter: 0 },
    });
    clients.push(c);
    return c;
  };

  before(async () => {
    pki = await newTestPki();
    const etcd = new FakeEtcdCluster();
    cp = await FakeTalosNode.start({ hostname: "cp-1", config: machineConfig({ pki }), etcd });
    worker = await FakeTalosNode.start({
      hostname: "w-1",
      config: machineConfig({ pki, type: "worker" }),
      osCa: pki.osCa,
      etcd,
    });
    etcd.bootstrapped = true;
    etcd.joinAll();
    store = cp.etcdData.store as SimulatedEtcdStore;
    store.keys.set("/registry/a", "1");
    store.padBytes = 3 * 1024 * 1024;
  });

  after(async () => {
    for (const c of clients) c.close();
    await cp.close();
    await worker.close();
  });

  it("streams the snapshot with progress; the trailer verifies", async () => {
    const sink = new MemorySink();
    const progress: number[] = [];
    const r = await client(cp).etcdSnapshot(sink, { onProgress: (b) => progress.push(b) });
    assert.equal(r.bytes, sink.bytes.length);
    assert.ok(progress.length > 10, `${progress.length} progress calls`);
    assert.match(verifySnapshotBytes(sink.bytes), /^[0-9a-f]{64}$/);
  });

  it("retries UNAVAILABLE from the start (the sink is reset), within the bound", async () => {
    cp.failNext("EtcdSnapshot", grpc.status.UNAVAILABLE, "apid restarting", 2);
    const sink = new MemorySink();
    const before = cp.callsOf("EtcdSnapshot").length;
    await client(cp).etcdSnapshot(sink);
    assert.equal(cp.callsOf("EtcdSnapshot").length - before, 3);
    assert.equal(sink.resets, 2);
    verifySnapshotBytes(sink.bytes);
    cp.failNext("EtcdSnapshot", grpc.status.UNAVAILABLE, "apid restarting", 5);
    await assert.rejects(client(cp).etcdSnapshot(new MemorySink()), (e: unknown) => {
      return e instanceof TalosApiError && e.code === grpc.status.UNAVAILABLE && e.attempts === 3;
    });
    cp.failNext("EtcdSnapshot", grpc.status.UNAVAILABLE, "x", 0);
  });

  it("fails at once on a permanent error and on a worker (FAILED_PRECONDITION)", async () => {
    cp.failNext("EtcdSnapshot", grpc.status.PERMISSION_DENIED, "not authorized");
    const before = cp.callsOf("EtcdSnapshot").length;
    await assert.rejects(client(cp).etcdSnapshot(new MemorySink()), /PERMISSION_DENIED: not authorized/);
    assert.equal(cp.callsOf("EtcdSnapshot").length - before, 1);
    await assert.rejects(
      client(worker).etcdSnapshot(new MemorySink()),
      /FAILED_PRECONDITION: etcd snapshot is only available on control plane nodes/,
    );
    await assert.rejects(
      client(worker).etcdRecover(async function* () {
        yield Buffer.from("x");
      }),
      /FAILED_PRECONDITION: etcd recover is only available on control plane nodes/,
    );
  });

  it("a stream that stops moving ends with a timeout after the idle deadline", async () => {
    const slow = {
      write: () => new Promise<void>(() => undefined), // never drains: the stream stalls
      reset: () => undefined,
    };
    await assert.rejects(client(cp, 300).etcdSnapshot(slow), (e: unknown) => e instanceof TalosTimeoutError);
  });

  it("uploads in chunks with progress; the node stores exactly the bytes", async () => {
    const payload = crypto.randomBytes(RECOVER_CHUNK_BYTES * 2 + 1234);
    const progress: number[] = [];
    const r = await client(cp).etcdRecover(
      async function* () {
        yield payload.subarray(0, 1000);
        yield payload.subarray(1000);
      },
      { onProgress: (b) => progress.push(b) },
    );
    assert.equal(r.bytes, payload.length);
    assert.equal(progress.at(-1), payload.length);
    assert.ok(progress.length >= 3);
    const stored = cp.etcdData.uploads.get("cp-1")!;
    const fs = await import("node:fs");
    assert.ok(fs.readFileSync(stored).equals(payload));
    assert.equal(fs.statSync(stored).mode & 0o777, 0o600);
  });
});
