/**
 * `npm run bench`: a benchmark, not a test. Prints secrets-bundle generation time, machine-config
 * render time for 3, 10 and 50 nodes, and the program's evaluation time under Pulumi mocks for
 * 3, 10 and 50 nodes.
 */
import { performance } from "node:perf_hooks";
import { renderMachineConfig } from "../components/talos/machineconfig";
import { installerImage } from "../components/talos/schematic";
import { generateSecretsBundle } from "../components/talos/secrets";
import { DEFAULT_KUBERNETES_VERSION, DEFAULT_TALOS_VERSION } from "../components/versions";
import { generatedStackConfig, runProgram } from "../tests/helpers/program";

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

  for (const count of [3, 10, 50]) {
    const [rec, ms] = await time(() => runProgram(generatedStackConfig(count)));
    console.log(
      `program evaluation under mocks, ${count} nodes: ${ms.toFixed(0)} ms (${rec.resources.length} resources)`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
