/**
 * Deadlines and retries: a node that never answers produces a timeout naming the node within the
 * configured deadline; INVALID_ARGUMENT is final at once with the server's message; UNAVAILABLE is
 * retried with exponential backoff a bounded number of times.
 */
import * as assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import {
  TalosApiError,
  TalosClient,
  type TalosClientOptions,
  TalosTimeoutError,
} from "../../components/talos/api/client";
import { backoffDelay, resolveRetryPolicy } from "../../components/talos/api/retry";
import { machineConfig, newTestPki, type TestPki } from "../fakes/machine-config";
import { FakeTalosNode, type SilentNode, startSilentNode } from "../fakes/talos-node";

describe("talos-api: deadlines and retries", function () {
  this.timeout(20_000);
  let pki: TestPki;
  let node: FakeTalosNode;
  let silent: SilentNode;
  const clients: TalosClient[] = [];

  function client(address: string, extra: Partial<TalosClientOptions>): TalosClient {
    const c = new TalosClient({
      endpoint: address,
      connection: { mode: "mtls", ca: pki.osCa.crt, cert: pki.admin.crt, key: pki.admin.key },
      ...extra,
    });
    clients.push(c);
    return c;
  }

  before(async function () {
    this.timeout(120_000); // the secrets bundle's RSA-4096 key takes a while on a loaded machine
    pki = await newTestPki();
    node = await FakeTalosNode.start({ config: machineConfig({ pki }), hostname: "cp-r" });
    silent = await startSilentNode();
  });

  after(async () => {
    for (const c of clients) c.close();
    await node.close();
    await silent.close();
  });

  it("times out against a node that accepts TCP but never answers, naming the node, within the deadline", async () => {
    const c = client(silent.address, { timeoutMs: 300, retry: { attempts: 1 } });
    const t0 = Date.now();
    await assert.rejects(c.version(), (e: unknown) => {
      assert.ok(e instanceof TalosTimeoutError, String(e));
      assert.equal(e.node, silent.address);
      assert.equal(e.codeName, "DEADLINE_EXCEEDED");
      assert.equal(e.timeoutMs, 300);
      assert.match(
        e.message,
        new RegExp(`Talos version on node ${silent.address} timed out: no answer within 300 ms`),
      );
      return true;
    });
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 280 && elapsed < 1000, `elapsed ${elapsed} ms`);
    assert.ok(silent.connections() >= 1, "the client really connected");
  });

  it("retries a timeout a bounded number of times (attempts x deadline + backoff)", async () => {
    const c = client(silent.address, {
      timeouts: { version: 150 },
      timeoutMs: 10_000,
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100, jitter: 0 },
    });
    const t0 = Date.now();
    await assert.rejects(c.version(), (e: unknown) => e instanceof TalosTimeoutError && e.attempts === 3);
    const elapsed = Date.now() - t0;
    // 3 x 150 ms + 20 + 40 ms backoff = 510 ms
    assert.ok(elapsed >= 490 && elapsed < 1500, `elapsed ${elapsed} ms`);
  });

  it("does not retry INVALID_ARGUMENT and shows the server's message", async () => {
    const c = client(node.address, { retry: { attempts: 5, baseDelayMs: 10, jitter: 0 } });
    const before = node.callsOf("ApplyConfiguration").length;
    await assert.rejects(
      c.applyConfiguration({ data: "machine: [unclosed", mode: "no_reboot" }),
      (e: unknown) => {
        assert.ok(e instanceof TalosApiError);
        assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
        assert.equal(e.attempts, 1);
        // Normal mode: InvalidArgument with the loader's own error (v1alpha1_server.go).
        assert.match(e.details, /decode error|failed to parse config/);
        assert.match(
          e.message,
          new RegExp(
            `applyConfiguration on node ${node.address} failed: INVALID_ARGUMENT: (decode error|failed to parse config)`,
          ),
        );
        return true;
      },
    );
    assert.equal(node.callsOf("ApplyConfiguration").length, before + 1);
    // Injected INVALID_ARGUMENT on another call: also exactly one attempt.
    node.failNext("Version", grpc.status.INVALID_ARGUMENT, "bad request", 3);
    await assert.rejects(c.version(), /INVALID_ARGUMENT: bad request/);
    node.failNext("Version", grpc.status.OK, "", 0);
  });

  it("retries UNAVAILABLE with exponential backoff and then succeeds", async () => {
    const retries: { attempt: number; code: number; delayMs: number }[] = [];
    const c = client(node.address, {
      retry: { attempts: 5, baseDelayMs: 40, maxDelayMs: 1000, jitter: 0 },
      onRetry: (r) => retries.push(r),
    });
    const start = node.calls.length;
    node.failNext("Version", grpc.status.UNAVAILABLE, "apid is restarting", 3);
    assert.equal((await c.version()).tag, "v1.11.5");
    const calls = node.calls.slice(start).filter((x) => x.method === "Version");
    assert.deepEqual(
      calls.map((x) => x.code),
      [14, 14, 14, 0],
    );
    assert.deepEqual(
      retries.map((r) => [r.attempt, r.code, r.delayMs]),
      [
        [1, 14, 40],
        [2, 14, 80],
        [3, 14, 160],
      ],
    );
    const gaps = calls.slice(1).map((x, i) => x.at - calls[i]!.at);
    for (const [i, want] of [40, 80, 160].entries()) {
      assert.ok(gaps[i]! >= want - 5, `gap ${i} = ${gaps[i]} ms, want >= ${want}`);
    }
  });

  it("gives up on UNAVAILABLE after the configured attempts, naming the node", async () => {
    const c = client(node.address, { retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50, jitter: 0 } });
    const start = node.callsOf("Version").length;
    node.failNext("Version", grpc.status.UNAVAILABLE, "still down", 10);
    await assert.rejects(c.version(), (e: unknown) => {
      assert.ok(e instanceof TalosApiError);
      assert.equal(e.codeName, "UNAVAILABLE");
      assert.equal(e.attempts, 3);
      assert.match(
        e.message,
        new RegExp(`on node ${node.address} failed: UNAVAILABLE: still down \\(after 3 attempts\\)`),
      );
      return true;
    });
    assert.equal(node.callsOf("Version").length - start, 3);
    node.failNext("Version", grpc.status.OK, "", 0);
  });

  it("retries a connection refused (no listener) with backoff, bounded", async () => {
    // A port that was just freed: nothing listens there.
    const tmp = await startSilentNode();
    const address = tmp.address;
    await tmp.close();
    const c = client(address, {
      timeoutMs: 1000,
      retry: { attempts: 3, baseDelayMs: 30, maxDelayMs: 100, jitter: 0 },
    });
    const t0 = Date.now();
    await assert.rejects(c.version(), (e: unknown) => e instanceof TalosApiError && e.attempts === 3);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 85 && elapsed < 1500, `elapsed ${elapsed} ms`);
  });

  it("computes bounded exponential backoff", () => {
    const p = resolveRetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, jitter: 0 });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((a) => backoffDelay(p, a)),
      [100, 200, 400, 800, 1000, 1000],
    );
    const j = resolveRetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 });
    assert.equal(
      backoffDelay(j, 1, () => 1),
      150,
    );
    assert.equal(
      backoffDelay(j, 5, () => 1),
      1000,
    );
    assert.throws(() => resolveRetryPolicy({ attempts: 0 }), /attempts/);
  });
});
