/**
 * Shared helpers of the dynamic providers' logic: input checks, hashing, the retry-until-deadline
 * loop and the mTLS/maintenance client factory. Loaded inside the dynamic-provider process, so it
 * only uses relative imports and node_modules packages.
 */
import { TalosApiError, TalosClient, type TalosClientOptions, TalosTimeoutError } from "../../api/client";

/** Config hashes: diffs are precise without revealing the config. */
export { sha256Hex } from "../../../hash";

/** The admin credentials for mutual TLS with apid. */
export interface MtlsCredentials {
  /** PEM of the cluster's OS CA certificate. */
  readonly osCa: string;
  /** PEM of the admin client certificate (O=os:admin). */
  readonly clientCert: string;
  /** PEM of its key. */
  readonly clientKey: string;
}

/**
 * How a property bag is read. `inputs`: a missing or malformed value is an error. `state`: a stored
 * state (possibly written by an older version) — a missing or malformed value reads as its fallback
 * ("" for a required string, [] for a list), so `diff` parses old state and new inputs with the
 * same parser and sees the same defaults on both sides.
 */
export type ReadMode = "inputs" | "state";

/** What a logic module's `diff` answers: the dynamic provider's DiffResult, as plain data. */
export interface DiffResult {
  readonly changes: boolean;
  readonly replaces: string[];
  readonly stables?: string[];
  readonly deleteBeforeReplace?: boolean;
}

/** Reads an untyped property bag (what the dynamic-provider host hands a provider). */
export class Props {
  private readonly rec: Record<string, unknown>;

  constructor(
    private readonly what: string,
    raw: unknown,
    readonly mode: ReadMode = "inputs",
  ) {
    if (typeof raw !== "object" || raw === null) {
      if (mode === "inputs") throw new Error(`${what}: inputs are not an object`);
      this.rec = {};
    } else this.rec = raw as Record<string, unknown>;
  }

  /** Throws in `inputs` mode; a stored state is read as it is. */
  fail(message: string): void {
    if (this.mode === "inputs") throw new Error(`${this.what}: ${message}`);
  }

  private bad<T>(message: string, fallback: T): T {
    this.fail(message);
    return fallback;
  }

  has(key: string): boolean {
    return this.rec[key] !== undefined && this.rec[key] !== null;
  }

  str(key: string): string {
    const v = this.rec[key];
    if (typeof v !== "string" || v === "") return this.bad(`input "${key}" must be a non-empty string`, "");
    return v;
  }

  optStr(key: string, fallback = ""): string {
    const v = this.rec[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "string") return this.bad(`input "${key}" must be a string`, fallback);
    return v;
  }

  /** One of `allowed`, or `fallback` when unset ("" for a state that lacks a required one). */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T): T {
    const v = fallback === undefined ? this.str(key) : this.optStr(key, fallback);
    if ((allowed as readonly string[]).includes(v)) return v as T;
    // Only a state gets here with a value outside `allowed`; its diff compares it as unknown ("").
    return this.bad(`${key} must be ${allowed.join(" or ")}, got "${v}"`, "" as T);
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.rec[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") return this.bad(`input "${key}" must be a boolean`, fallback);
    return v;
  }

  num(key: string, fallback: number): number {
    const v = this.rec[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      return this.bad(`input "${key}" must be a positive number`, fallback);
    }
    return v;
  }

  list(key: string): unknown[] {
    const v = this.rec[key];
    if (!Array.isArray(v)) return this.bad(`input "${key}" must be a list`, []);
    return v;
  }

  /** A list of non-empty strings. */
  strings(key: string): string[] {
    return this.list(key).flatMap((v, i) => {
      if (typeof v === "string" && v !== "") return [v];
      return this.bad(`${key}[${i}] must be a non-empty string`, []);
    });
  }

  /** A list of `{name, address}` nodes (apid addresses). */
  nodes(key: string): { name: string; address: string }[] {
    return this.list(key).map((raw, k) => {
      const q = new Props(`${this.what} ${key}[${k}]`, raw, this.mode);
      return { name: q.str("name"), address: q.str("address") };
    });
  }

  mtls(): MtlsCredentials {
    return { osCa: this.str("osCa"), clientCert: this.str("clientCert"), clientKey: this.str("clientKey") };
  }
}

/** Progress reporter: in-process callers pass their own; the provider host's stdout otherwise. */
export type LogFn = (message: string) => void;

/**
 * Default progress log. Inside Pulumi's dynamic-provider process `pulumi.log` has no engine
 * connection (PULUMI_NODEJS_ENGINE is unset there) and falls back to `console.log`, whose lines the
 * engine relays as info diagnostics; in-process it goes to the engine. Loaded lazily.
 */
