/**
 * Cross-field rules of node hardware (`hardware.ts`): PCI passthrough, data disks and boot security
 * per node, then the cluster-wide ones. Every fault is returned, each naming the key that set the
 * offending value (the node's own, its class's, or the cluster's).
 */
import { diskSelectorFault } from "./disk-selector";
import { type ConfigIssue, showValue } from "./errors";
import {
  type HardwareClusterInput,
  type HardwareNodeInput,
  type NodeHardware,
  resolveNodeHardware,
} from "./hardware";
import { schematicRepeatIssues } from "./hardware-image-rules";

/** Everything the rules look at. */
export interface HardwareRuleInput extends HardwareClusterInput {
  readonly nodes: readonly (HardwareNodeInput & { readonly installDisk?: string })[];
  readonly proxmox?: {
    readonly diskDatastore: string;
    readonly bios: "ovmf" | "seabios";
    readonly pciMappings?: Readonly<Record<string, { readonly hosts: readonly string[] }>>;
  };
  /** `addons.openebs.dataDisk` when OpenEBS is on. */
  readonly openebsDataDisk?: string;
  /** Talos minor (`1.13`) of the stack, when it parsed. */
  readonly talosMinor?: string;
  /**
   * Top-level keys that are set but did not parse (their faults are already reported): the rules
   * that need them are skipped, the others still run, so every other fault shows in the same run.
   */
  readonly unparsed?: ReadonlySet<UnparsedKey>;
}

export type UnparsedKey = "proxmox" | "security" | "nodeClasses" | "imageFactory";

/** Proxmox allows 16 hostpci slots (hostpci0 … hostpci15). */
const MAX_PCI = 16;
/** virtio-scsi-single: scsi0 is the boot disk, scsi1 … scsi30 are free. */
const MAX_DATA_DISKS = 30;

