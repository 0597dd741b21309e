/**
 * Day-2 settings through the whole program under mocks: the rollout chain (control planes one at
 * a time, then worker batches), the membership resource ahead of every apply, the renewal window
 * reaching ClientConfigs, and the redacted views (plain, no secret value). Plus the config keys'
 * validation and the renewal window with an injected clock.
 */
import * as assert from "node:assert/strict";
import { ConfigError } from "../../components/config/errors";
import { validateStackConfig } from "../../components/config/validate";
import { parseSecretsYaml } from "../../components/talos/pki/secrets";
import * as clientConfigsLogic from "../../components/talos/resources/logic/client-configs";
import * as secretsLogic from "../../components/talos/resources/logic/secrets";
import { CONFIG_VIEW_WITHHELD } from "../../components/talos/talos-cluster";
import { DEFAULT_KUBERNETES_VERSION, DEFAULT_TALOS_VERSION } from "../../components/versions";
import type { Recording } from "../helpers/mocks";
import { generatedStackConfig, runProgram, sampleStackConfig } from "../helpers/program";
import { TALOS_TYPES } from "../talos-cluster/mock-state";

const T = TALOS_TYPES;

function applyOf(rec: Recording, node: string) {
  return rec.find(T.apply, `talos-apply-${node}`);
}

/** Direct (explicit) dependencies between applies, as node names. */
function applyDeps(rec: Recording, node: string): string[] {
  const applies = rec.byType(T.apply);
  return applyOf(rec, node)
    .dependencies.map((urn) => applies.find((a) => a.urn === urn)?.name.replace("talos-apply-", ""))
    .filter((x): x is string => x !== undefined)
    .sort();
}

