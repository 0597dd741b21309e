/**
 * The fake Talos node's event stream and file reads checked against the facts they come from
 * (each block names the Talos 1.11.5 source): the test-only proto against the upstream descriptor
 * set, xid IDs, the watch options and their refusals, the machine stage derived from the sequences,
 * Read's answers, and apid's one-to-many wrapping on the wire. The talosctl conformance suite
 * (tests/talos-conformance/talosctl-observe.test.ts) drives the same end to end with the real client.
 */
import * as assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import type { PackageDefinition } from "@grpc/proto-loader";
import { loadTalosDefinition } from "../../components/talos/api/proto";
import { standardKeyPem } from "../fakes/certs";
import { machineConfig, newTestPki, type TestPki } from "../fakes/machine-config";
import {
  decodePayload,
  EventLog,
  type EventPayload,
  encodePayload,
  newXid,
  parseXid,
  payloadRoot,
  type RuntimeEvent,
} from "../fakes/talos/events";
import { GrpcFailure } from "../fakes/talos/failure";
import { READ_CHUNK, readFile } from "../fakes/talos/files";
import { loadObserveDefinition } from "../fakes/talos/observe";
import { BOOT, publishBoot, REBOOT, resetPlan, runSequence, UPGRADE } from "../fakes/talos/sequences";
import { FakeTalosNode } from "../fakes/talos-node";
import { compareToUpstream, loadUpstream } from "../helpers/proto-compat";
import { requireShared } from "../helpers/shared";

const task = (name: string): EventPayload => ({ type: "TaskEvent", task: name, action: "START" });
const stages = (events: readonly RuntimeEvent[]) =>
  events.flatMap((e) => (e.payload?.type === "MachineStatusEvent" ? [e.payload.stage] : []));

function watched(log: EventLog, req: Record<string, unknown>): { got: RuntimeEvent[]; ended: () => boolean } {
  const got: RuntimeEvent[] = [];
  let ended = false;
  log.watch(
    req,
    (e) => got.push(e),
    () => {
      ended = true;
    },
  );
  return { got, ended: () => ended };
}

