/**
 * Fault injection against the Talos API client: a purpose-built apid (fakes/scripted-talos.ts) on
 * loopback answers with broken or hostile replies: a snapshot stream that ends early, fails
 * midway, carries a frame of another message type or a database etcdutl would refuse; kubeconfig
 * archives that are truncated, hold a `..` path, a symlink, several files, a gzip bomb or never
 * stop; unary replies without entries or with undecodable bytes; server certificates for another
 * address, expired, or from another CA. Each must fail fast, naming the node, never pass for a
 * success, never leave a file that looks like a backup, and never print key material.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as grpc from "@grpc/grpc-js";
import { TalosApiError, TalosClient, TalosError } from "../../components/talos/api/client";
import { MAX_KUBECONFIG_BYTES } from "../../components/talos/api/kubeconfig-archive";
import {
  SnapshotFileWriter,
  SnapshotIntegrityError,
} from "../../components/talos/resources/logic/snapshot-file";
import { issueCert, newCa, type PemPair } from "../fakes/certs";
import { newTestPki, type TestPki } from "../fakes/machine-config";
import {
  encodeReply,
  type ScriptedStream,
  type ScriptedTalos,
  type ScriptedTalosOptions,
  startScriptedTalos,
} from "../fakes/scripted-talos";
import { tarGzOneFile } from "../fakes/talos-node";

/** A snapshot as etcd streams it: a page-aligned database, then its SHA-256. */
function etcdSnapshot(dbBytes: number): Buffer {
  const db = crypto.randomBytes(dbBytes);
  return Buffer.concat([db, crypto.createHash("sha256").update(db).digest()]);
}

const dataFrame = (bytes: Buffer) => encodeReply("EtcdSnapshot", { bytes });

