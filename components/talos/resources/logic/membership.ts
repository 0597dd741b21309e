/**
 * Logic of the `ClusterMembership` dynamic resource: the node set of the cluster, and the
 * ceremony of a scale-down. When nodes leave the config, its update (which the engine runs during
 * the program, before it deletes the removed nodes' resources and VMs at the end) takes each one
 * out safely: workers first, then control planes one at a time —
 *
 *   refuse (before touching anything) when a removal would leave no control plane or break etcd
 *   quorum; cordon and drain; remove its etcd member through another control plane; reset it
 *   (STATE and EPHEMERAL wiped, rebooted into maintenance mode, so the machine can be added again)
 *   when it still answers; delete its Kubernetes Node.
 *
 * Its delete does nothing, so `pulumi destroy` of a whole cluster skips the per-node ceremony.
 */

import { ROLLOUT_DEFAULTS, TIMEOUT_DEFAULTS } from "../../../defaults";
import { KubeClient } from "../../../kube/client";
import {
  type DiffResult,
  defaultLog,
  errorText,
  type LogFn,
  type MtlsCredentials,
  mtlsClient,
  Props,
  type ReadMode,
  retryUntil,
  sha256Hex,
  talosVersionTag,
  WIPE_STATE_AND_EPHEMERAL,
} from "./common";
import { type EtcdHealth, etcdHealth, type PeerNode, removalError, removeMember } from "./etcd";

export interface MemberNode extends PeerNode {
  readonly role: "controlplane" | "worker";
}

export interface MembershipInputs extends MtlsCredentials {
  readonly nodes: readonly MemberNode[];
  /** Admin kubeconfig ("" skips cordon/drain/delete of the Node object). */
  readonly kubeconfig: string;
  readonly checkKubernetes: boolean;
  readonly drainTimeoutSeconds: number;
  readonly timeoutSeconds: number;
  /**
   * Refuse any node removal (a production stack without `rollout.allowNodeRemoval`): checked in
   * `check`, before the engine runs any step, and again at the top of `update`.
   */
  readonly protectNodes: boolean;
}

export interface MembershipOutputs extends MembershipInputs {
  /** Names of the nodes the last update took out. */
  readonly removed: readonly string[];
}

/** Kubernetes operations of a decommission (seam for tests). */
export interface KubeOps {
  /** Whether the Node is registered, and Ready. */
  node(name: string): Promise<{ exists: boolean; ready: boolean }>;
  drain(name: string, o: { timeoutMs: number; log: LogFn; waitForDeletion: boolean }): Promise<void>;
  deleteNode(name: string): Promise<void>;
}

export interface MembershipDeps {
  readonly log?: LogFn;
  readonly kube?: (kubeconfig: string) => KubeOps;
}

/** Parses new inputs, or (mode `state`) a stored state with the same defaults. */
export function parseMembershipInputs(raw: unknown, mode: ReadMode = "inputs"): MembershipInputs {
  const p = new Props("ClusterMembership", raw, mode);
  const nodes = p.list("nodes").map((n, k): MemberNode => {
    const q = new Props(`ClusterMembership nodes[${k}]`, n, mode);
    return {
      name: q.str("name"),
      address: q.str("address"),
      role: q.oneOf("role", ["controlplane", "worker"]),
    };
  });
  return {
    nodes,
    kubeconfig: p.optStr("kubeconfig"),
    checkKubernetes: p.bool("checkKubernetes", true),
    drainTimeoutSeconds: p.num("drainTimeoutSeconds", ROLLOUT_DEFAULTS.drainTimeoutSeconds),
    timeoutSeconds: p.num("timeoutSeconds", TIMEOUT_DEFAULTS.applySeconds),
    protectNodes: p.bool("protectNodes", false),
    ...p.mtls(),
  };
}

/** The refusal of a scale-down in a protected (production) stack, or undefined. */
export function protectedRemovalError(olds: unknown, news: MembershipInputs): string | undefined {
  if (!news.protectNodes) return undefined;
  const removing = removedNodes(olds, news);
  if (removing.length === 0) return undefined;
  const names = removing.map((n) => n.name).join(", ");
  return (
    `scale-down refused, nothing was changed: removing ${names} from a production stack needs an explicit allowance — ` +
    "set proxmox-talos:rollout.allowNodeRemoval: true for this up (or run it with --allow-node-removal), or put the node back into proxmox-talos:nodes"
  );
}