describe("the fake Talos node's events and reads (facts from Talos 1.11.5 sources)", function () {
  this.timeout(60_000);

  it("observe.proto declares Events, Read and the event payloads as Talos 1.11 does (api/machine/machine.proto)", function () {
    const file = requireShared(this, "reference", "talos", "proto", "talos-api-1.11.binpb");
    const { problems, checked } = compareToUpstream(payloadRoot(), loadUpstream(file));
    assert.deepEqual(problems, []);
    assert.ok(checked >= 20, `checked ${checked}`);
  });

  it("event IDs are xids: 20 base32hex characters, ordered, refused otherwise as rs/xid refuses them", () => {
    const ids = Array.from({ length: 500 }, () => newXid());
    for (const id of ids) {
      assert.match(id, /^[0-9a-v]{20}$/);
      assert.ok(parseXid(id), id);
    }
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(parseXid(ids[0]!)?.readUInt32BE(0), Math.floor(Date.now() / 1000));
    for (const bad of ["not-an-xid", ids[0]!.slice(1), ids[0]!.toUpperCase(), `${ids[0]!.slice(0, 19)}v`]) {
      assert.equal(parseXid(bad), undefined, bad);
    }
  });

  it("Events watch options (runtime/v1alpha1/v1alpha1_events.go, runtime/events.go, v1alpha1_server.go)", () => {
    const log = new EventLog();
    for (const [i, actor] of ["a", "b", "a", "", "b"].entries()) log.publish(task(`t${i}`), actor);
    const ids = log.published.map((e) => e.id);
    const names = (es: RuntimeEvent[]) =>
      es.map((e) => (e.payload?.type === "TaskEvent" ? e.payload.task : "?"));
    assert.deepEqual(names(watched(log, {}).got), [], "no history by default");
    assert.deepEqual(names(watched(log, { tail_events: 2 }).got), ["t3", "t4"]);
    assert.deepEqual(names(watched(log, { tail_events: -1 }).got), ["t0", "t1", "t2", "t3", "t4"]);
    assert.deepEqual(names(watched(log, { tail_id: ids[2] }).got), ["t3", "t4"]);
    assert.deepEqual(names(watched(log, { tail_seconds: 60 }).got).length, 5);
    assert.deepEqual(names(watched(log, { tail_events: -1, with_actor_id: "a" }).got), ["t0", "t2"]);
    const live = watched(log, { with_actor_id: "b" });
    log.publish(task("t5"), "a");
    log.publish(task("t6"), "b");
    assert.deepEqual(names(live.got), ["t6"]);
    assert.throws(
      () => watched(log, { tail_id: "bogus" }),
      /^Error: error parsing tail_id: xid: invalid ID$/,
    );
    assert.throws(
      () => watched(log, { tail_events: 1, tail_id: ids[0] }),
      /WithTailID can't be specified at the same time with WithTailEvents or WithTailDuration/,
    );
    assert.throws(
      () => watched(log, { tail_events: 1, tail_seconds: 5 }),
      /WithTailDuration can't be specified at the same time with WithTailEvents or WithTailID/,
    );
    log.close();
    assert.equal(live.ended(), true, "the watch ends when the node goes down");
  });

  it("the history holds 990 events (NewEvents(1000, 10))", () => {
    const log = new EventLog();
    for (let i = 0; i < 1200; i++) log.publish(task(`t${i}`));
    const all = watched(log, { tail_events: -1 }).got;
    assert.equal(all.length, 990);
    assert.deepEqual(all[0]?.payload, task("t210"));
  });

  it("machine stage from the sequences (controllers/runtime/machine_status.go watchEvents)", async () => {
    const boot = new EventLog("cp-1");
    publishBoot(boot, [{ id: "apid", running: true }]);
    assert.deepEqual(stages(boot.published), ["BOOTING", "RUNNING"]);
    assert.deepEqual(boot.published.at(-1)?.payload, {
      type: "MachineStatusEvent",
      stage: "RUNNING",
      status: {
        ready: false,
        unmet_conditions: [{ name: "nodeReady", reason: 'node "cp-1" status is not available yet' }],
      },
    });
    assert.equal(boot.ready, false);
    boot.markNodeReady();
    const last = boot.published.at(-1)!;
    assert.deepEqual(last.payload, {
      type: "MachineStatusEvent",
      stage: "RUNNING",
      status: { ready: true, unmet_conditions: [] },
    });
    assert.equal(last.actorId, "", "machine status events carry no actor");
    assert.equal(boot.ready, true);

    const reboot = new EventLog();
    assert.equal(await runSequence(reboot, REBOOT, "actor-1", ["apid"]), true, "the machine went down");
    assert.deepEqual(stages(reboot.published), ["REBOOTING"]);
    assert.deepEqual(
      reboot.published.at(-1)?.payload,
      task("reboot"),
      "nothing after the reboot task starts",
    );
    assert.ok(
      reboot.published.every(
        (e) =>
          e.actorId ===
          (e.payload?.type === "MachineStatusEvent" || e.payload?.type === "ServiceStateEvent"
            ? ""
            : "actor-1"),
      ),
    );

    const upgrade = new EventLog();
    await runSequence(upgrade, UPGRADE, "x");
    assert.deepEqual(
      stages(upgrade.published),
      ["UPGRADING", "REBOOTING"],
      "kexec of an upgrade is a reboot",
    );

    const reset = new EventLog();
    await runSequence(
      reset,
      resetPlan({ graceful: true, reboot: false, controlPlane: true, partitions: false }),
      "y",
    );
    assert.deepEqual(stages(reset.published), ["RESETTING"]);
    const tasks = reset.published.flatMap((e) => (e.payload?.type === "TaskEvent" ? [e.payload.task] : []));
    assert.deepEqual(tasks.slice(0, 3), ["cordonAndDrainNode", "cordonAndDrainNode", "removeAllPods"]);
    assert.ok(tasks.includes("leaveEtcd") && tasks.includes("stopAllServices"));
    assert.equal(tasks.at(-1), "shutdown");
    assert.equal(BOOT.phases.at(-1)?.[1][0], "startAllServices");
  });

  it("payloads are Any with type URL talos/runtime/machine.<Message> (runtime/events.go NewEvent)", () => {
    const any = encodePayload({ type: "SequenceEvent", sequence: "reboot", action: "START" });
    assert.equal(any.type_url, "talos/runtime/machine.SequenceEvent");
    // field 1 (string "reboot"), field 2 (enum START = 1), as Go's proto.Marshal writes them
    assert.deepEqual([...any.value], [0x0a, 0x06, ...Buffer.from("reboot"), 0x10, 0x01]);
    assert.deepEqual(encodePayload(undefined), { type_url: "", value: Buffer.alloc(0) }, "the hello event");
  });

  it("Read: regular files in 1 KiB chunks; missing NotFound, directories and devices refused (v1alpha1_server.go Read)", () => {
    const config = "x".repeat(2500);
    const facts = { bootId: "b", version: "v1.11.5", persistedConfig: config };
    const chunks = readFile(facts, "/system/state/config.yaml");
    assert.deepEqual(
      chunks.map((c) => c.length),
      [READ_CHUNK, READ_CHUNK, 2500 - 2 * READ_CHUNK],
    );
    const refusal = (p: string) => {
      try {
        readFile(facts, p);
      } catch (e) {
        if (e instanceof GrpcFailure) return [grpc.status[e.code], e.details];
      }
      return undefined;
    };
    assert.deepEqual(refusal("/nope"), ["NOT_FOUND", "stat /nope: no such file or directory"]);
    assert.deepEqual(refusal("/proc/sys"), ["UNKNOWN", "path must be a regular file"]);
    assert.deepEqual(refusal("/dev/null"), ["UNKNOWN", "path must be a regular file"]);
    assert.deepEqual(refusal("/etc/os-release/x"), ["UNKNOWN", "stat /etc/os-release/x: not a directory"]);
    assert.deepEqual(refusal("/system/state/config.yaml"), undefined, "present while the node has a config");
    assert.throws(
      () => readFile({ ...facts, persistedConfig: undefined }, "/system/state/config.yaml"),
      /no such file/,
    );
  });

  describe("on the wire (apid director.go / backend/apid.go)", () => {
    let pki: TestPki;
    let node: FakeTalosNode;

    type Stream = grpc.ClientReadableStream<Record<string, unknown>>;
    type Unary = (
      req: object,
      md: grpc.Metadata,
      cb: (e: grpc.ServiceError | null, r: Record<string, unknown>) => void,
    ) => void;

    function client(def: PackageDefinition): grpc.Client & Record<string, unknown> {
      const pkg = grpc.loadPackageDefinition(def) as unknown as {
        machine: { MachineService: grpc.ServiceClientConstructor };
      };
      const creds = grpc.credentials.createSsl(
        Buffer.from(pki.osCa.crt),
        Buffer.from(standardKeyPem(pki.admin.key)),
        Buffer.from(pki.admin.crt),
      );
      return new pkg.machine.MachineService(node.address, creds) as grpc.Client & Record<string, unknown>;
    }

    function collect(s: Stream): Promise<{ msgs: Record<string, unknown>[]; error?: grpc.ServiceError }> {
      const msgs: Record<string, unknown>[] = [];
      return new Promise((resolve) => {
        s.on("data", (m: Record<string, unknown>) => msgs.push(m));
        s.on("error", (error: grpc.ServiceError) => resolve({ msgs, error }));
        s.on("end", () => resolve({ msgs }));
      });
    }

    const md = (key?: "node" | "nodes") => {
      const m = new grpc.Metadata();
      if (key) m.set(key, "127.0.0.1");
      return m;
    };

    before(async () => {
      pki = await newTestPki();
      node = await FakeTalosNode.start({
        hostname: "cp-w",
        config: machineConfig({ pki, hostname: "cp-w" }),
        configJudge: "structure",
        rebootDelayMs: 50,
      });
    });
    after(async () => node?.close());

    it("Read of a missing file: a status one-to-one, an error in the message metadata one-to-many", async () => {
      const c = client(loadObserveDefinition());
      const read = c.Read as (req: object, md: grpc.Metadata) => Stream;
      const direct = await collect(read.call(c, { path: "/nope" }, md("node")));
      assert.equal(direct.error?.code, grpc.status.NOT_FOUND);
      assert.equal(direct.error?.details, "stat /nope: no such file or directory");
      const proxied = await collect(read.call(c, { path: "/nope" }, md("nodes")));
      assert.equal(proxied.error, undefined);
      assert.equal(proxied.msgs.length, 1);
      assert.deepEqual(proxied.msgs[0]?.metadata, {
        hostname: "127.0.0.1",
        error: "rpc error: code = NotFound desc = stat /nope: no such file or directory",
        status: { code: 5, message: "stat /nope: no such file or directory", details: [] },
      });
      const ok = await collect(read.call(c, { path: "/proc/sys/kernel/random/boot_id" }, md("nodes")));
      assert.equal(Buffer.from(ok.msgs[0]?.bytes as Uint8Array).toString(), `${node.bootId}\n`);
      assert.deepEqual(ok.msgs[0]?.metadata, { hostname: "127.0.0.1", error: "", status: null });
      c.close();
    });

    it("Events: hello first, the Reboot's sequence under its actor ID, the stream ends as the node goes down", async () => {
      const c = client(loadObserveDefinition());
      const events = c.Events as (req: object, md: grpc.Metadata) => Stream;
      const stream = events.call(c, {}, md("node"));
      const done = collect(stream);
      await new Promise((r) => setTimeout(r, 200));
      const talos = client(loadTalosDefinition());
      const reboot = await new Promise<Record<string, unknown>>((resolve, reject) =>
        (talos.Reboot as Unary).call(talos, {}, md(), (e, r) => (e ? reject(e) : resolve(r))),
      );
      const actor = (reboot.messages as { actor_id: string }[])[0]?.actor_id;
      const { msgs, error } = await done;
      assert.equal(error, undefined, "ends cleanly (EOF)");
      const hello = msgs[0] as { data: { type_url: string }; id: string };
      assert.equal(hello.data.type_url, "");
      assert.match(hello.id, /^[0-9a-v]{20}$/);
      const decoded = msgs.slice(1).map((m) => {
        const ev = m as { data: { type_url: string; value: Uint8Array }; actor_id: string };
        return { url: ev.data.type_url, actor: ev.actor_id, p: decodePayload(ev.data) };
      });
      assert.deepEqual(decoded[0], {
        url: "talos/runtime/machine.SequenceEvent",
        actor,
        p: { sequence: "reboot", action: "START", error: null },
      });
      assert.ok(decoded.some((d) => d.p.task === "stopAllServices" && d.actor === actor));
      await node.waitForMode("normal", 10_000);
      c.close();
      talos.close();
    });
  });
});
