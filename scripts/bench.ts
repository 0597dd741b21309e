/**
 * `npm run bench`: a benchmark, not a test. Prints secrets-bundle generation time, machine-config
 * render time for 3, 10 and 50 nodes, and the program's evaluation time under Pulumi mocks for
 * 3, 10 and 50 nodes — the program alone: every run shares ONE secrets bundle (generating its
 * RSA-4096 keys would otherwise dominate), and a warm-up run loads the modules first. The goal is
 * 50 nodes in at most twice the time of 3.
 *
 * It also prints the SDKs' own floor: the resources each run registered, registered again through
 * the same SDK classes (plain `CustomResource`s/`ComponentResource`s for our own) with the same
 * inputs and no program logic. The SDKs' cost is linear in resources (the Pulumi SDK captures a
 * stack trace for every promise of every property a class declares), so that floor bounds the
 * ratio any program with these resources can reach.
 *
 * Last, what a user waits for: `npm run preview` starts a fresh process, so each size also runs in
 * its own new process (Node start, TypeScript loading, the SDK's and our modules, one evaluation),
 * timed from spawn to exit.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NETWORK_DEFAULTS } from "../components/defaults";
import { renderMachineConfig } from "../components/talos/machineconfig/render";
import { generateSecretsBundle, serializeSecretsYaml } from "../components/talos/pki/secrets";
import { installerImage } from "../components/talos/schematic";
import { DEFAULT_KUBERNETES_VERSION, DEFAULT_TALOS_VERSION } from "../components/versions";
import { type Recording, recordProgram } from "../tests/helpers/mocks";
import { generatedStackConfig, runProgram } from "../tests/helpers/program";
import { talosMockState } from "../tests/talos-cluster/mock-state";
import { writePrivateFile } from "./private-file";

async function time<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** Resources with no behaviour of their own (both SDK classes are abstract). */
class ReplayedCustom extends pulumi.CustomResource {}
class ReplayedComponent extends pulumi.ComponentResource {}

type Inputs = Record<string, unknown>;
/**
 * The third-party SDK classes the program registers, by type token: replayed through them, since
 * their constructors are part of the floor (a `VmLegacy` declares about 120 properties, and the
 * SDK makes four promises with a stack trace for each). The recorded inputs are what the program
 * gave those constructors.
 */
const SDK_CLASSES: Readonly<Record<string, (name: string, inputs: Inputs) => unknown>> = {
  "pulumi:providers:proxmoxve": (n, i) => new proxmox.Provider(n, i as proxmox.ProviderArgs),
  "proxmoxve:index/vmLegacy:VmLegacy": (n, i) =>
    new proxmox.VmLegacy(n, i as unknown as proxmox.VmLegacyArgs),
  "proxmoxve:download/file:File": (n, i) =>
    new proxmox.download.File(n, i as unknown as proxmox.download.FileArgs),
  "pulumi:providers:kubernetes": (n, i) => new kubernetes.Provider(n, i as kubernetes.ProviderArgs),
  "kubernetes:helm.sh/v3:Release": (n, i) =>
    new kubernetes.helm.v3.Release(n, i as unknown as kubernetes.helm.v3.ReleaseArgs),
  "kubernetes:core/v1:Namespace": (n, i) => new kubernetes.core.v1.Namespace(n, i),
};

/**
 * The recorded resources registered again with no program logic: what the SDKs alone cost. Custom
 * resources of other types (the Talos layer's dynamic resources, custom resources of CRDs) are
 * plain `CustomResource`s with the same inputs.
 */
function sdkOnly(rec: Recording): Promise<Recording> {
  return recordProgram(() => {
    for (const r of rec.resources) {
      const sdkClass = SDK_CLASSES[r.type];
      if (sdkClass) sdkClass(r.name, { ...r.inputs });
      else if (r.custom) new ReplayedCustom(r.type, r.name, { ...r.inputs });
      else new ReplayedComponent(r.type, r.name, {});
    }
    return {};
  });
}

