/**
 * `EtcdSnapshotStep`: under mocks it is first in the rolling chain (the membership and every apply
 * wait for it) with its credentials secret and its file name / hash plain; its logic against three
 * fake control planes snapshots exactly on risky changes (Talos or Kubernetes upgrade, control-plane
 * removal), not on others, not when turned off, and fails (stopping the chain) without a source.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { generateSecretsBundle, serializeSecretsYaml } from "../../components/talos/pki/secrets";
import * as step from "../../components/talos/resources/logic/snapshot";
import { TalosCluster } from "../../components/talos/talos-cluster";
import { FakeCluster, TEST_NETWORK } from "../day2/harness";
import { recordProgram } from "../helpers/mocks";
import { image } from "../helpers/talos-image";
import { TALOS_TYPES, talosMockState } from "../talos-cluster/mock-state";

const CPS = [
  { name: "cp-1", role: "controlplane" as const },
  { name: "cp-2", role: "controlplane" as const },
  { name: "cp-3", role: "controlplane" as const },
];
const V = { talos: "1.12.6", kubernetes: "1.35.4" };

describe("backup: the etcd snapshot step before risky changes", function () {
  this.timeout(60_000);

  it("under mocks: first in the chain, credentials secret, outputs plain", async () => {
    const secretsYaml = serializeSecretsYaml(await generateSecretsBundle());
    const rec = await recordProgram(
      () => {
        const c = new TalosCluster("talos", {
          clusterName: "homelab",
          endpoint: "https://10.0.0.5:6443",
          vip: "10.0.0.5",
          talosVersion: V.talos,
          kubernetesVersion: V.kubernetes,
          installImage: image(V.talos),
          nodes: [
            ...CPS.map((n, k) => ({ ...n, ip: `10.0.0.1${k + 1}` })),
            { name: "w-1", role: "worker", ip: "10.0.0.21" },
          ],
          network: TEST_NETWORK,
          allowSchedulingOnControlPlanes: false,
          openebsHostpath: false,
          backup: { stack: "homelab", beforeRiskySteps: true, dir: "/tmp/backups/homelab", keep: 5 },
        });
        return { file: c.snapshotStep!.snapshotFile };
      },
      { newResource: talosMockState(secretsYaml) },
    );
    const s = rec.find(TALOS_TYPES.snapshotStep, "talos-etcd-snapshot");
    for (const p of ["osCa", "clientCert", "clientKey"]) assert.ok(s.secretInputPaths.includes(p), p);
    assert.deepEqual([...s.additionalSecretOutputs].sort(), ["clientCert", "clientKey", "osCa"]);
    for (const p of ["installImage", "kubernetesVersion", "dir", "snapshotFile", "snapshotSha256"])
      assert.ok(!s.secretInputPaths.includes(p), `${p} plain`);
    assert.deepEqual(
      (s.inputs.controlPlanes as { name: string }[]).map((c) => c.name),
      ["cp-1", "cp-2", "cp-3"],
    );
    const membership = rec.find(TALOS_TYPES.membership, "talos-membership");
    assert.ok(rec.dependsOn(membership, s), "the membership waits for the snapshot");
    for (const a of rec.byType(TALOS_TYPES.apply))
      assert.ok(rec.dependsOn(a, s), `${a.name} waits for the snapshot`);
  });

  describe("its logic against fake control planes", () => {
    let cluster: FakeCluster;
    let dir: string;
    const base = () => ({
      stack: "homelab",
      enabled: true,
      dir,
      keep: 10,
      recipient: "",
      installImage: image(V.talos),
      kubernetesVersion: V.kubernetes,
      controlPlanes: CPS.map((c) => ({ name: c.name, address: cluster.node(c.name).address })),
      ...cluster.creds,
      timeoutSeconds: 30,
    });
    const snapshots = () => CPS.reduce((n, c) => n + cluster.node(c.name).callsOf("EtcdSnapshot").length, 0);

    before(async () => {
      cluster = await FakeCluster.start(CPS, V, { rebootDelayMs: 20 });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "dr-step-"));
    });
    after(async () => {
      await cluster?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("create takes none; diff sees only the risk inputs and settings", async () => {
      const created = await step.create(base());
      assert.equal(created.outs.snapshotFile, "");
      assert.equal(snapshots(), 0);
      const olds = created.outs;
      assert.deepEqual(step.diff(olds, base()), { changes: false, replaces: [] });
      assert.equal(step.diff(olds, { ...base(), installImage: image("1.13.9") }).changes, true);
      assert.equal(step.diff(olds, { ...base(), timeoutSeconds: 99 }).changes, false);
      const moved = {
        ...base(),
        controlPlanes: base().controlPlanes.map((c) => ({ ...c, address: "127.0.0.9:1" })),
      };
      assert.equal(step.diff(olds, moved).changes, false, "a new address alone is not a change");
    });

    it("a Talos upgrade, a Kubernetes upgrade and a control-plane removal each take a snapshot", async () => {
      const olds = (await step.create(base())).outs;
      const cases: [string, Record<string, unknown>, RegExp][] = [
        ["talos", { ...base(), installImage: image("1.13.9") }, /Talos upgrade to v1\.13\.9/],
        ["kubernetes", { ...base(), kubernetesVersion: "1.36.3" }, /Kubernetes upgrade to 1\.36\.3/],
        [
          "removal",
          { ...base(), controlPlanes: base().controlPlanes.slice(0, 2) },
          /control-plane removal \(cp-3\)/,
        ],
      ];
      for (const [what, news, why] of cases) {
        const before = snapshots();
        const lines: string[] = [];
        const r = await step.update(olds, news, (m) => lines.push(m));
        assert.equal(snapshots(), before + 1, what);
        assert.ok(
          lines.some((l) => why.test(l)),
          `${what}: ${lines.join(" | ")}`,
        );
        const file = path.join(dir, String(r.outs.snapshotFile));
        assert.equal(
          crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex"),
          r.outs.snapshotSha256,
        );
      }
    });

    it("no snapshot for a control-plane addition or when beforeRiskySteps is off", async () => {
      const olds = { ...(await step.create(base())).outs, snapshotFile: "old.db", snapshotSha256: "abc" };
      const before = snapshots();
      const more = {
        ...base(),
        controlPlanes: [...base().controlPlanes, { name: "cp-4", address: "127.0.0.1:1" }],
      };
      const r1 = await step.update(olds, more);
      assert.equal(r1.outs.snapshotFile, "old.db", "the last snapshot's outputs stay");
      const lines: string[] = [];
      await step.update(olds, { ...base(), enabled: false, installImage: image("1.13.9") }, (m) =>
        lines.push(m),
      );
      assert.equal(snapshots(), before);
      assert.match(lines.join("\n"), /skipped \(backup\.beforeRiskySteps is false\)/);
    });

    it("fails without a healthy control plane, so the chain stops before any node", async () => {
      for (const c of CPS) cluster.node(c.name).etcdHealthy = false;
      try {
        const olds = (await step.create(base())).outs;
        await assert.rejects(
          step.update(olds, { ...base(), installImage: image("1.13.9") }),
          /no healthy etcd member to take a snapshot from \(cp-1: .*\)|no control plane answered/,
        );
      } finally {
        for (const c of CPS) cluster.node(c.name).etcdHealthy = true;
      }
    });
  });
});