/** The provider's `check`: a protected scale-down fails here, before any step of the update runs. */
export function check(olds: unknown, news: unknown): { property: string; reason: string }[] {
  let i: MembershipInputs;
  try {
    i = parseMembershipInputs(news);
  } catch {
    return []; // malformed inputs fail in diff/update with their own message
  }
  const why = protectedRemovalError(olds, i);
  return why ? [{ property: "nodes", reason: `ClusterMembership: ${why}` }] : [];
}

const nodeKey = (nodes: readonly MemberNode[]): string =>
  nodes
    .map((n) => `${n.name}/${n.role}@${n.address}`)
    .sort()
    .join(",");

export async function create(raw: unknown): Promise<{ id: string; outs: MembershipOutputs }> {
  const i = parseMembershipInputs(raw);
  return { id: `membership-${sha256Hex(nodeKey(i.nodes)).slice(0, 12)}`, outs: { ...i, removed: [] } };
}

/** A change of the node set (or of the drain bound) is an in-place update; never a replace. */
export function diff(olds: unknown, news: unknown): DiffResult {
  const o = parseMembershipInputs(olds, "state");
  const n = parseMembershipInputs(news);
  const changes =
    nodeKey(o.nodes) !== nodeKey(n.nodes) ||
    o.drainTimeoutSeconds !== n.drainTimeoutSeconds ||
    o.timeoutSeconds !== n.timeoutSeconds;
  return { changes, replaces: [] };
}

/** The nodes in `olds` that `news` no longer has: workers first, then control planes. */
export function removedNodes(olds: unknown, news: MembershipInputs): MemberNode[] {
  const o = (olds ?? {}) as Partial<Record<string, unknown>>;
  const keep = new Set(news.nodes.map((n) => n.name));
  const old = Array.isArray(o.nodes) ? parseMembershipInputs({ ...o, nodes: o.nodes }).nodes : [];
  const gone = old.filter((n) => !keep.has(n.name));
  return [...gone.filter((n) => n.role === "worker"), ...gone.filter((n) => n.role === "controlplane")];
}

/** Health with `name` taken out, as it would be after its removal. */
function without(h: EtcdHealth, name: string): EtcdHealth {
  const unhealthy = { ...h.unhealthy };
  delete unhealthy[name];
  return {
    members: h.members.filter((m) => m.hostname !== name),
    healthy: h.healthy.filter((x) => x !== name),
    unhealthy,
  };
}

/**
 * Why the planned removals must be refused, or undefined. Pure: `health` is the etcd view of the
 * control planes before any removal; removals are judged one after another, as they will run.
 */
export function refusal(
  removing: readonly MemberNode[],
  remaining: readonly MemberNode[],
  health: EtcdHealth | undefined,
): string | undefined {
  const cps = removing.filter((n) => n.role === "controlplane");
  if (cps.length === 0) return undefined;
  if (!remaining.some((n) => n.role === "controlplane")) {
    return `removing ${cps.map((n) => n.name).join(", ")} would leave no control plane`;
  }
  if (!health) return "etcd health is unknown";
  let h = health;
  for (const cp of cps) {
    const why = removalError(h, cp.name);
    if (why) return `removing control plane ${cp.name} is refused: ${why}`;
    h = without(h, cp.name);
  }
  return undefined;
}

function defaultKube(kubeconfig: string): KubeOps {
  const k = KubeClient.fromKubeconfig(kubeconfig);
  return {
    node: (name) => k.nodeStatus(name),
    drain: async (name, o) => {
      await k.drain(name, o);
    },
    deleteNode: async (name) => {
      await k.deleteNode(name);
    },
  };
}

/** Whether the node still answers over mutual TLS (with its old configuration). */
function answers(node: PeerNode, creds: MtlsCredentials): Promise<boolean> {
  return talosVersionTag(node.address, creds, 5000).then(
    () => true,
    () => false,
  );
}

/** Resets the node and waits until the wipe is done: it answers in maintenance mode, or not at all. */
async function resetNode(
  node: PeerNode,
  creds: MtlsCredentials,
  timeoutMs: number,
  log: LogFn,
): Promise<void> {
  const client = mtlsClient(node.address, creds, { timeoutMs, retry: { attempts: 2 } });
  try {
    // Not graceful: the drain and the etcd removal are done already (a graceful reset would try
    // to leave etcd again and fail).
    await client.reset({ graceful: false, reboot: true, systemPartitionsToWipe: WIPE_STATE_AND_EPHEMERAL });
  } finally {
    client.close();
  }
  // The reset answers before it wipes: a new apply to the same address (a replacement node) must
  // not land on the old installation.
  await retryUntil(
    { what: `scale-down: wait for the reset of ${node.name}`, timeoutMs, pollMs: 1000, log },
    async () => {
      if (await answers(node, creds)) throw new Error("still answers with its old configuration");
    },
  );
}

