import type * as grpc from "@grpc/grpc-js";

/** A gRPC status the fake Talos node answers with (code and message as Talos sends them). */
export class GrpcFailure extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
  }
}
