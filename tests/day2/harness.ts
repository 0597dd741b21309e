/**
 * A small fake cluster for the day-2 tests: fake Talos nodes (normal mode, real rendered configs,
 * one shared etcd membership) mirrored into a fake Kubernetes API (NotReady while a node is down,
 * Ready with the kubelet version of its config when it is up), and the inputs the rollout and
 * membership logic take — the same shape `TalosCluster` gives its dynamic resources.
 */
import * as crypto from "node:crypto";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import { generateSecretsBundle, serializeSecretsYaml } from "../../components/talos/pki/secrets";
import { credentialsFromTalosconfig } from "../../components/talos/resources/credentials";
import * as clientConfigsLogic from "../../components/talos/resources/logic/client-configs";
import { sha256Hex } from "../../components/talos/resources/logic/common";
import { nodeConfigInput, rolloutGroups, type TalosClusterArgs } from "../../components/talos/talos-cluster";
import type { SecretsBundle } from "../../components/talos/types";
import { FakeKubeApi } from "../fakes/kube-api";
import { FakeEtcdCluster, FakeTalosNode } from "../fakes/talos-node";
import { image } from "../helpers/talos-image";

export interface NodeSpec {
  readonly name: string;
  readonly role: "controlplane" | "worker";
}

/** 3 control planes + 2 workers. */
export const FIVE_NODES: readonly NodeSpec[] = [
  { name: "cp-1", role: "controlplane" },
  { name: "cp-2", role: "controlplane" },
  { name: "cp-3", role: "controlplane" },
  { name: "w-1", role: "worker" },
  { name: "w-2", role: "worker" },
];

/** The network part of TalosCluster's args the fake clusters use. */
export const TEST_NETWORK: TalosClusterArgs["network"] = {
  dnsServers: ["127.0.0.1"],
  cni: "cilium",
  kubeProxy: false,
  podSubnets: ["10.244.0.0/16"],
  serviceSubnets: ["10.96.0.0/12"],
};

export interface Versions {
  readonly talos: string;
  readonly kubernetes: string;
  readonly schematic?: string;
}

export const quiet = (_m: string): void => undefined;

/** The TalosCluster args every fake cluster shares, with the fake Kubernetes API at `endpoint`. */
export function fakeClusterArgs(
  endpoint: string,
  v: Versions,
): Omit<TalosClusterArgs, "nodes" | "importedSecrets"> {
  return {
    clusterName: "homelab",
    endpoint,
    vip: "127.0.0.5",
    talosVersion: v.talos,
    kubernetesVersion: v.kubernetes,
    installImage: image(v.talos, v.schematic),
    network: TEST_NETWORK,
    allowSchedulingOnControlPlanes: false,
    openebsHostpath: false,
  };
}

export class FakeCluster {
  readonly nodes = new Map<string, FakeTalosNode>();
  readonly etcd = new FakeEtcdCluster();
  kube!: FakeKubeApi;
  bundle!: SecretsBundle;
  secretsYaml = "";
  kubeconfig = "";
  creds!: { osCa: string; clientCert: string; clientKey: string };

  /**
   * How the fake Kubernetes API follows the nodes. Default: NotReady at once when a node goes down,
   * Ready with a new boot id when it is up. `staleReadyMs`: like the real node controller, Ready
   * stays True (and the node cordoned, as Talos does for an upgrade) while it is down and until
   * this long after it is up.
   */
  staleReadyMs: number | undefined;
  /** When each node last got a new boot id in the fake API. */
  readonly bootedAt = new Map<string, number>();

  private constructor(readonly specs: readonly NodeSpec[]) {}

  mirror(n: FakeTalosNode, event: "down" | "up" | "applied"): void {
    const name = n.hostname;
    if (!this.kube.node(name)) return; // deleted by a scale-down
    if (event === "down") {
      this.kube.setNode(name, this.staleReadyMs === undefined ? { ready: false } : { unschedulable: true });
      return;
    }
    const up = () => {
      if (!this.kube.node(name)) return;
      this.kube.setNode(name, {
        ready: true,
        unschedulable: false,
        kubeletVersion: n.kubeletVersion,
        ...(event === "up" ? { bootId: crypto.randomUUID() } : {}),
      });
      if (event === "up") this.bootedAt.set(name, Date.now());
    };
    if (this.staleReadyMs === undefined || event === "applied") up();
    else setTimeout(up, this.staleReadyMs);
  }