export function defaultLog(message: string): void {
  try {
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    void pulumi.log.info(message).catch(() => undefined);
  } catch {
    console.log(message);
  }
}

export function mtlsClient(
  address: string,
  creds: MtlsCredentials,
  o: Omit<TalosClientOptions, "endpoint" | "connection"> = {},
): TalosClient {
  return new TalosClient({
    endpoint: address,
    connection: { mode: "mtls", ca: creds.osCa, cert: creds.clientCert, key: creds.clientKey },
    ...o,
  });
}

/** One Version call over mutual TLS, no retry: the Talos version tag the node answers with. */
export async function talosVersionTag(
  address: string,
  creds: MtlsCredentials,
  timeoutMs: number,
): Promise<string> {
  const client = mtlsClient(address, creds, { timeoutMs, retry: { attempts: 1 } });
  try {
    return (await client.version()).tag;
  } finally {
    client.close();
  }
}

export function maintenanceClient(
  address: string,
  o: Omit<TalosClientOptions, "endpoint" | "connection"> = {},
): TalosClient {
  return new TalosClient({
    endpoint: address,
    connection: { mode: "maintenance", insecureMaintenance: true },
    ...o,
  });
}

/** A reset that wipes the node's config and data (it returns to maintenance mode, or halts). */
export const WIPE_STATE_AND_EPHEMERAL = [
  { label: "STATE", wipe: true },
  { label: "EPHEMERAL", wipe: true },
] as const;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Talos' answers that no retry can change, by the mode the node answered in (Talos 1.11.5
 * internal/app/maintenance/server.go, internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go,
 * pkg/grpc/middleware/authz): INVALID_ARGUMENT (config or request refused), PERMISSION_DENIED (the
 * certificate's role may not), UNIMPLEMENTED (API or apply mode not available there), and in
 * maintenance mode UNKNOWN "failed to parse config" — a config that does not load, e.g. keys of a
 * newer Talos sent to an older ISO, which the maintenance server returns as a plain error.
 */
export function isPermanentTalosError(e: unknown, nodeMode: "maintenance" | "normal"): boolean {
  if (!(e instanceof TalosApiError) || e instanceof TalosTimeoutError) return false;
  if (e.code === 3 || e.code === 7 || e.code === 12) return true;
  return nodeMode === "maintenance" && e.code === 2 && e.details.startsWith("failed to parse config");
}

/** A node's answer that retrying cannot change (see isPermanentTalosError); keeps the node's error. */
export class RefusedByNode extends Error {
  constructor(readonly refusal: unknown) {
    super(errorText(refusal));
    this.name = "RefusedByNode";
  }
}

/** Rethrows a permanent answer of a node in `nodeMode` as RefusedByNode (ends retryUntil at once). */
export function markPermanent(e: unknown, nodeMode: "maintenance" | "normal"): never {
  throw isPermanentTalosError(e, nodeMode) ? new RefusedByNode(e) : e;
}

export interface RetryUntilOptions {
  /** What is being done, for the timeout message, e.g. `apply config on node cp-1 (10.0.0.11)`. */
  readonly what: string;
  readonly timeoutMs: number;
  /** Pause between attempts. Default 2 s. */
  readonly pollMs?: number;
  /** Errors that end the loop at once. */
  readonly fatal?: (e: unknown) => boolean;
  readonly log?: LogFn;
}

/** Error thrown when an operation kept failing until its deadline. */
export class DeadlineError extends Error {
  constructor(
    message: string,
    readonly lastError: unknown,
  ) {
    super(message);
    this.name = "DeadlineError";
  }
}

/**
 * Runs `fn(remainingMs)` until it resolves, a fatal error, or the deadline: then throws a
 * DeadlineError naming `what`, the time waited and the last error.
 */
export async function retryUntil<T>(
  o: RetryUntilOptions,
  fn: (remainingMs: number) => Promise<T>,
): Promise<T> {
  const start = Date.now();
  const deadline = start + o.timeoutMs;
  const pollMs = o.pollMs ?? 2000;
  let attempt = 0;
  for (;;) {
    attempt++;
    try {
      return await fn(Math.max(1, deadline - Date.now()));
    } catch (e) {
      if (o.fatal?.(e)) throw e;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new DeadlineError(
          `${o.what}: gave up after ${Math.round((Date.now() - start) / 1000)} s (${attempt} attempts); last error: ${errorText(e)}`,
          e,
        );
      }
      if (attempt === 1 || attempt % 5 === 0) o.log?.(`${o.what}: not yet (${errorText(e)}); retrying`);
      await sleep(Math.min(pollMs, left));
    }
  }
}
