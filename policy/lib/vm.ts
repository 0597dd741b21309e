/**
 * Facts of one Proxmox VM (`proxmoxve:index/vmLegacy:VmLegacy`) read from the properties the engine
 * hands a policy, and the pure rules over them. Unset settings take the provider's defaults
 * (agent off, CPU `qemu64`, 512 MiB, 8 GiB disk), so leaving one out is judged like setting it.
 */
import { parseCidr, parseIpv4 } from "../../components/net/ipv4";
import { arr, at, bool, num, type Reader, str, strings } from "./props";

export const VM_TYPE = "proxmoxve:index/vmLegacy:VmLegacy";
export const PROXMOX_PROVIDER_TYPE = "pulumi:providers:proxmoxve";

/** The bpg/proxmox provider's defaults for settings left unset. */
export const PROVIDER_DEFAULTS = {
  agentEnabled: false,
  cpuType: "qemu64",
  memoryMiB: 512,
  diskGiB: 8,
} as const;

export type Role = "controlplane" | "worker";

export interface VmFacts {
  /** The VM's name (its `name` input, else the resource name). */
  readonly name: string;
  /** From the VM's tags: `controlplane` or `worker`; undefined when neither tag is set. */
  readonly role?: Role;
  readonly agentEnabled: boolean;
  readonly cpuType: string;
  readonly memoryMiB: number;
  /** Size of the boot disk (the first disk). */
  readonly diskGiB: number;
  /** The cloud-init IPv4 setting, e.g. `10.0.0.11/24` or `dhcp`; undefined when unset. */
  readonly ipv4Address?: string;
  readonly proxmoxNode?: string;
  readonly vmId?: number;
  readonly tags: readonly string[];
}

/**
 * Reads a VM's facts. With the default reader a value unknown during preview throws the SDK's
 * `UnknownValueError` (the engine then reports that the policy could not run); stack policies pass
 * a lenient reader that treats such values as absent.
 */
export function vmFacts(props: unknown, resourceName: string, read: Reader = at): VmFacts {
  const tags = strings(read(props, "tags"));
  const role: Role | undefined = tags.includes("controlplane")
    ? "controlplane"
    : tags.includes("worker")
      ? "worker"
      : undefined;
  const disks = arr(read(props, "disks"));
  return {
    name: str(read(props, "name")) ?? resourceName,
    role,
    agentEnabled: bool(read(props, "agent", "enabled")) ?? PROVIDER_DEFAULTS.agentEnabled,
    cpuType: str(read(props, "cpu", "type")) ?? PROVIDER_DEFAULTS.cpuType,
    memoryMiB: num(read(props, "memory", "dedicated")) ?? PROVIDER_DEFAULTS.memoryMiB,
    diskGiB: disks.length > 0 ? (num(read(disks[0], "size")) ?? PROVIDER_DEFAULTS.diskGiB) : 0,
    ipv4Address: str(read(props, "initialization", "ipConfigs", 0, "ipv4", "address")),
    proxmoxNode: str(read(props, "nodeName")),
    vmId: num(read(props, "vmId")),
    tags,
  };
}

/** The VM's static address without its prefix, when it has one. */
export function vmIp(vm: VmFacts): string | undefined {
  const address = vm.ipv4Address;
  if (!address) return undefined;
  const cidr = parseCidr(address);
  if (cidr) return address.split("/")[0];
  return parseIpv4(address) !== undefined ? address : undefined;
}

export function agentIssues(vm: VmFacts): string[] {
  if (vm.agentEnabled) return [];
  return [
    `VM ${vm.name} has the QEMU guest agent off: Proxmox cannot report its address or shut it down cleanly. ` +
      "Set agent: { enabled: true } (the Talos image carries siderolabs/qemu-guest-agent).",
  ];
}

export function cpuTypeIssues(vm: VmFacts, forbidden: readonly string[]): string[] {
  const lower = vm.cpuType.toLowerCase();
  if (!forbidden.some((f) => f.toLowerCase() === lower)) return [];
  return [
    `VM ${vm.name} has CPU type "${vm.cpuType}", which lacks x86-64-v2 (SSE4.2, POPCNT): Talos will not boot. ` +
      'Use "host" or "x86-64-v2-AES" or newer.',
  ];
}

export function memoryIssues(
  vm: VmFacts,
  min: { readonly controlplane: number; readonly worker: number },
): string[] {
  const role = vm.role ?? "worker";
  const need = min[role];
  if (vm.memoryMiB >= need) return [];
  const roleText = vm.role ? `a ${vm.role}` : "a VM without a role tag (checked as a worker)";
  return [
    `VM ${vm.name} has ${vm.memoryMiB} MiB of memory; ${roleText} needs at least ${need} MiB. ` +
      `Raise memory.dedicated to ${need} or more.`,
  ];
}

export function diskIssues(vm: VmFacts, minGiB: number): string[] {
  if (vm.diskGiB === 0) {
    return [`VM ${vm.name} has no disk: Talos needs a system disk of at least ${minGiB} GiB.`];
  }
  if (vm.diskGiB >= minGiB) return [];
  return [
    `VM ${vm.name} has a ${vm.diskGiB} GiB boot disk; Talos needs at least ${minGiB} GiB. ` +
      `Raise disks[0].size to ${minGiB} or more.`,
  ];
}

export function staticIpIssues(vm: VmFacts): string[] {
  const address = vm.ipv4Address;
  if (address === undefined || address === "") {
    return [
      `VM ${vm.name} has no cloud-init IPv4 address (initialization.ipConfigs[0].ipv4.address): ` +
        "Talos configs are applied to each node's static IP. Set it to the node's address, e.g. 10.0.0.11/24.",
    ];
  }
  if (!parseCidr(address)) {
    return [
      `VM ${vm.name} has cloud-init IPv4 ${JSON.stringify(address)}; a static address with prefix is required ` +
        "(e.g. 10.0.0.11/24) so the node keeps the IP the cluster is configured with.",
    ];
  }
  return [];
}
