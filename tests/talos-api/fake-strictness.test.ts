/**
 * The fake Talos node's rules checked against the facts they come from (each block names the Talos
 * or etcd source file): etcd's member-removal refusals, Talos' pre-upgrade etcd checks and upgrade
 * mutex, the immediately-applicable config parts, RBAC roles. The talosctl conformance suite
 * (tests/talos-conformance) drives the same rules end to end with the real client.
 */
import * as assert from "node:assert/strict";
import * as YAML from "yaml";
import { TalosApiError } from "../../components/talos/api/client";
import { mtlsClient } from "../../components/talos/resources/logic/common";
import { machineConfig, newTestPki, type TestPki } from "../fakes/machine-config";
import {
  NOT_ENOUGH_STARTED,
  removeMemberRefusal,
  UNHEALTHY_CLUSTER,
  upgradeRefusal,
} from "../fakes/talos/etcd-rules";
import { immediateChangeError } from "../fakes/talos/immediate";
import { authorized } from "../fakes/talos/rbac";
import { FakeEtcdCluster, FakeTalosNode } from "../fakes/talos-node";

const m = (id: string, healthy = true) => ({ id, hostname: `h${id}`, healthy });

describe("the fake Talos node's rules (facts from Talos and etcd sources)", function () {
  this.timeout(60_000);

  it("etcd mayRemoveMember: the last member, and a healthy member while another is down, are refused", () => {
    // etcd server/etcdserver/server.go mayRemoveMember, api/membership/cluster.go IsReadyToRemoveVotingMember
    assert.equal(removeMemberRefusal([m("1")], "1"), NOT_ENOUGH_STARTED);
    assert.equal(removeMemberRefusal([m("1"), m("2"), m("3")], "3"), undefined);
    assert.equal(removeMemberRefusal([m("1"), m("2"), m("3", false)], "2"), UNHEALTHY_CLUSTER);
    assert.equal(
      removeMemberRefusal([m("1"), m("2"), m("3", false)], "3"),
      undefined,
      "a down member may go",
    );
    assert.equal(removeMemberRefusal([m("1"), m("2")], "2"), undefined);
  });

  it("Talos ValidateForUpgrade: two members, or an unhealthy member, refuse an upgrade", () => {
    // Talos internal/pkg/etcd/etcd.go ValidateForUpgrade
    assert.match(
      upgradeRefusal([m("1"), m("2")]) ?? "",
      /member count\(2\) is insufficient to maintain quorum/,
    );
    assert.match(
      upgradeRefusal([m("1"), m("2"), m("16", false)]) ?? "",
      /etcd member 0000000000000010 is not healthy/,
    );
    assert.equal(upgradeRefusal([m("1"), m("2"), m("3")]), undefined);
    assert.equal(upgradeRefusal([m("1")]), undefined);
  });

  it("CanApplyImmediate: kubelet, network, cluster and other documents apply at once; machine.env does not", async () => {
    // Talos internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go CanApplyImmediate
    const pki = await newTestPki();
    const base = machineConfig({ pki });
    const edit = (f: (doc: Record<string, Record<string, unknown>>) => void, extra = "") => {
      const doc = YAML.parse(base) as Record<string, Record<string, unknown>>;
      f(doc);
      return YAML.stringify(doc) + extra;
    };
    assert.equal(
      immediateChangeError(
        base,
        edit((d) => Object.assign(d.machine!, { kubelet: { image: "x:v1.34.4" } })),
      ),
      undefined,
    );
    assert.equal(
      immediateChangeError(
        base,
        edit((d) => Object.assign(d.cluster!, { clusterName: "other" })),
      ),
      undefined,
    );
    assert.equal(
      immediateChangeError(
        base,
        edit(
          () => undefined,
          "---\napiVersion: v1alpha1\nkind: KmsgLogConfig\nname: x\nurl: udp://127.0.0.1:1\n",
        ),
      ),
      undefined,
    );
    const env = immediateChangeError(
      base,
      edit((d) => Object.assign(d.machine!, { env: { A: "b" } })),
    );
    assert.match(env ?? "", /^this config change can't be applied in immediate mode\ndiff:\nmachine\.env/);
    assert.match(
      immediateChangeError(
        base,
        edit((d) => Object.assign(d.machine!, { type: "worker" })),
      ) ?? "",
      /machine\.type/,
    );
  });

  it("RBAC (machined.go rules): os:reader reads, only os:admin changes; os:operator may reboot", () => {
    assert.equal(authorized("/machine.MachineService/Version", ["os:reader"]), true);
    assert.equal(authorized("/machine.MachineService/EtcdMemberList", ["os:etcd:backup"]), true);
    for (const method of ["ApplyConfiguration", "Bootstrap", "Upgrade", "Reset", "Kubeconfig"]) {
      assert.equal(
        authorized(`/machine.MachineService/${method}`, ["os:reader", "os:operator"]),
        false,
        method,
      );
      assert.equal(authorized(`/machine.MachineService/${method}`, ["os:admin"]), true, method);
    }
    assert.equal(authorized("/machine.MachineService/Reboot", ["os:operator"]), true);
    assert.equal(authorized("/machine.MachineService/Unknown", ["os:admin"]), false);
  });

  describe("Upgrade on a control plane (v1alpha1_server.go Upgrade)", () => {
    let pki: TestPki;
    const etcd = new FakeEtcdCluster();
    const nodes: FakeTalosNode[] = [];
    before(async function () {
      this.timeout(120_000);
      pki = await newTestPki();
      for (const name of ["cp-1", "cp-2"]) {
        nodes.push(
          await FakeTalosNode.start({ hostname: name, etcd, config: machineConfig({ pki, hostname: name }) }),
        );
      }
      etcd.bootstrapped = true;
      etcd.joinAll();
    });
    after(async () => {
      await Promise.all(nodes.map((n) => n.close()));
    });

    const upgrade = (n: FakeTalosNode) => {
      const c = mtlsClient(
        n.address,
        { osCa: pki.osCa.crt, clientCert: pki.admin.crt, clientKey: pki.admin.key },
        { retry: { attempts: 1 } },
      );
      return c.upgrade({ image: "factory.talos.dev/installer/abc:v1.11.6" }).finally(() => c.close());
    };

    it("two etcd members: refused, the upgrade would break quorum", async () => {
      assert.equal(etcd.members.length, 2);
      await assert.rejects(upgrade(nodes[0]!), (e: unknown) => {
        assert.ok(e instanceof TalosApiError);
        assert.equal(e.codeName, "UNKNOWN");
        assert.match(e.details, /error validating etcd for upgrade: etcd member count\(2\) is insufficient/);
        return true;
      });
      assert.equal(nodes[0]!.mode, "normal");
    });

    it("the etcd upgrade mutex held by another node: refused", async () => {
      etcd.upgradeLockedBy = "cp-2";
      await assert.rejects(upgrade(nodes[0]!), /Locked by another session/);
      etcd.upgradeLockedBy = undefined;
    });
  });
});
