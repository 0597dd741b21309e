/**
 * Starts the pack exactly as the Pulumi CLI does — cwd policy/, `node
 * ./node_modules/@pulumi/pulumi/cmd/run-policy-pack <engine> .` — and talks to it over gRPC like the
 * engine: GetAnalyzerInfo, Analyze on one resource, AnalyzeStack on a whole (broken) stack. Proves
 * the folder resolves its modules, loads TypeScript and serves every policy. Loopback only.
 */
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import {
  type AnalyzeDiagnostic,
  AnalyzeRequest,
  type AnalyzeResponse,
  type AnalyzerInfo,
  AnalyzerResource,
  AnalyzerResourceOptions,
  AnalyzeStackRequest,
} from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { policies } from "../../policy/policies";
import { PROJECT_ROOT } from "../helpers/shared";
import { brokenStack } from "./broken";
import { type ResourceSpec, urnOf } from "./harness";

const POLICY_DIR = path.join(PROJECT_ROOT, "policy");
const LAUNCHER = "./node_modules/@pulumi/pulumi/cmd/run-policy-pack";

function startPack(): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LAUNCHER, "127.0.0.1:1", "."], {
      cwd: POLICY_DIR,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const timer = setTimeout(
      () => reject(new Error(`pack printed no port within 120 s; stderr:\n${err}`)),
      120_000,
    );
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), stderr: () => err });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`pack exited (${code}) before serving; stdout:\n${out}\nstderr:\n${err}`));
    });
  });
}

function call<Req, Res>(
  fn: (req: Req, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (e, r) => (e ? reject(e) : resolve(r))));
}

function toProto(spec: ResourceSpec): AnalyzerResource {
  const opts = new AnalyzerResourceOptions();
  opts.setProtect(spec.protect ?? false);
  const r = new AnalyzerResource();
  r.setUrn(spec.urn ?? urnOf(spec.type, spec.name));
  r.setType(spec.type);
  r.setName(spec.name);
  r.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(spec.props ?? {}))));
  r.setOptions(opts);
  if (spec.parentUrn) r.setParent(spec.parentUrn);
  return r;
}

function summary(diags: readonly AnalyzeDiagnostic[]): string[] {
  return diags.map((d) => `${d.getPolicyname()} @ ${d.getUrn().split("::").pop()}`).sort();
}

describe("policy pack under the CLI's launcher", function () {
  this.timeout(180_000);
  let pack: { child: ChildProcess; port: number; stderr: () => string } | undefined;
  let client: AnalyzerClient | undefined;

  before(async function () {
    if (!fs.existsSync(path.join(POLICY_DIR, LAUNCHER))) {
      console.log("      skipped: policy/node_modules is not linked (run: npm run policy:install)");
      this.skip();
    }
    pack = await startPack();
    client = new AnalyzerClient(`127.0.0.1:${pack.port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    pack?.child.kill();
  });

  it("serves every policy with its enforcement level and config schema", async () => {
    assert.ok(client);
    const info = await call<Empty, AnalyzerInfo>(client.getAnalyzerInfo.bind(client), new Empty());
    assert.equal(info.getName(), "proxmox-talos");
    assert.equal(info.getSupportsconfig(), true);
    const served = info
      .getPoliciesList()
      .map((p) => p.getName())
      .sort();
    assert.deepEqual(served, policies.map((p) => p.name).sort());
  });

  it("Analyze flags a VM below the memory minimum", async () => {
    assert.ok(client);
    const vm = brokenStack().find((r) => r.name === "cp-2" && r.type.endsWith(":VmLegacy"));
    assert.ok(vm);
    const r = toProto(vm);
    const req = new AnalyzeRequest();
    req.setUrn(r.getUrn());
    req.setType(r.getType());
    req.setName(r.getName());
    req.setProperties(r.getProperties());
    req.setOptions(r.getOptions());
    const res = await call<AnalyzeRequest, AnalyzeResponse>(client.analyze.bind(client), req);
    assert.deepEqual(
      res.getDiagnosticsList().map((d) => d.getPolicyname()),
      ["vm-minimum-memory"],
    );
    assert.match(res.getDiagnosticsList()[0].getMessage(), /1536 MiB/);
  });

  it("AnalyzeStack reports the broken stack's stack-level violations", async () => {
    assert.ok(client);
    const req = new AnalyzeStackRequest();
    req.setResourcesList(brokenStack().map(toProto));
    const res = await call<AnalyzeStackRequest, AnalyzeResponse>(client.analyzeStack.bind(client), req);
    assert.deepEqual(summary(res.getDiagnosticsList()), [
      "cluster-metallb-pools-disjoint @ homelab",
      "cluster-talos-kubernetes-supported @ homelab",
      "cluster-vip-free @ homelab",
      "credentials-only-in-secret-outputs @ proxmox-talos-homelab",
      "proxmox-provider-tls-verified @ proxmox",
      "vm-protected-in-production @ cp-1",
      "vm-protected-in-production @ cp-2",
      "vm-protected-in-production @ cp-3",
      "vm-protected-in-production @ worker-1",
    ]);
  });
});
