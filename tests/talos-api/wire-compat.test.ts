/**
 * Wire compatibility of the project's Talos API subset (components/talos/api/*.proto) with the
 * upstream definitions of every supported Talos minor (FileDescriptorSets in
 * ../shared/reference/talos/proto): every service, method (and its streaming kind), message, field
 * and enum value we declare must exist upstream with the same name, number, type and cardinality;
 * messages round-trip through both definitions unchanged.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as protobuf from "protobufjs";
import { PROTO_DIR, PROTO_ENTRY } from "../../components/talos/api/proto";
import { TALOS_MINORS } from "../../components/talos-minors";
import { compareToUpstream, loadUpstream } from "../helpers/proto-compat";
import { requireShared } from "../helpers/shared";

/** The project's definition, loaded with protobufjs (the parser behind @grpc/proto-loader). */
function loadOurs(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
  root.loadSync(PROTO_ENTRY, { keepCase: true });
  root.resolveAll();
  return root;
}

/** Sample messages covering every field kind we use (bytes, enums, uint64, nested, repeated). */
const SAMPLES: Record<string, Record<string, unknown>> = {
  "machine.ApplyConfigurationRequest": {
    data: Buffer.from("version: v1alpha1\nmachine:\n  type: worker\n"),
    mode: 4,
    dry_run: true,
    try_mode_timeout: { seconds: 90, nanos: 5 },
  },
  "machine.ApplyConfigurationResponse": {
    messages: [
      {
        metadata: { hostname: "cp-1", error: "boom", status: { code: 3, message: "boom" } },
        warnings: ["w1", "w2"],
        mode: 1,
        mode_details: "diff",
      },
    ],
  },
  "machine.BootstrapRequest": { recover_etcd: true, recover_skip_hash_check: true },
  "machine.VersionResponse": {
    messages: [
      {
        metadata: { hostname: "n" },
        version: { tag: "v1.11.5", sha: "abc", built: "t", go_version: "go", os: "linux", arch: "amd64" },
        platform: { name: "nocloud", mode: "cloud" },
        features: { rbac: true },
      },
    ],
  },
  "machine.EtcdMemberListResponse": {
    messages: [
      {
        legacy_members: ["cp-1"],
        members: [
          {
            id: "18446744073709551615",
            hostname: "cp-1",
            peer_urls: ["https://10.0.0.11:2380"],
            client_urls: ["https://10.0.0.11:2379"],
            is_learner: true,
          },
        ],
      },
    ],
  },
  "machine.EtcdRemoveMemberByIDRequest": { member_id: "1234567890123456789" },
  "machine.UpgradeRequest": { image: "i:v1", preserve: true, stage: true, force: true, reboot_mode: 1 },
  "machine.UpgradeResponse": { messages: [{ ack: "ok", actor_id: "a" }] },
  "machine.RebootRequest": { mode: 1 },
  "machine.ResetRequest": {
    graceful: true,
    reboot: true,
    system_partitions_to_wipe: [{ label: "STATE", wipe: true }],
    user_disks_to_wipe: ["/dev/sdb"],
    mode: 2,
  },
  "machine.ResetResponse": { messages: [{ actor_id: "x" }] },
  "machine.EtcdSnapshotRequest": {},
  "machine.EtcdRecoverResponse": {
    messages: [{ metadata: { hostname: "cp-1", error: "etcd service is not ready for recovery yet" } }],
  },
  "common.Data": { metadata: { hostname: "n" }, bytes: Buffer.from([1, 2, 3]) },
  "storage.DisksResponse": {
    messages: [
      {
        disks: [
          {
            size: "10737418240",
            model: "m",
            device_name: "/dev/sda",
            name: "sda",
            serial: "s",
            modalias: "ma",
            uuid: "u",
            wwid: "w",
            type: 3,
            bus_path: "/pci",
            system_disk: true,
            subsystem: "/sys/class/block",
            readonly: true,
          },
        ],
      },
    ],
  },
};

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: String,
  defaults: false,
};