/** A host PCI address as Proxmox writes one (`0000:01:00.0`, `01:00.0`, `01:00`). */
const PCI_ADDRESS = /^([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}(\.[0-7])?$/i;

/** Where a field of a node's effective hardware was set: the node's own key or its class's. */
function origin(node: HardwareNodeInput, i: number, field: "dataDisks" | "pci"): string {
  return node[field] === undefined && node.class !== undefined
    ? `nodeClasses.${node.class}.${field}`
    : `nodes[${i}].${field}`;
}

/** The key that set a node's effective `security.<field>` (node, class, or cluster). */
function securityKey(
  cluster: HardwareClusterInput,
  node: HardwareNodeInput,
  i: number,
  field: "secureBoot" | "diskEncryption" | "includeWellKnownCertificates",
): string {
  if (node.security?.[field] !== undefined) return `nodes[${i}].security.${field}`;
  const cls = node.class !== undefined ? cluster.nodeClasses?.[node.class] : undefined;
  if (cls?.security?.[field] !== undefined) return `nodeClasses.${node.class}.security.${field}`;
  return `security.${field}`;
}

interface NodeRuleContext {
  readonly input: HardwareRuleInput;
  readonly node: HardwareNodeInput;
  readonly i: number;
  readonly hw: NodeHardware;
}

function classOf(input: HardwareClusterInput, node: HardwareNodeInput) {
  return node.class !== undefined ? input.nodeClasses?.[node.class] : undefined;
}

/** Passthrough by resource mapping, on Proxmox only, on a host the mapping names. */
function pciIssues({ input, node, i, hw }: NodeRuleContext): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (input.unparsed?.has("proxmox")) return issues;
  const mappings = input.proxmox?.pciMappings ?? {};
  const pciKey = origin(node, i, "pci");
  if (hw.pci.length > 0 && !input.proxmox) {
    issues.push({
      path: pciKey,
      message: "passes PCI devices through, but this stack has no proxmox section (existing machines)",
      fix: "remove the pci list, or manage the node as a Proxmox VM",
    });
  } else if (hw.pci.length > MAX_PCI) {
    issues.push({
      path: pciKey,
      message: `has ${hw.pci.length} devices; a Proxmox VM has ${MAX_PCI} hostpci slots`,
      fix: `pass at most ${MAX_PCI} devices`,
    });
  } else if (input.proxmox) {
    hw.pci.forEach((dev, j) => {
      const key = `${pciKey}[${j}]`;
      if (dev.id !== undefined) {
        const what = PCI_ADDRESS.test(dev.id)
          ? "is a raw host PCI id"
          : "is not a PCI id, and a raw one cannot be used either";
        issues.push({
          path: `${key}.id`,
          message: `${showValue(dev.id)} ${what}: Proxmox accepts those only from root@pam with a password, and this program authenticates with an API token (proxmoxApiToken)`,
          fix: "create a resource mapping (Datacenter → Resource Mappings → PCI Devices) and set mapping: <its name> instead",
        });
      } else if (dev.mapping === undefined) {
        issues.push({
          path: `${key}.mapping`,
          message: "is unset",
          fix: "name the Proxmox PCI resource mapping to pass through, e.g. mapping: gpu",
        });
      } else if (!(dev.mapping in mappings)) {
        issues.push({
          path: `${key}.mapping`,
          message: `${showValue(dev.mapping)} is not a key of proxmox.pciMappings: nothing says it exists or which hosts have the device (Proxmox would refuse the VM only when it is created)`,
          fix: `declare it: proxmox.pciMappings.${dev.mapping}: {hosts: [<hosts with the device>]}${Object.keys(mappings).length > 0 ? `, or use one of: ${Object.keys(mappings).join(", ")}` : ""}`,
        });
      } else {
        const hosts = mappings[dev.mapping]?.hosts ?? [];
        if (hosts.length > 0 && node.proxmoxNode !== undefined && !hosts.includes(node.proxmoxNode)) {
          issues.push({
            path: `${key}.mapping`,
            message: `${showValue(dev.mapping)} has devices on ${hosts.join(", ")} (proxmox.pciMappings), not on this node's host ${showValue(node.proxmoxNode)}`,
            fix: `move nodes[${i}] (${node.name}) to one of ${hosts.join(", ")}, or add its host to the mapping`,
          });
        }
      }
    });
  }
  return issues;
}

/** Unique names, a stable selector wherever the serial cannot be used. */
function dataDiskIssues({ input, node, i, hw }: NodeRuleContext): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const diskKey = origin(node, i, "dataDisks");
  const seen = new Set<string>();
  if (hw.dataDisks.length > MAX_DATA_DISKS) {
    issues.push({
      path: diskKey,
      message: `has ${hw.dataDisks.length} disks; virtio-scsi-single leaves ${MAX_DATA_DISKS} after the boot disk`,
      fix: `use at most ${MAX_DATA_DISKS} data disks`,
    });
  }
  const raw = node.dataDisks ?? classOf(input, node)?.dataDisks ?? [];
  raw.forEach((d, j) => {
    if (seen.has(d.name)) {
      issues.push({
        path: `${diskKey}[${j}].name`,
        message: `${showValue(d.name)} is used by another data disk of ${node.name}`,
        fix: "give each data disk of a node its own name",
      });
    }
    seen.add(d.name);
    const selectorFault =
      d.selector !== undefined ? diskSelectorFault(d.selector, input.talosMinor) : undefined;
    if (selectorFault !== undefined) {
      issues.push({
        path: `${diskKey}[${j}].selector`,
        message: `${showValue(d.selector)} ${selectorFault}: Talos would refuse the disk selector`,
        fix: 'write a CEL condition over disk, e.g. disk.serial == "S3EWNX0M" or disk.size >= 100u * GiB && !disk.rotational',
      });
    }
    if (!input.proxmox && d.selector === undefined && !input.unparsed?.has("proxmox")) {
      issues.push({
        path: `${diskKey}[${j}].selector`,
        message: `is unset on ${node.name}, an existing machine: nothing says which of its disks is ${showValue(d.name)}`,
        fix: 'give a stable Talos disk selector, e.g. selector: disk.serial == "S3EWNX0M" (see talosctl get disks)',
      });
    }
    if (input.proxmox && d.selector === undefined && input.talosMinor === "1.10") {
      issues.push({
        path: `${diskKey}[${j}].selector`,
        message: `is unset on ${node.name} with talosVersion ${input.talosMinor}: Talos 1.10 reads no serial of a virtio-scsi disk (1.11 reads it through udev), so the disk cannot be found by the serial this program gives it`,
        fix: "use Talos 1.11 or later, or give a selector that matches only this disk",
      });
    }
  });
  return issues;
}

