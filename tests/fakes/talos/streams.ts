/**
 * The fake Talos node's server streams for observing a node: `Events` (events.ts) and `Read`
 * (files.ts), with apid's proxying in front of them as Talos 1.11.5 does it
 * (internal/app/apid/pkg/director/director.go, internal/app/apid/pkg/backend/apid.go):
 *
 * - a request with `nodes` metadata (talosctl's usual way, even for one node) is proxied
 *   one-to-many: apid appends `metadata.hostname = <target>` to every streamed message
 *   (`AppendInfo`), and turns a failure of the node into one last message whose metadata carries
 *   the error text and status (`BuildError`), ending the stream cleanly;
 * - with `node` metadata or none (one-to-one), messages pass unchanged and a failure is the gRPC
 *   status itself (talosctl's action tracker calls this way).
 */
import * as grpc from "@grpc/grpc-js";
import { type EventLog, newXid, type RuntimeEvent, toMachineEvent } from "./events";
import { GrpcFailure } from "./failure";
import { type NodeFileFacts, readFile } from "./files";
import { failureMetadata, oneToManyTarget } from "./one-to-many";

type Call = grpc.ServerWritableStream<{ readonly msg: Record<string, unknown> }, object>;

/** Sends a message or fails the stream, as apid forwards it for this request. */
function proxied(call: Call, onFailure: (f: GrpcFailure) => void) {
  const target = oneToManyTarget(call.metadata);
  return {
    write(msg: Record<string, unknown>): void {
      call.write(target === undefined ? msg : { ...msg, metadata: { hostname: target } });
    },
    fail(f: GrpcFailure): void {
      if (target === undefined) {
        onFailure(f);
        return;
      }
      call.write({ metadata: failureMetadata(target, f) });
      call.end();
    },
  };
}

/** Serves `Events` from `log` until the client leaves or the node goes down. */
export function serveEvents(call: Call, log: EventLog, onFailure: (f: GrpcFailure) => void): void {
  const out = proxied(call, onFailure);
  const req = call.request.msg;
  // the hello event tells the client the stream has started (`sendEmptyEvent`)
  out.write({
    ...toMachineEvent({ id: newXid(), actorId: String(req.with_actor_id ?? ""), payload: undefined }),
  });
  const send = (e: RuntimeEvent) => {
    if (!call.cancelled) out.write({ ...toMachineEvent(e) });
  };
  let stop: () => void = () => undefined;
  try {
    stop = log.watch(req, send, () => {
      if (!call.cancelled) call.end();
    });
  } catch (e) {
    out.fail(new GrpcFailure(grpc.status.UNKNOWN, e instanceof Error ? e.message : String(e)));
    return;
  }
  call.on("cancelled", () => stop());
}

/** Serves `Read` of one file from the node's files. */
export function serveRead(call: Call, facts: NodeFileFacts, onFailure: (f: GrpcFailure) => void): void {
  const out = proxied(call, onFailure);
  let chunks: Buffer[];
  try {
    chunks = readFile(facts, String(call.request.msg.path ?? ""));
  } catch (e) {
    out.fail(e instanceof GrpcFailure ? e : new GrpcFailure(grpc.status.INTERNAL, String(e)));
    return;
  }
  for (const bytes of chunks) out.write({ bytes });
  call.end();
}
