/**
 * A fake Talos node for tests (never shipped): a gRPC server on 127.0.0.1 built from the project's
 * own `.proto` (components/talos/api/talos.proto) that behaves like apid enough for the client:
 *
 * - starts in maintenance mode: TLS with a per-boot self-signed server cert, no client cert
 *   requested; serves ApplyConfiguration, Version and storage Disks only;
 * - ApplyConfiguration stores the config and "reboots": the server closes and restarts on the SAME
 *   port in normal mode, with a server cert issued by the OS CA from the applied config
 *   (`machine.ca.crt`/`machine.ca.key`, base64 PEM; a worker config has no key, then the `osCa`
 *   option supplies it) with the node IP in its SANs, requiring client certs signed by that CA;
 * - normal mode serves Bootstrap (second call → ALREADY_EXISTS "etcd data directory is not empty"),
 *   Version, EtcdMemberList, EtcdRemoveMemberByID, EtcdLeaveCluster, Disks, Reboot, Reset, Upgrade,
 *   ApplyConfiguration and Kubeconfig (server stream of a tar.gz holding `kubeconfig`);
 * - methods not registered answer UNIMPLEMENTED (grpc-js' default, as on a real node);
 * - records every call (time, mode, `node` metadata, raw request bytes, decoded request, status);
 * - fault injection: `failNext` (gRPC error for the next N calls of a method) and `nodeErrorNext`
 *   (reply entry with `metadata.error`).
 *
 * - day 2: Upgrade reboots into the image's version after `upgrade.delayMs`, or fails to come back
 *   (`upgrade.fail`: "down" stays halted, "rollback" boots the old version again); a shared
 *   `FakeEtcdCluster` (option `etcd`) gives control planes one membership, with per-node health
 *   (`etcdHealthy`); `timeline` records every mode change; `onChange` lets a test mirror the node
 *   into a fake Kubernetes API (down / up / config applied).
 *
 * `startSilentNode()` gives a TCP listener that accepts connections and never speaks (TLS never
 * completes), which makes a client hit its real deadline.
 *
 * Held to Talos 1.11.5 (tests/talos-conformance drives it with the real talosctl), in modules under
 * ./talos/: applied configs are judged by Sidero's machinery with Talos' error codes per mode
 * (config-judge.ts); apply modes AUTO/NO_REBOOT/STAGED/REBOOT follow CanApplyImmediate
 * (immediate.ts; STAGED and REBOOT persist the config for the next boot); RBAC on the client
 * certificate's roles (rbac.ts); maintenance Version only for SideroLink peers (`sideroLink`);
 * etcd's and Talos' refusals of member removal, leave and upgrade (etcd-rules.ts); control-plane
 * APIs Unimplemented on workers; a real admin kubeconfig from the Kubeconfig RPC (kubeconfig.ts).
 * Observing: `Events` (events.ts: the runtime event stream per boot; Reboot, Upgrade, Reset and an
 * apply with a reboot publish machined's sequences from sequences.ts under the call's actor ID
 * before the node goes down, a normal boot publishes initialize/install/boot and the RUNNING
 * stage) and `Read` of the node's files (files.ts: boot_id new per boot, os-release, the persisted
 * config), behind apid's one-to-many proxying (streams.ts). Unary calls with `nodes` metadata in
 * normal mode get apid's one-to-many replies too (talos/one-to-many.ts): metadata.hostname = the
 * target, and a failure of the node (an injected `failNext` too) as a reply with metadata.error.
 */
import * as crypto from "node:crypto";
import * as net from "node:net";
import * as zlib from "node:zlib";
import * as grpc from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import * as YAML from "yaml";
import { loadTalosDefinition } from "../../components/talos/api/proto";
import { issueCert, type PemPair, selfSignedServerCert, standardKeyPem } from "./certs";
import * as etcdServing from "./etcd/talos-etcd";
import { type ConfigJudge, judgeConfig } from "./talos/config-judge";
import { MEMBER_NOT_FOUND, removeMemberRefusal, upgradeRefusal } from "./talos/etcd-rules";
import { EventLog } from "./talos/events";
import { GrpcFailure } from "./talos/failure";
import { immediateChangeError } from "./talos/immediate";
import { adminKubeconfig } from "./talos/kubeconfig";
import { etcdStatus, loadObserveDefinition, serviceList, serviceStates } from "./talos/observe";
import { failureReply, oneToManyTarget } from "./talos/one-to-many";
import { authorized, rolesOf } from "./talos/rbac";
import { publishBoot, REBOOT, resetPlan, runSequence, type SequencePlan, UPGRADE } from "./talos/sequences";
import { serveEvents, serveRead } from "./talos/streams";

export type FakeMode = "maintenance" | "normal" | "rebooting" | "halted" | "closed";

export interface FakeTalosNodeOptions {
  /** Node hostname (etcd member name, cert CN). Default `fake-<port>`. */
  readonly hostname?: string;
  /** Node IP put in the server cert SANs. Default 127.0.0.1. */
  readonly ip?: string;
  /** Leave the node IP out of the normal-mode cert SANs (to test server name verification). */
  readonly omitIpSan?: boolean;
  /** OS CA (cert + key) to issue from when the applied config carries no CA key (worker). */
  readonly osCa?: PemPair;
  /**
   * Talos version tag (in maintenance mode: the ISO's, which judges the first config); default: the
   * tag of `machine.install.image` of the config, else v1.11.5.
   */
  readonly version?: string;
  /** Simulated reboot duration (server down) in ms. Default 20. */
  readonly rebootDelayMs?: number;
  /** Start directly in normal mode with this config (skips maintenance). */
  readonly config?: string;
  /** Loopback address to listen on (any of 127.0.0.0/8). Default 127.0.0.1. */
  readonly listenHost?: string;
  /** Port to listen on (e.g. 50000, apid's). Default: an ephemeral port. */
  readonly port?: number;
  /** Shared etcd membership of the fake control planes (default: a per-node member list). */
  readonly etcd?: FakeEtcdCluster;
  /** etcd data for EtcdSnapshot / EtcdRecover / Bootstrap{recover_etcd} (etcd/talos-etcd.ts); default: simulated. */
  readonly etcdData?: etcdServing.FakeEtcdData;
  /** Called on reboots ("down"/"up") and config applies, e.g. to mirror into a fake Kubernetes API. */
  readonly onChange?: (node: FakeTalosNode, event: "down" | "up" | "applied") => void;
  /**
   * Who judges applied configs: "oracle" (default) is Sidero's machinery for the node's Talos minor
   * where it was built, else the fake's structural checks; "structure" only the latter (for tests
   * that send deliberately partial configs).
   */
  readonly configJudge?: ConfigJudge;
  /** Clients reach the maintenance node over SideroLink (Talos then grants them os:admin there). */
  readonly sideroLink?: boolean;
  /**
   * Time after a normal boot until the machine status turns ready (the Kubernetes Node Ready;
   * the last event talosctl's `--wait` tracker waits for). Default 1000 ms.
   */
  readonly nodeReadyAfterMs?: number;
}