  static async start(specs: readonly NodeSpec[], v: Versions, o: { rebootDelayMs?: number } = {}) {
    const c = new FakeCluster(specs);
    c.bundle = await generateSecretsBundle();
    c.secretsYaml = serializeSecretsYaml(c.bundle);
    c.kube = await FakeKubeApi.start({ ca: c.bundle.certs.k8s, evictionDelayMs: 10 });
    const cfg = await clientConfigsLogic.generate({
      secretsYaml: c.secretsYaml,
      clusterName: "homelab",
      endpoint: c.kube.url,
      endpoints: ["127.0.0.1"],
      nodes: ["127.0.0.1"],
    });
    c.kubeconfig = cfg.kubeconfig;
    c.creds = credentialsFromTalosconfig(cfg.talosconfig);
    for (const s of specs) {
      const node = await FakeTalosNode.start({
        hostname: s.name,
        osCa: c.bundle.certs.os,
        config: c.config(s, v),
        etcd: c.etcd,
        rebootDelayMs: o.rebootDelayMs ?? 150,
        onChange: (n, event) => c.mirror(n, event),
      });
      c.nodes.set(s.name, node);
      c.kube.addNode(s.name, { ready: true, kubeletVersion: node.kubeletVersion });
    }
    c.etcd.bootstrapped = true;
    c.etcd.joinAll();
    return c;
  }

  node(name: string): FakeTalosNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no fake node ${name}`);
    return n;
  }

  clusterArgs(v: Versions): Omit<TalosClusterArgs, "nodes" | "importedSecrets"> {
    return fakeClusterArgs(this.kube?.url ?? "https://127.0.0.1:6443", v);
  }

  config(s: NodeSpec, v: Versions): string {
    return renderMachineConfig(nodeConfigInput(this.clusterArgs(v), { ...s, ip: "127.0.0.1" }, this.bundle));
  }

  /** `MachineConfigApply` inputs of a node at versions `v`, as TalosCluster passes them. */
  applyInputs(s: NodeSpec, v: Versions, o: { timeoutSeconds?: number } = {}): Record<string, unknown> {
    const config = this.config(s, v);
    return {
      node: s.name,
      address: this.node(s.name).address,
      role: s.role,
      config,
      configHash: sha256Hex(config),
      talosVersion: `v${v.talos}`,
      kubernetesVersion: v.kubernetes,
      installImage: image(v.talos, v.schematic),
      mode: "auto",
      ...this.creds,
      controlPlanes: this.specs
        .filter((x) => x.role === "controlplane" && this.nodes.has(x.name))
        .map((x) => ({ name: x.name, address: this.node(x.name).address })),
      kubeconfig: this.kubeconfig,
      checkKubernetes: true,
      resetOnDelete: false,
      timeoutSeconds: o.timeoutSeconds ?? 20,
    };
  }

  /** State of a node's apply as the engine holds it after an apply at versions `v`. */
  state(s: NodeSpec, v: Versions): Record<string, unknown> {
    return {
      ...this.applyInputs(s, v),
      appliedMode: "no_reboot",
      fromMaintenance: false,
      appliedAt: new Date().toISOString(),
    };
  }

  /** `ClusterMembership` inputs for a node list. */
  membershipInputs(specs: readonly NodeSpec[], o: { drainTimeoutSeconds?: number } = {}) {
    return {
      nodes: specs.map((s) => ({ name: s.name, role: s.role, address: this.node(s.name).address })),
      ...this.creds,
      kubeconfig: this.kubeconfig,
      checkKubernetes: true,
      drainTimeoutSeconds: o.drainTimeoutSeconds ?? 10,
      timeoutSeconds: 20,
    };
  }

  /** Rollout groups as TalosCluster chains them. */
  groups(batch = 1): NodeSpec[][] {
    return rolloutGroups(this.specs, batch);
  }

  async close(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.close()));
    await this.kube?.close();
  }
}

/** Down intervals [start, end] of a node from its timeline (rebooting/halted until normal). */
export function downIntervals(node: FakeTalosNode): [number, number][] {
  const out: [number, number][] = [];
  let start: number | undefined;
  for (const t of node.timeline) {
    if ((t.mode === "rebooting" || t.mode === "halted") && start === undefined) start = t.at;
    if (t.mode === "normal" && start !== undefined) {
      out.push([start, t.at]);
      start = undefined;
    }
  }
  if (start !== undefined) out.push([start, Number.POSITIVE_INFINITY]);
  return out;
}
