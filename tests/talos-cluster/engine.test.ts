/**
 * `TalosCluster` under the REAL Pulumi engine (built by scripts/pulumi-engine.sh) against three fake
 * Talos nodes on 127.0.0.1: up (maintenance apply → bootstrap → ready), a second preview with no
 * changes, a second up that calls no node, destroy. The dynamic-provider plugin is started through
 * a launcher like Pulumi's stock one — plain `node`, NO TypeScript loader preloaded — so the
 * providers must bring tsx in themselves. Skipped when the engine is not built.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { generateSecretsBundle, serializeSecretsYaml } from "../../components/talos/pki/secrets";
import { TalosCluster } from "../../components/talos/talos-cluster";
import { FakeTalosNode } from "../fakes/talos-node";
import { ENGINE_BIN, inlineStack, requireEngine } from "../helpers/engine";
import { PROJECT_ROOT } from "../helpers/shared";
import { CLUSTER_BASE } from "./cluster-args";

const SPECS = [
  { name: "cp-1", role: "controlplane" },
  { name: "cp-2", role: "controlplane" },
  { name: "w-1", role: "worker" },
] as const;

describe("TalosCluster under the real engine with fake nodes (no TS loader in the provider host)", function () {
  this.timeout(300_000);
  let dir = "";
  let nodes: FakeTalosNode[] = [];
  let stack: Stack | undefined;
  let secretsYaml = "";
  let clusterSecret = "";
  const marker = () => path.join(dir, "plain-launcher-used");
  /** Extra patches for w-1; a test changes them between runs. */
  let workerPatches: Record<string, unknown>[] = [];

  before(async function () {
    requireEngine(this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-engine-"));
    // A CLI dir holding the engine and a stock-like dynamic-provider launcher (no tsx preload).
    const bin = path.join(dir, "cli", "bin");
    fs.mkdirSync(bin, { recursive: true });
    try {
      fs.linkSync(path.join(ENGINE_BIN, "pulumi"), path.join(bin, "pulumi"));
    } catch {
      fs.copyFileSync(path.join(ENGINE_BIN, "pulumi"), path.join(bin, "pulumi"));
      fs.chmodSync(path.join(bin, "pulumi"), 0o755);
    }
    fs.writeFileSync(
      path.join(bin, "pulumi-resource-pulumi-nodejs"),
      `#!/usr/bin/env bash\necho "$$" >> '${marker()}'\nexec node '${PROJECT_ROOT}/node_modules/@pulumi/pulumi/cmd/dynamic-provider' "$@"\n`,
      { mode: 0o755 },
    );
    const bundle = await generateSecretsBundle();
    secretsYaml = serializeSecretsYaml(bundle);
    clusterSecret = bundle.cluster.secret;
    nodes = await Promise.all(
      SPECS.map((s) => FakeTalosNode.start({ hostname: s.name, osCa: bundle.certs.os, rebootDelayMs: 50 })),
    );
    const program = async () => {
      const c = new TalosCluster("talos", {
        ...CLUSTER_BASE,
        nodes: SPECS.map((s, k) => ({
          ...s,
          ip: "127.0.0.1",
          apiAddress: nodes[k]!.address,
          newMachine: true,
          patches: s.name === "w-1" ? workerPatches : [],
          dependsOn: [],
        })),
        openebsHostpath: false,
        importedSecrets: pulumi.secret(secretsYaml),
        checkKubernetes: false,
        applyTimeoutSeconds: 60,
        readyTimeoutSeconds: 60,
      });
      return { talosconfig: c.talosconfig, readyAt: c.ready.readyAt, expires: c.talosconfigExpiresAt };
    };
    stack = await inlineStack({ dir, stackName: "e2e", program, binDir: bin });
  });

  after(async () => {
    if (stack) await stack.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
    await Promise.all(nodes.map((n) => n.close()));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const calls = (method: string) => nodes.map((n) => n.callsOf(method).length);

  it("up: applies in maintenance mode, bootstraps, waits for mTLS on every node", async () => {
    assert.ok(stack);
    let out = "";
    const r = await stack.up({ onOutput: (s) => (out += s) });
    assert.equal(r.summary.result, "succeeded", out);
    assert.ok(fs.existsSync(marker()), "the plain (no-tsx) provider launcher was not used");
    assert.deepEqual(calls("ApplyConfiguration"), [1, 1, 1]);
    for (const n of nodes) assert.equal(n.callsOf("ApplyConfiguration")[0]!.mode, "maintenance");
    assert.equal(nodes[0]!.bootstrapped, true);
    assert.equal(r.outputs.talosconfig?.secret, true);
    assert.equal(r.outputs.expires?.secret, false);
    assert.match(String(r.outputs.readyAt?.value), /^\d{4}-/);
    const state = fs.readFileSync(
      path.join(dir, "state", ".pulumi", "stacks", "proxmox-talos", "e2e.json"),
      "utf8",
    );
    assert.ok(!state.includes(clusterSecret), "the bundle leaked into the state in plain text");
    assert.ok(!state.includes("BEGIN ED25519 PRIVATE KEY"), "a private key leaked into the state");
    // What the providers' progress log looks like from the plugin process (pulumi.log → stdout).
    const progress = out.split("\n").filter((l) => /ClusterReady:|MachineConfigApply:|Bootstrap:/.test(l));
    console.log(`      provider progress lines seen in the engine output: ${progress.length}`);
    for (const l of progress.slice(0, 4)) console.log(`        ${l.trim()}`);
  });

  it("a second preview shows no changes, and a second up calls no node", async () => {
    assert.ok(stack);
    const p = await stack.preview({ diff: true });
    const changes = Object.entries(p.changeSummary).filter(([k, v]) => k !== "same" && v > 0);
    assert.deepEqual(changes, [], `${JSON.stringify(p.changeSummary)}\n${p.stdout}`);
    assert.ok(!/--outputs:--/.test(p.stdout), `stack outputs changed:\n${p.stdout}`);
    const before = calls("ApplyConfiguration");
    const first = await stack.outputs();
    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    // The talosconfig is kept in state, not regenerated.
    assert.equal(up.outputs.talosconfig?.value, first.talosconfig?.value);
    assert.deepEqual(calls("ApplyConfiguration"), before);
    assert.deepEqual(calls("Bootstrap"), [1, 0, 0]);
  });

  it("a changed patch updates that node in place over mTLS; ready waits again", async () => {
    assert.ok(stack);
    workerPatches = [{ machine: { nodeLabels: { tier: "batch" } } }];
    const p = await stack.preview();
    assert.equal(p.changeSummary.update, 2, JSON.stringify(p.changeSummary)); // w-1 apply + ClusterReady
    const before = calls("ApplyConfiguration");
    const versions = calls("Version");
    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    assert.deepEqual(calls("ApplyConfiguration"), [before[0], before[1], before[2]! + 1]);
    const last = nodes[2]!.callsOf("ApplyConfiguration").at(-1)!;
    assert.equal(last.mode, "normal");
    assert.equal(last.request.mode, "AUTO");
    assert.match(nodes[2]!.appliedConfig!.yaml, /tier: batch/);
    assert.ok(calls("Version").every((n, k) => n > versions[k]!));
  });

  it("destroy succeeds without resetting nodes (resetOnDelete off)", async () => {
    assert.ok(stack);
    const r = await stack.destroy();
    assert.equal(r.summary.result, "succeeded");
    assert.deepEqual(calls("Reset"), [0, 0, 0]);
  });
});
