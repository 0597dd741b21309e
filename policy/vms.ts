/**
 * Proxmox VM policies: each VM of a Talos node boots an x86-64-v2 CPU with enough memory and disk,
 * has its guest agent on and a static cloud-init address; production VMs are protected.
 */
import type { ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { readConfig, schemaOf } from "./lib/config";
import { clusterFacts, stackName } from "./lib/facts";
import { atKnown, matchesAny } from "./lib/props";
import {
  agentIssues,
  cpuTypeIssues,
  diskIssues,
  memoryIssues,
  staticIpIssues,
  VM_TYPE,
  type VmFacts,
  vmFacts,
} from "./lib/vm";

/** Runs `check` on VmLegacy resources only; other types are not applicable. */
function onVm(
  check: (vm: VmFacts, args: ResourceValidationArgs) => readonly string[],
): NonNullable<ResourceValidationPolicy["validateResource"]> {
  return (args, reportViolation) => {
    if (args.type !== VM_TYPE) return;
    for (const message of check(vmFacts(args.props, args.name), args)) reportViolation(message);
  };
}

export const vmQemuAgent: ResourceValidationPolicy = {
  name: "vm-qemu-agent-enabled",
  description: "Proxmox VMs run the QEMU guest agent (Talos ships it as an extension).",
  enforcementLevel: "advisory",
  severity: "low",
  validateResource: onVm((vm) => agentIssues(vm)),
};

export const CPU_DEFAULTS = {
  forbiddenCpuTypes: [
    "kvm32",
    "kvm64",
    "qemu32",
    "qemu64",
    "486",
    "pentium",
    "pentium2",
    "pentium3",
    "coreduo",
    "core2duo",
    "athlon",
    "phenom",
    "Conroe",
    "Penryn",
    "Opteron_G1",
    "Opteron_G2",
    "Opteron_G3",
  ],
} as const;

export const vmCpuType: ResourceValidationPolicy = {
  name: "vm-cpu-x86-64-v2",
  description: "Proxmox VMs use a CPU type with x86-64-v2 (Talos does not boot on kvm64/qemu64).",
  enforcementLevel: "mandatory",
  severity: "critical",
  configSchema: schemaOf(CPU_DEFAULTS, {
    forbiddenCpuTypes:
      "CPU types without x86-64-v2 (compared case-insensitively). Unset means the provider's qemu64.",
  }),
  validateResource: onVm((vm, args) => cpuTypeIssues(vm, readConfig(args, CPU_DEFAULTS).forbiddenCpuTypes)),
};

export const MEMORY_DEFAULTS = { controlPlaneMinMiB: 2048, workerMinMiB: 1024 } as const;

export const vmMemory: ResourceValidationPolicy = {
  name: "vm-minimum-memory",
  description: "Talos VMs have at least 2 GiB (control planes) or 1 GiB (workers) of memory.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: schemaOf(
    MEMORY_DEFAULTS,
    {
      controlPlaneMinMiB: "Minimum memory in MiB of a VM tagged controlplane.",
      workerMinMiB: "Minimum memory in MiB of a VM tagged worker (or without a role tag).",
    },
    { controlPlaneMinMiB: { type: "integer", minimum: 1 }, workerMinMiB: { type: "integer", minimum: 1 } },
  ),
  validateResource: onVm((vm, args) => {
    const c = readConfig(args, MEMORY_DEFAULTS);
    return memoryIssues(vm, { controlplane: c.controlPlaneMinMiB, worker: c.workerMinMiB });
  }),
};

export const DISK_DEFAULTS = { minDiskGiB: 10 } as const;

export const vmDisk: ResourceValidationPolicy = {
  name: "vm-minimum-disk",
  description: "Talos VMs have a boot disk of at least 10 GiB.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: schemaOf(
    DISK_DEFAULTS,
    { minDiskGiB: "Minimum size in GiB of the VM's first disk (Talos' system disk)." },
    { minDiskGiB: { type: "integer", minimum: 1 } },
  ),
  validateResource: onVm((vm, args) => diskIssues(vm, readConfig(args, DISK_DEFAULTS).minDiskGiB)),
};

export const vmStaticIp: ResourceValidationPolicy = {
  name: "vm-static-ip",
  description:
    "Talos VMs get their static IPv4 address from cloud-init (initialization.ipConfigs[0].ipv4.address).",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: onVm((vm) => staticIpIssues(vm)),
};

export const PROTECT_DEFAULTS = {
  productionStacks: ["prod", "prod-*", "production", "production-*"],
} as const;

/**
 * A stack policy, not a resource policy: whether a stack is production comes from the stack name
 * (policy config) or from the stack config's `production` flag, which only the cluster description
 * carries (policies cannot read stack config).
 */
export const vmProtected: StackValidationPolicy = {
  name: "vm-protected-in-production",
  description: "The VMs of a production stack are protected from deletion (protect: true).",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: schemaOf(PROTECT_DEFAULTS, {
    productionStacks:
      "Stack name patterns ('*' matches anything) that are production, besides stacks whose config sets proxmox-talos:production.",
  }),
  validateStack: (args, reportViolation) => {
    const { productionStacks } = readConfig(args, PROTECT_DEFAULTS);
    const stack = stackName(args.resources);
    const facts = clusterFacts(args.resources);
    const byName = stack !== undefined && matchesAny(productionStacks, stack);
    const byConfig = facts?.production === true;
    if (!byName && !byConfig) return;
    const why = byConfig ? "proxmox-talos:production is true" : `stack "${stack}" matches productionStacks`;
    for (const vm of args.resources.filter((r) => r.type === VM_TYPE)) {
      if (!vm.opts.protect) {
        reportViolation(
          `VM ${vmFacts(vm.props, vm.name, atKnown).name} is not protected although ${why}: deleting it destroys a cluster node. ` +
            "Create it with the resource option protect: true.",
          vm.urn,
        );
      }
    }
  },
};

export const vmPolicies = [vmQemuAgent, vmCpuType, vmMemory, vmDisk, vmStaticIp, vmProtected] as const;
