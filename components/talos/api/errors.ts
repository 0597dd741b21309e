/**
 * Typed errors of the Talos API client. Every error names the node (address) it concerns and the
 * operation, so a failed Pulumi step says which machine did what.
 */

/** gRPC status code names (numbers as in grpc/status.proto), for messages. */
const CODE_NAMES: Record<number, string> = {
  0: "OK",
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  15: "DATA_LOSS",
  16: "UNAUTHENTICATED",
};

export function grpcCodeName(code: number): string {
  return CODE_NAMES[code] ?? `CODE_${code}`;
}

/** Base class: a Talos API call on `node` failed. */
export class TalosError extends Error {
  constructor(
    message: string,
    /** Address of the node the call concerned (the `node` target, else the endpoint). */
    readonly node: string,
    /** Client operation, e.g. `applyConfiguration`. */
    readonly operation: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The call failed with a gRPC status (after retries where the code is retryable). */
export class TalosApiError extends TalosError {
  constructor(
    node: string,
    operation: string,
    /** gRPC status code (grpc.status). */
    readonly code: number,
    /** The server's (or transport's) message, verbatim. */
    readonly details: string,
    /** Number of attempts made. */
    readonly attempts: number,
    message?: string,
  ) {
    super(
      message ??
        `Talos ${operation} on node ${node} failed: ${grpcCodeName(code)}: ${details}` +
          (attempts > 1 ? ` (after ${attempts} attempts)` : ""),
      node,
      operation,
    );
  }

  get codeName(): string {
    return grpcCodeName(this.code);
  }
}

/** The call did not complete within its deadline (every attempt timed out or the last one did). */
export class TalosTimeoutError extends TalosApiError {
  constructor(
    node: string,
    operation: string,
    details: string,
    attempts: number,
    /** Per-attempt deadline in milliseconds. */
    readonly timeoutMs: number,
  ) {
    super(
      node,
      operation,
      4,
      details,
      attempts,
      `Talos ${operation} on node ${node} timed out: no answer within ${timeoutMs} ms` +
        (attempts > 1 ? ` (${attempts} attempts)` : "") +
        (details ? `: ${details}` : ""),
    );
  }
}

/**
 * The gRPC call succeeded but a reply entry carried `metadata.error` (how apid reports a failed
 * node when proxying): the entry's node (its `metadata.hostname`, else the target) is named.
 */
export class TalosNodeError extends TalosError {
  constructor(
    node: string,
    operation: string,
    /** The per-node error text from `metadata.error`. */
    readonly nodeMessage: string,
    /** `metadata.status.code` when the node sent one (gRPC code number), else undefined. */
    readonly code: number | undefined,
  ) {
    super(`Talos ${operation} on node ${node} failed: ${nodeMessage}`, node, operation);
  }
}
