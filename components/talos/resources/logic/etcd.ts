/**
 * etcd health as the rollout and scale-down gates see it, through the Talos API only.
 *
 * The member list comes from the first control plane that answers `EtcdMemberList`. A member is
 * healthy when the node hosting it answers `EtcdMemberList` with `query_local` — apid asks that
 * node's own etcd, with a leader required, so the call fails while etcd there is down, out of the
 * cluster or without a leader — and the answer still contains it. That is "up and part of a
 * cluster with a leader", not "caught up with the leader" (Talos' EtcdStatus would tell; it is not
 * in this project's API subset yet).
 * Quorum arithmetic is pure and tested on its own.
 */
import type { EtcdMember } from "../../api/client";
import { errorText, type MtlsCredentials, mtlsClient } from "./common";

export interface PeerNode {
  readonly name: string;
  /** apid address: `ip` or `ip:port`. */
  readonly address: string;
}

export interface EtcdHealth {
  readonly members: readonly EtcdMember[];
  /** Hostnames of the members that answered for themselves. */
  readonly healthy: readonly string[];
  /** Hostname → why it is not healthy. */
  readonly unhealthy: Readonly<Record<string, string>>;
}

/** Members needed for quorum in a cluster of `n` voting members. */
export function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * Why taking `node` down (an upgrade or a reboot) is unsafe now, or undefined when the cluster
 * keeps quorum without it. A single-member cluster cannot spare its member: that is allowed (there
 * is no other way to upgrade it) and reported by the caller as downtime.
 */
export function disruptionError(h: EtcdHealth, node: string): string | undefined {
  const voters = h.members.filter((m) => !m.isLearner);
  const total = voters.length;
  if (total === 0) return "etcd has no members";
  const healthy = voters.filter((m) => h.healthy.includes(m.hostname));
  if (healthy.length < quorum(total)) {
    return `etcd has no quorum: ${healthy.length} of ${total} members healthy, ${quorum(total)} needed (${describeUnhealthy(h)})`;
  }
  if (total === 1) return undefined;
  const left = healthy.filter((m) => m.hostname !== node).length;
  if (left < quorum(total)) {
    return `etcd has no quorum to spare: without ${node}, ${left} of ${total} members would be healthy, ${quorum(total)} needed (${describeUnhealthy(h)})`;
  }
  return undefined;
}

/**
 * Why removing the member of `node` is unsafe, or undefined when it is safe: the cluster must have
 * quorum now (a member removal is itself a raft commit), and the members that remain must have
 * quorum among themselves, healthy ones only.
 */
export function removalError(h: EtcdHealth, node: string): string | undefined {
  const voters = h.members.filter((m) => !m.isLearner);
  const total = voters.length;
  const healthy = voters.filter((m) => h.healthy.includes(m.hostname));
  if (!voters.some((m) => m.hostname === node)) return undefined; // not a member: nothing to remove
  if (total <= 1) return `${node} is the last etcd member; removing it would destroy the cluster`;
  if (healthy.length < quorum(total)) {
    return `etcd has no quorum: ${healthy.length} of ${total} members healthy, ${quorum(total)} needed (${describeUnhealthy(h)}); a member cannot be removed without quorum`;
  }
  const remaining = total - 1;
  const healthyRemaining = healthy.filter((m) => m.hostname !== node).length;
  if (healthyRemaining < quorum(remaining)) {
    return `removing ${node} would leave ${healthyRemaining} healthy of ${remaining} etcd members, ${quorum(remaining)} needed (${describeUnhealthy(h)})`;
  }
  return undefined;
}

function describeUnhealthy(h: EtcdHealth): string {
  const bad = Object.entries(h.unhealthy);
  return bad.length === 0
    ? "all members answer"
    : `unhealthy: ${bad.map(([name, why]) => `${name} (${why})`).join("; ")}`;
}

export interface EtcdQueryOptions {
  /** Deadline of each call (ms). Default 10 s. */
  readonly timeoutMs?: number;
}

async function memberList(
  address: string,
  creds: MtlsCredentials,
  queryLocal: boolean,
  timeoutMs: number,
): Promise<EtcdMember[]> {
  const client = mtlsClient(address, creds, { timeoutMs, retry: { attempts: 1 } });
  try {
    return await client.etcdMemberList({ queryLocal });
  } finally {
    client.close();
  }
}

/** The member list and each member's health; throws when no control plane answers at all. */
export async function etcdHealth(
  controlPlanes: readonly PeerNode[],
  creds: MtlsCredentials,
  o: EtcdQueryOptions = {},
): Promise<EtcdHealth> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  let members: EtcdMember[] | undefined;
  const errors: string[] = [];
  for (const cp of controlPlanes) {
    try {
      members = await memberList(cp.address, creds, false, timeoutMs);
      break;
    } catch (e) {
      errors.push(`${cp.name}: ${errorText(e)}`);
    }
  }
  if (!members) throw new Error(`etcd member list: no control plane answered (${errors.join("; ")})`);
  const healthy: string[] = [];
  const unhealthy: Record<string, string> = {};
  await Promise.all(
    members.map(async (m) => {
      const host = controlPlanes.find((c) => c.name === m.hostname);
      if (!host) {
        unhealthy[m.hostname] = "not a control plane of this stack";
        return;
      }
      try {
        const seen = await memberList(host.address, creds, true, timeoutMs);
        if (seen.some((s) => s.id === m.id)) healthy.push(m.hostname);
        else unhealthy[m.hostname] = "its etcd does not list itself";
      } catch (e) {
        unhealthy[m.hostname] = errorText(e);
      }
    }),
  );
  healthy.sort();
  return { members, healthy, unhealthy };
}

/** Removes `node`'s etcd member through another control plane; false when it was no member. */
export async function removeMember(
  node: string,
  via: readonly PeerNode[],
  creds: MtlsCredentials,
  o: EtcdQueryOptions = {},
): Promise<boolean> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const errors: string[] = [];
  for (const peer of via) {
    if (peer.name === node) continue;
    const client = mtlsClient(peer.address, creds, { timeoutMs, retry: { attempts: 1 } });
    try {
      const member = (await client.etcdMemberList()).find((m) => m.hostname === node);
      if (!member) return false;
      await client.etcdRemoveMember(member.id);
      return true;
    } catch (e) {
      errors.push(`${peer.name}: ${errorText(e)}`);
    } finally {
      client.close();
    }
  }
  throw new Error(`remove etcd member ${node}: no other control plane answered (${errors.join("; ")})`);
}
