/**
 * The runtime event stream of the fake Talos node (`MachineService.Events`), kept and served as
 * Talos 1.11.5 does it:
 *
 * - events live in memory for one boot (machined's ring buffer: capacity 1000, safety gap 10, so
 *   990 events of history), each with an `xid` ID and the actor ID of the API call that started
 *   the sequence ("" for events of no call); `internal/app/machined/pkg/runtime/v1alpha1/
 *   v1alpha1_events.go` and `.../runtime/events.go`;
 * - a watch starts with an empty "hello" event (no type URL, the requested actor ID), then the
 *   backlog chosen by exactly one of tail_events (<0: all history), tail_id (IDs after it) or
 *   tail_seconds (IDs whose time is after now - seconds), filtered by with_actor_id, then live
 *   events; conflicting options and an unparsable tail_id fail the call after the hello event
 *   (`Events` in internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go);
 * - payloads are `google.protobuf.Any` with type URL `talos/runtime/machine.<Message>`;
 * - machine status: the stage follows the sequence/phase events as MachineStatusController
 *   derives it (internal/app/machined/pkg/controllers/runtime/machine_status.go `watchEvents`),
 *   and every stage change publishes a MachineStatusEvent (machine_status_publisher.go) without an
 *   actor; outside BOOTING/RUNNING no readiness checks run, so the status is ready; RUNNING turns
 *   ready once the node's Kubernetes Node is Ready (`markNodeReady`).
 * - when the node goes down the stream ends cleanly (machined returns nil on shutdown), which a
 *   client sees as EOF.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as protobuf from "protobufjs";
import { PROTO_DIR } from "../../../components/talos/api/proto";

export type MachineStage =
  | "UNKNOWN"
  | "BOOTING"
  | "INSTALLING"
  | "MAINTENANCE"
  | "RUNNING"
  | "REBOOTING"
  | "SHUTTING_DOWN"
  | "RESETTING"
  | "UPGRADING";

export type ServiceAction =
  | "INITIALIZED"
  | "PREPARING"
  | "WAITING"
  | "RUNNING"
  | "STOPPING"
  | "FINISHED"
  | "FAILED"
  | "SKIPPED"
  | "STARTING";

/** The event payloads the fake publishes (messages of package `machine`, snake_case fields). */
export type EventPayload =
  | {
      readonly type: "SequenceEvent";
      readonly sequence: string;
      readonly action: "NOOP" | "START" | "STOP";
      readonly error?: { readonly code: "FATAL" | "LOCKED" | "CANCELED"; readonly message: string };
    }
  | { readonly type: "PhaseEvent"; readonly phase: string; readonly action: "START" | "STOP" }
  | { readonly type: "TaskEvent"; readonly task: string; readonly action: "START" | "STOP" }
  | {
      readonly type: "ServiceStateEvent";
      readonly service: string;
      readonly action: ServiceAction;
      readonly message: string;
      readonly health?: {
        readonly unknown: boolean;
        readonly healthy: boolean;
        readonly last_message: string;
      };
    }
  | {
      readonly type: "MachineStatusEvent";
      readonly stage: MachineStage;
      readonly status: {
        readonly ready: boolean;
        readonly unmet_conditions: readonly { readonly name: string; readonly reason: string }[];
      };
    };

export interface RuntimeEvent {
  /** xid, 20 characters of base32hex. */
  readonly id: string;
  readonly actorId: string;
  /** Undefined for the hello event. */
  readonly payload: EventPayload | undefined;
}

/** `machine.Event` as the project's loader options encode it (snake_case). */
export interface MachineEventMessage {
  data: { type_url: string; value: Buffer };
  id: string;
  actor_id: string;
  metadata?: Record<string, unknown>;
}

/** EventsRequest (decoded). */
export interface WatchRequest {
  readonly tail_events?: unknown;
  readonly tail_id?: unknown;
  readonly tail_seconds?: unknown;
  readonly with_actor_id?: unknown;
}

// --- xid (github.com/rs/xid): 4-byte seconds, 3-byte machine, 2-byte pid, 3-byte counter ---

const XID_ALPHABET = "0123456789abcdefghijklmnopqrstuv";
const XID_MACHINE = crypto.randomBytes(3);
let xidCounter = crypto.randomBytes(3).readUIntBE(0, 3);

