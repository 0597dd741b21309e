/**
 * The request bytes the client puts on the wire, captured raw on the fake node's side, carry the
 * field numbers and wire types of api-fields.md (asserted byte by byte, tags spelled out).
 */
import * as assert from "node:assert/strict";
import { TalosClient } from "../../components/talos/api/client";
import { machineConfig, newTestPki, type TestPki } from "../fakes/machine-config";
import { FakeTalosNode } from "../fakes/talos-node";

/** Base-128 varint, as protobuf encodes unsigned integers. */
function varint(n: bigint | number): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

/** Tag byte(s) of field `num` with wire type `wt` (0 varint, 2 length-delimited). */
const tag = (num: number, wt: 0 | 2) => varint((num << 3) | wt);
const str = (num: number, s: string | Buffer) => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, "utf8");
  return [...tag(num, 2), ...varint(b.length), ...b];
};

describe("talos-api: request bytes on the wire", function () {
  this.timeout(20_000);
  let pki: TestPki;
  let node: FakeTalosNode;
  let c: TalosClient;
  let cfg: string;

  before(async function () {
    this.timeout(120_000); // the secrets bundle's RSA-4096 key takes a while on a loaded machine
    pki = await newTestPki();
    cfg = machineConfig({ pki });
    node = await FakeTalosNode.start({ config: cfg, hostname: "cp-w" });
    c = new TalosClient({
      endpoint: node.address,
      connection: { mode: "mtls", ca: pki.osCa.crt, cert: pki.admin.crt, key: pki.admin.key },
      retry: { attempts: 1 },
    });
  });

  after(async () => {
    c.close();
    await node.close();
  });

  const lastRaw = (method: string): Buffer => {
    const call = node.callsOf(method).at(-1);
    assert.ok(call, `no ${method} call recorded`);
    return call.raw;
  };

  it("ApplyConfigurationRequest: data=1 (0x0a), mode=4 (0x20), dry_run=5 (0x28), try_mode_timeout=6 (0x32)", async () => {
    await c.applyConfiguration({ data: cfg, mode: "try", dryRun: true, tryModeTimeout: 90_000 });
    const data = Buffer.from(cfg, "utf8");
    const want = Buffer.from([
      0x0a,
      ...varint(data.length),
      ...data,
      0x20,
      0x04, // mode TRY = 4
      0x28,
      0x01, // dry_run true
      0x32,
      0x02,
      0x08,
      0x5a, // Duration{seconds(1)=90}
    ]);
    assert.deepEqual(lastRaw("ApplyConfiguration"), want);
    assert.deepEqual([0x0a, 0x20, 0x28, 0x32], [...tag(1, 2), ...tag(4, 0), ...tag(5, 0), ...tag(6, 2)]);
  });

  it("ApplyConfigurationRequest mode numbers: REBOOT=0 (omitted), AUTO=1, NO_REBOOT=2, STAGED=3; fractional timeout", async () => {
    const data = Buffer.from("x");
    const modes = [
      ["reboot", []],
      ["auto", [0x20, 1]],
      ["no_reboot", [0x20, 2]],
      ["staged", [0x20, 3]],
    ] as const;
    for (const [mode, bytes] of modes) {
      await c.applyConfiguration({ data: "x", mode, dryRun: true }).catch(() => undefined);
      assert.deepEqual([...lastRaw("ApplyConfiguration")], [...str(1, data), ...bytes, 0x28, 0x01], mode);
    }
    await c
      .applyConfiguration({ data: "x", mode: "try", dryRun: true, tryModeTimeout: 1500 })
      .catch(() => undefined);
    const dur = [0x08, ...varint(1), 0x10, ...varint(500_000_000)];
    assert.deepEqual(
      [...lastRaw("ApplyConfiguration")],
      [...str(1, data), 0x20, 4, 0x28, 1, 0x32, dur.length, ...dur],
    );
  });

  it("BootstrapRequest: empty by default; recover_etcd=1 (0x08), recover_skip_hash_check=2 (0x10)", async () => {
    await c.bootstrap();
    assert.equal(lastRaw("Bootstrap").length, 0);
    await c.bootstrap({ recoverEtcd: true, recoverSkipHashCheck: true });
    assert.deepEqual([...lastRaw("Bootstrap")], [0x08, 0x01, 0x10, 0x01]);
  });

  it("EtcdRemoveMemberByIDRequest: member_id=1 as full uint64 varint; EtcdMemberListRequest query_local=1", async () => {
    await c.etcdRemoveMember("18446744073709551615").catch(() => undefined);
    assert.deepEqual([...lastRaw("EtcdRemoveMemberByID")], [0x08, ...varint(18446744073709551615n)]);
    assert.equal(lastRaw("EtcdRemoveMemberByID").length, 11);
    await c.etcdMemberList({ queryLocal: true });
    assert.deepEqual([...lastRaw("EtcdMemberList")], [0x08, 0x01]);
  });

  it("UpgradeRequest: image=1, stage=3 (0x18), force=4 (0x20); Version/Disks send empty messages", async () => {
    const image = "factory.talos.dev/installer/abc:v1.12.1";
    await c.upgrade({ image, stage: true, force: true });
    assert.deepEqual([...lastRaw("Upgrade")], [...str(1, image), 0x18, 0x01, 0x20, 0x01]);
    await c.version();
    await c.disks();
    assert.equal(lastRaw("Version").length, 0);
    assert.equal(lastRaw("Disks").length, 0);
  });

  it("ResetRequest: graceful=1, reboot=2, system_partitions_to_wipe=3 {label=1, wipe=2}, mode=5", async () => {
    await c.reset({
      graceful: true,
      reboot: true,
      systemPartitionsToWipe: [{ label: "STATE", wipe: true }],
      mode: "system_disk",
    });
    const spec = [...str(1, "STATE"), 0x10, 0x01];
    assert.deepEqual([...lastRaw("Reset")], [0x08, 0x01, 0x10, 0x01, 0x1a, spec.length, ...spec, 0x28, 0x01]);
    await node.waitForMode("maintenance");
  });
});
