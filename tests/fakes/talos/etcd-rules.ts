/**
 * etcd's own refusals, as the fake Talos node's etcd answers them. Facts from etcd 3.6
 * `server/etcdserver/server.go` (`mayRemoveMember`, strict reconfig check on as Talos runs it) and
 * `server/etcdserver/api/membership/cluster.go` (`IsReadyToRemoveVotingMember`), and Talos 1.11.5
 * `internal/pkg/etcd/etcd.go` (`ValidateForUpgrade`) and
 * `internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go` (how the errors are wrapped).
 * Every member of the fake has been started (it published its name), so "started" is "a member";
 * "active" (connected to the leader) is its node's `etcdHealthy`.
 */

/** A member as the rules see it. */
export interface RuleMember {
  readonly id: string;
  readonly healthy: boolean;
}

export const NOT_ENOUGH_STARTED = "etcdserver: re-configuration failed due to not enough started members";
export const UNHEALTHY_CLUSTER = "etcdserver: unhealthy cluster";
export const MEMBER_NOT_FOUND = "etcdserver: member not found";

/** etcd's refusal to remove member `id` from `members`, or undefined when it would remove it. */
export function removeMemberRefusal(members: readonly RuleMember[], id: string): string | undefined {
  const target = members.find((m) => m.id === id);
  if (!target) return MEMBER_NOT_FOUND;
  const others = members.length - 1;
  // IsReadyToRemoveVotingMember: the started members left must reach a quorum of those left.
  if (others < Math.floor(others / 2) + 1) return NOT_ENOUGH_STARTED;
  // A member that is down is safe to remove: it is not part of the active quorum.
  if (!target.healthy) return undefined;
  const active = members.filter((m) => m.healthy).length;
  if (active - 1 < 1 + Math.floor((members.length - 1) / 2)) return UNHEALTHY_CLUSTER;
  return undefined;
}

/** Talos' pre-upgrade etcd check on a control plane (`ValidateForUpgrade`), or undefined. */
export function upgradeRefusal(
  members: readonly (RuleMember & { readonly hostname: string })[],
): string | undefined {
  if (members.length === 2) {
    return `etcd member count(${members.length}) is insufficient to maintain quorum if upgrade commences`;
  }
  for (const m of members) {
    const hex = BigInt(m.id).toString(16).padStart(16, "0");
    if (m.hostname === "") {
      return `etcd member ${hex} is not started, all members must be running to perform an upgrade`;
    }
    if (!m.healthy) {
      return `etcd member ${hex} is not healthy; all members must be healthy to perform an upgrade: context deadline exceeded`;
    }
  }
  return undefined;
}
