import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../../components/config/errors";
import { validateStackConfig } from "../../components/config/validate";
import { clusterPlan } from "../../components/plan";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import { nodeConfigInput } from "../../components/talos/talos-cluster";
import type { SecretsBundle } from "../../components/talos/types";
import { SUPPORTED_TALOS_MINORS, talosMinorFacts } from "../../components/talos-minors";
import { SAMPLE_SECRETS, sampleRaw } from "../helpers/sample-stack";
import { hasOracle, runOracle, tempDir } from "../helpers/shared";
import { oracleBundle } from "../talos/fixtures-machineconfig";
import { Gen, randomCase } from "../talos/patch-generator";

/**
 * Seeded random differential of whole stack files against Sidero's machinery: random stacks over
 * the config keys that reach the machine config (versions, cluster name, network, subnets, CNI and
 * kube-proxy, control-plane settings, nodes, install disks, data disks, disk encryption, kernel
 * arguments, OpenEBS, monitoring's Talos settings, and patches from tests/talos/patch-generator.ts), each through the program's own
 * validation. Every stack the program ACCEPTS must pair versions Talos supports (`talos-oracle
 * compat`) and render node configs that `talos-oracle-<minor> validate` (Talos' loader and
 * Validate, strict) accepts; a stack the program
 * refuses must be refused with config issues (key, message, fix), never with another error.
 * `STACK_DIFF_CASES` (default 400) and `STACK_DIFF_SEED` override the size and the seed.
 */
const CASES = Number(process.env.STACK_DIFF_CASES ?? 400);
const SEED = Number(process.env.STACK_DIFF_SEED ?? 20261201);

type Raw = Record<string, unknown>;

/** Node networks and addresses inside them (gateway, VIP, nodes, a DNS server, a MetalLB range). */
const NETWORKS = [
  { cidr: "192.168.50.0/24", host: (n: number) => `192.168.50.${n}` },
  { cidr: "10.20.0.0/16", host: (n: number) => `10.20.0.${n}` },
  { cidr: "172.16.4.0/22", host: (n: number) => `172.16.${4 + (n >> 8)}.${n & 255}` },
  { cidr: "10.10.10.0/28", host: (n: number) => `10.10.10.${n % 16}` },
];
const POD_SUBNETS = [
  ["10.244.0.0/16"],
  ["10.42.0.0/16"],
  ["10.0.0.0/16"],
  ["fd00:10:244::/56"],
  ["10.244.0.0/16", "fd00:10:244::/56"],
  ["192.168.50.0/24"],
  ["10.244.0.0/30"],
];
const SERVICE_SUBNETS = [
  ["10.96.0.0/12"],
  ["10.43.0.0/16"],
  ["fd00:10:96::/112"],
  ["10.96.0.0/12", "fd00:10:96::/112"],
  ["10.244.0.0/16"],
  ["10.96.0.0/28"],
];

/** Data disks (Talos user volumes): names, sizes and CEL selectors, valid and borderline. */
function randomDataDisks(g: Gen): Raw[] {
  const names = ["data", "longhorn", "a", "x".repeat(20), "db-1"];
  return Array.from({ length: 1 + g.int(2) }, (_, i) => ({
    name: i === 0 ? g.pick(names) : `extra${i}`,
    sizeGiB: g.pick([2, 10, 100, 4096]),
    ...(g.chance(0.3)
      ? {
          selector: g.pick([
            'disk.serial == "data"',
            "disk.size > 10u * GiB",
            "!disk.rotational",
            'disk.transport == "nvme" && disk.size >= 100u * GB',
            "system_disk == false",
          ]),
        }
      : {}),
  }));
}

