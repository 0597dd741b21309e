/**
 * One node's step of a rolling change (a Talos upgrade, a Kubernetes upgrade, any config change),
 * run by `MachineConfigApply.update`. The cluster chains the nodes' resources (control planes one
 * at a time, then workers in batches), so the engine runs these steps in rollout order and stops
 * at the first failure, leaving later nodes untouched; a re-run resumes, because every step checks
 * what the node runs before acting. Sequence, after talosctl's `upgrade` and `upgrade-k8s`:
 *
 * 1. gate: etcd healthy with quorum to spare without this node;
 * 2. upgrade, when the installer image changed: the path is checked against the version the node
 *    reports (before any RPC), then Upgrade, then wait until the node answers with the new version;
 * 3. apply the new config (kubelet and control-plane images of a Kubernetes upgrade come with it);
 * 4. gates: Ready in Kubernetes with the target kubelet version, and (control planes) its etcd
 *    member healthy again.
 */
import { talosUpgradeError } from "../../../compat";
import { KubeClient, type NodeStatus } from "../../../kube/client";
import { imageTag } from "../../../version";
import { TalosApiError, TalosNodeError, TalosTimeoutError } from "../../api/client";
import {
  defaultLog,
  errorText,
  type LogFn,
  type MtlsCredentials,
  mtlsClient,
  retryUntil,
  sleep,
  talosVersionTag,
} from "./common";
import { disruptionError, type EtcdHealth, etcdHealth, type PeerNode } from "./etcd";

/** What a rollout step needs beyond the node's own apply inputs. */
export interface RolloutTarget extends MtlsCredentials {
  readonly node: string;
  readonly address: string;
  readonly role: "controlplane" | "worker";
  /** Installer image to run, e.g. factory.talos.dev/nocloud-installer/<id>:v1.13.9. */
  readonly installImage: string;
  /** Kubernetes version the kubelet must report afterwards ("" to skip that check). */
  readonly kubernetesVersion: string;
  /** Control planes of the cluster, for the etcd gates ([] to skip them). */
  readonly controlPlanes: readonly PeerNode[];
  /** Admin kubeconfig ("" to skip the Kubernetes gate). */
  readonly kubeconfig: string;
  readonly checkKubernetes: boolean;
  /** Bound of the whole step in seconds. */
  readonly timeoutSeconds: number;
}

export interface RolloutPlan {
  /** Upgrade to `installImage` (its tag differs from the old image's, or the image itself does). */
  readonly upgrade: boolean;
  /** Talos version tag the node was last known to run (from the previous image or version). */
  readonly previousTag: string;
  /** Apply the (changed) config after the upgrade. */
  readonly apply: (remainingMs: number) => Promise<{ rebooting: boolean }>;
}

export interface RolloutDeps {
  readonly log?: LogFn;
  /** Pause between polls (ms). Default 2000. */
  readonly pollMs?: number;
}

/**
 * The node answered and said no (a bad image, etcd refusing, …): retrying cannot help. Only
 * transport trouble (UNAVAILABLE, a deadline) is retried.
 */
export function isRefusal(e: unknown): boolean {
  if (e instanceof TalosNodeError) return true;
  if (e instanceof TalosTimeoutError) return false;
  return e instanceof TalosApiError && e.code !== 14 && e.code !== 4;
}

/** Thrown when a step must stop the rollout: names the node and the reason. */
export class RolloutError extends Error {
  constructor(node: string, reason: string) {
    super(
      `rollout stopped at node ${node}: ${reason}; later nodes were left untouched (re-run \`pulumi up\` to resume)`,
    );
    this.name = "RolloutError";
  }
}

function versionOf(t: RolloutTarget, timeoutMs: number): Promise<string> {
  return talosVersionTag(t.address, t, timeoutMs);
}