describe("talos-api: wire compatibility with upstream Talos API definitions", () => {
  let ours: protobuf.Root;

  before(() => {
    ours = loadOurs();
  });

  it("the comparison catches a wrong field number, type, cardinality and enum value", () => {
    const bad = protobuf.parse(
      `syntax = "proto3"; package machine;
       message BootstrapRequest { bool recover_etcd = 2; }
       message UpgradeRequest { int32 image = 1; }
       message EtcdMembers { string legacy_members = 2; }
       message RebootRequest { enum Mode { DEFAULT = 0; POWERCYCLE = 3; } }`,
      { keepCase: true },
    ).root;
    bad.resolveAll();
    // Compare against our own (known-good) subset as a stand-in upstream.
    const { problems } = compareToUpstream(bad, ours);
    assert.ok(
      problems.some((p) => p.includes("BootstrapRequest.recover_etcd: number 2, upstream 1")),
      problems.join("\n"),
    );
    assert.ok(problems.some((p) => p.includes("UpgradeRequest.image: type int32, upstream string")));
    assert.ok(problems.some((p) => p.includes("EtcdMembers.legacy_members: cardinality")));
    assert.ok(problems.some((p) => p.includes("RebootRequest.Mode.POWERCYCLE = 3, upstream 1")));
  });

  for (const row of TALOS_MINORS) {
    const minor = row.minor;
    describe(`Talos ${minor}`, () => {
      let upstream: protobuf.Root;

      before(function () {
        const file = requireShared(this, "reference", "talos", "proto", `talos-api-${minor}.binpb`);
        upstream = loadUpstream(file);
      });

      it("declares only services, methods, messages, fields and enum values that match upstream", () => {
        const { problems, checked } = compareToUpstream(ours, upstream);
        assert.deepEqual(problems, []);
        assert.ok(checked >= 40, `checked ${checked} declarations`);
        // The method kinds that matter most, spelled out.
        const svc = upstream.lookupService("machine.MachineService");
        assert.equal(svc.methods.Kubeconfig?.responseStream, true);
        // Snapshot streams from the node, recovery streams to it.
        assert.ok(svc.methods.EtcdSnapshot?.responseStream && !svc.methods.EtcdSnapshot.requestStream);
        assert.ok(svc.methods.EtcdRecover?.requestStream && !svc.methods.EtcdRecover.responseStream);
        assert.ok(
          !svc.methods.ApplyConfiguration?.responseStream && !svc.methods.ApplyConfiguration?.requestStream,
        );
      });

      it("serves the upgrade RPC the row names, with the same shape, deprecated as the row says", () => {
        const [service, method] = row.api.upgradeRpc.split("/") as [string, string];
        const up = upstream.lookupService(service).methods[method];
        const mine = ours.lookupService(service).methods[method];
        assert.ok(up && mine, `${row.api.upgradeRpc} missing`);
        assert.equal(up.resolvedRequestType?.fullName, mine.resolvedRequestType?.fullName);
        assert.equal(up.resolvedResponseType?.fullName, mine.resolvedResponseType?.fullName);
        assert.equal(Boolean(up.requestStream), Boolean(mine.requestStream));
        assert.equal(Boolean(up.responseStream), Boolean(mine.responseStream));
        const deprecated = (up.options as { deprecated?: boolean } | undefined)?.deprecated === true;
        assert.equal(deprecated, row.api.upgradeRpcDeprecated);
        // Where it is deprecated, its successor exists (a later row may switch to it).
        if (deprecated) assert.ok(upstream.lookupService("machine.LifecycleService").methods.Upgrade);
      });

      it("round-trips messages through both definitions unchanged", () => {
        for (const [name, sample] of Object.entries(SAMPLES)) {
          const o = ours.lookupType(name);
          const u = upstream.lookupType(name);
          const bytes = o.encode(o.fromObject(sample)).finish();
          const viaUpstream = u.decode(bytes);
          const back = u.encode(viaUpstream).finish();
          assert.deepEqual(Buffer.from(back), Buffer.from(bytes), `${name}: re-encoded bytes differ`);
          assert.deepEqual(u.toObject(viaUpstream, TO_OBJECT), o.toObject(o.decode(bytes), TO_OBJECT), name);
        }
      });
    });
  }
});
