/**
 * Issue #19 under mocks (the real program, index.ts): what production changes in the graph, the VM
 * identity each apply takes, the maintenance allowance, and secret-stored addon values.
 */
import * as assert from "node:assert/strict";
import { ageIdentityProvider } from "../../components/addons";
import type { AgeIdentityInputs } from "../../components/addons/age-identity";
import { ALLOW_NODE_REMOVAL_ENV } from "../../components/production";
import { type Recording, unwrapSecrets } from "../helpers/mocks";
import { runProgram, sampleStackConfig } from "../helpers/program";
import { TALOS_TYPES, talosMockState } from "../talos-cluster/mock-state";

const AGE = "pulumi-nodejs:dynamic:AgeIdentity";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const NS = "proxmox-talos";

const only = (rec: Recording, type: string) => {
  const all = rec.byType(type);
  assert.equal(all.length, 1, type);
  return all[0]!;
};

describe("the program under mocks: safe by default (#19)", function () {
  this.timeout(180_000);

  it("production: MachineSecrets, ClientConfigs and the age identity get protect + retainOnDelete; node removal is guarded", async () => {
    const prod = await runProgram({ ...sampleStackConfig(), [`${NS}:production`]: "true" });
    for (const type of [TALOS_TYPES.secrets, TALOS_TYPES.clientConfigs, AGE]) {
      const r = only(prod, type);
      assert.equal(r.protect, true, `${type} protected`);
      assert.equal(r.retainOnDelete, true, `${type} retained on delete`);
    }
    assert.equal(only(prod, TALOS_TYPES.membership).inputs.protectNodes, true);
    assert.equal(only(prod, TALOS_TYPES.secrets).inputs.allowReplacement, false);

    const dev = await runProgram(sampleStackConfig());
    for (const type of [TALOS_TYPES.secrets, TALOS_TYPES.clientConfigs, AGE]) {
      assert.equal(only(dev, type).protect, false);
      assert.equal(only(dev, type).retainOnDelete, false);
    }
    assert.equal(only(dev, TALOS_TYPES.membership).inputs.protectNodes, false);
  });

  it("a generated SOPS identity encrypts the pre-upgrade etcd snapshot, and keeps its state where it lived (alias)", async () => {
    // The identity is made by the real provider's create (a fresh age key), the rest by the Talos mocks.
    const talos = talosMockState();
    const made: string[] = [];
    const rec = await runProgram(sampleStackConfig(), undefined, {
      newResource: async (args) => {
        if (args.type !== AGE) return talos(args);
        const created = await ageIdentityProvider.create(unwrapSecrets(args.inputs) as AgeIdentityInputs);
        made.push(created.outs.recipient);
        return { id: created.id, state: { ...created.outs } };
      },
    });
    const age = only(rec, AGE);
    const step = only(rec, TALOS_TYPES.snapshotStep);
    const cluster = only(rec, "proxmox-talos:index:HomelabCluster");
    const addons = only(rec, "proxmox-talos:index:ClusterAddons");
    assert.equal(made.length, 1);
    assert.match(made[0]!, /^age1[0-9a-z]{58}$/);
    assert.equal(step.inputs.recipient, made[0], "the snapshot is encrypted for the generated identity");
    assert.equal(age.parentUrn, cluster.urn, "the identity sits beside the Talos layer, made before it");
    assert.ok(rec.dependsOn(step, age), "the snapshot step waits for the identity it encrypts for");
    // It lived under the addons component: the alias names that parent, so its state (the only copy
    // of a generated key) carries over instead of a new identity replacing it.
    assert.deepEqual(age.aliases, [{ parentUrn: addons.urn }]);
    assert.equal(age.urn.split("::").pop(), "sops-age");

    // With backup.encrypt false the snapshot stays plain, identity or not.
    const plain = await runProgram({
      ...sampleStackConfig(),
      [`${NS}:backup`]: JSON.stringify({ encrypt: false }),
    });
    assert.equal(only(plain, TALOS_TYPES.snapshotStep).inputs.recipient, "");
  });

  it("rollout.allowNodeRemoval (or the runner's run-only allowance) lifts the removal guard", async () => {
    const cfg = { ...sampleStackConfig(), [`${NS}:production`]: "true" };
    const allowed = await runProgram({
      ...cfg,
      [`${NS}:rollout`]: JSON.stringify({ allowNodeRemoval: true }),
    });
    assert.equal(only(allowed, TALOS_TYPES.membership).inputs.protectNodes, false);
    process.env[ALLOW_NODE_REMOVAL_ENV] = "1";
    try {
      const byFlag = await runProgram(cfg);
      assert.equal(only(byFlag, TALOS_TYPES.membership).inputs.protectNodes, false);
    } finally {
      delete process.env[ALLOW_NODE_REMOVAL_ENV];
    }
    // allowTalosSecretsReplacement lifts protect on the bundle (a replacement must be possible).
    const replace = await runProgram({ ...cfg, [`${NS}:allowTalosSecretsReplacement`]: "true" });
    assert.equal(only(replace, TALOS_TYPES.secrets).protect, false);
    assert.equal(only(replace, TALOS_TYPES.secrets).inputs.allowReplacement, true);
  });

  it("each apply takes its VM's identity (host/id/MACs) and may use the maintenance API; existing machines only when marked new", async () => {
    const rec = await runProgram(sampleStackConfig());
    const applies = rec.byType(TALOS_TYPES.apply);
    assert.equal(applies.length, 4);
    for (const a of applies) {
      assert.match(String(a.inputs.machineIdentity), /^proxmox:pve\d\/\d{3,}\//, a.name);
      assert.equal(a.inputs.maintenanceAllowed, true);
      const vm = rec.find("proxmoxve:index/vmLegacy:VmLegacy", String(a.inputs.node));
      assert.ok(a.propertyDependencies.machineIdentity?.includes(vm.urn), `${a.name}: identity from its VM`);
    }
    const cfg = sampleStackConfig();
    delete cfg[`${NS}:proxmox`];
    delete cfg[`${NS}:proxmoxApiToken`];
    const nodes = JSON.parse(cfg[`${NS}:nodes`]!) as Record<string, unknown>[];
    cfg[`${NS}:nodes`] = JSON.stringify(
      nodes.map(({ proxmoxNode: _p, vmId: _v, ...n }, i) => ({
        ...n,
        ...(i === 0 ? { newMachine: true } : {}),
      })),
    );
    const existing = await runProgram(cfg, []);
    const allowed = existing
      .byType(TALOS_TYPES.apply)
      .map((a) => [a.inputs.node, a.inputs.maintenanceAllowed, a.inputs.machineIdentity]);
    assert.deepEqual(allowed, [
      [nodes[0]!.name, true, ""],
      ...nodes.slice(1).map((n) => [n.name, false, ""]),
    ]);
  });

  it("addons stored as a secret keep every Helm release's values secret", async () => {
    const cfg = sampleStackConfig();
    const secret = await runProgram(cfg, [`${NS}:proxmoxApiToken`, `${NS}:addons`]);
    const releases = secret.byType(RELEASE);
    assert.ok(releases.length >= 3);
    for (const r of releases) assert.ok(r.secretInputPaths.includes("values"), `${r.name} values secret`);
    const plain = await runProgram(cfg);
    for (const r of plain.byType(RELEASE)) assert.ok(!r.secretInputPaths.includes("values"), r.name);
  });
});
