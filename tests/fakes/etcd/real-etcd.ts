/**
 * A REAL etcd (v`TEST_ETCD_VERSION`, built from Go modules by scripts/build-etcd.sh) as a test
 * peer on loopback: one member with plain-HTTP client and peer URLs on 127.0.0.1, keys written and
 * read over etcd's own gRPC API, its snapshot streamed by etcd's Maintenance.Snapshot (the bytes a
 * Talos node's apid forwards for MachineService.EtcdSnapshot), and `etcdutl snapshot restore|status`
 * run as Talos' recovery runs the same restore code.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { TEST_ETCD_VERSION } from "../../../components/versions";

/** Where scripts/build-etcd.sh puts etcd and etcdutl (`$ETCD_PEER_DIR` overrides). */
export const ETCD_PEER_DIR =
  process.env.ETCD_PEER_DIR ??
  path.join(os.homedir(), ".cache", "proxmox-talos", `etcd-${TEST_ETCD_VERSION}`);

export const ETCD_BIN = path.join(ETCD_PEER_DIR, "etcd");
export const ETCDUTL_BIN = path.join(ETCD_PEER_DIR, "etcdutl");

export function etcdBuilt(): boolean {
  return fs.existsSync(ETCD_BIN) && fs.existsSync(ETCDUTL_BIN);
}

