/**
 * The monitoring addon's control-plane patch through the real render path (stack config →
 * `withPlatformPatches` → `nodeConfigInput` → `renderMachineConfig`): control planes open etcd's
 * metrics listener and bind controller-manager/scheduler to all addresses, workers are untouched,
 * a stack patch can still override it, and the rendered configs pass Sidero's own validation
 * (`talos-oracle validate`, strict metal mode) for every supported Talos minor.
 */
import * as assert from "node:assert/strict";
import { withPlatformPatches } from "../../components/addons/platform-cluster";
import { monitoringControlPlanePatch } from "../../components/addons/values/monitoring";
import { type PlainObject, parseYamlDocuments } from "../../components/talos/machineconfig/patch-yaml";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import { nodeConfigInput } from "../../components/talos/talos-cluster";
import { requireOracle, runOracle, tempDir } from "../helpers/shared";
import { image } from "../helpers/talos-image";
import { fakeBundle, MINORS, oracleBundle, VERSIONS, writeTemp } from "../talos/fixtures-machineconfig";

const NODES = [
  { name: "cp-1", role: "controlplane" as const, ip: "10.0.0.11", installDisk: "/dev/sda", patches: [] },
  { name: "worker-1", role: "worker" as const, ip: "10.0.0.21", installDisk: "/dev/sda", patches: [] },
];

function args(
  minor: (typeof MINORS)[number],
  monitoring: boolean,
  controlplane: Record<string, unknown>[] = [],
) {
  const v = VERSIONS[minor];
  return {
    clusterName: "homelab",
    endpoint: "https://10.0.0.10:6443",
    vip: "10.0.0.10",
    talosVersion: v.talos,
    kubernetesVersion: v.k8s,
    installImage: image(v.talos),
    network: {
      dnsServers: ["10.0.0.1"],
      cni: "cilium" as const,
      kubeProxy: false,
      podSubnets: ["10.244.0.0/16"],
      serviceSubnets: ["10.96.0.0/12"],
    },
    patches: withPlatformPatches(
      { all: [], controlplane, worker: [] },
      {
        monitoring: { enabled: monitoring },
      },
      v.talos,
    ),
    allowSchedulingOnControlPlanes: false,
    openebsHostpath: true,
  };
}

const clusterOf = (yaml: string): PlainObject =>
  (parseYamlDocuments(yaml)[0] as PlainObject).cluster as PlainObject;
const extraArgs = (cluster: PlainObject, component: string): unknown =>
  (cluster[component] as PlainObject | undefined)?.extraArgs;

describe("monitoring: the Talos control-plane patch", () => {
  it("opens etcd metrics and binds scheduler/controller-manager on control planes only", () => {
    const bundle = fakeBundle();
    const cp = clusterOf(renderMachineConfig(nodeConfigInput(args("1.13", true), NODES[0], bundle)));
    assert.deepEqual(extraArgs(cp, "etcd"), { "listen-metrics-urls": "http://0.0.0.0:2381" });
    assert.deepEqual(extraArgs(cp, "scheduler"), { "bind-address": "0.0.0.0" });
    assert.deepEqual(extraArgs(cp, "controllerManager"), { "bind-address": "0.0.0.0" });
    const worker = renderMachineConfig(nodeConfigInput(args("1.13", true), NODES[1], bundle));
    assert.equal(worker, renderMachineConfig(nodeConfigInput(args("1.13", false), NODES[1], bundle)));
    const off = clusterOf(renderMachineConfig(nodeConfigInput(args("1.13", false), NODES[0], bundle)));
    assert.equal(extraArgs(off, "etcd"), undefined);
  });

  it("comes before the stack's own control-plane patches, which may override it", () => {
    const own = { cluster: { etcd: { extraArgs: { "listen-metrics-urls": "http://10.0.0.11:2381" } } } };
    const a = args("1.13", true, [own]);
    assert.deepEqual(a.patches.controlplane, [monitoringControlPlanePatch(a.talosVersion), own]);
    const cp = clusterOf(renderMachineConfig(nodeConfigInput(a, NODES[0], fakeBundle())));
    assert.deepEqual(extraArgs(cp, "etcd"), { "listen-metrics-urls": "http://10.0.0.11:2381" });
  });

  describe("talos-oracle validate", function () {
    this.timeout(180_000);
    let secrets: ReturnType<typeof oracleBundle> | undefined;
    const dir = tempDir("pt-monitoring-");
    before(function () {
      requireOracle(this, "1.13");
      secrets = oracleBundle();
    });
    for (const minor of MINORS) {
      for (const node of NODES) {
        it(`Talos ${minor} ${node.role} with the monitoring patch passes validate`, function () {
          requireOracle(this, minor);
          const y = renderMachineConfig(nodeConfigInput(args(minor, true), node, secrets!.bundle));
          const file = writeTemp(dir, `${minor}-${node.role}.yaml`, y);
          const v = runOracle(minor, ["validate", file]);
          assert.equal(v.status, 0, v.stdout + v.stderr);
          assert.match(v.stdout, new RegExp(`valid for metal \\(${node.role}`));
          if (node.role === "controlplane") {
            assert.match(y, /listen-metrics-urls: http:\/\/0\.0\.0\.0:2381/);
            assert.equal(
              (y.match(/bind-address: 0\.0\.0\.0/g) ?? []).length,
              2,
              "scheduler and controller-manager",
            );
          }
        });
      }
    }
  });
});
