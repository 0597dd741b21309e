/**
 * The etcd snapshot / recovery side of the fake Talos node (tests/fakes/talos-node.ts delegates
 * EtcdSnapshot, EtcdRecover, Bootstrap{recover_etcd} and the EPHEMERAL wipe of a Reset here).
 *
 * What it imitates (Talos `internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go` and
 * the etcd service's `recoverFromSnapshot`, 1.10–1.13):
 * - EtcdSnapshot: control planes only (FAILED_PRECONDITION otherwise); streams the node's etcd
 *   snapshot as `common.Data` chunks; a node whose etcd is not running fails with UNKNOWN
 *   "failed reading etcd snapshot: …" (apid passes the plain Go error on);
 * - EtcdRecover: control planes only; writes the uploaded chunks to the node's recovery snapshot
 *   file (0700 upstream, 0600 here), truncating it each call; answers one `EtcdRecover` entry;
 * - Bootstrap{recover_etcd}: refused with ALREADY_EXISTS "etcd data directory is not empty" while
 *   the node still has etcd data; otherwise answered at once, and etcd then restores the uploaded
 *   snapshot (`etcdutl snapshot restore` semantics: the SHA-256 trailer is checked unless
 *   `recover_skip_hash_check`) and starts as a new one-member cluster the other control planes
 *   join; a failed restore leaves etcd down (`recoveryError` says why), as on a real node;
 * - Reset wiping EPHEMERAL without STATE: the node keeps its config, loses its etcd data and comes
 *   back waiting to join (no member until a bootstrap).
 *
 * The data behind the etcd is a `FakeEtcdStore`: a REAL etcd process (`RealEtcdStore`, the
 * real-etcd test) or an in-memory stand-in (`SimulatedEtcdStore`) whose snapshot has etcd's
 * trailer layout (database bytes + their SHA-256) but not bbolt's format.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { FakeEtcdCluster, FakeTalosNode } from "../talos-node";
import type { RealEtcd } from "./real-etcd";

/** The data of the cluster's etcd. */
export interface FakeEtcdStore {
  /** etcd's snapshot stream: the database, then its SHA-256 (32 bytes). */
  snapshot(): AsyncIterable<Buffer>;
  readonly running: boolean;
  /** etcd is stopped and its data dir deleted. */
  wipe(): Promise<void>;
  /** Restores `file` into the empty data dir and starts etcd; throws like etcdutl on a bad file. */
  restore(file: string, skipHashCheck: boolean): Promise<void>;
}

/** A real etcd process (tests/fakes/etcd/real-etcd.ts). */
export class RealEtcdStore implements FakeEtcdStore {
  constructor(readonly etcd: RealEtcd) {}
  snapshot(): AsyncIterable<Buffer> {
    return this.etcd.snapshot();
  }
  get running(): boolean {
    return this.etcd.running;
  }
  wipe(): Promise<void> {
    return this.etcd.wipe();
  }
  async restore(file: string, skipHashCheck: boolean): Promise<void> {
    if (this.etcd.hasData()) throw new Error("etcd data directory is not empty");
    this.etcd.restore(file, skipHashCheck);
    await this.etcd.start();
  }
}

/**
 * In-memory keys; the snapshot is JSON + optional padding + its SHA-256. The database part is
 * padded to whole 512-byte blocks as a bbolt file is whole pages, and `restore` refuses a file
 * whose size is not `512k + 32` like etcdutl (v3.6 snapshot/v3_snapshot.go `hasChecksum`).
 */
export class SimulatedEtcdStore implements FakeEtcdStore {
  keys = new Map<string, string>();
  running = true;
  /** Extra database bytes (to make snapshots of a given size). */
  padBytes = 0;
  /** Chunk size of the snapshot stream. */
  chunkBytes = 64 * 1024;

  async *snapshot(): AsyncGenerator<Buffer> {
    if (!this.running) throw new Error("etcdserver: no leader");
    const raw = Buffer.concat([
      Buffer.from(`${JSON.stringify(Object.fromEntries(this.keys))}\n`),
      Buffer.alloc(this.padBytes, 0x5a),
    ]);
    const db = Buffer.concat([raw, Buffer.alloc((512 - (raw.length % 512)) % 512, 0x5a)]);
    const all = Buffer.concat([db, crypto.createHash("sha256").update(db).digest()]);
    for (let off = 0; off < all.length; off += this.chunkBytes) {
      yield all.subarray(off, off + this.chunkBytes);
    }
  }

