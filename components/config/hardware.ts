/**
 * Node hardware and boot security in the stack config: per-node (or per node class) Image Factory
 * customizations, extra data disks (Talos user volumes), PCI passthrough by Proxmox resource
 * mapping, Secure Boot and disk encryption. The zod schemas here are spliced into `schema.ts`;
 * `hardwareIssues` holds their cross-field rules; `resolveNodeHardware` merges cluster → class →
 * node into what the builders use. Plain data, no Pulumi.
 */
import { z } from "zod";
import { isPlainSchematicScalar } from "../talos/schematic";
import { type ConfigIssue, showValue } from "./errors";

const PLAIN_FIX = "use letters, digits and _.,=/:+@- only (no spaces or quotes), e.g. i915.enable_guc=3";

/** An official Image Factory extension, `<org>/<name>`. */
export const extensionName = z.string().regex(/^[a-z0-9-]+\/[a-z0-9._-]+$/, {
  error: "must name an official extension like siderolabs/qemu-guest-agent",
});
const kernelArg = z.string().refine(isPlainSchematicScalar, {
  error: `is not a kernel argument this program can hash as Image Factory does — ${PLAIN_FIX}`,
});

/** What a node or node class adds to the cluster's `imageFactory` schematic. */
export const ImageCustomizationSchema = z.strictObject({
  /** Official extensions added after the cluster's `imageFactory.extensions` (order is kept). */
  extensions: z.array(extensionName).default([]),
  /** Kernel arguments baked into the image (`customization.extraKernelArgs`). */
  extraKernelArgs: z.array(kernelArg).default([]),
  /** Talos META entries written into the image (`customization.meta`). */
  meta: z
    .array(
      z.strictObject({
        key: z
          .number({ error: "must be a whole number from 0 to 255 (a Talos META key)" })
          .int()
          .min(0, { error: "must be from 0 to 255 (a Talos META key)" })
          .max(255, { error: "must be from 0 to 255 (a Talos META key)" }),
        value: z.string().refine(isPlainSchematicScalar, {
          error: `is not a META value this program can hash as Image Factory does — ${PLAIN_FIX}`,
        }),
      }),
    )
    .default([]),
});
export type ImageCustomization = z.infer<typeof ImageCustomizationSchema>;

/** Name of a data disk: its Talos user volume (mounted at /var/mnt/<name>) and its Proxmox serial. */
const DATA_DISK_NAME = /^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/;

/** One extra data disk of a node, given to Talos as a `UserVolumeConfig`. */
export const DataDiskSchema = z.strictObject({
  name: z.string().regex(DATA_DISK_NAME, {
    error: "must be 1–20 lowercase letters, digits or '-' (it becomes /var/mnt/<name> and the disk serial)",
  }),
  /** Size in GiB: the Proxmox disk's size; the volume takes the whole disk. */
  sizeGiB: z.number({ error: "must be a whole number of GiB" }).int().min(1, { error: "must be at least 1" }),
  /** Proxmox datastore of the disk. Defaults to proxmox.diskDatastore. */
  datastore: z.string().min(1).optional(),
  ssd: z.boolean().default(true),
  discard: z.boolean().default(true),
  iothread: z.boolean().default(true),
  /**
   * Talos disk selector (CEL), e.g. `disk.serial == "S3EWNX0M"`. Required on existing machines
   * (and on Talos 1.10, which sees no virtio-scsi serial); Proxmox disks get the serial `<name>`
   * and the selector `disk.serial == "<name>"` by default.
   */
  selector: z.string().min(1).optional(),
});
export type DataDisk = z.infer<typeof DataDiskSchema>;

