/**
 * The fake Talos node itself: it is built from the project's checked `.proto` (it serves exactly
 * the methods declared there), and methods it does not register answer UNIMPLEMENTED like a real
 * node — including methods that exist upstream but not in our subset (e.g. Shutdown).
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as tls from "node:tls";
import * as grpc from "@grpc/grpc-js";
import * as protobuf from "protobufjs";
import * as descriptor from "protobufjs/ext/descriptor";
import { normalizeKeyPem } from "../../components/talos/api/client";
import { loadTalosDefinition } from "../../components/talos/api/proto";
import { machineConfig, newTestPki, type TestPki } from "../fakes/machine-config";
import { FakeTalosNode } from "../fakes/talos-node";
import { hasShared, sharedPath } from "../helpers/shared";

const identity = (b: Buffer) => b;

/** Calls `path` with an empty request through grpc-js' generic client; resolves with the status. */
function rawCall(client: grpc.Client, path: string): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      identity,
      identity,
      Buffer.alloc(0),
      new grpc.Metadata(),
      { deadline: Date.now() + 3000 },
      (err) => resolve(err ? { code: err.code, details: err.details } : { code: 0, details: "" }),
    );
  });
}

function projectMethodPaths(): { path: string; responseStream: boolean }[] {
  const def = loadTalosDefinition();
  const out: { path: string; responseStream: boolean }[] = [];
  for (const svc of ["machine.MachineService", "storage.StorageService"]) {
    const s = def[svc];
    assert.ok(s && !("format" in s), svc);
    for (const m of Object.values(s)) out.push({ path: m.path, responseStream: m.responseStream });
  }
  return out;
}

