/**
 * apid's one-to-many proxying of UNARY calls, as Talos 1.11.5 does it
 * (internal/app/apid/pkg/director/director.go Director, internal/app/apid/pkg/backend/apid.go):
 *
 * - a request with `nodes` metadata (talosctl's usual way, even for one node) goes one-to-many
 *   (`aggregateDirector`) to each target, also when the target is the node itself (apid forwards);
 * - each target's reply gets `metadata.hostname = <target>` appended to its entries (`AppendInfo`);
 * - a target's failure becomes a reply, not a gRPC error: `EmptyResponse{messages: [{metadata:
 *   {hostname, error: err.Error(), status}}]}` with status OK (`BuildError`); talosctl's client
 *   turns it back into `<target>: rpc error: code = … desc = …` (pkg/machinery/client/reply.go
 *   FilterMessages, NodeError);
 * - with `node` metadata or none (one-to-one), the reply and a failure's status pass unchanged.
 *
 * Refusals by apid itself (RBAC, before the director) stay gRPC errors; the maintenance service has
 * no apid in front of it, so none of this applies there. Streams: see streams.ts.
 */
import * as grpc from "@grpc/grpc-js";

/** The apid target of a one-to-many request (`nodes` metadata), if it is one. */
export function oneToManyTarget(metadata: grpc.Metadata): string | undefined {
  const nodes = metadata.get("nodes");
  return nodes.length > 0 ? String(nodes[0]) : undefined;
}

/** Go's name of a gRPC code (codes.Code.String()). */
export function goCodeName(code: grpc.status): string {
  if (code === grpc.status.CANCELLED) return "Canceled";
  const name = grpc.status[code] ?? "Unknown";
  return name
    .toLowerCase()
    .split("_")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}

/** `metadata` of the message apid builds from a target's failure (BuildError). */
export function failureMetadata(
  target: string,
  f: { readonly code: grpc.status; readonly details: string },
): Record<string, unknown> {
  return {
    hostname: target,
    error: `rpc error: code = ${goCodeName(f.code)} desc = ${f.details}`,
    status: { code: f.code, message: f.details, details: [] },
  };
}

/** The unary reply apid sends for a target that failed: one entry, only metadata. */
export function failureReply(
  target: string,
  f: { readonly code: grpc.status; readonly details: string },
): {
  messages: Record<string, unknown>[];
} {
  return { messages: [{ metadata: failureMetadata(target, f) }] };
}