/**
 * A fault of a setting several nodes share (cluster or class security): reported once at its key,
 * naming every node it hits, not once per node.
 */
interface SharedIssue {
  readonly path: string;
  readonly node: string;
  readonly message: (nodes: string) => string;
  readonly fix: string;
}

/** TPM keys need Secure Boot; Secure Boot needs UEFI; well-known certificates need Secure Boot. */
function bootSecurityIssues({ input, node, i, hw }: NodeRuleContext): SharedIssue[] {
  const issues: SharedIssue[] = [];
  if (input.unparsed?.has("security")) return issues;
  const sbKey = securityKey(input, node, i, "secureBoot");
  if (hw.diskEncryption === "tpm" && !hw.secureBoot) {
    issues.push({
      path: securityKey(input, node, i, "diskEncryption"),
      node: node.name,
      message: (nodes) =>
        `is "tpm" for ${nodes} while ${sbKey} is false: Talos seals the keys to the TPM's Secure Boot measurements`,
      fix: `set ${sbKey}: true, or use diskEncryption: nodeID (weaker: derived from the node's id)`,
    });
  }
  // Node- or class-level includeWellKnownCertificates without Secure Boot has no effect.
  const wkcSet =
    node.security?.includeWellKnownCertificates ??
    classOf(input, node)?.security?.includeWellKnownCertificates;
  if (wkcSet === true && !hw.secureBoot) {
    issues.push({
      path: securityKey(input, node, i, "includeWellKnownCertificates"),
      node: node.name,
      message: (nodes) =>
        `is true for ${nodes} while ${sbKey} is false: only Secure Boot images enroll certificates`,
      fix: "turn secureBoot on for the node, or remove includeWellKnownCertificates",
    });
  }
  if (hw.secureBoot && input.proxmox?.bios === "seabios") {
    issues.push({
      path: sbKey,
      node: node.name,
      message: (nodes) => `is true for ${nodes} while proxmox.bios is "seabios": Secure Boot needs UEFI`,
      fix: "set proxmox.bios: ovmf (the default), or turn secureBoot off",
    });
  }
  return issues;
}

/** One issue per key and fault, naming all its nodes ("cp-1, cp-2 and worker-1"). */
function mergeShared(shared: readonly SharedIssue[]): ConfigIssue[] {
  const groups = new Map<string, { first: SharedIssue; nodes: string[] }>();
  for (const s of shared) {
    const id = `${s.path}\n${s.message("")}\n${s.fix}`;
    const g = groups.get(id);
    if (g) g.nodes.push(s.node);
    else groups.set(id, { first: s, nodes: [s.node] });
  }
  return [...groups.values()].map(({ first, nodes }) => {
    const names =
      nodes.length === 1 ? nodes[0]! : `${nodes.slice(0, -1).join(", ")} and ${nodes[nodes.length - 1]}`;
    return { path: first.path, message: first.message(names), fix: first.fix };
  });
}

/** A partition of a disk (`/dev/sda1`, `/dev/nvme0n1p2`, `/dev/mmcblk0p1`), not a whole disk. */
const PARTITION = /^\/dev\/((sd|vd|hd|xvd)[a-z]+\d+|(nvme\d+n\d+|mmcblk\d+)p\d+)$/;