/** One passed-through PCI device. */
export const PciDeviceSchema = z.strictObject({
  /** Proxmox resource mapping (Datacenter → Resource Mappings → PCI Devices). Works with API tokens. */
  mapping: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, { error: "is not a Proxmox resource mapping name" })
    .optional(),
  /** Raw host PCI id like 0000:01:00.0: Proxmox allows it only for root@pam with a password. */
  id: z.string().optional(),
  /** PCI Express port (q35). Defaults to true. */
  pcie: z.boolean().default(true),
  /** Expose the device's option ROM. Defaults to true. */
  rombar: z.boolean().default(true),
  /** Primary GPU of the VM. Defaults to false. */
  xvga: z.boolean().default(false),
});
export type PciDevice = z.infer<typeof PciDeviceSchema>;

const DISK_ENCRYPTION = z.enum(["none", "tpm", "nodeID"], {
  error: 'must be "none", "tpm" (sealed to the TPM; needs secureBoot) or "nodeID"',
});

/** Cluster-wide boot security (`security`). */
export const SecuritySchema = z.strictObject({
  /** Secure Boot images and installer, OVMF in setup mode, a vTPM 2.0. Defaults to false. */
  secureBoot: z.boolean().default(false),
  /** Enroll Microsoft's well-known UEFI certificates too (option ROMs of passed-through GPUs). */
  includeWellKnownCertificates: z.boolean().default(false),
  /** LUKS2 on STATE and EPHEMERAL: keys sealed to the TPM, or derived from the node id. */
  diskEncryption: DISK_ENCRYPTION.default("none"),
});
export const SECURITY_DEFAULTS = SecuritySchema.parse({});

/** A node's (or class's) override of `security`: only what it sets. */
export const SecurityOverrideSchema = z.strictObject({
  secureBoot: z.boolean().optional(),
  includeWellKnownCertificates: z.boolean().optional(),
  diskEncryption: DISK_ENCRYPTION.optional(),
});

/** Hardware fields a node and a node class share. */
const HARDWARE_FIELDS = {
  /** Added to the cluster's Image Factory schematic. */
  image: ImageCustomizationSchema.optional(),
  /** Extra data disks (replaces the class's list when set). */
  dataDisks: z.array(DataDiskSchema).optional(),
  /** PCI devices passed through (replaces the class's list when set). */
  pci: z.array(PciDeviceSchema).optional(),
  security: SecurityOverrideSchema.optional(),
};

/** A named node class (`nodeClasses.<name>`): several nodes share one hardware definition. */
export const NodeClassSchema = z.strictObject(HARDWARE_FIELDS);

/** Fields spliced into `NodeSchema`. */
export const NODE_HARDWARE_FIELDS = {
  /** Name of a `nodeClasses` entry this node takes its hardware from. */
  class: z.string().min(1).optional(),
  ...HARDWARE_FIELDS,
};

/** `nodeClasses`: class name → hardware. */
export const NodeClassesSchema = z.record(
  z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { error: "is not a valid class name (a DNS label)" }),
  NodeClassSchema,
);

/** `proxmox.pciMappings`: what the program knows of the cluster's PCI resource mappings. */
export const PciMappingsSchema = z.record(
  z.string(),
  z.strictObject({
    /** Proxmox hosts the mapping has a device on; a node using it must run on one of them. */
    hosts: z.array(z.string().min(1)).default([]),
  }),
);

/** The config a node's hardware resolves from. */
export interface HardwareNodeInput {
  readonly name: string;
  readonly proxmoxNode?: string;
  readonly class?: string;
  readonly image?: ImageCustomization;
  readonly dataDisks?: readonly DataDisk[];
  readonly pci?: readonly PciDevice[];
  readonly security?: z.infer<typeof SecurityOverrideSchema>;
}
export interface HardwareClusterInput {
  readonly imageFactory: { readonly extensions: readonly string[] };
  readonly security?: z.infer<typeof SecuritySchema>;
  readonly nodeClasses?: Readonly<Record<string, z.infer<typeof NodeClassSchema>>>;
  /** Absent on existing machines. */
  readonly proxmox?: { readonly diskDatastore: string };
}