describe("day 2 under mocks: the rollout chain and the membership", function () {
  this.timeout(120_000);
  let rec: Recording;

  before(async () => {
    rec = await runProgram(sampleStackConfig());
  });

  it("chains the applies: cp-1 → cp-2 → cp-3 → worker-1; each waits for the membership", () => {
    assert.deepEqual(applyDeps(rec, "cp-1"), []);
    assert.deepEqual(applyDeps(rec, "cp-2"), ["cp-1"]);
    assert.deepEqual(applyDeps(rec, "cp-3"), ["cp-2"]);
    assert.deepEqual(applyDeps(rec, "worker-1"), ["cp-3"]);
    const membership = rec.find(T.membership, "talos-membership");
    for (const n of ["cp-1", "cp-2", "cp-3", "worker-1"]) {
      assert.ok(applyOf(rec, n).dependencies.includes(membership.urn), `${n} waits for the membership`);
    }
    assert.deepEqual(
      (membership.inputs.nodes as { name: string; role: string; address: string }[]).map(
        (n) => `${n.name}/${n.role}@${n.address}`,
      ),
      [
        "cp-1/controlplane@192.168.50.11",
        "cp-2/controlplane@192.168.50.12",
        "cp-3/controlplane@192.168.50.13",
        "worker-1/worker@192.168.50.21",
      ],
    );
    for (const p of ["osCa", "clientCert", "clientKey", "kubeconfig"])
      assert.ok(membership.secretInputPaths.includes(p), p);
    assert.equal(membership.inputs.drainTimeoutSeconds, 300);
  });

  it("every apply carries the rollout inputs: installer image, versions, control-plane peers, gates", () => {
    for (const n of ["cp-1", "worker-1"]) {
      const a = applyOf(rec, n);
      assert.match(
        String(a.inputs.installImage),
        new RegExp(
          `^factory\\.talos\\.dev/nocloud-installer/[0-9a-f]{64}:v${DEFAULT_TALOS_VERSION.replace(/\./g, "\\.")}$`,
        ),
      );
      assert.equal(a.inputs.kubernetesVersion, DEFAULT_KUBERNETES_VERSION);
      assert.equal(a.inputs.checkKubernetes, true);
      assert.equal(a.inputs.timeoutSeconds, 900);
      assert.deepEqual(
        (a.inputs.controlPlanes as { name: string }[]).map((p) => p.name),
        ["cp-1", "cp-2", "cp-3"],
      );
    }
  });

  it("the redacted views are plain, show the node's settings and hold no secret value of the bundle", () => {
    const secretsYaml = String(rec.byType(T.secrets)[0]?.inputs.importedSecrets ?? "");
    assert.equal(secretsYaml, "", "sample stack generates its bundle");
    for (const n of ["cp-1", "worker-1"]) {
      const a = applyOf(rec, n);
      const view = String(a.inputs.configView);
      assert.ok(!a.secretInputPaths.includes("configView"));
      assert.match(view, new RegExp(`hostname: ${n}`));
      assert.match(view, /image: factory\.talos\.dev\/nocloud-installer\//);
      assert.match(view, /token: <redacted hmac:[0-9a-f]{8}>/);
      // No long string of the real config that the view should have hidden.
      const config = String(a.inputs.config);
      const secretLines = config
        .split("\n")
        .filter((l) => /^\s*(token|key|secret|[a-zA-Z]*EncryptionSecret): \S{16,}/.test(l));
      assert.ok(secretLines.length >= 2, `${n}: the config has secrets to hide`);
      for (const l of secretLines) {
        const value = l.split(": ")[1]!;
        assert.ok(!view.includes(value), `${n}: ${l.trim().split(":")[0]} leaked into the view`);
      }
    }
  });

  it("patches stored as secrets keep the views withheld (they would show in plain text)", async () => {
    const r = await runProgram(sampleStackConfig(), [
      "proxmox-talos:proxmoxApiToken",
      "proxmox-talos:patches",
    ]);
    for (const n of ["cp-1", "worker-1"]) assert.equal(applyOf(r, n).inputs.configView, CONFIG_VIEW_WITHHELD);
    assert.match(String(applyOf(rec, "cp-1").inputs.configView), /hostname: cp-1/, "shown otherwise");
  });

  it("workerBatchSize 2 puts workers in pairs after the last control plane", async () => {
    const cfg = generatedStackConfig(7); // cp-1..3, worker-1..4
    const batched = await runProgram({
      ...cfg,
      "proxmox-talos:rollout": JSON.stringify({ workerBatchSize: 2 }),
    });
    assert.deepEqual(applyDeps(batched, "worker-1"), ["cp-3"]);
    assert.deepEqual(applyDeps(batched, "worker-2"), ["cp-3"]);
    assert.deepEqual(applyDeps(batched, "worker-3"), ["worker-1", "worker-2"]);
    assert.deepEqual(applyDeps(batched, "worker-4"), ["worker-1", "worker-2"]);
    assert.deepEqual(applyDeps(batched, "cp-2"), ["cp-1"]);
  });

  it("rollout and clientCerts settings reach the resources", async () => {
    const r = await runProgram({
      ...sampleStackConfig(),
      "proxmox-talos:rollout": JSON.stringify({ nodeTimeoutSeconds: 1200, drainTimeoutSeconds: 120 }),
      "proxmox-talos:clientCerts": JSON.stringify({ renewBeforeDays: 45 }),
    });
    assert.equal(applyOf(r, "cp-2").inputs.timeoutSeconds, 1200);
    assert.equal(r.find(T.membership, "talos-membership").inputs.drainTimeoutSeconds, 120);
    const cc = r.find(T.clientConfigs, "talos-client-configs");
    assert.equal(cc.inputs.renewBeforeDays, 45);
    assert.equal(cc.inputs.validityDays, 365);
    assert.match(String(r.stackOutputs.kubeconfigExpiresAt), /^\d{4}-\d\d-\d\dT/);
    assert.ok(!r.secretStackOutputs.includes("kubeconfigExpiresAt"));
    assert.ok(r.secretStackOutputs.includes("kubeconfig"));
  });
});

describe("day 2 config keys", () => {
  const base = (): Record<string, unknown> => {
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(sampleStackConfig())) {
      const key = k.replace(/^proxmox-talos:/, "");
      if (key === "proxmoxApiToken") continue;
      try {
        raw[key] = JSON.parse(v);
      } catch {
        raw[key] = v;
      }
    }
    return raw;
  };
  const secrets = { proxmoxApiToken: "root@pam!pulumi=00000000-0000-0000-0000-000000000000" };

  it("defaults: batches of 1, 900 s per node, 300 s drain, renew 30 days before a 365-day expiry", () => {
    const c = validateStackConfig(base(), secrets);
    assert.deepEqual(c.rollout, {
      workerBatchSize: 1,
      nodeTimeoutSeconds: 900,
      drainTimeoutSeconds: 300,
      allowNodeRemoval: false,
    });
    assert.deepEqual(c.clientCerts, { renewBeforeDays: 30, validityDays: 365 });
  });

  it("bad values name the key, the value and the fix", () => {
    const bad = (patch: Record<string, unknown>): string => {
      try {
        validateStackConfig({ ...base(), ...patch }, secrets);
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.message;
      }
      throw new Error("accepted");
    };
    assert.match(
      bad({ rollout: { workerBatchSize: 0 } }),
      /proxmox-talos:rollout\.workerBatchSize: 0 is less than 1 — use 1 or more/,
    );
    assert.match(bad({ rollout: { batch: 2 } }), /rollout\.batch: is not a known setting/);
    assert.match(
      bad({ clientCerts: { renewBeforeDays: 400 } }),
      /clientCerts\.renewBeforeDays: 400 is not shorter than clientCerts\.validityDays \(365\).*set renewBeforeDays well below/,
    );
  });
});

