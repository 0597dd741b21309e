/**
 * Talos API client (apid, gRPC over TLS on TCP 50000) for the subset the project calls.
 *
 * Two connection modes:
 * - maintenance: TLS without client certificate and WITHOUT verifying the server certificate (a
 *   maintenance-mode node serves a per-boot self-signed cert). Only allowed when the caller passes
 *   `insecureMaintenance: true` for an address the user declared.
 * - mtls: mutual TLS; the server cert must chain to the cluster's OS CA and match the node
 *   address (or `serverName`), the client presents the admin certificate.
 *
 * Calls target one node: the endpoint itself, or `node` (sent as the `node` metadata key, apid
 * proxies) when it differs from the endpoint. Per-node errors carried in reply `metadata.error`
 * become `TalosNodeError`; gRPC failures become `TalosApiError` / `TalosTimeoutError` naming the
 * node. UNAVAILABLE and DEADLINE_EXCEEDED are retried with bounded exponential backoff; every other
 * code (INVALID_ARGUMENT, ...) fails at once with the server's message.
 *
 * Self-contained (relative imports only, no module-level state beyond a lazily filled proto cache)
 * so Pulumi dynamic providers can `require` it.
 */
import * as grpc from "@grpc/grpc-js";
import { TalosApiError, TalosError, TalosNodeError, TalosTimeoutError } from "./errors";
import { extractKubeconfig, MAX_KUBECONFIG_BYTES } from "./kubeconfig-archive";
import { type TalosMethod, talosMethod } from "./proto";
import { RetryExhausted, type RetryPolicy, resolveRetryPolicy, withRetry } from "./retry";

export { TalosApiError, TalosError, TalosNodeError, TalosTimeoutError } from "./errors";
export type { RetryPolicy } from "./retry";

/** Default apid port. */
export const TALOS_API_PORT = 50000;

export type ApplyMode = "auto" | "reboot" | "no_reboot" | "staged" | "try";

export type TalosOperation =
  | "applyConfiguration"
  | "bootstrap"
  | "version"
  | "etcdMemberList"
  | "etcdRemoveMember"
  | "etcdLeaveCluster"
  | "disks"
  | "reboot"
  | "reset"
  | "upgrade"
  | "kubeconfig"
  | "etcdSnapshot"
  | "etcdRecover";

export interface MaintenanceConnection {
  readonly mode: "maintenance";
  /**
   * Must be literally `true`: the server certificate is NOT verified and no client certificate is
   * sent. Use only for an address the user declared as a maintenance-mode node.
   */
  readonly insecureMaintenance: true;
}

export interface MtlsConnection {
  readonly mode: "mtls";
  /** PEM of the cluster's OS CA certificate (trust anchor for the server cert). */
  readonly ca: string;
  /** PEM of the client (admin) certificate, issued by the OS CA. */
  readonly cert: string;
  /** PEM of the client key; Talos' `ED25519 PRIVATE KEY` label is accepted. */
  readonly key: string;
  /** Name to verify the server certificate against; default: the endpoint host. */
  readonly serverName?: string;
}

export interface TalosClientOptions {
  /** apid address: `host`, `host:port`, `[v6]:port` or a bare IPv6 address; port defaults to 50000. */
  readonly endpoint: string;
  /** Target node (sent as `node` metadata) when it differs from the endpoint. */
  readonly node?: string;
  readonly connection: MaintenanceConnection | MtlsConnection;
  /** Per-attempt deadline (ms) for every operation without its own entry. Default 30 s. */
  readonly timeoutMs?: number;
  /** Per-operation deadlines (ms), overriding `timeoutMs`. */
  readonly timeouts?: Partial<Record<TalosOperation, number>>;
  /** Retry policy for UNAVAILABLE / DEADLINE_EXCEEDED. */
  readonly retry?: Partial<RetryPolicy>;
  /** Called before each retry (logging). */
  readonly onRetry?: (info: {
    operation: TalosOperation;
    attempt: number;
    code: number;
    delayMs: number;
  }) => void;
  /** Folder holding talos.proto; default: beside this module. */
  readonly protoDir?: string;
}