/** A data disk with every default resolved. */
export interface ResolvedDataDisk {
  readonly name: string;
  readonly sizeGiB: number;
  /** Proxmox datastore; undefined on existing machines. */
  readonly datastore?: string;
  readonly ssd: boolean;
  readonly discard: boolean;
  readonly iothread: boolean;
  /** Proxmox disk serial (the disk name); undefined on existing machines. */
  readonly serial?: string;
  /** Talos CEL disk selector. */
  readonly selector: string;
}

/** A node's resolved hardware and boot security. */
export interface NodeHardware {
  /** The node's full schematic input: cluster extensions, then class's, then node's. */
  readonly image: {
    readonly extensions: readonly string[];
    readonly extraKernelArgs: readonly string[];
    readonly meta: readonly { readonly key: number; readonly value: string }[];
    readonly includeWellKnownCertificates: boolean;
  };
  readonly secureBoot: boolean;
  readonly diskEncryption: "none" | "tpm" | "nodeID";
  readonly dataDisks: readonly ResolvedDataDisk[];
  readonly pci: readonly PciDevice[];
}

/** The Talos selector of a Proxmox data disk: the serial the program gives it. */
export function serialSelector(serial: string): string {
  return `disk.serial == "${serial}"`;
}

/** Cluster → class → node. Assumes a valid config (see `hardwareIssues`). */
export function resolveNodeHardware(cluster: HardwareClusterInput, node: HardwareNodeInput): NodeHardware {
  const cls = node.class !== undefined ? cluster.nodeClasses?.[node.class] : undefined;
  const security = { ...SECURITY_DEFAULTS, ...cluster.security, ...cls?.security, ...node.security };
  const layers = [cls?.image, node.image];
  const proxmox = cluster.proxmox;
  return {
    image: {
      extensions: [...cluster.imageFactory.extensions, ...layers.flatMap((l) => l?.extensions ?? [])],
      extraKernelArgs: layers.flatMap((l) => l?.extraKernelArgs ?? []),
      meta: layers.flatMap((l) => l?.meta ?? []),
      includeWellKnownCertificates: security.secureBoot && security.includeWellKnownCertificates,
    },
    secureBoot: security.secureBoot,
    diskEncryption: security.diskEncryption,
    dataDisks: (node.dataDisks ?? cls?.dataDisks ?? []).map((d) => ({
      name: d.name,
      sizeGiB: d.sizeGiB,
      ssd: d.ssd,
      discard: d.discard,
      iothread: d.iothread,
      ...(proxmox ? { datastore: d.datastore ?? proxmox.diskDatastore, serial: d.name } : {}),
      selector: d.selector ?? serialSelector(d.name),
    })),
    pci: node.pci ?? cls?.pci ?? [],
  };
}

/** Everything the rules look at. */
export interface HardwareRuleInput extends HardwareClusterInput {
  readonly nodes: readonly HardwareNodeInput[];
  readonly proxmox?: {
    readonly diskDatastore: string;
    readonly bios: "ovmf" | "seabios";
    readonly pciMappings?: Readonly<Record<string, { readonly hosts: readonly string[] }>>;
  };
  /** `addons.openebs.dataDisk` when OpenEBS is on. */
  readonly openebsDataDisk?: string;
  /** Talos minor (`1.13`) of the stack, when it parsed. */
  readonly talosMinor?: string;
}

/** Proxmox allows 16 hostpci slots (hostpci0 … hostpci15). */
const MAX_PCI = 16;
/** virtio-scsi-single: scsi0 is the boot disk, scsi1 … scsi30 are free. */
const MAX_DATA_DISKS = 30;

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

