/**
 * A purpose-built apid for fault injection: a grpc-js server on loopback with the project's Talos
 * API definition (components/talos/api/talos.proto via proto.ts) where each test scripts exactly
 * what one method answers, down to the raw frames. It imitates apid's transport only: TLS 1.2+/1.3
 * with a server certificate the test chooses (Talos 1.11 `internal/app/apid` serves the node's cert
 * issued by the OS CA and requires a client cert of that CA), gRPC framing, trailers with a status.
 * It has no rules of its own: the behaviour under test is the client's reaction to a broken or
 * hostile peer (streams ending early, frames of another message type, per-node errors, missing
 * fields), which a real node only shows under faults.
 */
import * as grpc from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import { loadTalosDefinition } from "../../components/talos/api/proto";
import { type PemPair, standardKeyPem } from "./certs";

/** A scripted method: gets the call; writes pre-encoded frames (Buffers) and ends or fails it. */
export type ScriptedUnary = (
  call: grpc.ServerUnaryCall<Buffer, Buffer>,
  reply: (err: grpc.ServerErrorResponse | null, frame?: Buffer) => void,
) => void;
export type ScriptedStream = (call: grpc.ServerWritableStream<Buffer, Buffer>) => void;

export interface ScriptedTalosOptions {
  /** Server certificate and key (Talos' Ed25519 label accepted). */
  readonly server: PemPair;
  /** CA whose client certs are required (mTLS, as apid in normal mode); none: no client cert asked. */
  readonly clientCa?: string;
  readonly host?: string;
  readonly unary?: Readonly<Record<string, ScriptedUnary>>;
  readonly streams?: Readonly<Record<string, ScriptedStream>>;
}

function isMethod(v: unknown): v is MethodDefinition<object, object> {
  return typeof v === "object" && v !== null && "path" in v && "responseSerialize" in v;
}

function method(service: string, name: string): MethodDefinition<object, object> {
  const svc = loadTalosDefinition()[service];
  const m = svc && !("format" in svc) ? (svc as Record<string, unknown>)[name] : undefined;
  if (!isMethod(m)) throw new Error(`no method ${service}/${name} in the project's proto`);
  return m;
}

/** The wire bytes of `value` as the response message of `service/name` (machine.MachineService default). */
export function encodeReply(name: string, value: object, service = "machine.MachineService"): Buffer {
  return method(service, name).responseSerialize(value);
}

export interface ScriptedTalos {
  readonly address: string;
  /** Methods called, in order. */
  readonly calls: string[];
  close(): Promise<void>;
}

export async function startScriptedTalos(o: ScriptedTalosOptions): Promise<ScriptedTalos> {
  const server = new grpc.Server();
  const calls: string[] = [];
  const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
  const def: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const impl: grpc.UntypedServiceImplementation = {};
  const add = (name: string, stream: boolean, handler: grpc.UntypedHandleCall) => {
    const m = method("machine.MachineService", name);
    def[name] = {
      path: m.path,
      requestStream: false,
      responseStream: stream,
      requestSerialize: raw.serialize,
      requestDeserialize: raw.deserialize,
      responseSerialize: raw.serialize,
      responseDeserialize: raw.deserialize,
    };
    impl[name] = handler;
  };
  for (const [name, h] of Object.entries(o.unary ?? {})) {
    add(name, false, (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      calls.push(name);
      h(call, (err, frame) => cb(err, frame));
    });
  }
  for (const [name, h] of Object.entries(o.streams ?? {})) {
    add(name, true, (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      calls.push(name);
      h(call);
    });
  }
  server.addService(def, impl);
  const creds = grpc.ServerCredentials.createSsl(
    o.clientCa ? Buffer.from(o.clientCa) : null,
    [{ private_key: Buffer.from(standardKeyPem(o.server.key)), cert_chain: Buffer.from(o.server.crt) }],
    o.clientCa !== undefined,
  );
  const host = o.host ?? "127.0.0.1";
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:0`, creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `${host}:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
