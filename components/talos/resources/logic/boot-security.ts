/**
 * Boot security of a node (Secure Boot, disk encryption) as the apply resource sees it. A change
 * of it is a reinstall, never an in-place apply: the VM is replaced (new disk from the new image,
 * new vTPM) and so is the node's apply, which then configures the fresh node in maintenance mode.
 * `check` refuses it before anything is touched where it may not happen: on production stacks
 * without the node-removal allowance, on existing machines, which this program cannot re-image, and
 * on control planes, whose etcd member a replacement would leave behind (they go out and back in
 * through the node list, where removal leaves etcd with its quorum checks).
 * Loaded by the dynamic provider (serializable: no imports of Pulumi).
 */

/** The profile of nodes created before boot security was managed. */
export const DEFAULT_BOOT_SECURITY = "secureBoot=false,diskEncryption=none";

type Bag = Partial<Record<string, unknown>>;

/** `{from, to}` when an existing node's boot security changes; undefined otherwise. */
export function bootSecurityChange(olds: unknown, news: unknown): { from: string; to: string } | undefined {
  const o = (olds ?? {}) as Bag;
  const n = (news ?? {}) as Bag;
  if (typeof n.bootSecurity !== "string" || n.bootSecurity === "") return undefined;
  if (o.node === undefined) return undefined; // a create
  const from =
    typeof o.bootSecurity === "string" && o.bootSecurity !== "" ? o.bootSecurity : DEFAULT_BOOT_SECURITY;
  return from === n.bootSecurity ? undefined : { from, to: n.bootSecurity };
}

export interface BootSecurityFailure {
  readonly property: string;
  readonly reason: string;
}

/** Refusals of a boot-security change, known at preview. */
export function checkBootSecurity(olds: unknown, news: unknown): BootSecurityFailure[] {
  const change = bootSecurityChange(olds, news);
  if (!change) return [];
  const n = news as Bag;
  const o = (olds ?? {}) as Bag;
  const what = `node ${String(n.node)}: boot security ${change.from} → ${change.to} reinstalls the node (replacement)`;
  if (typeof o.bootSecurity !== "string" || o.bootSecurity === "") {
    // The VM's replacement trigger is first recorded by this `up`: a change now would replace the
    // apply but not the VM.
    return [
      {
        property: "bootSecurity",
        reason: `${what}, but node ${String(n.node)} was created before boot security was tracked; run one \`up\` with its current setting first, then change it`,
      },
    ];
  }
  if (n.reinstallable === false) {
    return [
      {
        property: "bootSecurity",
        reason: `${what}, which this program can do only for Proxmox VMs; on an existing machine remove the node from nodes, reinstall it with the new image, then add it back`,
      },
    ];
  }
  if (n.role === "controlplane") {
    return [
      {
        property: "bootSecurity",
        reason: `${what}, which would leave its etcd member behind; take the control plane out of nodes (up: it leaves etcd safely), then add it back with the new setting`,
      },
    ];
  }
  if (n.allowReinstall === false) {
    return [
      {
        property: "bootSecurity",
        reason: `${what}; this is a production stack: set proxmox-talos:rollout.allowNodeRemoval: true to allow it`,
      },
    ];
  }
  return [];
}
