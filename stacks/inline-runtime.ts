/**
 * Hardening of @pulumi/pulumi's in-process runtime for INLINE programs (Automation API), where one
 * Node.js process runs program after program: the `stacks/` commands, and every engine test suite.
 *
 * 1. Each run's engine and monitor clients (`settings.getEngine()`/`getMonitor()`, kept in the run's
 *    async store) are never closed, and @grpc/grpc-js shares subchannels between channels process-wide
 *    by target address. A client left from an earlier run keeps reconnecting, with back-off, to its
 *    engine's loopback port after that engine exited. When a later engine happens to listen on the
 *    same port, the new run's client gets that subchannel in TRANSIENT_FAILURE and its first call fails
 *    at once with UNAVAILABLE ("No connection established"). Giving the SDK's clients their own
 *    subchannel pool (`grpc.use_local_subchannel_pool`) ends the sharing.
 * 2. A gRPC UNAVAILABLE/CANCELLED error thrown out of the program is taken by the SDK's inline
 *    language server (automation/server.js) as "the engine is shutting down" and swallowed: the run
 *    reports success. When that error comes before the program even started (SetRootResource or the
 *    monitor's feature query failed), the engine sees a program that registered nothing but the stack
 *    and plans to DELETE every resource. A program that never started fails the run instead.
 *
 * Both touch internals of the pinned SDK (3.250.0; the engine is built at the same version): when
 * either hook is gone, hardening throws and tests/stacks/inline-runtime.test.ts fails.
 */
import type * as stackRuntime from "@pulumi/pulumi/runtime/stack";

const LOCAL_POOL = "grpc.use_local_subchannel_pool";
const GUARDED = Symbol.for("proxmox-talos.inline-runtime.guarded");
/** gRPC status codes the SDK treats as "engine gone" (errors.isGrpcError). */
const SWALLOWED_CODES = new Set([1 /* CANCELLED */, 14 /* UNAVAILABLE */]);

type RunInPulumiStack = typeof stackRuntime.runInPulumiStack;

/** The SDK modules' real export objects (an ES namespace import may be a read-only copy). */
function exportsOf<T>(specifier: string): T {
  return require(specifier) as T;
}

/** Gives the engine and monitor clients the SDK creates their own gRPC subchannel pool. */
export function isolateSdkChannels(): void {
  const mod = exportsOf<{ grpcClientOptions?: unknown }>("@pulumi/pulumi/runtime/settings");
  const opts = mod.grpcClientOptions;
  if (opts === null || typeof opts !== "object") {
    throw new Error(
      "@pulumi/pulumi/runtime/settings has no grpcClientOptions: the SDK changed (see stacks/inline-runtime.ts)",
    );
  }
  (opts as Record<string, unknown>)[LOCAL_POOL] = 1;
}

/** The client options the SDK's engine and monitor clients are created with. */
export function sdkClientOptions(): Readonly<Record<string, unknown>> {
  const mod = exportsOf<{ grpcClientOptions?: Record<string, unknown> }>("@pulumi/pulumi/runtime/settings");
  return mod.grpcClientOptions ?? {};
}

function codeOf(err: unknown): unknown {
  return err !== null && typeof err === "object" ? (err as { code?: unknown }).code : undefined;
}

/** Makes a run whose program never started fail, instead of passing as a program that registered nothing. */
export function failRunsWhoseProgramNeverStarted(): void {
  const mod = exportsOf<{ runInPulumiStack: RunInPulumiStack & { [GUARDED]?: true } }>(
    "@pulumi/pulumi/runtime/stack",
  );
  if (typeof mod.runInPulumiStack !== "function") {
    throw new Error(
      "@pulumi/pulumi/runtime/stack has no runInPulumiStack: the SDK changed (see stacks/inline-runtime.ts)",
    );
  }
  if (mod.runInPulumiStack[GUARDED]) return;
  const original = mod.runInPulumiStack;
  const guarded = async (init: () => Promise<unknown>) => {
    let started = false;
    try {
      return await original(() => {
        started = true;
        return init();
      });
    } catch (err) {
      if (!started && SWALLOWED_CODES.has(codeOf(err) as number)) {
        const why = err instanceof Error ? err.message : String(err);
        // Not a gRPC error any more: the language server reports it and the operation fails.
        throw new Error(
          `the program never started: the engine connection failed before it (${why}); stopped, so that no resource is taken for removed`,
        );
      }
      throw err;
    }
  };
  mod.runInPulumiStack = Object.assign(guarded, { [GUARDED]: true as const });
}

/** Both of the above; idempotent. Call before running an inline program. */
export function hardenInlineRuntime(): void {
  isolateSdkChannels();
  failRunsWhoseProgramNeverStarted();
}
