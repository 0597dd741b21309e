/**
 * Issue #19 at the dynamic resources' logic, against fake Talos nodes on loopback: the
 * maintenance-mode apply only for a node known to be new, a node that lost its configuration is an
 * error (never a silent re-apply), a new machine identity replaces the apply, and a protected
 * scale-down is refused in `check` and in `update` before any call.
 */
import * as assert from "node:assert/strict";
import * as applyLogic from "../../components/talos/resources/logic/apply";
import { sha256Hex } from "../../components/talos/resources/logic/common";
import * as membership from "../../components/talos/resources/logic/membership";
import { applyInputsFor, machineConfig, newTestPki, type TestPki } from "../fakes/machine-config";
import { FakeTalosNode } from "../fakes/talos-node";

const quick = { pollMs: 50, log: (_m: string) => undefined };

describe("safe by default in the Talos resources' logic (#19)", function () {
  this.timeout(60_000);
  let pki: TestPki;
  let node: FakeTalosNode;

  before(async () => {
    pki = await newTestPki();
    node = await FakeTalosNode.start({ hostname: "w-1", osCa: pki.osCa, rebootDelayMs: 20 });
  });
  after(async () => node.close());

  const inputs = (over: Record<string, unknown> = {}) => ({
    ...applyInputsFor(pki, node.address, { name: "w-1", role: "worker" }),
    timeoutSeconds: 10,
    ...over,
  });

  it("create refuses the unauthenticated maintenance apply for a node not known to be new, at once", async () => {
    const t0 = Date.now();
    await assert.rejects(
      applyLogic.create(inputs({ maintenanceAllowed: false }), quick),
      /node w-1 .* answers in maintenance mode, but it is not known to be new: .*nodes\[\]\.newMachine: true/,
    );
    assert.ok(Date.now() - t0 < 8000, "not retried until the timeout");
    assert.equal(node.callsOf("ApplyConfiguration").length, 0, "no config handed out");
  });

  let applied: applyLogic.ApplyOutputs;
  it("create applies in maintenance mode when the node is known to be new", async () => {
    const r = await applyLogic.create(inputs({ maintenanceAllowed: true, machineIdentity: "vm-a" }), quick);
    assert.equal(r.outs.fromMaintenance, true);
    applied = r.outs;
    await node.waitForMode("normal");
  });

  it("a new machine identity replaces the apply; a first identity on an old state is only recorded", () => {
    assert.deepEqual(applyLogic.diff(applied, inputs({ machineIdentity: "vm-b" })).replaces, [
      "machineIdentity",
    ]);
    assert.equal(applyLogic.diff(applied, inputs({ machineIdentity: "vm-a" })).changes, false);
    const old = { ...applied, machineIdentity: undefined };
    const d = applyLogic.diff(old, inputs({ machineIdentity: "vm-a" }));
    assert.deepEqual([d.changes, d.replaces], [true, []]);
  });

  it("a configured node that answers only in maintenance mode is an error naming it, never a silent re-apply", async () => {
    await node.reboot("maintenance");
    const before = node.callsOf("ApplyConfiguration").length;
    const changed = machineConfig({ type: "worker", pki, clusterName: "homelab2" });
    await assert.rejects(
      applyLogic.update(
        applied,
        inputs({ config: changed, configHash: sha256Hex(changed), maintenanceAllowed: true }),
        quick,
      ),
      /node w-1 .* was configured before and now answers only in maintenance mode.*--target-replace/,
    );
    assert.equal(node.callsOf("ApplyConfiguration").length, before, "no apply");
  });

  it("a protected scale-down is refused in check and in update, naming the nodes and the key", async () => {
    const creds = { osCa: pki.osCa.crt, clientCert: pki.admin.crt, clientKey: pki.admin.key };
    const all = [
      { name: "cp-1", role: "controlplane", address: "127.0.0.1:1" },
      { name: "w-1", role: "worker", address: node.address },
      { name: "w-2", role: "worker", address: "127.0.0.1:2" },
    ];
    const olds = { nodes: all, kubeconfig: "", ...creds };
    const news = { nodes: all.slice(0, 1), kubeconfig: "", protectNodes: true, ...creds };
    const failures = membership.check(olds, news);
    assert.equal(failures.length, 1);
    assert.match(
      failures[0]!.reason,
      /removing w-1, w-2 from a production stack .*rollout\.allowNodeRemoval: true.*--allow-node-removal/,
    );
    const calls = node.calls.length;
    await assert.rejects(
      membership.update(olds, news, { log: quick.log }),
      /scale-down refused, nothing was changed/,
    );
    assert.equal(node.calls.length, calls, "no call reached the node");
    assert.deepEqual(membership.check(olds, { ...news, protectNodes: false }), []);
    assert.deepEqual(
      membership.check(olds, { ...olds, protectNodes: true }),
      [],
      "no removal, nothing to refuse",
    );
  });
});
