/**
 * stacks/inline-runtime.ts: consecutive inline runs in one process. A client of an earlier run,
 * still backing off from its dead engine's port, must not break the next run's client when a new
 * engine listens on that port (the cause of the flaky "second preview shows no changes", which
 * showed `delete 1, same 1` once in four full-suite runs). Real gRPC servers on loopback and the
 * SDK's own client code (settings.getEngine in a run's async store); no engine needed.
 */
import * as assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import * as engrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engproto from "@pulumi/pulumi/proto/engine_pb";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { hardenInlineRuntime, sdkClientOptions } from "../../stacks/inline-runtime";

const LOCAL_POOL = "grpc.use_local_subchannel_pool";
// A long back-off keeps the stale subchannel in TRANSIENT_FAILURE for the whole case, whatever the load.
const BACKOFF = "grpc.initial_reconnect_backoff_ms";

/** A fake engine answering GetRootResource with `urn`, on `port` (0: any). */
function startEngine(port: number, urn: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  const impl: Partial<engrpc.IEngineServer> = {
    getRootResource: (_call, cb) => cb(null, new engproto.GetRootResourceResponse().setUrn(urn)),
  };
  server.addService(engrpc.EngineService, impl as engrpc.IEngineServer);
  return new Promise((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve({ server, port: p }),
    ),
  );
}

/** GetRootResource's URN, or `UNAVAILABLE`-style `error <code>`. */
function rootUrn(client: engrpc.IEngineClient): Promise<string> {
  return new Promise((resolve) =>
    client.getRootResource(new engproto.GetRootResourceRequest(), (err, res) =>
      resolve(err ? `error ${err.code}` : (res?.getUrn() ?? "")),
    ),
  );
}

/** The engine client the SDK creates for a run against `engineAddr` (as server.js's run does). */
function sdkEngineClient(engineAddr: string): engrpc.IEngineClient {
  const state = require("@pulumi/pulumi/runtime/state") as {
    withLocalStorage<T>(fn: () => T): T;
  };
  return state.withLocalStorage(() => {
    settings.resetOptions("proxmox-talos", "test", 4, engineAddr, "", true, "");
    const client = settings.getEngine();
    assert.ok(client, "the SDK made no engine client");
    return client;
  });
}

/** The scenario: run 1's client outlives its engine and retries; run 2's engine gets the same port. */
async function consecutiveRuns(makeClient: (addr: string) => engrpc.IEngineClient): Promise<string> {
  const first = await startEngine(0, "urn:first");
  const addr = `127.0.0.1:${first.port}`;
  const stale = makeClient(addr);
  const closers: (() => void)[] = [];
  try {
    assert.equal(await rootUrn(stale), "urn:first");
    first.server.forceShutdown();
    // A call after the engine exited (a late log line, say): the subchannel now backs off.
    assert.equal(await rootUrn(stale), `error ${grpc.status.UNAVAILABLE}`);
    const second = await startEngine(first.port, "urn:second");
    closers.push(() => second.server.forceShutdown());
    const fresh = makeClient(addr);
    closers.push(() => (fresh as unknown as grpc.Client).close());
    return await rootUrn(fresh);
  } finally {
    (stale as unknown as grpc.Client).close();
    for (const close of closers) close();
  }
}

describe("inline runtime: SDK clients of consecutive runs in one process", () => {
  it("without a pool of its own, a new client to an old engine's port fails at once (the flake's cause)", async () => {
    // The SDK's client options as they were before the hardening: one process-wide subchannel pool.
    const shared = Object.fromEntries(
      Object.entries({ ...sdkClientOptions(), [BACKOFF]: 30_000 }).filter(([k]) => k !== LOCAL_POOL),
    );
    const got = await consecutiveRuns(
      (addr) => new engrpc.EngineClient(addr, grpc.credentials.createInsecure(), shared),
    );
    assert.equal(got, `error ${grpc.status.UNAVAILABLE}`, "grpc-js no longer shares subchannels by address");
  });

  it("hardened, the next run's SDK engine client reaches the new engine on that port", async () => {
    hardenInlineRuntime();
    assert.equal(sdkClientOptions()[LOCAL_POOL], 1);
    const sdk = require("@pulumi/pulumi/runtime/settings") as { grpcClientOptions: Record<string, unknown> };
    const before = sdk.grpcClientOptions;
    sdk.grpcClientOptions = { ...before, [BACKOFF]: 30_000 };
    try {
      assert.equal(await consecutiveRuns(sdkEngineClient), "urn:second");
    } finally {
      sdk.grpcClientOptions = before;
    }
  });

  it("hardening twice wraps the SDK's runInPulumiStack once", () => {
    const mod = require("@pulumi/pulumi/runtime/stack") as { runInPulumiStack: unknown };
    hardenInlineRuntime();
    const once = mod.runInPulumiStack;
    hardenInlineRuntime();
    assert.equal(mod.runInPulumiStack, once);
  });
});