/** Skips the running test/suite when etcd was not built, saying why. */
export function requireEtcd(ctx: Mocha.Context): void {
  if (!etcdBuilt()) {
    console.log(
      `      skipped: etcd ${TEST_ETCD_VERSION} not built in ${ETCD_PEER_DIR} (needs Go; .ci/run runs scripts/build-etcd.sh)`,
    );
    ctx.skip();
  }
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface KvMessage {
  key: Buffer;
  value: Buffer;
}

type Unary = (req: object, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;
interface EtcdGrpc {
  kv: grpc.Client & { Range: Unary; Put: Unary };
  maintenance: grpc.Client & {
    Status: Unary;
    Snapshot: (req: object) => grpc.ClientReadableStream<{ blob: Buffer }>;
  };
}

function connect(endpoint: string): EtcdGrpc {
  const def = protoLoader.loadSync(path.join(__dirname, "etcd-subset.proto"), {
    keepCase: true,
    longs: String,
  });
  const pkg = grpc.loadPackageDefinition(def).etcdserverpb as unknown as Record<
    string,
    new (
      addr: string,
      creds: grpc.ChannelCredentials,
    ) => grpc.Client
  >;
  const creds = grpc.credentials.createInsecure();
  return {
    kv: new pkg.KV!(endpoint, creds) as EtcdGrpc["kv"],
    maintenance: new pkg.Maintenance!(endpoint, creds) as EtcdGrpc["maintenance"],
  };
}

function unary<T>(fn: Unary, self: grpc.Client, req: object): Promise<T> {
  return new Promise((resolve, reject) =>
    fn.call(self, req, (err, res) => (err ? reject(err) : resolve(res as T))),
  );
}

export interface SnapshotStatus {
  readonly hash: number;
  readonly revision: number;
  readonly totalKey: number;
  readonly totalSize: number;
}

/** `etcdutl snapshot status -w json FILE`. */
export function snapshotStatus(file: string): SnapshotStatus {
  const r = spawnSync(ETCDUTL_BIN, ["snapshot", "status", "-w", "json", file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`etcdutl snapshot status: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout) as SnapshotStatus;
}

export class RealEtcd {
  private proc: ChildProcess | undefined;
  private client: EtcdGrpc | undefined;
  private output = "";

  private constructor(
    /** Member name (a Talos node's hostname). */
    readonly name: string,
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
  ) {}

  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get peerUrl(): string {
    return `http://127.0.0.1:${this.peerPort}`;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** A new member with an empty data dir under `dir` (not started). */
  static async create(dir: string, name: string): Promise<RealEtcd> {
    return new RealEtcd(name, path.join(dir, `${name}.etcd`), await freePort(), await freePort());
  }

  /** Starts etcd on the data dir (a new single-member cluster, or the restored one) and waits for it. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.proc) return;
    const args = [
      `--name=${this.name}`,
      `--data-dir=${this.dataDir}`,
      `--listen-client-urls=http://${this.endpoint}`,
      `--advertise-client-urls=http://${this.endpoint}`,
      `--listen-peer-urls=${this.peerUrl}`,
      `--initial-advertise-peer-urls=${this.peerUrl}`,
      `--initial-cluster=${this.name}=${this.peerUrl}`,
      "--log-level=error",
      // Test data only: skip the WAL fsyncs (2 shared cores, many writes).
      "--unsafe-no-fsync",
    ];
    this.output = "";
    const proc = spawn(ETCD_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout?.on("data", (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-4000);
    });
    proc.stderr?.on("data", (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-4000);
    });
    proc.on("exit", () => {
      if (this.proc === proc) this.proc = undefined;
    });
    this.proc = proc;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.status();
        return;
      } catch (e) {
        if (!this.proc) throw new Error(`etcd exited while starting: ${this.output}`);
        if (Date.now() > deadline)
          throw new Error(`etcd not ready after ${timeoutMs} ms: ${String(e)}\n${this.output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private grpc(): EtcdGrpc {
    if (!this.client) this.client = connect(this.endpoint);
    return this.client;
  }

  private closeClient(): void {
    this.client?.kv.close();
    this.client?.maintenance.close();
    this.client = undefined;
  }

  async status(): Promise<{ version: string; dbSize: string }> {
    const c = this.grpc();
    return await unary(c.maintenance.Status, c.maintenance, {});
  }

  async put(key: string, value: string | Buffer): Promise<void> {
    const c = this.grpc();
    await unary(c.kv.Put, c.kv, { key: Buffer.from(key), value: Buffer.from(value) });
  }

  async get(key: string): Promise<Buffer | undefined> {
    const c = this.grpc();
    const r = await unary<{ kvs: KvMessage[] }>(c.kv.Range, c.kv, { key: Buffer.from(key) });
    return r.kvs[0] ? Buffer.from(r.kvs[0].value) : undefined;
  }

  /** etcd's Maintenance.Snapshot stream (database, then its SHA-256 as the last bytes). */
  async *snapshot(): AsyncGenerator<Buffer> {
    const stream = this.grpc().maintenance.Snapshot({});
    for await (const msg of stream as AsyncIterable<{ blob: Buffer }>) {
      if (msg.blob.length > 0) yield Buffer.from(msg.blob);
    }
  }

  /** Stops the process (SIGTERM, then SIGKILL after 5 s). */
  async stop(): Promise<void> {
    this.closeClient();
    const p = this.proc;
    if (!p) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => p.kill("SIGKILL"), 5000);
      p.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      p.kill("SIGTERM");
    });
    this.proc = undefined;
  }

  /** Stops etcd and deletes its data dir (what an EPHEMERAL wipe does to a Talos node's etcd). */
  async wipe(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  hasData(): boolean {
    return fs.existsSync(this.dataDir) && fs.readdirSync(this.dataDir).length > 0;
  }

  /**
   * `etcdutl snapshot restore` into the (empty) data dir as a new one-member cluster, as Talos'
   * etcd service does for Bootstrap{recover_etcd}; the hash check is on unless `skipHashCheck`.
   */
  restore(snapshotFile: string, skipHashCheck: boolean): void {
    const args = [
      "snapshot",
      "restore",
      snapshotFile,
      `--data-dir=${this.dataDir}`,
      `--name=${this.name}`,
      `--initial-cluster=${this.name}=${this.peerUrl}`,
      `--initial-advertise-peer-urls=${this.peerUrl}`,
      ...(skipHashCheck ? ["--skip-hash-check"] : []),
    ];
    const r = spawnSync(ETCDUTL_BIN, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`etcdutl snapshot restore failed: ${(r.stderr || r.stdout).trim()}`);
  }
}