/** Cross-field rules of node hardware; every fault, each naming its key. */
export function hardwareIssues(input: HardwareRuleInput): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const classes = input.nodeClasses ?? {};
  const mappings = input.proxmox?.pciMappings ?? {};
  const cls = (n: HardwareNodeInput) => (n.class !== undefined ? classes[n.class] : undefined);
  input.nodes.forEach((node, i) => {
    if (node.class !== undefined && !(node.class in classes)) {
      issues.push({
        path: `nodes[${i}].class`,
        message: `${showValue(node.class)} is not a key of nodeClasses`,
        fix: `define nodeClasses.${node.class} or use one of: ${Object.keys(classes).join(", ") || "(none defined)"}`,
      });
      return;
    }
    const hw = resolveNodeHardware(input, node);

    // PCI passthrough
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
          issues.push({
            path: `${key}.id`,
            message: `${showValue(dev.id)} is a raw host PCI id: Proxmox accepts those only from root@pam with a password, and this program authenticates with an API token (proxmoxApiToken)`,
            fix: "create a resource mapping (Datacenter → Resource Mappings → PCI Devices) and set mapping: <its name> instead",
          });
        } else if (dev.mapping === undefined) {
          issues.push({
            path: `${key}.mapping`,
            message: "is unset",
            fix: "name the Proxmox PCI resource mapping to pass through, e.g. mapping: gpu",
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

    // Data disks
    const diskKey = origin(node, i, "dataDisks");
    const seen = new Set<string>();
    if (hw.dataDisks.length > MAX_DATA_DISKS) {
      issues.push({
        path: diskKey,
        message: `has ${hw.dataDisks.length} disks; virtio-scsi-single leaves ${MAX_DATA_DISKS} after the boot disk`,
        fix: `use at most ${MAX_DATA_DISKS} data disks`,
      });
    }
    const raw =
      node.dataDisks ?? (node.class !== undefined ? classes[node.class]?.dataDisks : undefined) ?? [];
    raw.forEach((d, j) => {
      if (seen.has(d.name)) {
        issues.push({
          path: `${diskKey}[${j}].name`,
          message: `${showValue(d.name)} is used by another data disk of ${node.name}`,
          fix: "give each data disk of a node its own name",
        });
      }
      seen.add(d.name);
      if (!input.proxmox && d.selector === undefined) {
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

    // Boot security
    if (hw.diskEncryption === "tpm" && !hw.secureBoot) {
      issues.push({
        path: securityKey(input, node, i, "diskEncryption"),
        message: `is "tpm" for ${node.name} while ${securityKey(input, node, i, "secureBoot")} is false: Talos seals the keys to the TPM's Secure Boot measurements`,
        fix: `set ${securityKey(input, node, i, "secureBoot")}: true, or use diskEncryption: nodeID (weaker: derived from the node's id)`,
      });
    }
    // Node- or class-level includeWellKnownCertificates without Secure Boot has no effect.
    const wkcKey = securityKey(input, node, i, "includeWellKnownCertificates");
    const wkcSet =
      node.security?.includeWellKnownCertificates ?? cls(node)?.security?.includeWellKnownCertificates;
    if (wkcSet === true && !hw.secureBoot) {
      issues.push({
        path: wkcKey,
        message: `is true for ${node.name} while ${securityKey(input, node, i, "secureBoot")} is false: only Secure Boot images enroll certificates`,
        fix: "turn secureBoot on for the node, or remove includeWellKnownCertificates",
      });
    }
    if (hw.secureBoot && input.proxmox?.bios === "seabios") {
      issues.push({
        path: securityKey(input, node, i, "secureBoot"),
        message: `is true for ${node.name} while proxmox.bios is "seabios": Secure Boot needs UEFI`,
        fix: "set proxmox.bios: ovmf (the default), or turn secureBoot off",
      });
    }
  });

  const anySecureBoot = input.nodes.some(
    (n) => (n.class === undefined || n.class in classes) && resolveNodeHardware(input, n).secureBoot,
  );
  if (input.security?.includeWellKnownCertificates && !anySecureBoot) {
    issues.push({
      path: "security.includeWellKnownCertificates",
      message: "is true while no node boots with Secure Boot: only Secure Boot images enroll certificates",
      fix: "set security.secureBoot: true (or on the nodes that need it), or remove includeWellKnownCertificates",
    });
  }
  if (input.openebsDataDisk !== undefined) {
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
  return issues;
}