const medianOf = (runs: readonly number[]) => [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;

async function main(): Promise<void> {
  const bundles: number[] = [];
  let bundle = await generateSecretsBundle();
  for (let i = 0; i < 3; i++) {
    const [b, ms] = await time(() => generateSecretsBundle());
    bundle = b;
    bundles.push(ms);
  }
  console.log(`secrets bundle generation: ${bundles.map((m) => m.toFixed(0)).join(", ")} ms (3 runs)`);

  for (const count of [3, 10, 50]) {
    const [, ms] = await time(() => {
      for (let i = 0; i < count; i++) {
        renderMachineConfig({
          talosVersion: DEFAULT_TALOS_VERSION,
          kubernetesVersion: DEFAULT_KUBERNETES_VERSION,
          clusterName: "bench",
          endpoint: "https://10.20.200.1:6443",
          role: i < 3 ? "controlplane" : "worker",
          hostname: `node-${i}`,
          nodeIp: `10.20.0.${i + 10}`,
          ...(i < 3 ? { vip: "10.20.200.1" } : {}),
          nameservers: ["10.20.255.254"],
          installImage: installerImage("factory.talos.dev", "0".repeat(64), DEFAULT_TALOS_VERSION, "nocloud"),
          cni: "none",
          kubeProxyDisabled: true,
          openebsHostpath: true,
          allowSchedulingOnControlPlanes: false,
          discovery: true,
          podSubnets: [...NETWORK_DEFAULTS.podSubnets],
          serviceSubnets: [...NETWORK_DEFAULTS.serviceSubnets],
          bundle,
        });
      }
    });
    console.log(`machine config render, ${count} nodes: ${ms.toFixed(0)} ms`);
  }

  const secretsYaml = serializeSecretsYaml(bundle);
  const program = (count: number) =>
    runProgram(generatedStackConfig(count), undefined, { newResource: talosMockState(secretsYaml) });
  await program(3); // warm-up: module loading is not the program
  const median: Record<number, number> = {};
  const sdkMedian: Record<number, number> = {};
  for (const count of [3, 10, 50]) {
    const runs: number[] = [];
    const sdkRuns: number[] = [];
    let rec: Recording | undefined;
    for (let i = 0; i < 3; i++) {
      const [r, ms] = await time(() => program(count));
      runs.push(ms);
      rec = r;
    }
    for (let i = 0; i < 3; i++) sdkRuns.push((await time(() => sdkOnly(rec!)))[1]);
    median[count] = medianOf(runs);
    sdkMedian[count] = medianOf(sdkRuns);
    console.log(
      `program evaluation under mocks, ${count} nodes: ${runs.map((m) => m.toFixed(0)).join(", ")} ms ` +
        `(3 runs, one shared bundle; ${rec!.resources.length} resources); ` +
        `the same resources with no program logic: ${sdkRuns.map((m) => m.toFixed(0)).join(", ")} ms`,
    );
  }
  const ratio = median[50]! / median[3]!;
  console.log(`50 nodes / 3 nodes (medians, warm process): ${ratio.toFixed(2)} (goal: at most 2)`);
  console.log(
    `SDK floor: registering the 50-node resources alone takes ${(sdkMedian[50]! / median[3]!).toFixed(2)}× ` +
      `the whole 3-node program (its own 50/3 ratio: ${(sdkMedian[50]! / sdkMedian[3]!).toFixed(2)}); ` +
      `our code's share at 50 nodes: ${(median[50]! - sdkMedian[50]!).toFixed(0)} ms`,
  );
  freshProcesses(secretsYaml);
}

/** One evaluation per new process, as `npm run preview` pays it; the shared bundle in a 0600 file. */
function freshProcesses(secretsYaml: string): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
  const file = path.join(dir, "secrets.yaml");
  writePrivateFile(file, secretsYaml);
  try {
    const median: Record<number, number> = {};
    for (const count of [3, 50]) {
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        // The same Node and TypeScript loader as this process (tsx's flags are in execArgv).
        const child = spawnSync(
          process.execPath,
          [...process.execArgv, __filename, ONCE, String(count), file],
          {
            stdio: "inherit",
          },
        );
        if (child.status !== 0) throw new Error(`the ${count}-node run exited with ${child.status}`);
        runs.push(performance.now() - start);
      }
      median[count] = medianOf(runs);
      console.log(
        `a fresh process (start, load, evaluate), ${count} nodes: ${runs.map((m) => m.toFixed(0)).join(", ")} ms`,
      );
    }
    console.log(
      `50 nodes / 3 nodes (medians, fresh process — what a user waits for): ${(median[50]! / median[3]!).toFixed(2)} (goal: at most 2)`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The child's flag: evaluate the program once for `count` nodes with the bundle in `file`, then exit. */
const ONCE = "--once";

async function once(count: number, file: string): Promise<void> {
  await runProgram(generatedStackConfig(count), undefined, {
    newResource: talosMockState(fs.readFileSync(file, "utf8")),
  });
}

const onceAt = process.argv.indexOf(ONCE);
(onceAt > 0 ? once(Number(process.argv[onceAt + 1]), process.argv[onceAt + 2]!) : main()).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