/**
 * Waits until the node answers with `wantTag` after a reboot. `mustGoDown`: the tag alone cannot
 * show the reboot happened (same version, new image or a reboot-mode apply), so first see the node
 * stop answering. A node that went down and answers on `oldTag` is not failed at once (one missed
 * poll while the installer is still being pulled looks the same); if it is still on `oldTag` at
 * the deadline, the error says Talos rolled the upgrade back.
 */
async function waitBack(
  t: RolloutTarget,
  o: { wantTag: string; oldTag: string; mustGoDown: boolean; deadline: number; pollMs: number; log: LogFn },
): Promise<void> {
  const start = Date.now();
  let wentDown = false;
  let backOnOld = false;
  let last = "no answer yet";
  let round = 0;
  for (;;) {
    const left = o.deadline - Date.now();
    if (left <= 0) {
      const waited = Math.round((Date.now() - start) / 1000);
      throw new RolloutError(
        t.node,
        backOnOld
          ? `came back on ${o.oldTag} instead of ${o.wantTag} (waited ${waited} s): the new version did not boot and Talos rolled back`
          : `did not come back ${o.wantTag ? `on ${o.wantTag} ` : ""}within ${waited} s (last: ${last})`,
      );
    }
    const pollTimeout = Math.max(1, Math.min(5000, left));
    try {
      const tag = await versionOf(t, pollTimeout);
      last = `answers on ${tag}`;
      if (tag === o.wantTag && (wentDown || !o.mustGoDown)) return;
      backOnOld = wentDown && tag === o.oldTag && o.wantTag !== o.oldTag;
    } catch (e) {
      // A poll cut short by the deadline says nothing about the node.
      if (pollTimeout >= 1000) {
        wentDown = true;
        backOnOld = false;
        last = errorText(e);
      }
    }
    if (round++ % 10 === 0) o.log(`rollout: waiting for ${t.node} to come back (${last})`);
    await sleep(Math.max(0, Math.min(o.pollMs, o.deadline - Date.now())));
  }
}

async function gateEtcd(
  t: RolloutTarget,
  deadline: number,
  pollMs: number,
  log: LogFn,
  check: (h: EtcdHealth) => string | undefined,
  what: string,
): Promise<EtcdHealth> {
  return retryUntil(
    { what: `rollout: ${what} (node ${t.node})`, timeoutMs: Math.max(1, deadline - Date.now()), pollMs, log },
    async (remaining) => {
      const h = await etcdHealth(t.controlPlanes, t, { timeoutMs: Math.min(10_000, remaining) });
      const why = check(h);
      if (why) throw new Error(why);
      return h;
    },
  ).catch((e: unknown) => {
    throw new RolloutError(t.node, `${what}: ${errorText(e)}`);
  });
}

/** The node's Kubernetes status before the step (its boot id, cordon); undefined if unknown. */
async function kubeSnapshot(t: RolloutTarget, log: LogFn): Promise<NodeStatus | undefined> {
  try {
    const s = await KubeClient.fromKubeconfig(t.kubeconfig).nodeStatus(t.node, 10_000);
    return s.exists ? s : undefined;
  } catch (e) {
    log(`rollout: could not read ${t.node} from Kubernetes before the step (${errorText(e)})`);
    return undefined;
  }
}

