/**
 * The REAL engine (built by `npm run engine`) end to end: an inline program with one dynamic
 * resource whose provider requires a TypeScript module, on a temp file backend — up, a second
 * preview with no changes, destroy. Skipped with a message when the engine is not built.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { runOperation } from "../../stacks/commands/operation";
import type { Context } from "../../stacks/context";
import { type OpenedStack, openStack } from "../../stacks/workspace";
import { ENGINE_BIN, requireEngine, writeProject } from "../helpers/engine";
import { type Capture, capture } from "../stacks/harness";

const HELPER = path.join(__dirname, "fixtures", "greeting.ts");

const greetingProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: Record<string, string>) {
    // A TypeScript module, required inside the provider process: needs the launcher's tsx hook.
    const helper = require(HELPER) as { greet(name: string): { text: string } };
    return {
      id: `greeting-${inputs.name}`,
      outs: { name: inputs.name, text: helper.greet(inputs.name).text },
    };
  },
};

class Greeting extends pulumi.dynamic.Resource {
  declare readonly text: pulumi.Output<string>;
  constructor(name: string, args: { name: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super(greetingProvider, name, { text: undefined, ...args }, opts);
  }
}

async function program(): Promise<Record<string, unknown>> {
  const g = new Greeting("hello", { name: "engine" });
  return { text: g.text, token: pulumi.secret("s3cr3t-value") };
}

describe("real engine smoke (inline program, dynamic provider, file backend)", function () {
  this.timeout(300_000);
  let dir = "";
  let opened: OpenedStack | undefined;
  const timings: Record<string, number> = {};

  before(function () {
    requireEngine(this, "pulumi-resource-pulumi-nodejs");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-smoke-"));
    writeProject(dir);
    // No addons (Cilium is on by default), so the runner's plugin check asks for no plugin.
    fs.writeFileSync(
      path.join(dir, "Pulumi.smoke.yaml"),
      "config:\n  proxmox-talos:addons:\n    cilium:\n      enabled: false\n",
    );
  });

  after(async () => {
    if (opened) await opened.workspace.removeStack(opened.stack.name, { force: true }).catch(() => undefined);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (Object.keys(timings).length > 0) console.log(`      engine timings: ${JSON.stringify(timings)}`);
  });

  async function run(op: "up" | "preview" | "destroy", out: Capture) {
    assert.ok(opened);
    const ctx: Context = { out, err: capture(), mode: "plain", workspace: {} };
    const t0 = Date.now();
    const r = await runOperation(ctx, opened, op);
    timings[op === "preview" ? "preview2" : op] ??= Date.now() - t0;
    return r;
  }

  it("up creates the dynamic resource through the TS-loading provider launcher", async () => {
    const env = { ...process.env, PULUMI_CONFIG_PASSPHRASE: "engine-smoke" };
    const t0 = Date.now();
    opened = await openStack("smoke", "create", {
      projectRoot: dir,
      env,
      pulumiCommand: await PulumiCommand.get({ root: path.dirname(ENGINE_BIN) }),
      program,
    });
    timings.createStack = Date.now() - t0;
    const out = capture();
    const r = await run("up", out);
    assert.equal(r.ok, true, out.text);
    assert.equal(r.outputs.text?.value, "hello engine");
    assert.equal(r.outputs.token?.secret, true);
    assert.match(out.text, /^\[up smoke\] \d+\/\d+ create pulumi-nodejs:dynamic:Resource hello/m);
    assert.match(out.text, /^ {2}token: \[secret\]$/m);
    assert.ok(!out.text.includes("s3cr3t-value"));
    const state = fs.readFileSync(
      path.join(dir, ".pulumi", ".pulumi", "stacks", "proxmox-talos", "smoke.json"),
      "utf8",
    );
    assert.ok(!state.includes("s3cr3t-value"), "secret output stored in plain text");
  });

  it("a second preview shows no changes", async () => {
    const out = capture();
    const r = await run("preview", out);
    assert.equal(r.ok, true, out.text);
    assert.match(out.text, /^\[preview smoke\] succeeded in \d+s — same 2$/m);
  });

  it("an engine that cannot be reached before the program starts fails the preview; no removal is planned", async () => {
    // What the flake did (a stale gRPC subchannel, see stacks/inline-runtime.ts): the run's first
    // engine call, SetRootResource, fails with UNAVAILABLE. Here the run is given a refused engine
    // address. Unguarded, the SDK swallows the error, the program never runs and the preview
    // "succeeds" with `delete 1, same 1`: hello and its default provider planned for deletion.
    type ResetOptions = (...args: unknown[]) => void;
    const sdk = require("@pulumi/pulumi/runtime/settings") as { resetOptions: ResetOptions };
    const original = sdk.resetOptions;
    sdk.resetOptions = (project, stack, parallel, _engineAddr, ...rest) =>
      original(project, stack, parallel, "127.0.0.1:1", ...rest);
    try {
      const out = capture();
      const r = await run("preview", out);
      assert.equal(r.ok, false, out.text);
      assert.match(r.error ?? "", /the program never started: the engine connection failed before it/);
      assert.doesNotMatch(out.text, /delete/);
    } finally {
      sdk.resetOptions = original;
    }
  });

  it("destroy removes everything", async () => {
    const out = capture();
    const r = await run("destroy", out);
    assert.equal(r.ok, true, out.text);
    assert.match(out.text, /^\[destroy smoke\] succeeded in \d+s — delete 2$/m);
  });
});