  async wipe(): Promise<void> {
    this.running = false;
    this.keys = new Map();
  }

  async restore(file: string, skipHashCheck: boolean): Promise<void> {
    const all = fs.readFileSync(file);
    const db = all.subarray(0, Math.max(0, all.length - 32));
    if (!skipHashCheck) {
      if (all.length % 512 !== 32) throw new Error("snapshot missing hash but --skip-hash-check=false");
      const sum = crypto.createHash("sha256").update(db).digest();
      if (all.length <= 32 || !sum.equals(all.subarray(all.length - 32))) {
        throw new Error("snapshot file integrity check failed");
      }
    }
    const nl = db.indexOf(0x0a);
    this.keys = new Map(
      Object.entries(JSON.parse(db.subarray(0, nl).toString("utf8")) as Record<string, string>),
    );
    this.running = true;
  }
}

/** The etcd of a set of fake control planes: its data and each node's uploaded recovery snapshot. */
export class FakeEtcdData {
  /** Per node hostname: the snapshot file uploaded with EtcdRecover. */
  readonly uploads = new Map<string, string>();
  /** Why the last recovery failed (etcd stays down), if it did. */
  recoveryError: string | undefined;
  /** Resolves when the recovery started by the last Bootstrap{recover_etcd} has finished. */
  recovered: Promise<void> = Promise.resolve();
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-talos-etcd-"));
  /** The nodes serving this etcd (they register themselves when they boot). */
  readonly nodes = new Set<FakeTalosNode>();

  constructor(readonly store: FakeEtcdStore = new SimulatedEtcdStore()) {}

  uploadPath(hostname: string): string {
    return path.join(this.dir, `${hostname}.etcd.snapshot`);
  }

