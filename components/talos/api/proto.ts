/**
 * Loads the project's Talos API definition (`talos.proto` beside this file and the per-package
 * files it imports) with `@grpc/proto-loader`, lazily and once per folder, and hands out typed
 * method descriptors (path + (de)serializers) for `@grpc/grpc-js`'s generic client.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { MethodDefinition, PackageDefinition } from "@grpc/proto-loader";
import * as protoLoader from "@grpc/proto-loader";

export const PROTO_ENTRY = "talos.proto";

/**
 * Folder holding `talos.proto` (the include root of the definition): beside this module when run
 * from source (tsx / ts-node, as Pulumi does); when compiled to `bin/`, the source folder.
 */
export function defaultProtoDir(): string {
  const candidates = [
    __dirname,
    path.resolve(__dirname, "..", "..", "..", "..", "components", "talos", "api"),
    path.resolve(process.cwd(), "components", "talos", "api"),
  ];
  return candidates.find((d) => fs.existsSync(path.join(d, PROTO_ENTRY))) ?? __dirname;
}

/** The folder used when no `protoDir` is given. */
export const PROTO_DIR = defaultProtoDir();

/**
 * Options for decoding: snake_case field names as on the wire, 64-bit integers as decimal strings,
 * enums as their names, absent scalars filled with defaults, repeated fields always arrays.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
};

const cache = new Map<string, PackageDefinition>();

/** The package definition of the project's Talos API (cached per folder). */
export function loadTalosDefinition(protoDir: string = PROTO_DIR): PackageDefinition {
  const dir = path.resolve(protoDir);
  let def = cache.get(dir);
  if (!def) {
    def = protoLoader.loadSync(path.join(dir, PROTO_ENTRY), { ...LOADER_OPTIONS, includeDirs: [dir] });
    cache.set(dir, def);
  }
  return def;
}

/** A gRPC method of the Talos API with typed request/response shapes. */
export interface TalosMethod<Req, Res> {
  /** `/<pkg>.<Service>/<Method>` */
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly serialize: (value: Req) => Buffer;
  readonly deserialize: (bytes: Buffer) => Res;
}

function isMethodDefinition(v: unknown): v is MethodDefinition<object, object> {
  return typeof v === "object" && v !== null && "path" in v && "requestSerialize" in v;
}

/**
 * Looks up `service`/`method` in the definition. The generic shapes are the caller's statement of
 * what the decoder (LOADER_OPTIONS) produces for those messages; this is the one place they meet.
 */
export function talosMethod<Req, Res>(
  service: "machine.MachineService" | "storage.StorageService",
  method: string,
  protoDir?: string,
): TalosMethod<Req, Res> {
  const def = loadTalosDefinition(protoDir);
  const svc = def[service];
  const m: unknown = svc && !("format" in svc) ? (svc as Record<string, unknown>)[method] : undefined;
  if (!isMethodDefinition(m)) throw new Error(`Talos API definition has no method ${service}/${method}`);
  return {
    path: m.path,
    requestStream: m.requestStream,
    responseStream: m.responseStream,
    serialize: (value: Req) => m.requestSerialize(value as object),
    deserialize: (bytes: Buffer) => m.responseDeserialize(bytes) as Res,
  };
}