function randomStack(g: Gen): Raw {
  const raw = sampleRaw();
  const minor = g.pick(SUPPORTED_TALOS_MINORS);
  const facts = talosMinorFacts(minor)!;
  const [major, kmax] = facts.kubernetes.maxMinor.split(".").map(Number) as [number, number];
  raw.talosVersion = `${minor}.${g.pick([0, 1, 5])}`;
  raw.kubernetesVersion = `${major}.${kmax - g.int(7) + 1}.${g.int(4)}`;
  raw.clusterName = g.pick(["homelab", "h", "lab-2", "a".repeat(63), "k8s", "0lab", "lab-"]);
  const net = g.pick(NETWORKS);
  const addons = (raw.addons ?? {}) as Raw;
  raw.network = {
    cidr: net.cidr,
    gateway: net.host(1),
    // Loopback and 0.0.0.0 are refused (core-refusals): Talos' own resolver cache is at 127.0.0.53.
    dnsServers: g.chance(0.15)
      ? g.pick([["127.0.0.53"], ["0.0.0.0"]])
      : g.pick([
          [net.host(1)],
          ["1.1.1.1", "9.9.9.9"],
          [net.host(1), "1.1.1.1", "8.8.8.8"],
          ["1.1.1.1", "1.1.1.1"],
        ]),
    bridge: "vmbr0",
    cni: g.pick(["cilium", "flannel"]),
    ...(g.chance(0.3) ? { kubeProxy: g.chance(0.5) } : {}),
    ...(g.chance(0.3) ? { podSubnets: g.pick(POD_SUBNETS) } : {}),
    ...(g.chance(0.3) ? { serviceSubnets: g.pick(SERVICE_SUBNETS) } : {}),
  };
  const cpCount = g.pick([1, 1, 3, 3, 2]);
  const workers = g.int(3);
  const nodes: Raw[] = [];
  const hasClasses = g.chance(0.4);
  for (let i = 0; i < cpCount + workers; i++) {
    const role = i < cpCount ? "controlplane" : "worker";
    nodes.push({
      name: role === "controlplane" ? `cp-${i + 1}` : `worker-${i - cpCount + 1}`,
      role,
      proxmoxNode: g.pick(["pve1", "pve2"]),
      vmId: 8100 + i,
      ip: net.host(11 + i),
      ...(g.chance(0.2) ? { installDisk: g.pick(["/dev/sda", "/dev/sda", "/dev/sda", "/dev/vda"]) } : {}),
      ...(g.chance(0.25) ? { dataDisks: randomDataDisks(g) } : {}),
      ...(g.chance(0.15) ? { security: { diskEncryption: g.pick(["none", "nodeID", "tpm"]) } } : {}),
      ...(g.chance(0.15)
        ? {
            image: {
              extraKernelArgs: [g.pick(["net.ifnames=0", "console=ttyS0", "talos.dashboard.disabled=1"])],
            },
          }
        : {}),
      ...(hasClasses && g.chance(0.4) ? { class: g.pick(["gpu", "storage", "gpu", "nope"]) } : {}),
    });
  }
  raw.nodes = nodes;
  if (hasClasses) {
    // Node classes: extensions (NVIDIA's add kernel modules to the machine config), META, data disks.
    raw.nodeClasses = {
      gpu: {
        image: {
          extensions: [
            g.pick([
              "siderolabs/nvidia-open-gpu-kernel-modules-production",
              "siderolabs/nonfree-kmod-nvidia-production",
              "siderolabs/i915",
              "siderolabs/amdgpu",
            ]),
          ],
          ...(g.chance(0.3) ? { meta: [{ key: g.pick([12, 13, 10]), value: "x=1" }] } : {}),
        },
      },
      storage: { dataDisks: [{ name: "data", sizeGiB: g.pick([50, 500]) }] },
    };
  }
  raw.controlPlane = {
    vip: net.host(g.pick([10, 10, 5, 9, 9, 11, 1])),
    // Without a worker the addons' pods need the control planes (refused otherwise, core-refusals).
    ...(workers === 0 && g.chance(0.8)
      ? { allowSchedulingOnControlPlanes: true }
      : g.chance(0.3)
        ? { allowSchedulingOnControlPlanes: g.chance(0.5) }
        : {}),
    ...(g.chance(0.2)
      ? { endpoint: g.pick([`https://${net.host(10)}:6443`, "https://k8s.home.arpa:6443"]) }
      : {}),
    ...(cpCount % 2 === 0 ? { allowEvenCount: true } : {}),
  };
  if (g.chance(0.3)) {
    // Patches from the patcher's own differential generator, at a role's key or a node's.
    const role = g.pick(["controlplane", "worker"] as const);
    const patches = randomCase(g, minor, role);
    if (g.chance(0.5)) raw.patches = { [g.pick(["all", role])]: patches };
    else {
      const node = g.pick(nodes.filter((n) => n.role === role).concat(nodes[0]!));
      node.patches = patches;
    }
  }
  if (g.chance(0.15)) raw.security = { secureBoot: true, diskEncryption: g.pick(["tpm", "nodeID"]) };
  raw.addons = {
    ...addons,
    cilium: { enabled: (raw.network as Raw).cni === "cilium" },
    ...(g.chance(0.4) ? { openebs: { enabled: true, ...(g.chance(0.3) ? { dataDisk: "data" } : {}) } } : {}),
    // Monitoring adds its own control-plane patch (metrics listeners) before the stack's.
    ...(g.chance(0.25) ? { monitoring: { enabled: true } } : {}),
    metallb: g.chance(0.5)
      ? { enabled: true, pools: [{ name: "default", addresses: [`${net.host(200)}-${net.host(210)}`] }] }
      : { enabled: false },
  };
  return raw;
}

