/**
 * Each dynamic provider as Pulumi serializes it (`runtime.serializeFunction`, as
 * `pulumi.dynamic.Resource` does): the text is small (nothing large captured) and it runs in a
 * fresh `node` child process WITHOUT tsx preloaded, loading its TypeScript logic module (tsx's
 * register API is brought in by the provider itself) — by absolute path, and by the
 * project-relative path from the project dir when the absolute one no longer exists.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  bootstrapProvider,
  clientConfigsProvider,
  clusterReadyProvider,
  LOGIC,
  machineConfigApplyProvider,
  machineSecretsProvider,
  PROJECT_ROOT,
  providerModuleText,
} from "../../components/talos/resources/providers";

const MTLS = { osCa: "ca", clientCert: "crt", clientKey: "key" };
const CASES = [
  {
    name: "MachineSecrets",
    provider: machineSecretsProvider,
    logic: LOGIC.secrets.abs,
    olds: { importedHash: "" },
    news: { importedSecrets: "" },
  },
  {
    name: "MachineConfigApply",
    provider: machineConfigApplyProvider,
    logic: LOGIC.apply.abs,
    olds: { node: "cp-1", address: "10.0.0.11", role: "controlplane", configHash: "h1", mode: "auto" },
    news: {
      node: "cp-1",
      address: "10.0.0.11",
      role: "controlplane",
      config: "c",
      configHash: "h2",
      talosVersion: "v1.13.9",
      ...MTLS,
    },
  },
  {
    name: "Bootstrap",
    provider: bootstrapProvider,
    logic: LOGIC.bootstrap.abs,
    olds: { clusterFingerprint: "f" },
    news: { node: "cp-1", address: "10.0.0.11", clusterFingerprint: "f", ...MTLS },
  },
  {
    name: "ClientConfigs",
    provider: clientConfigsProvider,
    logic: LOGIC.clientConfigs.abs,
    olds: { bundleHash: "x" },
    news: {
      secretsYaml: "s",
      clusterName: "homelab",
      endpoint: "https://10.0.0.5:6443",
      endpoints: ["10.0.0.11"],
    },
  },
  {
    name: "ClusterReady",
    provider: clusterReadyProvider,
    logic: LOGIC.ready.abs,
    olds: { generation: "a", nodes: [{ name: "cp-1", address: "10.0.0.11" }] },
    news: { generation: "b", nodes: [{ name: "cp-1", address: "10.0.0.11" }], kubeconfig: "k", ...MTLS },
  },
] as const;

/** Child: loads the serialized provider like the dynamic-provider host (module exporting `handler`), calls diff. */
const RUNNER = `
const fs = require("fs");
const Module = require("module");
const [file, oldsJson, newsJson] = process.argv.slice(2);
const tsBefore = Boolean(require.extensions[".ts"]);
const m = new Module(file, null);
m.filename = file;
m.paths = Module._nodeModulePaths(require("path").dirname(file));
m._compile(fs.readFileSync(file, "utf8"), file);
const provider = m.exports.handler();
provider.diff("id", JSON.parse(oldsJson), JSON.parse(newsJson)).then(
  (diff) => {
    const loaded = Object.keys(require.cache).filter((k) => k.includes("/components/talos/"));
    console.log(JSON.stringify({ ok: true, tsBefore, tsAfter: Boolean(require.extensions[".ts"]), diff, loaded, execArgv: process.execArgv }));
  },
  (e) => { console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e) })); },
);
`;

interface ChildResult {
  ok: boolean;
  error?: string;
  tsBefore: boolean;
  tsAfter: boolean;
  diff: { changes: boolean };
  loaded: string[];
  execArgv: string[];
}

function runChild(dir: string, text: string, olds: object, news: object, cwd: string): ChildResult {
  const file = path.join(dir, `provider-${Math.random().toString(36).slice(2)}.js`);
  fs.writeFileSync(file, text);
  const runner = path.join(dir, "runner.js");
  fs.writeFileSync(runner, RUNNER);
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [runner, file, JSON.stringify(olds), JSON.stringify(news)], {
    cwd,
    env,
    encoding: "utf8",
    timeout: 60_000,
  });
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  assert.ok(line.startsWith("{"), `child printed no result: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(line) as ChildResult;
}

describe("dynamic providers survive Pulumi's closure serialization", function () {
  this.timeout(120_000);
  let dir = "";
  const sizes: Record<string, number> = {};

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-providers-"));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    console.log(`      serialized sizes (bytes): ${JSON.stringify(sizes)}`);
  });

  for (const c of CASES) {
    it(`${c.name}: small, and runs in a plain node process, loading its TypeScript logic`, async () => {
      const sf = await pulumi.runtime.serializeFunction(() => c.provider, { allowSecrets: true });
      sizes[c.name] = sf.text.length;
      assert.ok(sf.text.length < 20_000, `${c.name} serialized to ${sf.text.length} bytes`);
      assert.equal(sf.containsSecrets, false);
      assert.ok(sf.text.includes(c.logic), "absolute logic path captured as a string");

      const r = runChild(dir, sf.text, c.olds, c.news, os.tmpdir());
      assert.equal(r.ok, true, r.error);
      assert.equal(r.tsBefore, false, "tsx must not be preloaded in the child");
      assert.deepEqual(r.execArgv, []);
      assert.equal(r.tsAfter, true, "the provider registered tsx itself");
      assert.ok(r.loaded.includes(c.logic), `logic module not loaded: ${r.loaded.join(", ")}`);
      assert.equal(typeof r.diff.changes, "boolean");
    });
  }

  // What the resources actually carry (LogicResource): the same provider as written-out module text.
  const REFS = {
    MachineSecrets: LOGIC.secrets,
    MachineConfigApply: LOGIC.apply,
    Bootstrap: LOGIC.bootstrap,
    ClientConfigs: LOGIC.clientConfigs,
    ClusterReady: LOGIC.ready,
  } as const;
  for (const c of CASES) {
    it(`${c.name}: the written-out provider module runs in a plain node process too`, () => {
      const text = providerModuleText(REFS[c.name]);
      assert.ok(text.length < 20_000, `${c.name} provider text is ${text.length} bytes`);
      const r = runChild(dir, text, c.olds, c.news, os.tmpdir());
      assert.equal(r.ok, true, r.error);
      assert.equal(r.tsBefore, false, "tsx must not be preloaded in the child");
      assert.equal(r.tsAfter, true, "the provider registered tsx itself");
      assert.ok(r.loaded.includes(c.logic), `logic module not loaded: ${r.loaded.join(", ")}`);
      assert.equal(typeof r.diff.changes, "boolean");
    });
  }

  it("falls back to the project-relative path when the absolute one is gone (moved checkout)", async () => {
    const c = CASES[1];
    const sf = await pulumi.runtime.serializeFunction(() => c.provider, { allowSecrets: true });
    const moved = sf.text
      .split(JSON.stringify(c.logic).slice(1, -1))
      .join("/nonexistent/old-checkout/apply.ts");
    assert.notEqual(moved, sf.text);
    const r = runChild(dir, moved, c.olds, c.news, PROJECT_ROOT);
    assert.equal(r.ok, true, r.error);
    assert.equal(r.diff.changes, true);
  });
});