/** Runs one node's rollout step. */
export async function rollNode(t: RolloutTarget, plan: RolloutPlan, deps: RolloutDeps = {}): Promise<void> {
  const log = deps.log ?? defaultLog;
  const pollMs = deps.pollMs ?? 2000;
  const start = Date.now();
  const deadline = start + t.timeoutSeconds * 1000;
  const wantTag = imageTag(t.installImage);
  const gates = t.controlPlanes.length > 0;

  // 1. etcd healthy with quorum to spare.
  if (gates) {
    const h = await gateEtcd(
      t,
      deadline,
      pollMs,
      log,
      (health) => disruptionError(health, t.node),
      "etcd must be healthy with quorum to spare",
    );
    if (t.role === "controlplane" && h.members.length === 1) {
      log(`rollout: ${t.node} is the only etcd member: the Kubernetes API is unavailable while it restarts`);
    }
  }

  const kube = t.checkKubernetes && t.kubeconfig !== "";
  const before = kube ? await kubeSnapshot(t, log) : undefined;

  // 2. Talos upgrade.
  let running = "";
  let rebooted = false;
  if (plan.upgrade) {
    running = await retryUntil(
      {
        what: `rollout: read the Talos version of ${t.node}`,
        timeoutMs: Math.max(1, deadline - Date.now()),
        pollMs,
        log,
      },
      (remaining) => versionOf(t, Math.min(10_000, remaining)),
    ).catch((e: unknown) => {
      throw new RolloutError(t.node, errorText(e));
    });
    const oldTag = plan.previousTag || running;
    const pathError = wantTag ? talosUpgradeError(running, wantTag) : undefined;
    if (pathError) throw new RolloutError(t.node, pathError);
    if (running === wantTag && oldTag !== wantTag) {
      // A previous run upgraded this node and stopped before recording it.
      log(`rollout: ${t.node} already runs ${wantTag}; no upgrade needed`);
    } else {
      log(`rollout: upgrading ${t.node} from ${running} to ${t.installImage}`);
      await retryUntil(
        {
          what: `rollout: upgrade request to ${t.node}`,
          timeoutMs: Math.max(1, deadline - Date.now()),
          pollMs,
          log,
          fatal: isRefusal,
        },
        async (remaining) => {
          // The node pulls and validates the installer before it answers (minutes on a slow link)
          // and cancels the pull with the call: give the call the step's whole remaining time.
          const client = mtlsClient(t.address, t, { timeoutMs: remaining, retry: { attempts: 1 } });
          try {
            await client.upgrade({ image: t.installImage });
          } finally {
            client.close();
          }
        },
      ).catch((e: unknown) => {
        throw new RolloutError(t.node, `upgrade refused: ${errorText(e)}`);
      });
      await waitBack(t, { wantTag, oldTag: running, mustGoDown: running === wantTag, deadline, pollMs, log });
      rebooted = true;
      log(`rollout: ${t.node} is back on ${wantTag}`);
    }
    running = wantTag;
  }

  // 3. The config (a Kubernetes upgrade's new images are in it).
  const applied = await plan.apply(Math.max(1, deadline - Date.now())).catch((e: unknown) => {
    throw new RolloutError(t.node, `config apply failed: ${errorText(e)}`);
  });
  if (applied.rebooting) {
    const tag = running || wantTag;
    await waitBack(t, { wantTag: tag, oldTag: tag, mustGoDown: true, deadline, pollMs, log });
    rebooted = true;
  }

  // 4. Ready in Kubernetes (with the target kubelet), etcd member healthy again.
  if (kube) {
    await KubeClient.fromKubeconfig(t.kubeconfig)
      .waitNodeReady(t.node, {
        kubeletVersion: t.kubernetesVersion || undefined,
        // After a reboot the old Ready=True can outlive it by ~40 s: insist on a new boot id.
        rebootedFrom: rebooted ? before?.bootId || undefined : undefined,
        schedulable: before !== undefined && !before.unschedulable,
        timeoutMs: Math.max(1, deadline - Date.now()),
        pollMs,
        log,
      })
      .catch((e: unknown) => {
        throw new RolloutError(t.node, `not Ready in Kubernetes: ${errorText(e)}`);
      });
  }
  if (gates && t.role === "controlplane") {
    await gateEtcd(
      t,
      deadline,
      pollMs,
      log,
      (h) =>
        h.healthy.includes(t.node)
          ? undefined
          : `member ${t.node}: ${h.unhealthy[t.node] ?? "not in the member list"}`,
      "its etcd member must be healthy again",
    );
  }
  log(`rollout: ${t.node} done in ${Math.round((Date.now() - start) / 1000)} s`);
}
