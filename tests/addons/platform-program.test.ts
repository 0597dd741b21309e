/**
 * The worked example stack (stacks/examples/Pulumi.platform.yaml, everything on) through the whole
 * program under mocks: config validation, Talos layer, addons. Checks the stack outputs' secrecy,
 * the monitoring patch in the control planes' configs, and that each credential from the stack's
 * secret config stays secret from config to cluster.
 */
import * as assert from "node:assert/strict";
import { readStackFile } from "../../components/config/stack-file";
import { pathsOf, type Recording } from "../helpers/mocks";
import { runProgram } from "../helpers/program";
import { TALOS_TYPES, talosMockState } from "../talos-cluster/mock-state";
import { RELEASE } from "./harness";
import { EXAMPLE_FILE, EXAMPLE_SECRETS, FAKE_CA_PEM, fakeToken, platformMockState } from "./platform-harness";

describe("the worked example stack through the program (mocks)", function () {
  this.timeout(180_000);
  let rec: Recording;
  before(async () => {
    const config: Record<string, string> = { ...readStackFile(EXAMPLE_FILE).config };
    for (const [k, v] of Object.entries(EXAMPLE_SECRETS)) config[`proxmox-talos:${k}`] = v;
    rec = await runProgram(
      config,
      Object.keys(EXAMPLE_SECRETS).map((k) => `proxmox-talos:${k}`),
      { newResource: platformMockState([], talosMockState()) },
    );
  });

  it("installs every addon of the example, Cilium first", () => {
    const names = rec
      .byType(RELEASE)
      .map((r) => r.name)
      .sort();
    assert.deepEqual(names, ["certManager", "cilium", "flux", "headlamp", "monitoring", "openebs", "velero"]);
    const cilium = rec.find(RELEASE, "cilium");
    for (const r of rec.byType(RELEASE)) if (r !== cilium) assert.ok(rec.dependsOn(r, cilium), r.name);
  });

  it("exports the CA certificate plain, the Headlamp tokens and Grafana's password as secrets", () => {
    assert.equal(rec.stackOutputs.caCertificate, FAKE_CA_PEM);
    assert.ok(!rec.secretStackOutputs.includes("caCertificate"));
    assert.equal(rec.stackOutputs.headlampAdminToken, fakeToken("headlamp-admin"));
    assert.equal(rec.stackOutputs.headlampViewerToken, fakeToken("headlamp-viewer"));
    assert.ok(rec.secretStackOutputs.includes("headlampAdminToken"));
    assert.ok(rec.secretStackOutputs.includes("headlampViewerToken"));
    assert.match(String(rec.stackOutputs.grafanaAdminPassword), /^[A-Za-z0-9_-]{32}$/);
    assert.ok(rec.secretStackOutputs.includes("grafanaAdminPassword"));
  });

  it("keeps each credential of the stack's secret config secret wherever it goes", () => {
    for (const [key, value] of Object.entries(EXAMPLE_SECRETS)) {
      for (const r of rec.resources) {
        for (const p of pathsOf(r.inputs, value)) {
          assert.ok(
            r.secretInputPaths.some((s) => p === s || p.startsWith(`${s}.`) || p.startsWith(`${s}[`)),
            `${r.type} ${r.name} input ${p} holds ${key} in plain text`,
          );
        }
      }
      assert.deepEqual(pathsOf(rec.stackOutputs, value), [], `${key} in a stack output`);
    }
  });

  it("renders the monitoring patch into the control planes' configs only, the configs secret", () => {
    const applies = rec.byType(TALOS_TYPES.apply);
    assert.equal(applies.length, 5);
    for (const a of applies) {
      const config = String(a.inputs.config);
      assert.ok(a.secretInputPaths.includes("config"), `${a.name}: the config is secret`);
      assert.equal(
        /listen-metrics-urls: http:\/\/0\.0\.0\.0:2381/.test(config),
        a.inputs.role === "controlplane",
        a.name,
      );
      assert.equal(/bind-address: 0\.0\.0\.0/.test(config), a.inputs.role === "controlplane", a.name);
    }
  });
});