/** How the next Upgrade behaves (settable per test). */
export interface FakeUpgradeBehavior {
  /** Time the node is down for the upgrade (ms). Default: the reboot delay. */
  delayMs?: number;
  /** "down": never comes back; "rollback": comes back on the old version. Default: succeeds. */
  fail?: "down" | "rollback";
  /** Time the node keeps answering on the old version before it reboots (pulling the installer). */
  pullMs?: number;
  /** Time before the Upgrade call is answered (Talos 1.11+ pulls and validates the image first). */
  replyAfterMs?: number;
  /** Refuse the Upgrade with this message (gRPC UNKNOWN, as Talos answers a bad installer image). */
  refuse?: string;
}

/** One etcd cluster shared by fake control planes: members are added by bootstrap and joins. */
export class FakeEtcdCluster {
  readonly members: FakeEtcdMember[] = [];
  bootstrapped = false;
  private readonly nodes = new Set<FakeTalosNode>();

  attach(node: FakeTalosNode): void {
    this.nodes.add(node);
  }

  /** Adds every attached control plane that runs normally and has not been removed. */
  joinAll(): void {
    if (!this.bootstrapped) return;
    for (const n of this.nodes) n.joinEtcd();
  }

  add(m: FakeEtcdMember): void {
    if (!this.members.some((x) => x.id === m.id)) this.members.push(m);
  }

  remove(id: string): boolean {
    const k = this.members.findIndex((m) => m.id === id);
    if (k < 0) return false;
    this.members.splice(k, 1);
    return true;
  }

  hostnames(): string[] {
    return this.members.map((m) => m.hostname);
  }

  /** Set while another session holds Talos' etcd upgrade mutex (`/talos/upgrade/lock`). */
  upgradeLockedBy: string | undefined;

  /** Members with their node's health (a member whose node is not attached counts as healthy). */
  health(): { id: string; hostname: string; healthy: boolean }[] {
    return this.members.map((m) => {
      const node = [...this.nodes].find((n) => n.hostname === m.hostname);
      return {
        id: m.id,
        hostname: m.hostname,
        healthy: node ? node.etcdHealthy && node.mode === "normal" : true,
      };
    });
  }
}

export interface FakeCall {
  /** Method name, e.g. `ApplyConfiguration`. */
  readonly method: string;
  /** Full path `/machine.MachineService/...`. */
  readonly path: string;
  /** Date.now() when the call arrived. */
  readonly at: number;
  /** Mode the node was in. */
  readonly mode: FakeMode;
  /** `node` metadata value, if sent. */
  readonly nodeMeta?: string;
  /** Raw request bytes as received on the wire. */
  readonly raw: Buffer;
  /** Decoded request (snake_case). */
  readonly request: Record<string, unknown>;
  /** gRPC status code the fake answered with (0 = OK). */
  code: number;
}

export interface ParsedConfig {
  readonly yaml: string;
  readonly type: string;
  readonly caCrt: string;
  readonly caKey: string;
  readonly installImage?: string;
  readonly certSans: string[];
  readonly clusterName: string;
  readonly endpoint: string;
  readonly kubeletImage?: string;
  /** `cluster.ca` (PEM) of the config; the key is absent on workers. */
  readonly clusterCaCrt: string;
  readonly clusterCaKey: string;
}

interface FakeRequest {
  readonly raw: Buffer;
  readonly msg: Record<string, unknown>;
}

interface Fault {
  readonly code: grpc.status;
  readonly message: string;
  remaining: number;
}

interface NodeFault {
  readonly message: string;
  readonly code?: number;
  remaining: number;
}

export interface FakeEtcdMember {
  id: string;
  hostname: string;
  peer_urls: string[];
  client_urls: string[];
  is_learner: boolean;
}

const MAINTENANCE_METHODS = new Set(["ApplyConfiguration", "Version", "Disks"]);

