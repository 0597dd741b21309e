/**
 * One node's config change through the rollout step against the stricter fake node, which answers
 * apply modes as Talos 1.11–1.13 do (`CanApplyImmediate`, see tests/fakes/talos/immediate.ts):
 * a kubelet change applies without a reboot; a change Talos cannot apply at once (`machine.env`)
 * answers REBOOT to mode AUTO, and the step waits for the node to go down and come back (new boot
 * id, Ready) before it is done; a staged change leaves the running config alone until a reboot.
 */
import * as assert from "node:assert/strict";
import * as YAML from "yaml";
import * as applyLogic from "../../components/talos/resources/logic/apply";
import { sha256Hex } from "../../components/talos/resources/logic/common";
import { downIntervals, FakeCluster, type NodeSpec, quiet, type Versions } from "./harness";

const SPECS: readonly NodeSpec[] = [
  { name: "cp-1", role: "controlplane" },
  { name: "w-1", role: "worker" },
];
const V: Versions = { talos: "1.12.6", kubernetes: "1.35.2" };
const deps = { pollMs: 40, log: quiet };

/** The node's config with `edit` applied to its v1alpha1 document. */
function edited(config: string, edit: (machine: Record<string, unknown>) => void): string {
  const docs = YAML.parseAllDocuments(config).map((d) => d.toJS() as Record<string, unknown>);
  const main = docs.find((d) => d.machine !== undefined);
  if (!main) throw new Error("no v1alpha1 document");
  edit(main.machine as Record<string, unknown>);
  return docs.map((d) => YAML.stringify(d)).join("---\n");
}

describe("day 2: apply modes of a config change (stricter fake node)", function () {
  this.timeout(120_000);
  let c: FakeCluster;

  beforeEach(async function () {
    this.timeout(120_000);
    c = await FakeCluster.start(SPECS, V, { rebootDelayMs: 300 });
  });
  afterEach(async () => {
    await c.close();
  });

  function change(
    name: string,
    edit: (m: Record<string, unknown>) => void,
    mode: "auto" | "staged" = "auto",
  ) {
    const s = SPECS.find((x) => x.name === name)!;
    const olds = c.state(s, V);
    const config = edited(String(olds.config), edit);
    return { olds, news: { ...c.applyInputs(s, V), config, configHash: sha256Hex(config), mode } };
  }

  it("AUTO answers REBOOT for machine.env: the step waits for the node to go down and come back Ready", async () => {
    const n = c.node("w-1");
    const boots = n.boots;
    const bootIdBefore = c.kube.node("w-1")?.bootId;
    const { olds, news } = change("w-1", (m) => {
      m.env = { HTTPS_PROXY: "http://127.0.0.1:3128" };
    });
    const { outs } = await applyLogic.update(olds, news, deps);
    assert.equal(outs.appliedMode, "reboot");
    // When update returns, the node has rebooted once, is back, and runs the new config.
    assert.equal(n.boots, boots + 1);
    assert.equal(downIntervals(n).length, 1);
    assert.equal(n.mode, "normal");
    assert.match(n.appliedConfig?.yaml ?? "", /HTTPS_PROXY/);
    assert.notEqual(c.kube.node("w-1")?.bootId, bootIdBefore);
    const apply = n.callsOf("ApplyConfiguration").at(-1)!;
    assert.equal(apply.request.mode, "AUTO");
  });

  it("AUTO applies a kubelet change without a reboot (NO_REBOOT)", async () => {
    const n = c.node("w-1");
    const boots = n.boots;
    const { olds, news } = change("w-1", (m) => {
      m.kubelet = { ...(m.kubelet as object), extraArgs: { "max-pods": "150" } };
    });
    const { outs } = await applyLogic.update(olds, news, deps);
    assert.equal(outs.appliedMode, "no_reboot");
    assert.equal(n.boots, boots);
    assert.match(n.appliedConfig?.yaml ?? "", /max-pods/);
  });

  it("STAGED keeps the running config until the next reboot", async () => {
    const n = c.node("cp-1");
    const boots = n.boots;
    const { olds, news } = change(
      "cp-1",
      (m) => {
        m.env = { NO_PROXY: "127.0.0.1" };
      },
      "staged",
    );
    const { outs } = await applyLogic.update(olds, news, deps);
    assert.equal(outs.appliedMode, "staged");
    assert.equal(n.boots, boots);
    assert.doesNotMatch(n.appliedConfig?.yaml ?? "", /NO_PROXY/);
    assert.match(n.stagedConfig?.yaml ?? "", /NO_PROXY/);
    await n.reboot();
    assert.match(n.appliedConfig?.yaml ?? "", /NO_PROXY/);
  });
});