export interface ApplyConfigurationOptions {
  /** Machine configuration YAML (may be multi-document). */
  readonly data: string | Uint8Array;
  /** Default "auto". */
  readonly mode?: ApplyMode;
  readonly dryRun?: boolean;
  /** TRY mode only: revert after this many milliseconds unless confirmed (server default 1 min). */
  readonly tryModeTimeout?: number;
}

export interface ApplyConfigurationResult {
  /** Mode the node actually used (AUTO resolved to REBOOT or NO_REBOOT). */
  readonly mode: ApplyMode;
  readonly modeDetails: string;
  readonly warnings: readonly string[];
}

export interface BootstrapResult {
  /** True when the node answered ALREADY_EXISTS ("etcd data directory is not empty"). */
  readonly alreadyBootstrapped: boolean;
}

export interface VersionResult {
  readonly tag: string;
  readonly sha: string;
  readonly built: string;
  readonly goVersion: string;
  readonly os: string;
  readonly arch: string;
  readonly platform?: { readonly name: string; readonly mode: string };
}

export interface EtcdMember {
  /** uint64 member id as a decimal string. */
  readonly id: string;
  readonly hostname: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

export interface DiskInfo {
  readonly deviceName: string;
  readonly name: string;
  readonly model: string;
  readonly serial: string;
  readonly size: number;
  readonly type: string;
  readonly systemDisk: boolean;
  readonly readonly: boolean;
}

export interface ResetOptions {
  /** Leave etcd / drain first. Default true. */
  readonly graceful?: boolean;
  /** Reboot after the reset instead of halting. Default false. */
  readonly reboot?: boolean;
  /** System partitions to wipe, e.g. [{label: "STATE", wipe: true}, {label: "EPHEMERAL", wipe: true}]. */
  readonly systemPartitionsToWipe?: readonly { readonly label: string; readonly wipe: boolean }[];
  readonly userDisksToWipe?: readonly string[];
  readonly mode?: "all" | "system_disk" | "user_disks";
}

export interface UpgradeOptions {
  /** Installer image reference, e.g. factory.talos.dev/metal-installer/<id>:v1.11.5. */
  readonly image: string;
  readonly stage?: boolean;
  readonly force?: boolean;
  readonly preserve?: boolean;
}

/** Where `etcdSnapshot` writes the streamed bytes. */
export interface SnapshotSink {
  /** Takes the next chunk; a returned promise holds the stream until it settles (backpressure). */
  write(chunk: Buffer): void | Promise<void>;
  /** Drops everything written so far: called before a retried attempt starts over. */
  reset(): void | Promise<void>;
}

export interface StreamOptions {
  /** Called with the bytes moved so far, after every chunk. */
  readonly onProgress?: (bytes: number) => void;
}

/** Chunk size of an `etcdRecover` upload (well below gRPC's 4 MiB default message limit). */
export const RECOVER_CHUNK_BYTES = 1024 * 1024;

// ---- wire shapes (as decoded with proto.ts LOADER_OPTIONS: snake_case, enums as names) ----

interface RawStatus {
  readonly code: number;
  readonly message: string;
}
interface RawMetadata {
  readonly hostname: string;
  readonly error: string;
  readonly status: RawStatus | null;
}
interface RawEntry {
  readonly metadata: RawMetadata | null;
}
interface RawReply<E extends RawEntry> {
  readonly messages: readonly E[];
}
interface RawApplyEntry extends RawEntry {
  readonly warnings: readonly string[];
  readonly mode: string;
  readonly mode_details: string;
}
interface RawVersionEntry extends RawEntry {
  readonly version: {
    tag: string;
    sha: string;
    built: string;
    go_version: string;
    os: string;
    arch: string;
  } | null;
  readonly platform: { name: string; mode: string } | null;
}
interface RawEtcdMembersEntry extends RawEntry {
  readonly members: readonly {
    id: string;
    hostname: string;
    peer_urls: string[];
    client_urls: string[];
    is_learner: boolean;
  }[];
}
interface RawDisksEntry extends RawEntry {
  readonly disks: readonly {
    size: string;
    model: string;
    device_name: string;
    name: string;
    serial: string;
    type: string;
    system_disk: boolean;
    readonly: boolean;
  }[];
}
interface RawUpgradeEntry extends RawEntry {
  readonly ack: string;
}
interface RawData {
  readonly metadata: RawMetadata | null;
  readonly bytes: Buffer;
}

type Empty = Record<string, never>;

const APPLY_MODES: Record<ApplyMode, string> = {
  reboot: "REBOOT",
  auto: "AUTO",
  no_reboot: "NO_REBOOT",
  staged: "STAGED",
  try: "TRY",
};

const DEFAULT_TIMEOUT_MS = 30_000;

/** `host:port` for grpc-js from an endpoint with or without port (IPv6 aware). */
export function normalizeEndpoint(endpoint: string, defaultPort = TALOS_API_PORT): string {
  const e = endpoint.trim();
  if (e === "") throw new Error("Talos endpoint is empty");
  if (e.startsWith("[")) return /\]:\d+$/.test(e) ? e : `${e}:${defaultPort}`;
  const colons = (e.match(/:/g) ?? []).length;
  if (colons > 1) return `[${e}]:${defaultPort}`; // bare IPv6
  return colons === 1 ? e : `${e}:${defaultPort}`;
}