describe("stack files: differential against Talos' machinery (talos-oracle validate)", function () {
  this.timeout(600_000);
  let bundle: SecretsBundle;
  let dir: string;

  before(function () {
    const missing = SUPPORTED_TALOS_MINORS.filter((m) => !hasOracle(m));
    if (missing.length > 0) {
      console.log(`      skipped: talos-oracle not built for ${missing.join(", ")} (.ci/run builds it)`);
      this.skip();
    }
    bundle = oracleBundle().bundle;
    dir = tempDir("pt-stack-diff-");
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`${CASES} random stacks: every accepted one renders configs Talos accepts, every refusal is a config issue`, () => {
    const g = new Gen(SEED);
    let accepted = 0;
    let refused = 0;
    const mismatches: string[] = [];
    for (let c = 0; c < CASES; c++) {
      const raw = randomStack(g);
      const label = `case ${c} (Talos ${raw.talosVersion}, Kubernetes ${raw.kubernetesVersion})`;
      let cfg: ReturnType<typeof validateStackConfig>;
      try {
        cfg = validateStackConfig(raw, SAMPLE_SECRETS);
      } catch (e) {
        if (!(e instanceof ConfigError)) {
          mismatches.push(`${label}: refused with a non-config error: ${(e as Error).stack}`);
          continue;
        }
        for (const issue of e.issues) {
          if (!issue.path || !issue.message) {
            mismatches.push(`${label}: an issue without key or message: ${JSON.stringify(issue)}`);
          }
        }
        refused++;
        if (process.env.STACK_DIFF_SHOW) for (const i of e.issues) console.log(`${i.path}: ${i.message}`);
        continue;
      }
      accepted++;
      const plan = clusterPlan(cfg);
      const minor = String(raw.talosVersion).split(".").slice(0, 2).join(".");
      const files = plan.talos.nodes.map((node) => {
        const file = path.join(dir, `${c}-${node.name}.yaml`);
        fs.writeFileSync(file, renderMachineConfig(nodeConfigInput(plan.talos, node, bundle)), {
          mode: 0o600,
        });
        return file;
      });
      const compat = runOracle(minor, ["compat", String(raw.talosVersion), String(raw.kubernetesVersion)]);
      if (compat.status !== 0) mismatches.push(`${label}: accepted, Talos refuses: ${compat.stdout.trim()}`);
      const verdict = runOracle(minor, ["validate", ...files]);
      if (verdict.status !== 0) {
        mismatches.push(
          `${label}: accepted, Talos refuses: ${(verdict.stdout + verdict.stderr).trim()}\n${JSON.stringify({ network: raw.network, controlPlane: raw.controlPlane, nodes: raw.nodes })}`,
        );
      }
    }
    console.log(
      `      ${CASES} stacks (seed ${SEED}): ${accepted} accepted, ${refused} refused, ${mismatches.length} mismatches`,
    );
    assert.deepEqual(mismatches, []);
    assert.ok(accepted >= CASES / 15, `too few accepted stacks to mean anything (${accepted})`);
  });
});