/** A ustar header + body (what Go's archive/tar writes), optionally damaged. */
function tarEntry(name: string, body: Buffer, o: { type?: string; badChecksum?: boolean } = {}): Buffer {
  const h = Buffer.alloc(512, 0);
  const put = (s: string, off: number, len: number) => h.write(s, off, len, "ascii");
  put(name, 0, 100);
  put("0000600\0", 100, 8);
  put(`${body.length.toString(8).padStart(11, "0")}\0`, 124, 12);
  put(o.type ?? "0", 156, 1);
  if (o.type === "2") put("/etc/shadow", 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put("        ", 148, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${(sum + (o.badChecksum ? 1 : 0)).toString(8).padStart(6, "0")}\0 `, 148, 8);
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512, 0)]);
}
const END = Buffer.alloc(1024, 0);
const KUBECONFIG = Buffer.from("apiVersion: v1\nkind: Config\nclusters: []\n");

describe("talos-api: faults from a broken or hostile peer", function () {
  this.timeout(30_000);
  let pki: TestPki;
  let serverCert: PemPair;
  let dir: string;
  const servers: ScriptedTalos[] = [];
  const clients: TalosClient[] = [];

  before(async function () {
    this.timeout(120_000);
    pki = await newTestPki();
    serverCert = await issueCert(pki.osCa, { subject: "CN=cp-1", usage: "server", ips: ["127.0.0.1"] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-faults-"));
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function serve(o: Partial<ScriptedTalosOptions>): Promise<ScriptedTalos> {
    const s = await startScriptedTalos({ server: serverCert, clientCa: pki.osCa.crt, ...o });
    servers.push(s);
    return s;
  }

  function client(address: string, timeoutMs = 2000): TalosClient {
    const c = new TalosClient({
      endpoint: address,
      connection: { mode: "mtls", ca: pki.osCa.crt, cert: pki.admin.crt, key: pki.admin.key },
      timeoutMs,
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 50, jitter: 0 },
    });
    clients.push(c);
    return c;
  }

  /** No key material of the admin client in a message. */
  function assertNoSecret(text: string): void {
    assert.doesNotMatch(text, /PRIVATE KEY/);
    const keyBody = pki.admin.key.split("\n").filter((l) => l && !l.startsWith("-----"))[0] ?? "";
    assert.ok(keyBody.length > 20 && !text.includes(keyBody), "client key material in the message");
  }

  // ---- etcd snapshot ----

  /** Streams through the client into a real snapshot file; resolves with the error or the file. */
  async function snapshotInto(
    stream: ScriptedStream,
    maxBytes?: number,
  ): Promise<{ error?: unknown; files: string[] }> {
    const s = await serve({ streams: { EtcdSnapshot: stream } });
    const sub = fs.mkdtempSync(path.join(dir, "snap-"));
    const writer = await SnapshotFileWriter.open(path.join(sub, "homelab-etcd.db"), { maxBytes });
    let error: unknown;
    try {
      await client(s.address).etcdSnapshot(writer);
      await writer.finish();
    } catch (e) {
      error = e;
      await writer.abort();
    }
    return { error, files: fs.readdirSync(sub) };
  }

  it("a snapshot that verifies is written (the control case for the faults below)", async () => {
    const snap = etcdSnapshot(8 * 4096);
    const r = await snapshotInto((call) => {
      call.write(dataFrame(snap.subarray(0, 10_000)));
      call.write(dataFrame(snap.subarray(10_000)));
      call.end();
    });
    assert.equal(r.error, undefined);
    assert.deepEqual(r.files, ["homelab-etcd.db"]);
  });

  for (const cut of [0, 512, 4096 * 3, 8 * 4096, 8 * 4096 + 31]) {
    it(`a snapshot stream that ends cleanly after ${cut} bytes is no backup`, async () => {
      const snap = etcdSnapshot(8 * 4096);
      const r = await snapshotInto((call) => {
        if (cut > 0) call.write(dataFrame(snap.subarray(0, cut)));
        call.end();
      });
      assert.ok(r.error instanceof SnapshotIntegrityError, String(r.error));
      assert.deepEqual(r.files, [], "no file left behind");
    });
  }

  it("a database etcdutl would call 'missing hash' (size % 512 != 32) is refused even with a matching hash", async () => {
    // etcdutl v3.6 snapshot/v3_snapshot.go hasChecksum: n % 512 == sha256.Size, else refused.
    const snap = etcdSnapshot(8 * 4096 + 100);
    const r = await snapshotInto((call) => {
      call.write(dataFrame(snap));
      call.end();
    });
    assert.ok(r.error instanceof SnapshotIntegrityError, String(r.error));
    assert.match(String(r.error), /size % 512 must be 32/);
    assert.deepEqual(r.files, []);
  });

  it("a stream failing midway with INTERNAL fails at once naming the node, not retried", async () => {
    const snap = etcdSnapshot(8 * 4096);
    let calls = 0;
    const r = await snapshotInto((call) => {
      calls++;
      call.write(dataFrame(snap.subarray(0, 4096)));
      setTimeout(
        () => call.emit("error", { code: grpc.status.INTERNAL, details: "etcd: disk I/O error" }),
        20,
      );
    });
    assert.ok(r.error instanceof TalosApiError, String(r.error));
    assert.equal(r.error.codeName, "INTERNAL");
    assert.match(
      r.error.message,
      /^Talos etcdSnapshot on node 127\.0\.0\.1:\d+ failed: INTERNAL: etcd: disk I\/O error$/,
    );
    assert.equal(calls, 1);
    assert.deepEqual(r.files, []);
  });

  it("a snapshot stream that never stops is cut at the size bound and cancelled, leaving no file", async () => {
    const chunk = crypto.randomBytes(64 * 1024);
    let cancelled = false;
    const r = await snapshotInto((call) => {
      call.on("cancelled", () => {
        cancelled = true;
      });
      const pump = () => {
        while (!cancelled && call.write(dataFrame(chunk))) {}
        if (!cancelled) call.once("drain", pump);
      };
      pump();
    }, 1024 * 1024);
    assert.ok(r.error instanceof TalosError, String(r.error));
    assert.match(
      r.error.message,
      /^Talos etcdSnapshot on node 127\.0\.0\.1:\d+ failed: snapshot stream exceeds 1048576 bytes/,
    );
    assert.deepEqual(r.files, []);
    await new Promise((res) => setTimeout(res, 100));
    assert.ok(cancelled, "the client cancelled the stream");
  });

  it("a single frame beyond the 64 MiB message bound fails at once (RESOURCE_EXHAUSTED), not retried", async () => {
    let calls = 0;
    const r = await snapshotInto((call) => {
      calls++;
      call.write(dataFrame(Buffer.alloc(65 * 1024 * 1024)));
      call.end();
    });
    assert.ok(r.error instanceof TalosApiError, String(r.error));
    assert.equal(r.error.codeName, "RESOURCE_EXHAUSTED");
    assert.match(
      r.error.message,
      /^Talos etcdSnapshot on node 127\.0\.0\.1:\d+ failed: RESOURCE_EXHAUSTED: /,
    );
    assert.equal(calls, 1);
    assert.deepEqual(r.files, []);
  });

  it("metadata.error midway through the snapshot stream (apid's proxied failure) fails naming that node", async () => {
    const snap = etcdSnapshot(8 * 4096);
    const r = await snapshotInto((call) => {
      call.write(dataFrame(snap.subarray(0, 4096)));
      // apid one-to-many (director.go BuildError): the node's failure as a last message.
      call.write(
        encodeReply("EtcdSnapshot", {
          metadata: {
            hostname: "cp-9",
            error: "rpc error: code = Unknown desc = etcd stopped",
            status: { code: 2 },
          },
        }),
      );
      call.end();
    });
    assert.ok(r.error instanceof TalosError, String(r.error));
    assert.equal(
      r.error.message,
      "Talos etcdSnapshot on node cp-9 failed: rpc error: code = Unknown desc = etcd stopped",
    );
    assert.deepEqual(r.files, []);
  });

  it("a frame of another message type in the snapshot stream never ends as a backup", async () => {
    const snap = etcdSnapshot(8 * 4096);
    for (const alien of [
      // A VersionResponse where a common.Data was due (decodes, but as garbage fields).
      encodeReply("Version", { messages: [{ version: { tag: "v1.11.5" } }] }),
      // Bytes that are no protobuf at all (field 15, wire type 7 is invalid).
      Buffer.from([0x7f, 0xff, 0xff, 0xff]),
    ]) {
      const r = await snapshotInto((call) => {
        call.write(dataFrame(snap.subarray(0, 4096)));
        call.write(alien);
        call.write(dataFrame(snap.subarray(4096)));
        call.end();
      });
      assert.ok(r.error instanceof Error, "refused");
      assert.deepEqual(r.files, []);
    }
  });

  // ---- kubeconfig archive ----

  async function kubeconfigFrom(payloads: Buffer[], o: { stall?: boolean } = {}) {
    const s = await serve({
      streams: {
        Kubeconfig: (call) => {
          for (const p of payloads) call.write(encodeReply("Kubeconfig", { bytes: p }));
          if (!o.stall) call.end();
        },
      },
    });
    const started = Date.now();
    try {
      const text = await client(s.address, 1500).kubeconfig();
      return { text, calls: s.calls.length, ms: Date.now() - started };
    } catch (error) {
      return { error, calls: s.calls.length, ms: Date.now() - started };
    }
  }

  it("the archive Talos sends is accepted (control case)", async () => {
    const r = await kubeconfigFrom([tarGzOneFile("kubeconfig", KUBECONFIG)]);
    assert.equal(r.text, KUBECONFIG.toString());
  });

  const badArchives: [string, Buffer, RegExp][] = [
    [
      "a truncated gzip stream",
      tarGzOneFile("kubeconfig", KUBECONFIG).subarray(0, 40),
      /not a complete gzip stream/,
    ],
    [
      "a tar without its end-of-archive blocks",
      zlib.gzipSync(tarEntry("kubeconfig", KUBECONFIG)),
      /truncated tar archive \(no end-of-archive marker\)/,
    ],
    [
      "a tar whose body is cut short",
      zlib.gzipSync(tarEntry("kubeconfig", KUBECONFIG).subarray(0, 530)),
      /truncated tar archive/,
    ],
    [
      "a header with a wrong checksum",
      zlib.gzipSync(Buffer.concat([tarEntry("kubeconfig", KUBECONFIG, { badChecksum: true }), END])),
      /checksum mismatch/,
    ],
    [
      "a path with ..",
      zlib.gzipSync(Buffer.concat([tarEntry("../../kubeconfig", KUBECONFIG), END])),
      /no file "kubeconfig" \(found: \.\.\/\.\.\/kubeconfig/,
    ],
    [
      "a symlink named kubeconfig",
      zlib.gzipSync(Buffer.concat([tarEntry("kubeconfig", Buffer.alloc(0), { type: "2" }), END])),
      /not a regular file \(type 2\)/,
    ],
    [
      "several files",
      zlib.gzipSync(
        Buffer.concat([tarEntry("kubeconfig", KUBECONFIG), tarEntry("extra", Buffer.from("x")), END]),
      ),
      /must hold only the file "kubeconfig", found: kubeconfig \(type 0\), extra \(type 0\)/,
    ],
    [
      "the file twice (a later copy would win)",
      zlib.gzipSync(
        Buffer.concat([tarEntry("kubeconfig", KUBECONFIG), tarEntry("kubeconfig", Buffer.from("evil")), END]),
      ),
      /must hold only the file "kubeconfig"/,
    ],
    [
      "a gzip bomb (64 MiB of zeros)",
      zlib.gzipSync(Buffer.concat([tarEntry("kubeconfig", Buffer.alloc(64 * 1024 * 1024)), END])),
      /unpacks to more than 1048576 bytes/,
    ],
  ];
  for (const [what, payload, why] of badArchives) {
    it(`a kubeconfig archive with ${what} is refused, naming the node, not retried`, async () => {
      const r = await kubeconfigFrom([payload]);
      assert.ok(r.error instanceof TalosError, String(r.error));
      assert.match(r.error.message, /^Talos kubeconfig on node 127\.0\.0\.1:\d+: bad archive: /);
      assert.match(r.error.message, why);
      assert.equal(r.calls, 1);
    });
  }

  it("a kubeconfig stream that never stops is cut at the size bound, before its deadline", async () => {
    const junk = crypto.randomBytes(256 * 1024);
    const r = await kubeconfigFrom(
      Array.from({ length: 8 }, () => junk),
      { stall: true },
    );
    assert.ok(r.error instanceof TalosError, String(r.error));
    assert.match(r.error.message, new RegExp(`archive exceeds ${MAX_KUBECONFIG_BYTES} bytes`));
    assert.ok(r.ms < 1500, `${r.ms} ms`);
    assert.equal(r.calls, 1);
  });

  it("a kubeconfig stream that stalls ends at its deadline (bounded retries)", async () => {
    const r = await kubeconfigFrom([tarGzOneFile("kubeconfig", KUBECONFIG).subarray(0, 20)], { stall: true });
    assert.ok(r.error instanceof TalosApiError && r.error.codeName === "DEADLINE_EXCEEDED", String(r.error));
    assert.equal(r.calls, 3);
  });

  // ---- unary replies ----

  for (const [op, method] of [
    ["bootstrap", "Bootstrap"],
    ["reboot", "Reboot"],
    ["reset", "Reset"],
    ["etcdLeaveCluster", "EtcdLeaveCluster"],
  ] as const) {
    it(`an empty ${method} reply (no message for the node) is not a success`, async () => {
      const s = await serve({
        unary: { [method]: (_call, reply) => reply(null, encodeReply(method, { messages: [] })) },
      });
      const c = client(s.address);
      await assert.rejects(
        () => (c[op] as () => Promise<unknown>).call(c),
        (e: unknown) =>
          e instanceof TalosError &&
          new RegExp(`^Talos ${op} on node 127\\.0\\.0\\.1:\\d+: empty reply$`).test(e.message),
      );
      assert.equal(s.calls.length, 1);
    });
  }

  it("a unary reply of undecodable bytes fails, naming the node, and is not retried", async () => {
    const s = await serve({
      unary: { Reset: (_call, reply) => reply(null, Buffer.from([0x0a, 0xff, 0xff])) },
    });
    await assert.rejects(
      () => client(s.address).reset(),
      (e: unknown) =>
        e instanceof TalosApiError && /node 127\.0\.0\.1:\d+/.test(e.message) && e.codeName !== "OK",
    );
    assert.equal(s.calls.length, 1);
  });

  // ---- TLS ----

  const tlsCases: [string, () => Promise<PemPair>][] = [
    [
      "for another address",
      () => issueCert(pki.osCa, { subject: "CN=cp-2", usage: "server", ips: ["127.0.0.2"] }),
    ],
    [
      "that has expired",
      () => issueCert(pki.osCa, { subject: "CN=cp-1", usage: "server", ips: ["127.0.0.1"], validDays: -1 }),
    ],
    [
      "from another CA (self-signed chain)",
      async () =>
        issueCert(await newCa("impostor"), { subject: "CN=cp-1", usage: "server", ips: ["127.0.0.1"] }),
    ],
  ];
  for (const [what, cert] of tlsCases) {
    it(`a server certificate ${what} is refused before any call reaches it, without key material in the error`, async () => {
      const s = await serve({
        server: await cert(),
        unary: { Reset: (_c, reply) => reply(null, encodeReply("Reset", { messages: [{}] })) },
      });
      const started = Date.now();
      await assert.rejects(
        () => client(s.address).reset(),
        (e: unknown) => {
          assert.ok(e instanceof TalosApiError, String(e));
          assert.match(e.message, /^Talos reset on node 127\.0\.0\.1:\d+ failed: UNAVAILABLE: /);
          assertNoSecret(e.message);
          return true;
        },
      );
      assert.deepEqual(s.calls, [], "the reset never reached the impostor");
      assert.ok(Date.now() - started < 3000, "bounded");
    });
  }
});