/** Host part of an endpoint (no port, no brackets). */
export function endpointHost(endpoint: string): string {
  const hp = normalizeEndpoint(endpoint);
  const i = hp.lastIndexOf(":");
  return hp.slice(0, i).replace(/^\[|\]$/g, "");
}

/** Node's crypto rejects the non-standard `ED25519 PRIVATE KEY` label; the body is plain PKCS#8. */
export function normalizeKeyPem(pem: string): string {
  return pem.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, "-----$1 PRIVATE KEY-----");
}

function credentialsFor(conn: MaintenanceConnection | MtlsConnection): grpc.ChannelCredentials {
  if (conn.mode === "maintenance") {
    if (conn.insecureMaintenance !== true) {
      throw new Error("maintenance connection requires insecureMaintenance: true");
    }
    // Server cert not verified (per-boot self-signed on a maintenance node), no client cert.
    return grpc.credentials.createSsl(null, null, null, {
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
  }
  if (!conn.ca || !conn.cert || !conn.key) throw new Error("mtls connection needs ca, cert and key");
  return grpc.credentials.createSsl(
    Buffer.from(conn.ca),
    Buffer.from(normalizeKeyPem(conn.key)),
    Buffer.from(conn.cert),
  );
}

/** A gRPC-status-shaped error raised by the client itself (e.g. a stalled stream). */
function grpcFailure(code: grpc.status, details: string): Error & { code: number; details: string } {
  return Object.assign(new Error(details), { code, details });
}

export class TalosClient {
  /** Address named in errors: the `node` target, else the endpoint. */
  readonly nodeName: string;
  readonly target: string;
  private readonly retry: RetryPolicy;
  private grpcClient: grpc.Client | undefined;

  constructor(private readonly opts: TalosClientOptions) {
    this.target = normalizeEndpoint(opts.endpoint);
    this.nodeName = opts.node ?? opts.endpoint;
    this.retry = resolveRetryPolicy(opts.retry);
    if (opts.connection.mode === "maintenance" && opts.connection.insecureMaintenance !== true) {
      throw new Error(
        `refusing an unverified TLS connection to ${opts.endpoint}: pass insecureMaintenance: true for a declared maintenance-mode node`,
      );
    }
    if (opts.connection.mode === "mtls") {
      const { ca, cert, key } = opts.connection;
      if (!ca || !cert || !key) throw new Error(`mtls connection to ${opts.endpoint} needs ca, cert and key`);
    }
  }

  /** Closes the underlying channel. The client reconnects lazily if used again. */
  close(): void {
    this.grpcClient?.close();
    this.grpcClient = undefined;
  }

  private client(): grpc.Client {
    if (!this.grpcClient) {
      const options: grpc.ChannelOptions = {
        // Reconnect promptly after a reboot instead of grpc-js' default 1 s..120 s backoff; our
        // own retry loop paces the attempts.
        "grpc.initial_reconnect_backoff_ms": Math.max(50, Math.min(this.retry.baseDelayMs, 1000)),
        "grpc.max_reconnect_backoff_ms": Math.max(100, Math.min(this.retry.maxDelayMs, 10_000)),
        "grpc.max_receive_message_length": 64 * 1024 * 1024,
        "grpc.enable_retries": 0,
      };
      const conn = this.opts.connection;
      if (conn.mode === "mtls" && conn.serverName) options["grpc.ssl_target_name_override"] = conn.serverName;
      this.grpcClient = new grpc.Client(this.target, credentialsFor(conn), options);
    }
    return this.grpcClient;
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    const node = this.opts.node;
    if (node && node !== endpointHost(this.opts.endpoint) && node !== this.opts.endpoint)
      md.set("node", node);
    return md;
  }

  /** Per-attempt deadline of an operation in ms. */
  timeoutFor(op: TalosOperation): number {
    return this.opts.timeouts?.[op] ?? this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private async call<T>(op: TalosOperation, attemptFn: (deadline: Date) => Promise<T>): Promise<T> {
    const timeoutMs = this.timeoutFor(op);
    try {
      return await withRetry(
        this.retry,
        () => attemptFn(new Date(Date.now() + timeoutMs)),
        (attempt, err, delayMs) => this.opts.onRetry?.({ operation: op, attempt, code: err.code, delayMs }),
        // A per-node error in a reply (metadata.error) is the node's answer, not a transport failure.
        (err) => !(err instanceof TalosError),
      );
    } catch (e) {
      const last = e instanceof RetryExhausted ? e.last : e;
      const attempts = e instanceof RetryExhausted ? e.attempts : 1;
      if (last instanceof TalosError) throw last;
      const err = last as Partial<grpc.ServiceError>;
      if (typeof err.code === "number") {
        const details = err.details ?? err.message ?? "";
        if (err.code === grpc.status.DEADLINE_EXCEEDED) {
          throw new TalosTimeoutError(this.nodeName, op, details, attempts, timeoutMs);
        }
        throw new TalosApiError(this.nodeName, op, err.code, details, attempts);
      }
      throw new TalosError(
        `Talos ${op} on node ${this.nodeName} failed: ${last instanceof Error ? last.message : String(last)}`,
        this.nodeName,
        op,
      );
    }
  }

  private unary<Req, Res>(
    op: TalosOperation,
    service: "machine.MachineService" | "storage.StorageService",
    method: string,
    request: Req,
  ): Promise<Res> {
    const m: TalosMethod<Req, Res> = talosMethod<Req, Res>(service, method, this.opts.protoDir);
    return this.call(
      op,
      (deadline) =>
        new Promise<Res>((resolve, reject) => {
          this.client().makeUnaryRequest(
            m.path,
            m.serialize,
            m.deserialize,
            request,
            this.metadata(),
            { deadline },
            (err, value) => {
              if (err) reject(err);
              else if (value === undefined) reject(new Error(`empty reply to ${m.path}`));
              else resolve(value);
            },
          );
        }),
    );
  }

  /** The node's refusal a reply message carries in `metadata.error` (named by the node it came from), if any. */
  private nodeError(op: TalosOperation, md: RawMetadata | null): TalosNodeError | undefined {
    if (!md?.error) return undefined;
    return new TalosNodeError(md.hostname || this.nodeName, op, md.error, md.status?.code || undefined);
  }

  /**
   * Throws TalosNodeError for the first reply entry carrying `metadata.error`, and TalosError for a
   * reply without entries: machined answers every call with one message per node (apid adds one
   * per proxied node), so an empty reply confirms nothing and must not pass for success.
   */
  private checkEntries<E extends RawEntry>(op: TalosOperation, reply: RawReply<E>): readonly E[] {
    if (reply.messages.length === 0) {
      throw new TalosError(`Talos ${op} on node ${this.nodeName}: empty reply`, this.nodeName, op);
    }
    for (const entry of reply.messages) {
      const error = this.nodeError(op, entry.metadata);
      if (error) throw error;
    }
    return reply.messages;
  }

  private firstEntry<E extends RawEntry>(op: TalosOperation, reply: RawReply<E>): E {
    const first = this.checkEntries(op, reply)[0];
    if (!first) throw new TalosError(`Talos ${op} on node ${this.nodeName}: empty reply`, this.nodeName, op);
    return first;
  }

  async applyConfiguration(o: ApplyConfigurationOptions): Promise<ApplyConfigurationResult> {
    const mode = o.mode ?? "auto";
    if (!(mode in APPLY_MODES)) throw new Error(`unknown apply mode ${mode}`);
    // proto3 leaves default values (REBOOT = 0, false) off the wire; so do we.
    const req: Record<string, unknown> = {
      data: typeof o.data === "string" ? Buffer.from(o.data, "utf8") : Buffer.from(o.data),
    };
    if (mode !== "reboot") req.mode = APPLY_MODES[mode];
    if (o.dryRun) req.dry_run = true;
    if (o.tryModeTimeout !== undefined) {
      const ms = Math.max(0, Math.round(o.tryModeTimeout));
      const seconds = Math.floor(ms / 1000);
      const nanos = (ms % 1000) * 1_000_000;
      req.try_mode_timeout = nanos ? { seconds, nanos } : { seconds };
    }
    const reply = await this.unary<typeof req, RawReply<RawApplyEntry>>(
      "applyConfiguration",
      "machine.MachineService",
      "ApplyConfiguration",
      req,
    );
    const e = this.firstEntry("applyConfiguration", reply);
    const back = (Object.keys(APPLY_MODES) as ApplyMode[]).find((k) => APPLY_MODES[k] === e.mode) ?? "reboot";
    return { mode: back, modeDetails: e.mode_details, warnings: [...e.warnings] };
  }

  /** Bootstraps etcd on this control-plane node. ALREADY_EXISTS → `{alreadyBootstrapped: true}`. */
  async bootstrap(
    o: { recoverEtcd?: boolean; recoverSkipHashCheck?: boolean } = {},
  ): Promise<BootstrapResult> {
    const req: Record<string, boolean> = {};
    if (o.recoverEtcd) req.recover_etcd = true;
    if (o.recoverSkipHashCheck) req.recover_skip_hash_check = true;
    try {
      const reply = await this.unary<typeof req, RawReply<RawEntry>>(
        "bootstrap",
        "machine.MachineService",
        "Bootstrap",
        req,
      );
      this.checkEntries("bootstrap", reply);
      return { alreadyBootstrapped: false };
    } catch (e) {
      const already =
        ((e instanceof TalosApiError || e instanceof TalosNodeError) &&
          e.code === grpc.status.ALREADY_EXISTS) ||
        (e instanceof TalosNodeError &&
          e.code === undefined &&
          /etcd data directory is not empty/.test(e.nodeMessage));
      if (already) {
        return { alreadyBootstrapped: true };
      }
      throw e;
    }
  }

  async version(): Promise<VersionResult> {
    const reply = await this.unary<Empty, RawReply<RawVersionEntry>>(
      "version",
      "machine.MachineService",
      "Version",
      {},
    );
    const e = this.firstEntry("version", reply);
    const v = e.version;
    return {
      tag: v?.tag ?? "",
      sha: v?.sha ?? "",
      built: v?.built ?? "",
      goVersion: v?.go_version ?? "",
      os: v?.os ?? "",
      arch: v?.arch ?? "",
      ...(e.platform ? { platform: { name: e.platform.name, mode: e.platform.mode } } : {}),
    };
  }

  async etcdMemberList(o: { queryLocal?: boolean } = {}): Promise<EtcdMember[]> {
    const reply = await this.unary<Record<string, boolean>, RawReply<RawEtcdMembersEntry>>(
      "etcdMemberList",
      "machine.MachineService",
      "EtcdMemberList",
      o.queryLocal ? { query_local: true } : {},
    );
    return this.firstEntry("etcdMemberList", reply).members.map((m) => ({
      id: String(m.id),
      hostname: m.hostname,
      peerUrls: [...m.peer_urls],
      clientUrls: [...m.client_urls],
      isLearner: m.is_learner,
    }));
  }

  /** Removes an etcd member by its uint64 id (decimal string or bigint). */
  async etcdRemoveMember(id: string | bigint): Promise<void> {
    const memberId = String(id);
    if (!/^\d+$/.test(memberId)) throw new Error(`etcd member id must be a decimal uint64, got ${memberId}`);
    const reply = await this.unary<{ member_id: string }, RawReply<RawEntry>>(
      "etcdRemoveMember",
      "machine.MachineService",
      "EtcdRemoveMemberByID",
      { member_id: memberId },
    );
    this.checkEntries("etcdRemoveMember", reply);
  }

  async etcdLeaveCluster(): Promise<void> {
    const reply = await this.unary<Empty, RawReply<RawEntry>>(
      "etcdLeaveCluster",
      "machine.MachineService",
      "EtcdLeaveCluster",
      {},
    );
    this.checkEntries("etcdLeaveCluster", reply);
  }

  /** storage.StorageService/Disks (answers in maintenance mode too). */
  async disks(): Promise<DiskInfo[]> {
    const reply = await this.unary<Empty, RawReply<RawDisksEntry>>(
      "disks",
      "storage.StorageService",
      "Disks",
      {},
    );
    return this.firstEntry("disks", reply).disks.map((d) => ({
      deviceName: d.device_name,
      name: d.name,
      model: d.model,
      serial: d.serial,
      size: Number(d.size),
      type: d.type,
      systemDisk: d.system_disk,
      readonly: d.readonly,
    }));
  }

  async reboot(o: { mode?: "default" | "powercycle" } = {}): Promise<void> {
    const reply = await this.unary<Record<string, string>, RawReply<RawEntry>>(
      "reboot",
      "machine.MachineService",
      "Reboot",
      o.mode === "powercycle" ? { mode: "POWERCYCLE" } : {},
    );
    this.checkEntries("reboot", reply);
  }

  async reset(o: ResetOptions = {}): Promise<void> {
    const req: Record<string, unknown> = {};
    if (o.graceful ?? true) req.graceful = true;
    if (o.reboot) req.reboot = true;
    if (o.systemPartitionsToWipe?.length) {
      req.system_partitions_to_wipe = o.systemPartitionsToWipe.map((p) => ({ label: p.label, wipe: p.wipe }));
    }
    if (o.userDisksToWipe?.length) req.user_disks_to_wipe = [...o.userDisksToWipe];
    if (o.mode && o.mode !== "all") req.mode = o.mode.toUpperCase();
    const reply = await this.unary<typeof req, RawReply<RawEntry>>(
      "reset",
      "machine.MachineService",
      "Reset",
      req,
    );
    this.checkEntries("reset", reply);
  }

  /** MachineService.Upgrade (acknowledged only; progress is observed by reconnecting). */
  async upgrade(o: UpgradeOptions): Promise<{ ack: string }> {
    if (!o.image) throw new Error("upgrade needs an installer image");
    const req: Record<string, unknown> = { image: o.image };
    if (o.stage) req.stage = true;
    if (o.force) req.force = true;
    if (o.preserve) req.preserve = true;
    const reply = await this.unary<typeof req, RawReply<RawUpgradeEntry>>(
      "upgrade",
      "machine.MachineService",
      "Upgrade",
      req,
    );
    return { ack: this.firstEntry("upgrade", reply).ack };
  }

  /**
   * MachineService.EtcdSnapshot (control planes): streams the node's etcd snapshot into `sink`.
   * The per-attempt timeout bounds the wait for each chunk (not the whole transfer), so a large
   * database streams as long as it keeps moving. UNAVAILABLE / DEADLINE_EXCEEDED restart the
   * transfer (after `sink.reset()`) within the retry policy; every other code fails at once.
   */
  async etcdSnapshot(sink: SnapshotSink, o: StreamOptions = {}): Promise<{ bytes: number }> {
    const m = talosMethod<Empty, RawData>("machine.MachineService", "EtcdSnapshot", this.opts.protoDir);
    const idleMs = this.timeoutFor("etcdSnapshot");
    let attempt = 0;
    return this.call("etcdSnapshot", async () => {
      if (attempt++ > 0) await sink.reset();
      return await new Promise<{ bytes: number }>((resolve, reject) => {
        let bytes = 0;
        let done = false;
        let pending = Promise.resolve();
        const stream = this.client().makeServerStreamRequest(
          m.path,
          m.serialize,
          m.deserialize,
          {},
          this.metadata(),
        );
        const finish = (err: unknown, value?: { bytes: number }) => {
          if (done) return;
          done = true;
          clearTimeout(idle);
          if (err) {
            stream.cancel();
            reject(err);
          } else resolve(value ?? { bytes });
        };
        let idle = setTimeout(() => undefined, 0);
        const arm = () => {
          clearTimeout(idle);
          idle = setTimeout(
            () => finish(grpcFailure(grpc.status.DEADLINE_EXCEEDED, `no snapshot data for ${idleMs} ms`)),
            idleMs,
          );
        };
        arm();
        stream.on("data", (d: RawData) => {
          if (done) return;
          const error = this.nodeError("etcdSnapshot", d.metadata);
          if (error) {
            finish(error);
            return;
          }
          const chunk = Buffer.from(d.bytes);
          if (chunk.length === 0) return;
          stream.pause();
          pending = pending
            .then(() => sink.write(chunk))
            .then(() => {
              bytes += chunk.length;
              o.onProgress?.(bytes);
              arm();
              stream.resume();
            })
            .catch((e: unknown) => finish(e));
        });
        stream.on("error", (err: grpc.ServiceError) => finish(err));
        stream.on("end", () => {
          void pending.then(() => finish(undefined, { bytes }));
        });
      });
    });
  }

  /**
   * MachineService.EtcdRecover (control planes): uploads a snapshot for a following
   * `bootstrap({recoverEtcd: true})`. `open` gives the bytes from the start each time it is called
   * (a retried attempt uploads again; Talos truncates the file it writes on every call).
   */
  async etcdRecover(
    open: () => AsyncIterable<Buffer | Uint8Array>,
    o: StreamOptions = {},
  ): Promise<{ bytes: number }> {
    const m = talosMethod<RawData, RawReply<RawEntry>>(
      "machine.MachineService",
      "EtcdRecover",
      this.opts.protoDir,
    );
    const idleMs = this.timeoutFor("etcdRecover");
    return this.call("etcdRecover", async () => {
      let bytes = 0;
      let settle: { resolve: (r: RawReply<RawEntry>) => void; reject: (e: unknown) => void } | undefined;
      const reply = new Promise<RawReply<RawEntry>>((resolve, reject) => {
        settle = { resolve, reject };
      });
      let idle: NodeJS.Timeout | undefined;
      let stalled = false;
      const call = this.client().makeClientStreamRequest(
        m.path,
        m.serialize,
        m.deserialize,
        this.metadata(),
        {},
        (err, value) => {
          clearTimeout(idle);
          if (stalled)
            settle?.reject(grpcFailure(grpc.status.DEADLINE_EXCEEDED, `upload stalled for ${idleMs} ms`));
          else if (err) settle?.reject(err);
          else if (value === undefined) settle?.reject(new Error(`empty reply to ${m.path}`));
          else settle?.resolve(value);
        },
      );
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          stalled = true;
          call.cancel();
        }, idleMs);
      };
      // Fail the upload loop as soon as the server answers early (an error before the end).
      let answered = false;
      void reply.then(
        () => {
          answered = true;
        },
        () => {
          answered = true;
        },
      );
      const drained = () => new Promise<void>((r) => call.once("drain", () => r()));
      try {
        arm();
        for await (const piece of open()) {
          const buf = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
          for (let off = 0; off < buf.length && !answered; off += RECOVER_CHUNK_BYTES) {
            const chunk = buf.subarray(off, off + RECOVER_CHUNK_BYTES);
            const ok = call.write({ metadata: null, bytes: chunk });
            bytes += chunk.length;
            if (!ok)
              await Promise.race([
                drained(),
                reply.then(
                  () => undefined,
                  () => undefined,
                ),
              ]);
            arm();
            o.onProgress?.(bytes);
          }
          if (answered) break;
        }
      } catch (e) {
        call.cancel();
        clearTimeout(idle);
        await reply.catch(() => undefined);
        throw e;
      }
      call.end();
      arm();
      this.checkEntries("etcdRecover", await reply);
      return { bytes };
    });
  }

  /** Admin kubeconfig (control-plane nodes only): the YAML text out of the streamed tar.gz. */
  async kubeconfig(): Promise<string> {
    const m = talosMethod<Empty, RawData>("machine.MachineService", "Kubeconfig", this.opts.protoDir);
    const payload = await this.call(
      "kubeconfig",
      (deadline) =>
        new Promise<Buffer>((resolve, reject) => {
          const chunks: Buffer[] = [];
          let size = 0;
          let failed = false;
          const stream = this.client().makeServerStreamRequest(
            m.path,
            m.serialize,
            m.deserialize,
            {},
            this.metadata(),
            { deadline },
          );
          stream.on("data", (d: RawData) => {
            if (failed) return;
            const error = this.nodeError("kubeconfig", d.metadata);
            if (error) {
              failed = true;
              reject(error);
              stream.cancel();
              return;
            }
            chunks.push(Buffer.from(d.bytes));
            size += d.bytes.length;
            if (size > MAX_KUBECONFIG_BYTES) {
              // A real archive is a few KiB: a node sending more is broken, stop reading it.
              failed = true;
              stream.cancel();
              reject(
                new TalosError(
                  `Talos kubeconfig on node ${this.nodeName}: the archive exceeds ${MAX_KUBECONFIG_BYTES} bytes, refused`,
                  this.nodeName,
                  "kubeconfig",
                ),
              );
            }
          });
          stream.on("error", (err: grpc.ServiceError) => {
            if (!failed) reject(err);
          });
          stream.on("end", () => {
            if (!failed) resolve(Buffer.concat(chunks));
          });
        }),
    );
    try {
      return extractKubeconfig(payload);
    } catch (e) {
      throw new TalosError(
        `Talos kubeconfig on node ${this.nodeName}: bad archive: ${e instanceof Error ? e.message : String(e)}`,
        this.nodeName,
        "kubeconfig",
      );
    }
  }
}

export interface ProbeOptions {
  /** Deadline of the probe in ms. Default 5 s. */
  readonly timeoutMs?: number;
  /** Attempts (UNAVAILABLE/DEADLINE_EXCEEDED retried). Default 1. */
  readonly attempts?: number;
  readonly protoDir?: string;
}

/**
 * Is the node at `address` in maintenance mode? Like terraform-provider-talos: call
 * storage.StorageService/Disks over TLS without client cert and without verifying the server; a
 * node in normal mode refuses the handshake (client cert required). Nothing secret is sent.
 * Resolves false on any failure (including an unreachable node).
 */
export async function probeMaintenance(address: string, o: ProbeOptions = {}): Promise<boolean> {
  const client = new TalosClient({
    endpoint: address,
    connection: { mode: "maintenance", insecureMaintenance: true },
    timeoutMs: o.timeoutMs ?? 5000,
    retry: { attempts: o.attempts ?? 1, baseDelayMs: 200, maxDelayMs: 2000 },
    protoDir: o.protoDir,
  });
  try {
    await client.disks();
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}