describe("talos-api: the fake node", function () {
  this.timeout(20_000);
  let pki: TestPki;
  let normal: FakeTalosNode;
  let maint: FakeTalosNode;
  let mtlsClient: grpc.Client;
  let insecureClient: grpc.Client;

  before(async function () {
    this.timeout(120_000); // the secrets bundle's RSA-4096 key takes a while on a loaded machine
    pki = await newTestPki();
    normal = await FakeTalosNode.start({ config: machineConfig({ pki }), hostname: "cp-f" });
    maint = await FakeTalosNode.start({ hostname: "m-f" });
    mtlsClient = new grpc.Client(
      normal.address,
      grpc.credentials.createSsl(
        Buffer.from(pki.osCa.crt),
        Buffer.from(normalizeKeyPem(pki.admin.key)),
        Buffer.from(pki.admin.crt),
      ),
    );
    insecureClient = new grpc.Client(
      maint.address,
      grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false }),
    );
  });

  after(async () => {
    mtlsClient.close();
    insecureClient.close();
    await normal.close();
    await maint.close();
  });

  it("serves every method of the project's .proto in normal mode (none UNIMPLEMENTED)", async () => {
    const paths = projectMethodPaths();
    assert.equal(paths.length, 11);
    // A throwaway node: Reboot restarts it and Reset halts it, so those two go last.
    const node = await FakeTalosNode.start({ config: machineConfig({ pki }), rebootDelayMs: 10 });
    const client = new grpc.Client(
      node.address,
      grpc.credentials.createSsl(
        Buffer.from(pki.osCa.crt),
        Buffer.from(normalizeKeyPem(pki.admin.key)),
        Buffer.from(pki.admin.crt),
      ),
    );
    try {
      const rank = (p: string) => (p.endsWith("/Reboot") ? 1 : p.endsWith("/Reset") ? 2 : 0);
      for (const { path, responseStream } of [...paths].sort((a, b) => rank(a.path) - rank(b.path))) {
        if (responseStream) continue; // Kubeconfig: exercised by the client tests
        await node.waitForMode("normal");
        const r = await rawCall(client, path);
        assert.notEqual(r.code, grpc.status.UNIMPLEMENTED, `${path}: ${r.details}`);
        if (path.endsWith("/Reboot")) await node.waitForMode("rebooting");
      }
      const served = new Set(node.calls.map((c) => c.path));
      for (const { path, responseStream } of paths) if (!responseStream) assert.ok(served.has(path), path);
      await node.waitForMode("halted");
    } finally {
      client.close();
      await node.close();
    }
  });

  it("answers UNIMPLEMENTED for a method that exists upstream but not in our proto (Shutdown)", async () => {
    if (hasShared("reference", "talos", "proto", "talos-api-1.11.binpb")) {
      const set = descriptor.FileDescriptorSet.decode(
        fs.readFileSync(sharedPath("reference", "talos", "proto", "talos-api-1.11.binpb")),
      );
      const root = (protobuf.Root as unknown as { fromDescriptor(s: unknown): protobuf.Root }).fromDescriptor(
        set,
      );
      assert.ok(root.lookupService("machine.MachineService").methods.Shutdown, "Shutdown exists upstream");
    }
    const before = normal.calls.length;
    const r = await rawCall(mtlsClient, "/machine.MachineService/Shutdown");
    assert.equal(r.code, grpc.status.UNIMPLEMENTED);
    assert.match(r.details, /does not implement the method \/machine\.MachineService\/Shutdown/);
    const cosi = await rawCall(mtlsClient, "/cosi.resource.State/List");
    assert.equal(cosi.code, grpc.status.UNIMPLEMENTED);
    assert.equal(normal.calls.length, before, "unknown methods never reach a handler");
  });

  it("in maintenance mode serves only ApplyConfiguration, Version and Disks; the rest is UNIMPLEMENTED", async () => {
    for (const m of ["Bootstrap", "Reset", "EtcdMemberList", "Shutdown"]) {
      const r = await rawCall(insecureClient, `/machine.MachineService/${m}`);
      assert.equal(r.code, grpc.status.UNIMPLEMENTED, m);
    }
    // Version asks for os:admin, which only SideroLink peers get in maintenance mode
    // (Talos 1.11.5 internal/app/maintenance/server.go assertAdminRole).
    const version = await rawCall(insecureClient, "/machine.MachineService/Version");
    assert.equal(version.code, grpc.status.UNIMPLEMENTED);
    assert.equal((await rawCall(insecureClient, "/storage.StorageService/Disks")).code, 0);
    // An empty ApplyConfiguration request is a config that does not load, not a missing method:
    // in maintenance mode a plain error (UNKNOWN "failed to parse config").
    const apply = await rawCall(insecureClient, "/machine.MachineService/ApplyConfiguration");
    assert.equal(apply.code, grpc.status.UNKNOWN);
    assert.match(apply.details, /^failed to parse config/);
    assert.equal(maint.mode, "maintenance");
  });

  it("speaks TLS 1.3 with Ed25519 certificates on both sides", async () => {
    const sock = tls.connect({
      host: "127.0.0.1",
      port: normal.port,
      ca: pki.osCa.crt,
      cert: pki.admin.crt,
      key: normalizeKeyPem(pki.admin.key),
      ALPNProtocols: ["h2"],
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity("127.0.0.1", cert),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once("secureConnect", () => resolve());
        sock.once("error", reject);
      });
      assert.equal(sock.authorized, true, String(sock.authorizationError));
      assert.equal(sock.getProtocol(), "TLSv1.3");
      assert.equal(sock.alpnProtocol, "h2");
      const peer = new crypto.X509Certificate(sock.getPeerX509Certificate()?.raw ?? Buffer.alloc(0));
      assert.equal(peer.publicKey.asymmetricKeyType, "ed25519");
      assert.ok(peer.checkIP("127.0.0.1"));
      assert.ok(peer.verify(new crypto.X509Certificate(pki.osCa.crt).publicKey));
    } finally {
      sock.destroy();
    }
  });

  it("records calls in order with timestamps", () => {
    const ts = normal.calls.map((c) => c.at);
    assert.deepEqual(
      ts,
      [...ts].sort((a, b) => a - b),
    );
    assert.ok(normal.calls.every((c) => c.mode === "normal" && Buffer.isBuffer(c.raw)));
  });
});