/**
 * Talos installs onto a whole disk. A Proxmox VM of this program has exactly one boot disk, scsi0 on
 * virtio-scsi-single, which the guest names /dev/sda; /dev/sdb … are its data disks (scsi1 …), and
 * /dev/vd*, /dev/nvme*, /dev/hd* do not exist there.
 */
function installDiskIssues(
  input: HardwareRuleInput,
  node: HardwareNodeInput & { readonly installDisk?: string },
  i: number,
): ConfigIssue[] {
  const disk = node.installDisk;
  if (disk === undefined) return [];
  if (PARTITION.test(disk)) {
    return [
      {
        path: `nodes[${i}].installDisk`,
        message: `${showValue(disk)} is a partition: Talos installs onto a whole disk and partitions it itself`,
        fix: `name the disk, e.g. ${disk.replace(/p?\d+$/, "")}`,
      },
    ];
  }
  if (input.proxmox && /^\/dev\/[^/]+$/.test(disk) && disk !== "/dev/sda") {
    const dataDisk = /^\/dev\/sd[b-z]+$/.test(disk);
    return [
      {
        path: `nodes[${i}].installDisk`,
        message: dataDisk
          ? `${showValue(disk)} is not ${node.name}'s boot disk: the VM boots from scsi0 (/dev/sda), and /dev/sdb … are its data disks (scsi1 …), which Talos would overwrite`
          : `${showValue(disk)} does not exist in ${node.name}'s VM: its boot disk is scsi0 on virtio-scsi, which the guest names /dev/sda`,
        fix: "leave installDisk unset (it defaults to /dev/sda) or set /dev/sda",
      },
    ];
  }
  return [];
}

/** Cross-field rules of node hardware; every fault, each naming its key (reported once). */
export function hardwareIssues(input: HardwareRuleInput): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const classes = input.nodeClasses ?? {};
  const shared: SharedIssue[] = [];
  input.nodes.forEach((node, i) => {
    issues.push(...installDiskIssues(input, node, i)); // needs no class
    // Its class did not parse: what the node resolves to is unknown.
    if (node.class !== undefined && input.unparsed?.has("nodeClasses")) return;
    if (node.class !== undefined && !(node.class in classes)) {
      issues.push({
        path: `nodes[${i}].class`,
        message: `${showValue(node.class)} is not a key of nodeClasses`,
        fix: `define nodeClasses.${node.class} or use one of: ${Object.keys(classes).join(", ") || "(none defined)"}`,
      });
      return;
    }
    const ctx = { input, node, i, hw: resolveNodeHardware(input, node) };
    issues.push(...pciIssues(ctx), ...dataDiskIssues(ctx), ...schematicRepeatIssues(input, node, i));
    shared.push(...bootSecurityIssues(ctx));
  });

  issues.push(...mergeShared(shared));

  const anySecureBoot = input.nodes.some(
    (n) => (n.class === undefined || n.class in classes) && resolveNodeHardware(input, n).secureBoot,
  );
  if (input.security?.includeWellKnownCertificates && !anySecureBoot && !input.unparsed?.has("nodeClasses")) {
    issues.push({
      path: "security.includeWellKnownCertificates",
      message: "is true while no node boots with Secure Boot: only Secure Boot images enroll certificates",
      fix: "set security.secureBoot: true (or on the nodes that need it), or remove includeWellKnownCertificates",
    });
  }
  if (input.openebsDataDisk !== undefined && !input.unparsed?.has("nodeClasses")) {
    const owners = input.nodes.filter((n) =>
      resolveNodeHardware(input, n).dataDisks.some((d) => d.name === input.openebsDataDisk),
    );
    if (owners.length === 0) {
      issues.push({
        path: "addons.openebs.dataDisk",
        message: `${showValue(input.openebsDataDisk)} is no node's data disk`,
        fix: "add a data disk of that name to the nodes that run volumes, or remove addons.openebs.dataDisk",
      });
    }
  }
  // A class's fault shows once, not once per node of the class.
  return issues.filter((x, k) => issues.findIndex((y) => y.path === x.path && y.message === x.message) === k);
}