/** Takes `node` out of the cluster (see the file comment); `peers` are the remaining CPs. */
async function decommission(
  node: MemberNode,
  peers: readonly PeerNode[],
  i: MembershipInputs,
  kube: KubeOps | undefined,
  log: LogFn,
): Promise<void> {
  const label = `${node.role === "controlplane" ? "control plane" : "worker"} ${node.name}`;
  const alive = await answers(node, i);
  const k8sNode = kube ? await kube.node(node.name) : undefined;
  if (kube && k8sNode?.exists) {
    // A dead node's pods never confirm their termination: evict, then delete the Node (which
    // cleans them up) instead of waiting for the drain timeout.
    const waitForDeletion = alive && k8sNode.ready;
    log(
      `scale-down: cordon and drain ${label}${waitForDeletion ? "" : " (node down: not waiting for its pods)"}`,
    );
    await kube.drain(node.name, { timeoutMs: i.drainTimeoutSeconds * 1000, log, waitForDeletion });
  }
  if (node.role === "controlplane") {
    const removed = await removeMember(node.name, peers, i);
    log(`scale-down: ${removed ? "removed the etcd member of" : "no etcd member left for"} ${label}`);
  }
  if (alive) {
    await resetNode(node, i, Math.min(120_000, i.timeoutSeconds * 1000), log);
    log(`scale-down: reset ${label} (STATE and EPHEMERAL wiped, rebooting into maintenance mode)`);
  } else {
    log(`scale-down: ${label} does not answer; no reset`);
  }
  if (kube) {
    // The API may blink while the VIP moves (its holder is elected through etcd): retry.
    await retryUntil(
      { what: `scale-down: delete the Kubernetes node ${node.name}`, timeoutMs: 60_000, pollMs: 2000, log },
      () => kube.deleteNode(node.name),
    );
    log(`scale-down: deleted the Kubernetes node ${node.name}`);
  }
}

export async function update(
  olds: unknown,
  news: unknown,
  deps: MembershipDeps = {},
): Promise<{ outs: MembershipOutputs }> {
  const i = parseMembershipInputs(news);
  const log = deps.log ?? defaultLog;
  const removing = removedNodes(olds, i);
  if (removing.length === 0) return { outs: { ...i, removed: [] } };
  const guarded = protectedRemovalError(olds, i);
  if (guarded) throw new Error(`ClusterMembership: ${guarded}`);

  const remainingCps = i.nodes.filter((n) => n.role === "controlplane");
  const cpsNow = [...remainingCps, ...removing.filter((n) => n.role === "controlplane")];
  let health: EtcdHealth | undefined;
  if (removing.some((n) => n.role === "controlplane")) {
    try {
      health = await etcdHealth(cpsNow, i);
    } catch (e) {
      throw new Error(`ClusterMembership: scale-down refused: cannot read etcd health (${errorText(e)})`);
    }
  }
  const why = refusal(removing, i.nodes, health);
  if (why) throw new Error(`ClusterMembership: scale-down refused, nothing was changed: ${why}`);

  const kube = i.checkKubernetes && i.kubeconfig ? (deps.kube ?? defaultKube)(i.kubeconfig) : undefined;
  const done: string[] = [];
  for (const node of removing) {
    if (node.role === "controlplane" && done.length > 0) {
      // Re-check live before each further control plane: the previous removal changed etcd.
      const now = await etcdHealth(
        cpsNow.filter((n) => !done.includes(n.name)),
        i,
      );
      const again = refusal([node], i.nodes, now);
      if (again) throw new Error(`ClusterMembership: scale-down stopped after ${done.join(", ")}: ${again}`);
    }
    try {
      await decommission(node, remainingCps, i, kube, log);
    } catch (e) {
      throw new Error(`ClusterMembership: taking ${node.name} out failed: ${errorText(e)}`);
    }
    done.push(node.name);
  }
  return { outs: { ...i, removed: done } };
}
