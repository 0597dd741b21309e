/**
 * The fake-cluster world of the suites that drive `TalosCluster` through the REAL engine
 * (tests/backup, tests/day2, tests/hardware, tests/engine/production-guards): fake Talos nodes on
 * loopback sharing one simulated etcd, mirrored into a fake Kubernetes API whose CA is the
 * bundle's; an inline stack in a temp dir (see ./engine.ts); teardown of all of it.
 *
 *   const world = engineClusterSuite({ ..., program: async (w) => {
 *     w.cluster({ talosVersion, nodes: SPECS.map((s) => w.nodeArgs(s)) }); return {}; } });
 *
 * registers the suite's `before`/`after` (skipping the suite without the engine); the suite keeps
 * its own nodes' extras (fake VMs, patches), pods and scenario. The program runs at every
 * preview/up, so it reads the suite's current settings.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { generateSecretsBundle, serializeSecretsYaml } from "../../components/talos/pki/secrets";
import {
  TalosCluster,
  type TalosClusterArgs,
  type TalosNodeArgs,
} from "../../components/talos/talos-cluster";
import type { SecretsBundle } from "../../components/talos/types";
import { fakeClusterArgs, type NodeSpec } from "../day2/harness";
import { FakeKubeApi } from "../fakes/kube-api";
import { FakeEtcdCluster, FakeTalosNode } from "../fakes/talos-node";
import { inlineStack, requireEngine } from "./engine";

/** The Kubernetes version of every engine suite's cluster (the fake API's nodes start on it). */
export const KUBERNETES_VERSION = "1.35.2";

export interface EngineClusterOptions {
  /** Also names the suite's temp dir (it holds the project, the state and the suite's own files). */
  readonly stackName: string;
  readonly specs: readonly NodeSpec[];
  /** Simulated reboot of every fake node; default 200 ms. */
  readonly rebootDelayMs?: number;
  /** The inline program; its outputs are the stack's. */
  readonly program: (world: EngineCluster) => Promise<Record<string, unknown>>;
}

/** Everything a suite's program and assertions reach; set up by the suite's `before`. */
export class EngineCluster {
  dir = "";
  bundle!: SecretsBundle;
  /** The bundle the program imports as `talosSecrets`; a suite may swap it between runs. */
  secretsYaml = "";
  readonly nodes = new Map<string, FakeTalosNode>();
  readonly etcd = new FakeEtcdCluster();
  private kubeApi: FakeKubeApi | undefined;
  private inline: Stack | undefined;

  constructor(readonly specs: readonly NodeSpec[]) {}

  get kube(): FakeKubeApi {
    if (!this.kubeApi) throw new Error("the engine cluster is not started (its before hook did not run)");
    return this.kubeApi;
  }

  get stack(): Stack {
    if (!this.inline) throw new Error("the engine cluster is not started (its before hook did not run)");
    return this.inline;
  }

  node(name: string): FakeTalosNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no fake node ${name}`);
    return n;
  }

  /** How often each node (in spec order) was called with `method`. */
  count(method: string): number[] {
    return this.specs.map((s) => this.node(s.name).callsOf(method).length);
  }

  /** A node as the program passes it: on loopback, dialled at its fake, a fresh machine. */
  nodeArgs(s: NodeSpec): TalosNodeArgs & { newMachine: true } {
    // Fresh fake machines in maintenance mode: the unauthenticated first apply is allowed.
    return { ...s, ip: "127.0.0.1", apiAddress: this.node(s.name).address, newMachine: true };
  }

  /**
   * The program's `TalosCluster` on this world: the shared fake-cluster args, the imported bundle
   * and the suites' usual timeouts; `o` adds the nodes and overrides any of them.
   */
  cluster(
    o: { talosVersion: string; nodes: readonly TalosNodeArgs[] } & Partial<TalosClusterArgs>,
  ): TalosCluster {
    return new TalosCluster("talos", {
      ...fakeClusterArgs(this.kube.url, { talos: o.talosVersion, kubernetes: KUBERNETES_VERSION }),
      importedSecrets: pulumi.secret(this.secretsYaml),
      applyTimeoutSeconds: 60,
      readyTimeoutSeconds: 60,
      rollout: { nodeTimeoutSeconds: 20, drainTimeoutSeconds: 30 },
      ...o,
    });
  }

  async start(o: EngineClusterOptions): Promise<void> {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `${o.stackName}-engine-`));
    this.bundle = await generateSecretsBundle();
    this.secretsYaml = serializeSecretsYaml(this.bundle);
    // Evicted pods go at once: drains are part of the suites' scenarios, not what they time.
    const kube = await FakeKubeApi.start({ ca: this.bundle.certs.k8s, evictionDelayMs: 10 });
    this.kubeApi = kube;
    for (const s of this.specs) {
      this.nodes.set(
        s.name,
        await FakeTalosNode.start({
          hostname: s.name,
          osCa: this.bundle.certs.os,
          etcd: this.etcd,
          rebootDelayMs: o.rebootDelayMs ?? 200,
          onChange: (n, event) => mirror(kube, n, event),
        }),
      );
      kube.addNode(s.name, { ready: true, kubeletVersion: `v${KUBERNETES_VERSION}` });
    }
    this.inline = await inlineStack({
      dir: this.dir,
      stackName: o.stackName,
      program: () => o.program(this),
    });
  }

  async close(): Promise<void> {
    if (this.inline)
      await this.inline.workspace.removeStack(this.inline.name, { force: true }).catch(() => undefined);
    await Promise.all([...this.nodes.values()].map((n) => n.close()));
    await this.kubeApi?.close();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A node's Kubernetes object follows the fake: NotReady while down, Ready with a new boot id once up. */
function mirror(kube: FakeKubeApi, n: FakeTalosNode, event: "down" | "up" | "applied"): void {
  if (!kube.node(n.hostname)) return; // deleted by a scale-down
  if (event === "down") kube.setNode(n.hostname, { ready: false });
  else
    kube.setNode(n.hostname, {
      ready: true,
      kubeletVersion: n.kubeletVersion,
      ...(event === "up" ? { bootId: crypto.randomUUID() } : {}),
    });
}

/** Registers the suite's `before` (skipped without the engine) and `after` around an engine cluster. */
export function engineClusterSuite(o: EngineClusterOptions): EngineCluster {
  const world = new EngineCluster(o.specs);
  before(async function () {
    requireEngine(this);
    await world.start(o);
  });
  after(() => world.close());
  return world;
}
