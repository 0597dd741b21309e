/**
 * Bounded retries with exponential backoff for Talos API calls. Only transport-level trouble is
 * retried (UNAVAILABLE: node down/rebooting/refusing; DEADLINE_EXCEEDED: no answer in time);
 * everything else (notably INVALID_ARGUMENT) is final at once.
 */

export interface RetryPolicy {
  /** Total attempts including the first (>= 1). Default 5. */
  readonly attempts: number;
  /** Delay before the 2nd attempt, doubled each further attempt. Default 500 ms. */
  readonly baseDelayMs: number;
  /** Upper bound of a single delay. Default 10 s. */
  readonly maxDelayMs: number;
  /** Random extra delay as a fraction of the computed delay, 0..1 (spreads herds). Default 0.2. */
  readonly jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 10_000, jitter: 0.2 };

/** gRPC codes that are retried: UNAVAILABLE (14), DEADLINE_EXCEEDED (4). */
export const RETRYABLE_CODES: ReadonlySet<number> = new Set([14, 4]);

export function resolveRetryPolicy(p: Partial<RetryPolicy> | undefined): RetryPolicy {
  const r = { ...DEFAULT_RETRY, ...p };
  if (!Number.isInteger(r.attempts) || r.attempts < 1) throw new Error(`retry.attempts must be >= 1`);
  if (r.baseDelayMs < 0 || r.maxDelayMs < 0) throw new Error(`retry delays must be >= 0`);
  if (r.jitter < 0 || r.jitter > 1) throw new Error(`retry.jitter must be in [0, 1]`);
  return r;
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failures (attempt >= 1):
 * min(maxDelayMs, baseDelayMs * 2^(attempt-1)) plus up to `jitter` of it.
 */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(Math.min(policy.maxDelayMs, exp * (1 + policy.jitter * random())));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Something with a numeric gRPC status code. */
export interface CodedError {
  readonly code: number;
}

export function hasGrpcCode(e: unknown): e is Error & CodedError {
  return e instanceof Error && typeof (e as Partial<CodedError>).code === "number";
}

/**
 * Runs `fn(attempt)` up to `policy.attempts` times while it rejects with a retryable gRPC code,
 * sleeping `backoffDelay` between attempts. Resolves with the result, or rejects with the last
 * error and the number of attempts made.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  fn: (attempt: number) => Promise<T>,
  onRetry?: (attempt: number, err: Error & CodedError, delayMs: number) => void,
  /** Extra veto: errors for which this returns false are final even with a retryable code. */
  retryable: (err: Error & CodedError) => boolean = () => true,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!hasGrpcCode(e) || !RETRYABLE_CODES.has(e.code) || !retryable(e) || attempt >= policy.attempts) {
        throw new RetryExhausted(e, attempt);
      }
      const delay = backoffDelay(policy, attempt);
      onRetry?.(attempt, e, delay);
      await sleep(delay);
    }
  }
}

/** Wraps the final error of `withRetry` with the attempt count. */
export class RetryExhausted extends Error {
  constructor(
    readonly last: unknown,
    readonly attempts: number,
  ) {
    super(last instanceof Error ? last.message : String(last));
    this.name = "RetryExhausted";
  }
}