function plainPem(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function b64pem(v: unknown): string {
  return typeof v === "string" && v !== "" ? Buffer.from(v, "base64").toString("utf8") : "";
}

function get(obj: unknown, ...keys: string[]): unknown {
  let cur = obj;
  for (const k of keys) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Parses a machine config the way the fake needs it; throws a message for INVALID_ARGUMENT. */
export function parseMachineConfig(text: string): ParsedConfig {
  let docs: unknown[];
  try {
    docs = YAML.parseAllDocuments(text).map((d) => {
      if (d.errors.length > 0) throw new Error(d.errors[0]!.message);
      return d.toJSON() as unknown;
    });
  } catch (e) {
    throw new Error(`failed to parse config: ${e instanceof Error ? e.message : String(e)}`);
  }
  const main = docs.find((d) => get(d, "machine") !== undefined);
  if (!main) throw new Error("config has no v1alpha1 document (machine section missing)");
  const caCrt = b64pem(get(main, "machine", "ca", "crt"));
  if (!caCrt.includes("BEGIN CERTIFICATE"))
    throw new Error("machine.ca.crt is missing or not a PEM certificate");
  const type = String(get(main, "machine", "type") ?? "");
  if (!["controlplane", "worker", "init"].includes(type)) throw new Error(`unknown machine type "${type}"`);
  // Talos 1.14+ configs carry these in documents of their own (UnattendedInstallConfig, KubeletConfig,
  // KubeClusterConfig), as talosctl gen config 1.14 lays them out.
  const ofKind = (kind: string): unknown => docs.find((d) => get(d, "kind") === kind);
  const image =
    get(main, "machine", "install", "image") ?? get(ofKind("UnattendedInstallConfig"), "installer", "image");
  const sans = get(main, "machine", "certSANs");
  const kubelet = get(main, "machine", "kubelet", "image") ?? get(ofKind("KubeletConfig"), "image");
  const kubeCluster = ofKind("KubeClusterConfig");
  const apiServerCa = ofKind("KubeAPIServerCAConfig");
  return {
    kubeletImage: typeof kubelet === "string" ? kubelet : undefined,
    yaml: text,
    type,
    caCrt,
    caKey: b64pem(get(main, "machine", "ca", "key")),
    installImage: typeof image === "string" ? image : undefined,
    certSans: Array.isArray(sans) ? sans.map(String) : [],
    clusterName: String(get(main, "cluster", "clusterName") ?? get(kubeCluster, "clusterName") ?? "cluster"),
    // Up to 1.13 the Kubernetes CA is base64 PEM in v1alpha1 `cluster.ca`; 1.14 moves it, as plain
    // PEM, into the KubeAPIServerCAConfig document's issuingCA.
    clusterCaCrt:
      b64pem(get(main, "cluster", "ca", "crt")) || plainPem(get(apiServerCa, "issuingCA", "cert")),
    clusterCaKey: b64pem(get(main, "cluster", "ca", "key")) || plainPem(get(apiServerCa, "issuingCA", "key")),
    endpoint: String(
      get(main, "cluster", "controlPlane", "endpoint") ??
        get(kubeCluster, "endpoint") ??
        "https://127.0.0.1:6443",
    ),
  };
}

/** `machine.install.image` of a config text, if it parses (for the ISO version a test left open). */
function installImageOf(text: string): string | undefined {
  try {
    for (const d of YAML.parseAllDocuments(text)) {
      const image = get(d.toJS(), "machine", "install", "image");
      if (typeof image === "string") return image;
    }
  } catch {
    // the judge reports an unparsable config
  }
  return undefined;
}

function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const at = image.split("@")[0]!;
  const i = at.lastIndexOf(":");
  return i > at.lastIndexOf("/") ? at.slice(i + 1) : undefined;
}

/** A one-file ustar archive, gzip'd (the Kubeconfig RPC payload). */
export function tarGzOneFile(name: string, content: Buffer, mode = 0o600): Buffer {
  const header = Buffer.alloc(512, 0);
  const put = (s: string, off: number, len: number) => header.write(s, off, len, "ascii");
  put(name, 0, 100);
  put(mode.toString(8).padStart(7, "0") + "\0", 100, 8);
  put("0000000\0", 108, 8);
  put("0000000\0", 116, 8);
  put(content.length.toString(8).padStart(11, "0") + "\0", 124, 12);
  put(
    Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, "0") + "\0",
    136,
    12,
  );
  put("        ", 148, 8);
  put("0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512, 0);
  return zlib.gzipSync(Buffer.concat([header, content, pad, Buffer.alloc(1024, 0)]));
}

function isMethod(v: unknown): v is MethodDefinition<object, object> {
  return typeof v === "object" && v !== null && "path" in v && "requestDeserialize" in v;
}

/** The project's service definitions with request deserializers that keep the raw bytes. */
function capturingService(
  name: "machine.MachineService" | "storage.StorageService",
  definition = loadTalosDefinition(),
): {
  def: grpc.ServiceDefinition;
  methods: string[];
} {
  const svc = definition[name];
  if (!svc || "format" in svc) throw new Error(`no service ${name} in the project's proto`);
  const def: Record<string, grpc.MethodDefinition<FakeRequest, object>> = {};
  for (const [method, m] of Object.entries(svc)) {
    if (!isMethod(m)) continue;
    def[method] = {
      path: m.path,
      requestStream: m.requestStream,
      responseStream: m.responseStream,
      requestSerialize: (v: FakeRequest) => m.requestSerialize(v.msg),
      requestDeserialize: (raw: Buffer): FakeRequest => ({
        raw: Buffer.from(raw),
        msg: m.requestDeserialize(raw) as Record<string, unknown>,
      }),
      responseSerialize: (v: object) => m.responseSerialize(v),
      responseDeserialize: (b: Buffer) => m.responseDeserialize(b),
      originalName: m.originalName,
    };
  }
  return { def, methods: Object.keys(def) };
}

function memberId(hostname: string): string {
  return BigInt(`0x${crypto.createHash("sha256").update(hostname).digest("hex").slice(0, 16)}`).toString();
}

export class FakeTalosNode {
  readonly calls: FakeCall[] = [];
  mode: FakeMode = "closed";
  /** Config the node runs (last applied without a reboot, or active since the last boot). */
  appliedConfig: ParsedConfig | undefined;
  /** Config persisted for the next boot (mode STAGED, or REBOOT until the reboot happens). */
  stagedConfig: ParsedConfig | undefined;
  /** Which judge passed the last applied config ("oracle" or "structure"). */
  lastJudge: ConfigJudge | undefined;
  bootstrapped = false;
  etcdMembers: FakeEtcdMember[] = [];
  /** Times the node "rebooted". */
  boots = 0;
  version: string | undefined;
  /** Behaviour of the next Upgrade calls. */
  upgrade: FakeUpgradeBehavior = {};
  /** This node's etcd answers (for the shared cluster's health). */
  etcdHealthy = true;
  /** Removed from the shared etcd cluster (until a reset), or wiped and waiting to join (etcd/talos-etcd.ts). */
  leftEtcd = false;
  /** Every mode change with its time. */
  readonly timeline: { at: number; mode: FakeMode }[] = [];
  /** This boot's runtime event stream (served by Events in normal mode). */
  events = new EventLog();
  /** This boot's /proc/sys/kernel/random/boot_id. */
  bootId = "";

  private server: grpc.Server | undefined;
  private readonly faults = new Map<string, Fault>();
  private readonly nodeFaults = new Map<string, NodeFault>();
  private pending: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly modeWaiters: { mode: FakeMode; resolve: () => void }[] = [];

  private constructor(
    private readonly opts: FakeTalosNodeOptions,
    public port: number,
  ) {
    this.version = opts.version;
    opts.etcd?.attach(this);
    this.etcdData = opts.etcdData ?? etcdServing.etcdDataFor(opts.etcd);
    this.etcdData.nodes.add(this);
  }

  /** The etcd data behind this node's snapshot and recovery calls. */
  readonly etcdData: etcdServing.FakeEtcdData;

  /** The shared etcd membership, if any. */
  get etcdCluster(): FakeEtcdCluster | undefined {
    return this.opts.etcd;
  }

  /** Kubelet version of the applied config (the tag of machine.kubelet.image), e.g. v1.36.3. */
  get kubeletVersion(): string | undefined {
    return imageTag(this.appliedConfig?.kubeletImage);
  }

  /** Talos version the node reports now. */
  get runningVersion(): string {
    return this.version ?? imageTag(this.appliedConfig?.installImage) ?? "v1.11.5";
  }

  /** Joins the shared etcd cluster (a running control plane of a bootstrapped cluster). */
  joinEtcd(): void {
    const etcd = this.opts.etcd;
    if (!etcd?.bootstrapped || this.leftEtcd || this.mode !== "normal" || !this.isControlPlane()) return;
    etcd.add(this.selfMember());
  }

  /** Starts a node on 127.0.0.1 with an ephemeral port (maintenance mode unless `config`). */
  static async start(opts: FakeTalosNodeOptions = {}): Promise<FakeTalosNode> {
    if (opts.listenHost !== undefined && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(opts.listenHost)) {
      throw new Error(`fake Talos node: listenHost ${opts.listenHost} is not a loopback address`);
    }
    const node = new FakeTalosNode(opts, opts.port ?? 0);
    if (opts.config) {
      node.appliedConfig = parseMachineConfig(opts.config);
      await node.boot("normal");
    } else {
      await node.boot("maintenance");
    }
    return node;
  }

  get ip(): string {
    return this.opts.ip ?? "127.0.0.1";
  }

  get address(): string {
    return `${this.opts.listenHost ?? "127.0.0.1"}:${this.port}`;
  }

  get hostname(): string {
    return this.opts.hostname ?? `fake-${this.port}`;
  }

  /** The next `times` calls of `method` fail with `code`/`message` (before any handling). */
  failNext(method: string, code: grpc.status, message: string, times = 1): void {
    this.faults.set(method, { code, message, remaining: times });
  }

  /** The next `times` replies of `method` carry `metadata.error` (as apid reports a failed node). */
  nodeErrorNext(method: string, message: string, code?: number, times = 1): void {
    this.nodeFaults.set(method, { message, code, remaining: times });
  }

  callsOf(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves when the node is in `mode` (e.g. back in normal mode after a reboot). */
  waitForMode(mode: FakeMode, timeoutMs = 5000): Promise<void> {
    if (this.mode === mode) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`fake ${this.address} not in mode ${mode} after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.modeWaiters.push({
        mode,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  /** Waits for any reboot in progress. */
  settled(): Promise<void> {
    return this.pending;
  }

  /** Simulates a reboot into `mode` (default: the current steady mode); `before` runs while down. */
  reboot(mode?: "maintenance" | "normal", delayMs?: number, before?: () => void): Promise<void> {
    const target = mode ?? (this.mode === "maintenance" ? "maintenance" : "normal");
    this.pending = this.pending.then(async () => {
      if (this.closed) return;
      await this.stopServer();
      this.setMode("rebooting");
      this.opts.onChange?.(this, "down");
      await new Promise((r) => setTimeout(r, delayMs ?? this.opts.rebootDelayMs ?? 20));
      if (this.closed) return;
      before?.();
      if (target === "normal" && this.stagedConfig) {
        this.appliedConfig = this.stagedConfig;
        this.stagedConfig = undefined;
      }
      await this.boot(target);
      if (target === "normal") this.joinEtcd();
      this.opts.onChange?.(this, "up");
    });
    // A failed reboot (port taken, a hook throwing) must not poison later ones.
    this.pending = this.pending.catch((e: unknown) => {
      this.lastError = e;
    });
    return this.pending;
  }

  /** The last error of a simulated reboot, if any (tests can assert on it). */
  lastError: unknown;

  /** Stops answering for good (a node that failed to come back). */
  private halt(): void {
    this.pending = this.pending.then(async () => {
      await this.stopServer();
      this.setMode("halted");
      this.opts.onChange?.(this, "down");
    });
  }

  /** Stops the node for good (after hooks). */
  async close(): Promise<void> {
    this.closed = true;
    await this.pending.catch(() => undefined);
    await this.stopServer();
    this.setMode("closed");
  }

  private setMode(mode: FakeMode): void {
    this.mode = mode;
    this.timeline.push({ at: Date.now(), mode });
    for (const w of this.modeWaiters.filter((x) => x.mode === mode)) {
      this.modeWaiters.splice(this.modeWaiters.indexOf(w), 1);
      w.resolve();
    }
  }

  private async stopServer(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    this.events.close();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        s.forceShutdown();
        resolve();
      }, 200);
      s.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private async credentials(mode: "maintenance" | "normal"): Promise<grpc.ServerCredentials> {
    if (mode === "maintenance") {
      const pair = await selfSignedServerCert([this.ip]);
      return grpc.ServerCredentials.createSsl(
        null,
        [{ private_key: Buffer.from(standardKeyPem(pair.key)), cert_chain: Buffer.from(pair.crt) }],
        false,
      );
    }
    const cfg = this.appliedConfig;
    if (!cfg) throw new Error("normal mode without config");
    const ca: PemPair = cfg.caKey ? { crt: cfg.caCrt, key: cfg.caKey } : this.requireOsCa();
    const pair = await issueCert(ca, {
      subject: `CN=${this.opts.hostname ?? "fake-node"}`,
      usage: "server",
      ips: [...(this.opts.omitIpSan ? [] : [this.ip]), ...cfg.certSans.filter((s) => net.isIP(s) !== 0)],
      dnsNames: [this.opts.hostname ?? "fake-node", ...cfg.certSans.filter((s) => net.isIP(s) === 0)],
      validDays: 1,
    });
    return grpc.ServerCredentials.createSsl(
      Buffer.from(cfg.caCrt),
      [{ private_key: Buffer.from(standardKeyPem(pair.key)), cert_chain: Buffer.from(pair.crt) }],
      true,
    );
  }

  private requireOsCa(): PemPair {
    if (!this.opts.osCa) {
      throw new Error("config has no machine.ca.key (worker): give the fake an osCa option");
    }
    return this.opts.osCa;
  }

  private async boot(mode: "maintenance" | "normal"): Promise<void> {
    const creds = await this.credentials(mode);
    this.bootId = crypto.randomUUID();
    this.events = new EventLog(this.hostname);
    if (mode === "normal") publishBoot(this.events, this.services());
    const server = new grpc.Server();
    for (const name of ["machine.MachineService", "storage.StorageService"] as const) {
      const { def, methods } = capturingService(name);
      const impl: grpc.UntypedServiceImplementation = {};
      for (const method of methods) {
        if (mode === "maintenance" && !MAINTENANCE_METHODS.has(method)) continue;
        const d = def[method]!;
        if (method === "EtcdSnapshot") {
          impl[method] = etcdServing.snapshotHandler(this, this.etcdData, d.path);
          continue;
        }
        if (method === "EtcdRecover") {
          impl[method] = etcdServing.recoverHandler(this, this.etcdData, d.path);
          continue;
        }
        impl[method] = d.responseStream
          ? this.streamHandler(method, d.path, mode)
          : this.unaryHandler(method, d.path, mode);
      }
      server.addService(def, impl);
    }
    if (mode === "normal") {
      // Observing calls talosctl makes beyond the project's proto (talos/observe.ts).
      const { def, methods } = capturingService("machine.MachineService", loadObserveDefinition());
      const impl: grpc.UntypedServiceImplementation = {};
      for (const method of methods) {
        const d = def[method]!;
        impl[method] = d.responseStream
          ? this.observeStreamHandler(method, d.path, mode)
          : this.unaryHandler(method, d.path, mode);
      }
      server.addService(def, impl);
    }
    let lastErr: unknown;
    for (let i = 0; i < 50; i++) {
      try {
        this.port = await new Promise<number>((resolve, reject) =>
          server.bindAsync(`${this.opts.listenHost ?? "127.0.0.1"}:${this.port}`, creds, (err, port) =>
            err ? reject(err) : resolve(port),
          ),
        );
        lastErr = undefined;
        break;
      } catch (e) {
        lastErr = e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    if (lastErr) throw lastErr;
    this.server = server;
    this.boots++;
    this.setMode(mode);
    if (mode === "normal") {
      // the machine status turns ready once the kubelet's Node is Ready, a while after apid serves
      const log = this.events;
      setTimeout(() => log.markNodeReady(), this.opts.nodeReadyAfterMs ?? 1000).unref();
    }
  }

  /** Records a call (also used by etcd/talos-etcd.ts). */
  record(
    method: string,
    path: string,
    mode: FakeMode,
    call: { readonly metadata: grpc.Metadata },
    req: FakeRequest,
  ) {
    const nodeMeta = call.metadata.get("node")[0];
    const rec: FakeCall = {
      method,
      path,
      at: Date.now(),
      mode,
      nodeMeta: nodeMeta === undefined ? undefined : String(nodeMeta),
      raw: req.raw,
      request: req.msg,
      code: 0,
    };
    this.calls.push(rec);
    return rec;
  }

  takeFault(method: string): Fault | undefined {
    const f = this.faults.get(method);
    if (!f || f.remaining <= 0) return undefined;
    f.remaining--;
    return f;
  }

  private metadataFor(method: string): Record<string, unknown> {
    const f = this.nodeFaults.get(method);
    if (f && f.remaining > 0) {
      f.remaining--;
      return {
        hostname: this.hostname,
        error: f.message,
        ...(f.code !== undefined ? { status: { code: f.code, message: f.message } } : {}),
      };
    }
    return { hostname: this.hostname };
  }

  private unaryHandler(
    method: string,
    path: string,
    mode: FakeMode,
  ): grpc.handleUnaryCall<FakeRequest, object> {
    return (call, callback) => {
      const rec = this.record(method, path, mode, call, call.request);
      const denied = this.accessRefusal(path, mode, call);
      if (denied) {
        rec.code = denied.code;
        callback({ code: denied.code, details: denied.details });
        return;
      }
      // Behind apid (normal mode) a `nodes` request is proxied one-to-many (talos/one-to-many.ts).
      const target = mode === "normal" ? oneToManyTarget(call.metadata) : undefined;
      const fail = (f: { code: grpc.status; details: string }) => {
        rec.code = f.code; // the node's failure, also when apid turns it into a reply
        if (target === undefined) callback({ code: f.code, details: f.details });
        else callback(null, failureReply(target, f));
      };
      const fault = this.takeFault(method);
      if (fault) {
        fail({ code: fault.code, details: fault.message });
        return;
      }
      this.handle(method, mode, call.request.msg).then(
        (entry) => {
          const md = this.metadataFor(method);
          callback(null, {
            messages: [{ metadata: target === undefined ? md : { ...md, hostname: target }, ...entry }],
          });
        },
        (e: unknown) => fail(e instanceof GrpcFailure ? e : new GrpcFailure(grpc.status.INTERNAL, String(e))),
      );
    };
  }

  /**
   * What every server stream does first: record the call, then refuse it by the access rules or an
   * injected fault. Returns how to fail the stream later, or undefined when it already failed.
   */
  private openStream(
    method: string,
    path: string,
    mode: FakeMode,
    call: grpc.ServerWritableStream<FakeRequest, object>,
  ): ((f: { code: grpc.status; details: string }) => void) | undefined {
    const rec = this.record(method, path, mode, call, call.request);
    const fail = (f: { code: grpc.status; details: string }) => {
      rec.code = f.code;
      call.emit("error", { code: f.code, details: f.details });
    };
    const denied = this.accessRefusal(path, mode, call);
    if (denied) {
      fail(denied);
      return undefined;
    }
    const fault = this.takeFault(method);
    if (fault) {
      fail({ code: fault.code, details: fault.message });
      return undefined;
    }
    return fail;
  }

  private streamHandler(
    method: string,
    path: string,
    mode: FakeMode,
  ): grpc.handleServerStreamingCall<FakeRequest, object> {
    return (call) => {
      const fail = this.openStream(method, path, mode, call);
      if (!fail) return;
      this.kubeconfigPayload().then(
        (payload) => {
          const md = this.metadataFor(method);
          if (md.error) {
            call.write({ metadata: md, bytes: Buffer.alloc(0) });
          } else {
            const half = Math.floor(payload.length / 2);
            call.write({ metadata: md, bytes: payload.subarray(0, half) });
            call.write({ metadata: { hostname: this.hostname }, bytes: payload.subarray(half) });
          }
          call.end();
        },
        (e: unknown) => fail(e instanceof GrpcFailure ? e : new GrpcFailure(grpc.status.INTERNAL, String(e))),
      );
    };
  }

  /** Events and Read (talos/streams.ts), after the same access rules and faults as every call. */
  private observeStreamHandler(
    method: string,
    path: string,
    mode: FakeMode,
  ): grpc.handleServerStreamingCall<FakeRequest, object> {
    return (call) => {
      const fail = this.openStream(method, path, mode, call);
      if (!fail) return;
      if (method === "Events") return serveEvents(call, this.events, fail);
      const persisted = this.stagedConfig ?? this.appliedConfig;
      serveRead(
        call,
        { bootId: this.bootId, version: this.runningVersion, persistedConfig: persisted?.yaml },
        fail,
      );
    };
  }

  /** The services machined runs now and whether each is running. */
  private services(): { id: string; running: boolean }[] {
    return serviceStates({ controlPlane: this.isControlPlane(), etcdRunning: this.isEtcdMember() });
  }

  /**
   * Publishes machined's `plan` under `actorId` on this boot's event stream (after any reboot in
   * progress), then runs `after` (the node going down).
   */
  private async sequenceThen(plan: SequencePlan, actorId: string, after: () => void): Promise<void> {
    const log = this.events;
    const services = this.services().map((s) => s.id);
    const run = this.pending
      .then(() => runSequence(log, plan, actorId, services))
      .then(
        () => undefined,
        () => undefined,
      );
    this.pending = run;
    await run;
    after();
  }

  /**
   * Talos' access rules before a method runs. Normal mode: RBAC on the client certificate's roles
   * (PermissionDenied "not authorized"). Maintenance mode: clients get os:reader unless they come
   * over SideroLink, and Version asks for os:admin (`assertAdminRole`, Talos 1.11.5
   * internal/app/maintenance/server.go: Unimplemented "API is not implemented in maintenance mode").
   */
  private accessRefusal(
    path: string,
    mode: FakeMode,
    call: { getAuthContext(): { sslPeerCertificate?: import("node:tls").PeerCertificate } },
  ): GrpcFailure | undefined {
    if (mode === "maintenance") {
      if (path.endsWith("/Version") && !this.opts.sideroLink) {
        return new GrpcFailure(grpc.status.UNIMPLEMENTED, "API is not implemented in maintenance mode");
      }
      return undefined;
    }
    if (!authorized(path, rolesOf(call.getAuthContext().sslPeerCertificate))) {
      return new GrpcFailure(grpc.status.PERMISSION_DENIED, "not authorized");
    }
    return undefined;
  }

  private config(): ParsedConfig {
    if (!this.appliedConfig) throw new GrpcFailure(grpc.status.FAILED_PRECONDITION, "no configuration");
    return this.appliedConfig;
  }

  isControlPlane(): boolean {
    const t = this.appliedConfig?.type;
    return t === "controlplane" || t === "init";
  }

  selfMember(): FakeEtcdMember {
    return {
      id: memberId(this.hostname),
      hostname: this.hostname,
      peer_urls: [`https://${this.ip}:2380`],
      client_urls: [`https://${this.ip}:2379`],
      is_learner: false,
    };
  }

  /** Adds (or replaces) an etcd member as seen from this node (tests joining other CPs). */
  addEtcdMember(hostname: string, ip: string): string {
    const id = memberId(hostname);
    this.etcdMembers = this.etcdMembers.filter((m) => m.id !== id);
    this.etcdMembers.push({
      id,
      hostname,
      peer_urls: [`https://${ip}:2380`],
      client_urls: [`https://${ip}:2379`],
      is_learner: false,
    });
    return id;
  }

  /** This node's etcd runs as a member (bootstrapped or joined, not left). */
  private isEtcdMember(): boolean {
    return this.memberHealth().some((m) => m.hostname === this.hostname);
  }

  /** Talos' refusal of control-plane-only APIs on a worker (`checkControlplane`). */
  private requireControlPlane(apiName: string): void {
    if (!this.isControlPlane()) {
      throw new GrpcFailure(grpc.status.UNIMPLEMENTED, `${apiName} is only available on control plane nodes`);
    }
  }

  private async kubeconfigPayload(): Promise<Buffer> {
    this.requireControlPlane("kubeconfig");
    const cfg = this.config();
    if (!cfg.clusterCaCrt || !cfg.clusterCaKey) {
      throw new GrpcFailure(grpc.status.UNKNOWN, "cluster CA is missing from the machine config");
    }
    const kc = await adminKubeconfig({
      clusterName: cfg.clusterName,
      endpoint: cfg.endpoint,
      ca: { crt: cfg.clusterCaCrt, key: cfg.clusterCaKey },
    });
    return tarGzOneFile("kubeconfig", Buffer.from(kc));
  }

  /** Members of this node's etcd with their health, for etcd's and Talos' refusals. */
  private memberHealth(): { id: string; hostname: string; healthy: boolean }[] {
    if (this.opts.etcd) return this.opts.etcd.health();
    return this.etcdMembers.map((m) => ({
      id: m.id,
      hostname: m.hostname,
      healthy: m.hostname !== this.hostname || this.etcdHealthy,
    }));
  }

  /** ApplyConfiguration as Talos 1.11.5 answers it (see config-judge.ts and immediate.ts). */
  private applyConfiguration(mode: FakeMode, req: Record<string, unknown>): Record<string, unknown> {
    const data = req.data instanceof Uint8Array ? Buffer.from(req.data).toString("utf8") : "";
    const reqMode = String(req.mode ?? "REBOOT");
    const maintenance = mode === "maintenance";
    if (maintenance && !["REBOOT", "AUTO", "TRY"].includes(reqMode)) {
      throw new GrpcFailure(
        grpc.status.UNIMPLEMENTED,
        `apply configuration --mode='${reqMode.toLowerCase().replaceAll("_", "-")}' is not supported in maintenance mode`,
      );
    }
    let parsed: ParsedConfig | undefined;
    this.lastJudge = judgeConfig(
      data,
      {
        mode: maintenance ? "maintenance" : "normal",
        // An ISO version the test did not state is taken to match the config's installer image.
        talosTag: maintenance
          ? (this.version ?? imageTag(installImageOf(data)) ?? "v1.11.5")
          : this.runningVersion,
        judge: this.opts.configJudge ?? "oracle",
      },
      (text) => {
        parsed = parseMachineConfig(text);
      },
    );
    if (!parsed) throw new GrpcFailure(grpc.status.INTERNAL, "fake: config not parsed");
    if (!parsed.caKey && !this.opts.osCa) {
      throw new GrpcFailure(grpc.status.INVALID_ARGUMENT, "fake: worker config needs the osCa option");
    }
    if (maintenance) {
      if (req.dry_run === true) {
        return {
          mode: "REBOOT",
          mode_details:
            "Dry run summary:\nNode is running in maintenance mode and does not have a config yet.",
        };
      }
      this.stagedConfig = parsed;
      setTimeout(() => void this.reboot("normal"), 5);
      // The maintenance server's reply sets no mode: the enum's zero value, REBOOT.
      return { mode: "REBOOT", mode_details: "" };
    }
    let outMode = reqMode;
    let details = "Applied configuration with a reboot";
    const immediate = () => immediateChangeError(this.config().yaml, data);
    if (reqMode === "NO_REBOOT" || reqMode === "TRY") {
      const why = immediate();
      if (why) throw new GrpcFailure(grpc.status.INVALID_ARGUMENT, why);
      details = "Applied configuration without a reboot";
    } else if (reqMode === "STAGED") {
      details = "Staged configuration to be applied after the next reboot";
    } else if (reqMode === "AUTO") {
      const why = immediate();
      outMode = why ? "REBOOT" : "NO_REBOOT";
      details = why
        ? `Applied configuration with a reboot: ${why}`
        : "Applied configuration without a reboot";
    }
    if (req.dry_run === true) {
      return { mode: outMode, mode_details: `Dry run summary:\n${details} (skipped in dry-run).\n` };
    }
    if (outMode === "NO_REBOOT" || outMode === "TRY") {
      this.appliedConfig = parsed;
      setTimeout(() => this.opts.onChange?.(this, "applied"), 5);
    } else {
      // STAGED and REBOOT persist the config; it runs from the next boot on.
      this.stagedConfig = parsed;
      // machined runs the reboot sequence without an actor (v1alpha1_server.go ApplyConfiguration)
      if (outMode === "REBOOT")
        setTimeout(() => void this.sequenceThen(REBOOT, "", () => void this.reboot("normal")), 5);
    }
    return { mode: outMode, mode_details: details };
  }

  /**
   * Talos' pre-upgrade checks on a control plane (Talos 1.11.5 v1alpha1_server.go `Upgrade`): the
   * etcd upgrade mutex, then `ValidateForUpgrade`. Both fail as plain errors (gRPC UNKNOWN).
   */
  private upgradeEtcdChecks(): void {
    const etcd = this.opts.etcd;
    if (etcd?.upgradeLockedBy !== undefined && etcd.upgradeLockedBy !== this.hostname) {
      throw new GrpcFailure(
        grpc.status.UNKNOWN,
        "failed to acquire upgrade mutex: error trying to lock etcd upgrade mutex: mutex: Locked by another session",
      );
    }
    const why = upgradeRefusal(this.memberHealth());
    if (why) throw new GrpcFailure(grpc.status.UNKNOWN, `error validating etcd for upgrade: ${why}`);
  }

  private async handle(
    method: string,
    mode: FakeMode,
    req: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    switch (method) {
      case "ApplyConfiguration":
        return this.applyConfiguration(mode, req);
      case "Version": {
        const tag = mode === "maintenance" ? (this.version ?? "v1.11.5") : this.runningVersion;
        return {
          version: { tag, sha: "fake", built: "", go_version: "go1.24", os: "linux", arch: "amd64" },
          platform: { name: "nocloud", mode: "cloud" },
          features: { rbac: true },
        };
      }
      case "Disks":
        return {
          disks: [
            {
              size: "10737418240",
              model: "QEMU HARDDISK",
              device_name: "/dev/sda",
              name: "sda",
              serial: "fake",
              type: "HDD",
              bus_path: "/pci0000:00/0000:00:05.0/virtio2/host2/target2:0:0/2:0:0:0/",
              system_disk: mode === "normal",
              subsystem: "/sys/class/block",
            },
          ],
        };
      case "Bootstrap":
        if (!this.isControlPlane()) {
          throw new GrpcFailure(
            grpc.status.FAILED_PRECONDITION,
            "bootstrap can only be performed on a control plane node",
          );
        }
        if (req.recover_etcd === true) {
          const f = etcdServing.bootstrapRecover(this, this.etcdData, req.recover_skip_hash_check === true);
          if (f) throw new GrpcFailure(f.code, f.details);
          return {};
        }
        if (this.bootstrapped) {
          throw new GrpcFailure(grpc.status.ALREADY_EXISTS, "etcd data directory is not empty");
        }
        this.bootstrapped = true;
        if (this.opts.etcd) {
          if (this.opts.etcd.bootstrapped)
            throw new GrpcFailure(grpc.status.ALREADY_EXISTS, "etcd data directory is not empty");
          this.opts.etcd.bootstrapped = true;
          this.opts.etcd.add(this.selfMember());
          this.opts.etcd.joinAll();
          return {};
        }
        this.etcdMembers = [
          this.selfMember(),
          ...this.etcdMembers.filter((m) => m.hostname !== this.hostname),
        ];
        return {};
      case "EtcdMemberList": {
        this.requireControlPlane("member list");
        const etcd = this.opts.etcd;
        // Before a bootstrap no etcd runs and no control-plane endpoint is known
        // (Talos 1.11.5 internal/pkg/etcd/endpoints.go).
        if (etcd ? !etcd.bootstrapped : !this.bootstrapped && this.etcdMembers.length === 0) {
          throw new GrpcFailure(grpc.status.UNKNOWN, "no controlplane endpoints discovered yet");
        }
        if (etcd) {
          const self = etcd.members.some((m) => m.hostname === this.hostname);
          if (!this.etcdHealthy || !self || !this.etcdData.store.running)
            throw new GrpcFailure(
              grpc.status.UNAVAILABLE,
              "etcd: context deadline exceeded (member unhealthy)",
            );
        }
        const members = etcd ? etcd.members : this.etcdMembers;
        return {
          legacy_members: members.map((m) => m.hostname),
          members: members.map((m) => ({ ...m })),
        };
      }
      case "EtcdRemoveMemberByID": {
        this.requireControlPlane("etcd remove member");
        const id = String(req.member_id ?? "");
        const refusal = removeMemberRefusal(this.memberHealth(), id);
        if (refusal === MEMBER_NOT_FOUND) {
          throw new GrpcFailure(grpc.status.NOT_FOUND, `failed to remove member ${id}: ${refusal}`);
        }
        if (refusal) {
          throw new GrpcFailure(
            grpc.status.UNKNOWN,
            `failed to remove member: failed to remove member ${id}: ${refusal}`,
          );
        }
        if (this.opts.etcd) this.opts.etcd.remove(id);
        else this.etcdMembers = this.etcdMembers.filter((m) => m.id !== id);
        return {};
      }
      case "ServiceList":
        return serviceList({ controlPlane: this.isControlPlane(), etcdRunning: this.isEtcdMember() });
      case "EtcdStatus": {
        this.requireControlPlane("etcd status");
        if (!this.isEtcdMember()) {
          throw new GrpcFailure(
            grpc.status.UNKNOWN,
            "failed to query etcd status: context deadline exceeded",
          );
        }
        const members = this.memberHealth();
        return etcdStatus({
          memberId: this.selfMember().id,
          leaderId: members[0]!.id,
          members: members.length,
        });
      }
      case "EtcdLeaveCluster": {
        this.requireControlPlane("etcd leave");
        const id = this.selfMember().id;
        const refusal = removeMemberRefusal(this.memberHealth(), id);
        // Talos treats "member not found" as already left; it retries "unhealthy" for 5 minutes,
        // which the fake answers at once.
        if (refusal && refusal !== MEMBER_NOT_FOUND) {
          throw new GrpcFailure(
            grpc.status.UNKNOWN,
            `failed to leave cluster: failed to remove member ${id}: ${refusal}`,
          );
        }
        if (this.opts.etcd) {
          this.opts.etcd.remove(id);
          this.leftEtcd = true;
          return {};
        }
        this.etcdMembers = this.etcdMembers.filter((m) => m.hostname !== this.hostname);
        return {};
      }
      case "Reboot": {
        const actorId = crypto.randomUUID();
        setTimeout(() => void this.sequenceThen(REBOOT, actorId, () => void this.reboot("normal")), 5);
        return { actor_id: actorId };
      }
      case "Reset": {
        const actorId = crypto.randomUUID();
        const plan = resetPlan({
          graceful: req.graceful === true,
          reboot: req.reboot === true,
          controlPlane: this.isControlPlane(),
          partitions:
            Array.isArray(req.system_partitions_to_wipe) && req.system_partitions_to_wipe.length > 0,
        });
        if (etcdServing.wipesEphemeralOnly(req)) {
          setTimeout(
            () =>
              void this.sequenceThen(plan, actorId, () => {
                this.pending = this.pending.then(() => etcdServing.wipeEphemeral(this, this.etcdData));
                void this.reboot("normal");
              }),
            5,
          );
          return { actor_id: actorId };
        }
        setTimeout(
          () =>
            void this.sequenceThen(plan, actorId, () => {
              this.appliedConfig = undefined;
              this.stagedConfig = undefined;
              this.bootstrapped = false;
              this.etcdMembers = [];
              this.leftEtcd = false;
              if (req.reboot === true) void this.reboot("maintenance");
              else
                this.pending = this.pending.then(async () => {
                  await this.stopServer();
                  this.setMode("halted");
                });
            }),
          5,
        );
        return { actor_id: actorId };
      }
      case "Upgrade": {
        const image = String(req.image ?? "");
        const tag = imageTag(image);
        if (!tag) throw new GrpcFailure(grpc.status.INVALID_ARGUMENT, `invalid installer image "${image}"`);
        const b = { ...this.upgrade };
        if (b.replyAfterMs) await new Promise((r) => setTimeout(r, b.replyAfterMs));
        if (b.refuse) throw new GrpcFailure(grpc.status.UNKNOWN, b.refuse);
        if (this.isControlPlane() && req.force !== true) this.upgradeEtcdChecks();
        const actorId = crypto.randomUUID();
        if (req.stage !== true) {
          setTimeout(
            () =>
              void this.sequenceThen(UPGRADE, actorId, () => {
                if (b.fail === "down") {
                  this.halt();
                  return;
                }
                void this.reboot("normal", b.delayMs, () => {
                  if (b.fail !== "rollback") this.version = tag;
                });
              }),
            b.pullMs ?? 5,
          );
        }
        return { ack: "Upgrade request received", actor_id: actorId };
      }
      default:
        throw new GrpcFailure(grpc.status.UNIMPLEMENTED, `fake does not implement ${method}`);
    }
  }
}

/** A TCP listener on 127.0.0.1 that accepts and never answers (TLS never completes). */
export interface SilentNode {
  readonly port: number;
  readonly address: string;
  /** Connections accepted so far. */
  readonly connections: () => number;
  close(): Promise<void>;
}

export async function startSilentNode(): Promise<SilentNode> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((s) => {
    count++;
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return {
    port: addr.port,
    address: `127.0.0.1:${addr.port}`,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
