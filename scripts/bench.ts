/**
 * `npm run bench`: a benchmark, not a test. Prints secrets-bundle generation time, machine-config
 * render time for 3, 10 and 50 nodes, and the program's evaluation time under Pulumi mocks for
 * 3, 10 and 50 nodes — the program alone: every run shares ONE secrets bundle (generating its
 * RSA-4096 keys would otherwise dominate), and a warm-up run loads the modules first. The goal is
 * 50 nodes in at most twice the time of 3.
 */
import { performance } from "node:perf_hooks";
import { renderMachineConfig } from "../components/talos/machineconfig/render";
import { generateSecretsBundle, serializeSecretsYaml } from "../components/talos/pki/secrets";
import { installerImage } from "../components/talos/schematic";
import { DEFAULT_KUBERNETES_VERSION, DEFAULT_TALOS_VERSION } from "../components/versions";
import { generatedStackConfig, runProgram } from "../tests/helpers/program";
import { talosMockState } from "../tests/talos-cluster/mock-state";

async function time<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

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
          podSubnets: ["10.244.0.0/16"],
          serviceSubnets: ["10.96.0.0/12"],
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
  for (const count of [3, 10, 50]) {
    const runs: number[] = [];
    let resources = 0;
    for (let i = 0; i < 3; i++) {
      const [rec, ms] = await time(() => program(count));
      runs.push(ms);
      resources = rec.resources.length;
    }
    median[count] = [...runs].sort((a, b) => a - b)[1]!;
    console.log(
      `program evaluation under mocks, ${count} nodes: ${runs.map((m) => m.toFixed(0)).join(", ")} ms ` +
        `(3 runs, one shared bundle; ${resources} resources)`,
    );
  }
  const ratio = median[50]! / median[3]!;
  console.log(`50 nodes / 3 nodes (medians): ${ratio.toFixed(2)} (goal: at most 2)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
