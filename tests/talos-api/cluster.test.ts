/**
 * The Talos API client against three fake nodes over real TLS on 127.0.0.1: maintenance-mode
 * apply, the reboot into mutual TLS, bootstrap (twice), etcd, kubeconfig, reboot/upgrade/reset,
 * per-node errors, and proof that the TLS is really mutual and really verifies the server.
 */
import * as assert from "node:assert/strict";
import {
  probeMaintenance,
  TalosApiError,
  TalosClient,
  type TalosClientOptions,
  TalosNodeError,
} from "../../components/talos/api/client";
import { issueCert, newCa } from "../fakes/certs";
import { machineConfig, newTestPki, type TestPki } from "../fakes/machine-config";
import { FakeTalosNode } from "../fakes/talos-node";

const FAST_RETRY = { attempts: 6, baseDelayMs: 20, maxDelayMs: 200, jitter: 0 };

describe("talos-api: client against three fake nodes", function () {
  this.timeout(20_000);
  let pki: TestPki;
  const nodes: FakeTalosNode[] = [];
  const clients: TalosClient[] = [];

  function mtls(node: FakeTalosNode, extra: Partial<TalosClientOptions> = {}): TalosClient {
    const c = new TalosClient({
      endpoint: node.address,
      connection: { mode: "mtls", ca: pki.osCa.crt, cert: pki.admin.crt, key: pki.admin.key },
      timeoutMs: 3000,
      retry: FAST_RETRY,
      ...extra,
    });
    clients.push(c);
    return c;
  }

  function maintenance(node: FakeTalosNode): TalosClient {
    const c = new TalosClient({
      endpoint: node.address,
      connection: { mode: "maintenance", insecureMaintenance: true },
      timeoutMs: 3000,
      retry: FAST_RETRY,
    });
    clients.push(c);
    return c;
  }

  before(async function () {
    this.timeout(120_000); // the secrets bundle's RSA-4096 key takes a while on a loaded machine
    pki = await newTestPki();
    for (const [i, type] of (["controlplane", "controlplane", "worker"] as const).entries()) {
      nodes.push(
        await FakeTalosNode.start({
          hostname: `${type === "worker" ? "wk" : "cp"}-${i + 1}`,
          osCa: type === "worker" ? pki.osCa : undefined,
          rebootDelayMs: 30,
        }),
      );
    }
  });

  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.close()));
  });

  it("sees all three nodes in maintenance mode (insecure Disks probe)", async () => {
    for (const n of nodes) {
      assert.equal(n.mode, "maintenance");
      assert.equal(await probeMaintenance(n.address, { timeoutMs: 2000 }), true);
    }
    const disks = await maintenance(nodes[0]!).disks();
    assert.equal(disks[0]?.deviceName, "/dev/sda");
    assert.equal(disks[0]?.size, 10 * 1024 ** 3);
  });

  it("refuses an unverified connection without insecureMaintenance: true", () => {
    assert.throws(
      () =>
        new TalosClient({
          endpoint: nodes[0]!.address,
          connection: { mode: "maintenance", insecureMaintenance: false as unknown as true },
        }),
      /insecureMaintenance: true/,
    );
  });

  it("mTLS to a maintenance node fails (its self-signed cert does not chain to the OS CA)", async () => {
    const c = mtls(nodes[0]!, { retry: { attempts: 1 }, timeoutMs: 2000 });
    await assert.rejects(c.version(), (e: unknown) => {
      assert.ok(e instanceof TalosApiError);
      assert.equal(e.codeName, "UNAVAILABLE");
      assert.match(e.message, new RegExp(`node ${nodes[0]!.address}`));
      return true;
    });
  });

  it("applies the configs in maintenance mode; the nodes reboot into mutual TLS on the same port", async () => {
    const ports = nodes.map((n) => n.port);
    for (const [i, n] of nodes.entries()) {
      const type = i < 2 ? "controlplane" : "worker";
      const res = await maintenance(n).applyConfiguration({
        data: machineConfig({ type, pki }),
        mode: "auto",
      });
      assert.equal(res.mode, "reboot");
    }
    await Promise.all(nodes.map((n) => n.waitForMode("normal")));
    assert.deepEqual(
      nodes.map((n) => n.port),
      ports,
    );
    for (const [i, n] of nodes.entries()) {
      assert.equal(n.appliedConfig?.type, i < 2 ? "controlplane" : "worker");
      assert.equal(n.boots, 2);
      assert.equal(n.callsOf("ApplyConfiguration")[0]?.mode, "maintenance");
      assert.equal(await probeMaintenance(n.address, { timeoutMs: 2000 }), false);
    }
  });

  it("talks mTLS afterwards: version tag from the install image, disks, etcd before bootstrap", async () => {
    for (const n of nodes) {
      const v = await mtls(n).version();
      assert.equal(v.tag, "v1.11.5");
      assert.equal(v.platform?.name, "nocloud");
      assert.equal((await mtls(n).disks())[0]?.systemDisk, true);
    }
    // Before a bootstrap no etcd runs: Talos finds no control-plane endpoint
    // (Talos 1.11.5 internal/pkg/etcd/endpoints.go; a plain error, so UNKNOWN).
    await assert.rejects(
      mtls(nodes[0]!).etcdMemberList(),
      (e: unknown) =>
        e instanceof TalosApiError && e.codeName === "UNKNOWN" && /no controlplane endpoints/.test(e.details),
    );
  });

  it("bootstraps once; the second bootstrap reports alreadyBootstrapped instead of failing", async () => {
    const c = mtls(nodes[0]!);
    assert.deepEqual(await c.bootstrap(), { alreadyBootstrapped: false });
    assert.deepEqual(await c.bootstrap(), { alreadyBootstrapped: true });
    const calls = nodes[0]!.callsOf("Bootstrap");
    assert.deepEqual(
      calls.map((x) => x.code),
      [0, 6],
    );
    const members = await c.etcdMemberList();
    assert.equal(members.length, 1);
    assert.equal(members[0]?.hostname, "cp-1");
    assert.match(members[0]!.id, /^\d+$/);
  });

  it("bootstrap on a worker fails with FAILED_PRECONDITION naming the node", async () => {
    await assert.rejects(mtls(nodes[2]!).bootstrap(), (e: unknown) => {
      assert.ok(e instanceof TalosApiError);
      assert.equal(e.codeName, "FAILED_PRECONDITION");
      assert.equal(e.attempts, 1);
      assert.ok(e.message.includes(nodes[2]!.address));
      return true;
    });
  });

  it("rejects a client certificate from another CA at the TLS layer (mutual TLS is real)", async () => {
    const otherCa = await newCa("talos");
    const stranger = await issueCert(otherCa, { subject: "O=os:admin", usage: "client" });
    const before = nodes[0]!.calls.length;
    const c = new TalosClient({
      endpoint: nodes[0]!.address,
      connection: { mode: "mtls", ca: pki.osCa.crt, cert: stranger.crt, key: stranger.key },
      timeoutMs: 2000,
      retry: { attempts: 2, baseDelayMs: 10, jitter: 0 },
    });
    clients.push(c);
    await assert.rejects(c.version(), (e: unknown) => {
      assert.ok(e instanceof TalosApiError);
      assert.equal(e.codeName, "UNAVAILABLE");
      assert.equal(e.attempts, 2);
      return true;
    });
    // Also with no client certificate at all (maintenance-style connection to a normal node).
    await assert.rejects(maintenance(nodes[0]!).version(), TalosApiError);
    assert.equal(nodes[0]!.calls.length, before, "no call may reach the handlers");
  });

  it("verifies the server certificate name against the node address", async () => {
    const n = await FakeTalosNode.start({
      config: machineConfig({ pki }),
      omitIpSan: true,
      hostname: "cp-x",
    });
    nodes.push(n);
    const bad = mtls(n, { retry: { attempts: 1 } });
    await assert.rejects(bad.version(), (e: unknown) => {
      assert.ok(e instanceof TalosApiError);
      assert.equal(e.codeName, "UNAVAILABLE");
      assert.match(e.details, /altnames|does not match/i);
      return true;
    });
    // The same cert is fine when the caller names the host it carries.
    const named = new TalosClient({
      endpoint: n.address,
      connection: {
        mode: "mtls",
        ca: pki.osCa.crt,
        cert: pki.admin.crt,
        key: pki.admin.key,
        serverName: "cp-x",
      },
      retry: { attempts: 1 },
    });
    clients.push(named);
    assert.equal((await named.version()).tag, "v1.11.5");
  });

  it("targets another node with the `node` metadata key, not when node equals the endpoint", async () => {
    const via = mtls(nodes[0]!, { node: "10.0.0.12" });
    await via.version();
    assert.equal(nodes[0]!.calls.at(-1)?.nodeMeta, "10.0.0.12");
    const same = mtls(nodes[0]!, { node: "127.0.0.1" });
    await same.version();
    assert.equal(nodes[0]!.calls.at(-1)?.nodeMeta, undefined);
  });

  it("turns reply metadata.error into a TalosNodeError naming the node", async () => {
    nodes[1]!.nodeErrorNext("Version", "connection refused to 10.0.0.12:50000", 14);
    await assert.rejects(mtls(nodes[1]!).version(), (e: unknown) => {
      assert.ok(e instanceof TalosNodeError);
      assert.equal(e.node, "cp-2");
      assert.equal(e.code, 14);
      assert.match(e.message, /Talos version on node cp-2 failed: connection refused/);
      return true;
    });
    // Not retried: one call only.
    assert.equal(nodes[1]!.callsOf("Version").at(-1)?.code, 0);
    nodes[1]!.nodeErrorNext("Bootstrap", "etcd data directory is not empty", 6);
    assert.deepEqual(await mtls(nodes[1]!).bootstrap(), { alreadyBootstrapped: true });
  });

  it("fetches the kubeconfig (streamed tar.gz) from a control plane, not from a worker", async () => {
    const kc = await mtls(nodes[0]!).kubeconfig();
    assert.match(kc, /current-context: admin@homelab/);
    assert.match(kc, /server: https:\/\/10\.0\.0\.10:6443/);
    // A per-node error inside the stream is the node's answer: reported, not retried.
    const before = nodes[0]!.callsOf("Kubeconfig").length;
    nodes[0]!.nodeErrorNext("Kubeconfig", "kubeconfig generation failed", 14);
    await assert.rejects(
      mtls(nodes[0]!).kubeconfig(),
      /Talos kubeconfig on node cp-1 failed: kubeconfig generation/,
    );
    assert.equal(nodes[0]!.callsOf("Kubeconfig").length, before + 1);
    // Talos' checkControlplane (v1alpha1_server.go): Unimplemented on a worker.
    await assert.rejects(
      mtls(nodes[2]!).kubeconfig(),
      (e: unknown) =>
        e instanceof TalosApiError &&
        e.codeName === "UNIMPLEMENTED" &&
        /kubeconfig is only available on control plane nodes/.test(e.details),
    );
  });

  it("removes an etcd member by id and leaves etcd", async () => {
    const n = nodes[0]!;
    const id = n.addEtcdMember("cp-2", "10.0.0.12");
    const c = mtls(n);
    assert.equal((await c.etcdMemberList()).length, 2);
    await c.etcdRemoveMember(id);
    assert.deepEqual(
      (await c.etcdMemberList()).map((m) => m.hostname),
      ["cp-1"],
    );
    await assert.rejects(
      c.etcdRemoveMember(id),
      (e: unknown) => e instanceof TalosApiError && e.codeName === "NOT_FOUND",
    );
    // etcd refuses to remove its last voting member (mayRemoveMember, strict reconfig check).
    await assert.rejects(
      c.etcdLeaveCluster(),
      (e: unknown) =>
        e instanceof TalosApiError &&
        e.codeName === "UNKNOWN" &&
        /failed to leave cluster: .*not enough started members/.test(e.details),
    );
    assert.deepEqual(
      (await c.etcdMemberList()).map((m) => m.hostname),
      ["cp-1"],
    );
  });

  it("applies a config change in normal mode (auto → no reboot) and a dry run", async () => {
    const c = mtls(nodes[1]!);
    const cfg = machineConfig({ pki, certSans: ["cp.example"] });
    const dry = await c.applyConfiguration({ data: cfg, mode: "auto", dryRun: true });
    assert.equal(dry.mode, "no_reboot");
    assert.ok(!nodes[1]!.appliedConfig?.certSans.includes("cp.example"));
    const res = await c.applyConfiguration({ data: cfg, mode: "auto" });
    assert.equal(res.mode, "no_reboot");
    assert.ok(nodes[1]!.appliedConfig?.certSans.includes("cp.example"));
  });

  it("reboots and upgrades: the client rides through the restart with its retries", async () => {
    const n = nodes[1]!;
    const c = mtls(n);
    const boots = n.boots;
    await c.reboot();
    await n.waitForMode("rebooting");
    // Called while the node is down: UNAVAILABLE is retried until it is back.
    assert.equal((await c.version()).tag, "v1.11.5");
    assert.equal(n.boots, boots + 1);
    const up = await c.upgrade({ image: "factory.talos.dev/nocloud-installer/abc:v1.12.0" });
    assert.match(up.ack, /Upgrade request received/);
    await n.waitForMode("rebooting");
    await n.waitForMode("normal");
    assert.equal((await c.version()).tag, "v1.12.0");
  });

  it("resets a node back into maintenance mode", async () => {
    const n = nodes[2]!;
    await mtls(n).reset({ graceful: false, reboot: true });
    await n.waitForMode("maintenance");
    assert.equal(n.appliedConfig, undefined);
    assert.equal(await probeMaintenance(n.address, { timeoutMs: 2000 }), true);
    const req = n.callsOf("Reset")[0]?.request;
    assert.equal(req?.graceful, false); // decoded with defaults: absent on the wire
    assert.equal(req?.reboot, true);
  });
});