function base32hex(bytes: Buffer): string {
  let out = "";
  let value = 0;
  let bits = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += XID_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += XID_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** A new xid, ordered after every earlier one of this process. */
export function newXid(now = Date.now()): string {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(Math.floor(now / 1000) >>> 0, 0);
  XID_MACHINE.copy(b, 4);
  b.writeUInt16BE(process.pid & 0xffff, 7);
  xidCounter = (xidCounter + 1) & 0xffffff;
  b.writeUIntBE(xidCounter, 9, 3);
  return base32hex(b);
}

/** The 12 bytes of an xid string, or undefined where rs/xid refuses it ("xid: invalid ID"). */
export function parseXid(s: string): Buffer | undefined {
  if (s.length !== 20 || [...s].some((c) => !XID_ALPHABET.includes(c))) return undefined;
  const b = Buffer.alloc(12);
  let value = 0;
  let bits = 0;
  let k = 0;
  for (const c of s) {
    value = ((value << 5) | XID_ALPHABET.indexOf(c)) & 0xffff;
    bits += 5;
    if (bits >= 8 && k < 12) {
      b[k++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  // rs/xid checks that the last character carries no bits beyond the 96 (re-encoding matches).
  return base32hex(b) === s ? b : undefined;
}

const xidSeconds = (id: string): number => parseXid(id)?.readUInt32BE(0) ?? 0;

// --- payload encoding (observe.proto, with protobufjs: the Any value is a serialized message) ---

let root: protobuf.Root | undefined;

/** observe.proto (and what it imports) as a protobufjs Root. */
export function payloadRoot(): protobuf.Root {
  if (!root) {
    const r = new protobuf.Root();
    // observe.proto's own imports beside it, the project's packages (common/, google/rpc/) in its folder
    r.resolvePath = (_origin, target) => {
      if (path.isAbsolute(target)) return target;
      const local = path.join(__dirname, target);
      return fs.existsSync(local) ? local : path.join(PROTO_DIR, target);
    };
    r.loadSync(path.join(__dirname, "observe.proto"), { keepCase: true });
    r.resolveAll();
    root = r;
  }
  return root;
}

/** The Any of a payload: type URL `talos/runtime/machine.<Message>` and its serialized bytes. */
export function encodePayload(p: EventPayload | undefined): { type_url: string; value: Buffer } {
  if (!p) return { type_url: "", value: Buffer.alloc(0) };
  const { type, ...fields } = p;
  const t = payloadRoot().lookupType(`machine.${type}`);
  return {
    type_url: `talos/runtime/machine.${type}`,
    value: Buffer.from(t.encode(t.fromObject(fields)).finish()),
  };
}

/** Decodes an Any the fake (or a real node) sent, for tests. */
export function decodePayload(any: { type_url: string; value: Uint8Array }): Record<string, unknown> {
  const name = any.type_url.replace(/^talos\/runtime\//, "");
  const t = payloadRoot().lookupType(name);
  return t.toObject(t.decode(any.value), { enums: String, defaults: true, arrays: true }) as Record<
    string,
    unknown
  >;
}

export function toMachineEvent(e: RuntimeEvent): MachineEventMessage {
  return { data: encodePayload(e.payload), id: e.id, actor_id: e.actorId };
}

// --- the machine stage, derived from the events as MachineStatusController does ---

const UPGRADE_SEQUENCES = ["upgrade", "stageUpgrade", "maintenanceUpgrade"];

function nextStage(stage: MachineStage, sequence: string, p: EventPayload): MachineStage {
  if (p.type === "SequenceEvent") {
    if (p.action === "START") {
      if (p.sequence === "boot" || p.sequence === "initialize") return "BOOTING";
      if (p.sequence === "shutdown") return "SHUTTING_DOWN";
      if (UPGRADE_SEQUENCES.includes(p.sequence)) return "UPGRADING";
      if (p.sequence === "reset") return "RESETTING";
      if (p.sequence === "reboot") return "REBOOTING";
    }
    if (p.action === "NOOP" && p.error?.code === "FATAL") return "REBOOTING";
    if (p.action === "STOP" && p.sequence === "boot" && !p.error) return "RUNNING";
  }
  if (p.type === "PhaseEvent" && p.action === "START") {
    if (sequence === "install" && p.phase === "install") return "INSTALLING";
    if ((sequence === "install" || UPGRADE_SEQUENCES.includes(sequence)) && p.phase === "kexec")
      return "REBOOTING";
  }
  if (p.type === "TaskEvent" && p.task === "runningMaintenance") {
    return p.action === "START" ? "MAINTENANCE" : "BOOTING";
  }
  return stage;
}

/**
 * Readiness per stage (MachineStatusController): checks run only while booting or running; until
 * the node's Kubernetes Node is Ready the `nodeReady` check fails (`node %q status is not available
 * yet`); outside those stages nothing is checked, so the status is ready.
 */
function machineStatus(
  stage: MachineStage,
  nodename: string,
  nodeReady: boolean,
): Extract<EventPayload, { type: "MachineStatusEvent" }>["status"] {
  const notReady = { name: "nodeReady", reason: `node "${nodename}" status is not available yet` };
  if (stage === "BOOTING") {
    return {
      ready: false,
      unmet_conditions: [
        { name: "services", reason: "apid not running, machined not running, kubelet not running" },
        notReady,
      ],
    };
  }
  if (stage === "RUNNING" && !nodeReady) return { ready: false, unmet_conditions: [notReady] };
  return { ready: true, unmet_conditions: [] };
}

// --- the stream ---

interface Watcher {
  readonly actorId: string;
  readonly send: (e: RuntimeEvent) => void;
  readonly end: () => void;
}

/** One boot's event stream. */
export class EventLog {
  /** machined's `NewEvents(1000, 10)`: 990 events of history. */
  static readonly CAPACITY = 1000;
  static readonly GAP = 10;

  private readonly history: RuntimeEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private stage: MachineStage = "UNKNOWN";
  private sequence = "";
  private closed = false;

  private nodeReady = false;

  /** Every event published this boot (oldest may have scrolled out of the served history). */
  readonly published: RuntimeEvent[] = [];

  /** `nodename`: the Kubernetes Node name readiness conditions mention. */
  constructor(private readonly nodename = "node") {}

  get machineStage(): MachineStage {
    return this.stage;
  }

  /** RUNNING and ready (talosctl's MachineReadyEventFn would match the last status event). */
  get ready(): boolean {
    return this.stage === "RUNNING" && this.nodeReady;
  }

  /** The node's Kubernetes Node became Ready: a running machine's status turns ready. */
  markNodeReady(): void {
    if (this.nodeReady) return;
    this.nodeReady = true;
    if (this.stage === "RUNNING") this.appendStatus();
  }

  private appendStatus(): void {
    this.append({
      id: newXid(),
      actorId: "",
      payload: {
        type: "MachineStatusEvent",
        stage: this.stage,
        status: machineStatus(this.stage, this.nodename, this.nodeReady),
      },
    });
  }

  publish(payload: EventPayload, actorId = ""): RuntimeEvent {
    const e: RuntimeEvent = { id: newXid(), actorId, payload };
    this.append(e);
    const before = this.stage;
    if (payload.type === "SequenceEvent") this.sequence = payload.sequence;
    this.stage = nextStage(this.stage, this.sequence, payload);
    // a finished sequence (successful or not) leaves no current sequence
    if (payload.type === "SequenceEvent" && payload.action === "STOP") this.sequence = "";
    if (this.stage !== before) this.appendStatus();
    return e;
  }

  private append(e: RuntimeEvent): void {
    if (this.closed) return;
    this.published.push(e);
    this.history.push(e);
    if (this.history.length > EventLog.CAPACITY - EventLog.GAP) this.history.shift();
    for (const w of this.watchers) if (!w.actorId || w.actorId === e.actorId) w.send(e);
  }

  /**
   * Starts a watch: the backlog the request asks for, then live events. Throws the message Talos
   * answers for a request it refuses (a gRPC UNKNOWN).
   */
  watch(req: WatchRequest, send: (e: RuntimeEvent) => void, end: () => void): () => void {
    const tailEvents = Number(req.tail_events ?? 0);
    const tailId = String(req.tail_id ?? "");
    const tailSeconds = Number(req.tail_seconds ?? 0);
    const actorId = String(req.with_actor_id ?? "");
    let after: Buffer | undefined;
    if (tailId !== "") {
      after = parseXid(tailId);
      if (!after) throw new Error("error parsing tail_id: xid: invalid ID");
      if (tailEvents !== 0) {
        throw new Error(
          "WithTailID can't be specified at the same time with WithTailEvents or WithTailDuration",
        );
      }
    }
    if (tailSeconds !== 0 && (tailEvents !== 0 || after)) {
      throw new Error(
        "WithTailDuration can't be specified at the same time with WithTailEvents or WithTailID",
      );
    }
    let backlog: RuntimeEvent[] = [];
    if (tailEvents < 0) backlog = [...this.history];
    else if (tailEvents > 0) backlog = this.history.slice(-tailEvents);
    else if (after) {
      const from = after;
      backlog = this.history.filter((e) => Buffer.compare(parseXid(e.id) ?? Buffer.alloc(12), from) > 0);
    } else if (tailSeconds !== 0) {
      const since = Date.now() / 1000 - tailSeconds;
      backlog = this.history.filter((e) => xidSeconds(e.id) > since);
    }
    for (const e of backlog) if (!actorId || e.actorId === actorId) send(e);
    if (this.closed) {
      end();
      return () => undefined;
    }
    const w: Watcher = { actorId, send, end };
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  /** The node goes down: every open watch ends (clients see EOF). */
  close(): void {
    this.closed = true;
    for (const w of this.watchers) w.end();
    this.watchers.clear();
  }
}