  /** Removes the uploaded files (the store is the caller's). */
  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const shared = new WeakMap<FakeEtcdCluster, FakeEtcdData>();

/** The etcd data of a node: the cluster's (one per FakeEtcdCluster), else its own. */
export function etcdDataFor(cluster: FakeEtcdCluster | undefined): FakeEtcdData {
  if (!cluster) return new FakeEtcdData();
  let d = shared.get(cluster);
  if (!d) {
    d = new FakeEtcdData();
    shared.set(cluster, d);
  }
  return d;
}

/** A gRPC failure the node answers with. */
interface Failure {
  code: grpc.status;
  details: string;
}

const fail = (code: grpc.status, details: string): Failure => ({ code, details });

function controlPlaneOnly(node: FakeTalosNode, api: string): Failure | undefined {
  return node.isControlPlane()
    ? undefined
    : fail(grpc.status.FAILED_PRECONDITION, `${api} is only available on control plane nodes`);
}

/** This node's etcd runs and is a member of the cluster. */
function etcdUp(node: FakeTalosNode, data: FakeEtcdData): boolean {
  const c = node.etcdCluster;
  const member = c ? c.members.some((m) => m.hostname === node.hostname) : node.bootstrapped;
  return member && node.etcdHealthy && data.store.running;
}

interface RecordedRequest {
  readonly raw: Buffer;
  readonly msg: Record<string, unknown>;
}

/** Handler for EtcdSnapshot (server stream). */
export function snapshotHandler(
  node: FakeTalosNode,
  data: FakeEtcdData,
  path_: string,
): grpc.handleServerStreamingCall<RecordedRequest, object> {
  return (call) => {
    const rec = node.record("EtcdSnapshot", path_, node.mode, call, call.request);
    const end = (f: Failure) => {
      rec.code = f.code;
      call.emit("error", f);
    };
    const fault = node.takeFault("EtcdSnapshot");
    if (fault) return end(fail(fault.code, fault.message));
    const refused = controlPlaneOnly(node, "etcd snapshot");
    if (refused) return end(refused);
    if (!etcdUp(node, data)) {
      return end(fail(grpc.status.UNKNOWN, "failed reading etcd snapshot: context deadline exceeded"));
    }
    void (async () => {
      try {
        for await (const chunk of data.store.snapshot()) {
          if (call.cancelled) return;
          if (!call.write({ metadata: null, bytes: chunk })) {
            await new Promise<void>((r) => call.once("drain", () => r()));
          }
        }
        call.end();
      } catch (e) {
        end(
          fail(
            grpc.status.UNKNOWN,
            `failed reading etcd snapshot: ${e instanceof Error ? e.message : String(e)}`,
          ),
        );
      }
    })();
  };
}

/** Handler for EtcdRecover (client stream). */
export function recoverHandler(
  node: FakeTalosNode,
  data: FakeEtcdData,
  path_: string,
): grpc.handleClientStreamingCall<RecordedRequest, object> {
  return (call, callback) => {
    const rec = node.record("EtcdRecover", path_, node.mode, call, { raw: Buffer.alloc(0), msg: {} });
    const answer = (f: Failure | undefined) => {
      if (f) {
        rec.code = f.code;
        callback(f);
      } else {
        callback(null, { messages: [{ metadata: { hostname: node.hostname } }] });
      }
    };
    const fault = node.takeFault("EtcdRecover");
    const refused = fault ? fail(fault.code, fault.message) : controlPlaneOnly(node, "etcd recover");
    if (refused) {
      call.on("data", () => undefined);
      call.on("end", () => answer(refused));
      return;
    }
    const file = data.uploadPath(node.hostname);
    const fd = fs.openSync(file, "w", 0o600);
    let bytes = 0;
    let failed = false;
    call.on("data", (req: RecordedRequest) => {
      const b = req.msg.bytes;
      if (b instanceof Uint8Array) {
        fs.writeSync(fd, b);
        bytes += b.length;
      }
    });
    call.on("error", () => {
      failed = true;
      fs.closeSync(fd);
      fs.rmSync(file, { force: true });
    });
    call.on("end", () => {
      if (failed) return;
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      data.uploads.set(node.hostname, file);
      (rec.request as Record<string, unknown>).bytes = bytes;
      answer(undefined);
    });
  };
}

/** Bootstrap{recover_etcd}: the checks Talos answers with, then the restore in the background. */
export function bootstrapRecover(
  node: FakeTalosNode,
  data: FakeEtcdData,
  skipHashCheck: boolean,
): Failure | undefined {
  const c = node.etcdCluster;
  // A lone node's data dir is its own bootstrap; a shared cluster's is the cluster's data.
  const notEmpty = c ? c.bootstrapped || data.store.running || node.bootstrapped : node.bootstrapped;
  if (notEmpty) return fail(grpc.status.ALREADY_EXISTS, "etcd data directory is not empty");
  node.bootstrapped = true;
  data.recoveryError = undefined;
  data.recovered = (async () => {
    const file = data.uploads.get(node.hostname);
    try {
      if (!file || !fs.existsSync(file))
        throw new Error("error getting snapshot status: no such file or directory");
      await data.store.restore(file, skipHashCheck);
      fs.rmSync(file, { force: true });
      data.uploads.delete(node.hostname);
      if (c) {
        c.bootstrapped = true;
        // The wiped control planes were waiting to join: they join the restored cluster now.
        for (const n of data.nodes) n.leftEtcd = false;
        c.joinAll();
      } else {
        node.etcdMembers = [node.selfMember()];
      }
    } catch (e) {
      node.bootstrapped = false;
      data.recoveryError = `error recovering from the snapshot: ${e instanceof Error ? e.message : String(e)}`;
    }
  })();
  return undefined;
}

/** A Reset that wipes EPHEMERAL (not STATE): this node's etcd data is gone, its config stays. */
export async function wipeEphemeral(node: FakeTalosNode, data: FakeEtcdData): Promise<void> {
  node.bootstrapped = false;
  // A fresh etcd that waits to join; the fake lets it join only a recovered cluster.
  node.etcdHealthy = true;
  node.leftEtcd = true;
  const c = node.etcdCluster;
  if (c) {
    c.remove(node.selfMember().id);
    if (c.members.length === 0) {
      c.bootstrapped = false;
      // The last copy of the data is gone.
      await data.store.wipe();
    }
  } else {
    await data.store.wipe();
  }
}

/** A Reset request that wipes EPHEMERAL and leaves STATE (the node keeps its config). */
export function wipesEphemeralOnly(req: Record<string, unknown>): boolean {
  const parts = Array.isArray(req.system_partitions_to_wipe) ? req.system_partitions_to_wipe : [];
  const labels = parts.map((p) =>
    typeof p === "object" && p !== null ? String((p as { label?: unknown }).label) : "",
  );
  return labels.includes("EPHEMERAL") && !labels.includes("STATE");
}