describe("day 2: client-cert renewal with an injected clock", () => {
  const DAY = 86_400_000;
  let secretsYaml = "";
  const inputs = (renewBeforeDays?: number) => ({
    secretsYaml,
    clusterName: "homelab",
    endpoint: "https://10.0.0.5:6443",
    endpoints: ["10.0.0.11"],
    nodes: ["10.0.0.11"],
    ...(renewBeforeDays ? { renewBeforeDays } : {}),
  });

  before(async () => {
    secretsYaml = (await secretsLogic.create({})).outs.secretsYaml;
  });

  it("renews inside the window and not outside; the expiry outputs move with the renewal", async () => {
    const t0 = new Date("2026-01-01T00:00:00Z");
    const first = await clientConfigsLogic.generate(inputs(), t0);
    assert.equal(first.kubeconfigExpiresAt, "2027-01-01T00:00:00.000Z");
    const at = (days: number) => new Date(t0.getTime() + days * DAY);
    // Outside the 30-day window: no diff, and an update (e.g. for another setting) keeps the certs.
    assert.equal(clientConfigsLogic.diff(first, inputs(), at(334)).changes, false);
    const kept = await clientConfigsLogic.update(first, inputs(), at(334));
    assert.equal(kept.outs.kubeconfig, first.kubeconfig);
    // Inside: a diff, and the update issues fresh certs valid for a year from then.
    assert.equal(clientConfigsLogic.diff(first, inputs(), at(336)).changes, true);
    const renewed = await clientConfigsLogic.update(first, inputs(), at(336));
    assert.notEqual(renewed.outs.kubeconfig, first.kubeconfig);
    assert.notEqual(renewed.outs.talosconfig, first.talosconfig);
    assert.equal(renewed.outs.kubeconfigExpiresAt, at(336 + 365).toISOString());
    assert.equal(renewed.outs.talosconfigExpiresAt, at(336 + 365).toISOString());
    // The same bundle signs them (the cluster trusts the new certs).
    assert.equal(
      parseSecretsYaml(renewed.outs.secretsYaml).certs.os.crt,
      parseSecretsYaml(secretsYaml).certs.os.crt,
    );
    // A second `up` right after renewing is a no-op again.
    assert.equal(clientConfigsLogic.diff(renewed.outs, inputs(), at(337)).changes, false);
    // A wider window (60 days) renews earlier.
    assert.equal(clientConfigsLogic.diff(first, inputs(60), at(306)).changes, true);
    assert.equal(clientConfigsLogic.diff(first, inputs(60), at(304)).changes, false);
  });
});
