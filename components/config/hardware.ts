/**
 * Node hardware and boot security in the stack config: per-node (or per node class) Image Factory
 * customizations, extra data disks (Talos user volumes), PCI passthrough by Proxmox resource
 * mapping, Secure Boot and disk encryption. The zod schemas here are spliced into `schema.ts`;
 * `hardwareIssues` holds their cross-field rules; `resolveNodeHardware` merges cluster → class →
 * node into what the builders use. Plain data, no Pulumi.
 */
import { z } from "zod";
import { isOfficialExtensionName, isPlainSchematicScalar, RESERVED_META_KEYS } from "../talos/schematic";

const PLAIN_FIX = "use letters, digits and _.,=/:+@- only (no spaces or quotes), e.g. i915.enable_guc=3";

/** An official Image Factory extension, `<org>/<name>`. */
export const extensionName = z.string().refine(isOfficialExtensionName, {
  error:
    "is not an official extension name — write <owner>/<name> in lowercase, each part starting with a letter or digit, e.g. siderolabs/qemu-guest-agent",
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
          .max(255, { error: "must be from 0 to 255 (a Talos META key)" })
          .superRefine((key, ctx) => {
            const use = RESERVED_META_KEYS.get(key);
            if (use === undefined) return;
            ctx.addIssue({
              code: "custom",
              input: key,
              message: `is ${use}, a META key Talos keeps for itself — use 12, 13 or 14 (Talos' UserReserved1–3) for your own data`,
            });
          }),
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

/**
 * A Proxmox storage id (`pve-storage-id`: PVE::JSONSchema refuses anything but a letter, then
 * letters, digits, '-', '_' or '.', ending in a letter or digit).
 */
export const proxmoxStorageId = z.string().regex(/^[A-Za-z]([A-Za-z0-9._-]*[A-Za-z0-9])?$/, {
  error:
    "is not a Proxmox storage id — use the name shown under Datacenter → Storage (a letter, then letters, digits, '-', '_' or '.'), e.g. local-lvm",
});

/** The volume's minSize is the size less 1 GiB, so a disk needs 2 GiB to hold anything. */
const MIN_DATA_DISK_GIB = 2;
/** Talos' size fields are uint64 bytes: (2^64 − 1) / 2^30 GiB, rounded down. */
const MAX_DATA_DISK_GIB = 17_179_869_183;

/** One extra data disk of a node, given to Talos as a `UserVolumeConfig`. */
export const DataDiskSchema = z.strictObject({
  name: z.string().regex(DATA_DISK_NAME, {
    error: "must be 1–20 lowercase letters, digits or '-' (it becomes /var/mnt/<name> and the disk serial)",
  }),
  /** Size in GiB: the Proxmox disk's size; the volume takes the whole disk. */
  sizeGiB: z
    .number({ error: "must be a whole number of GiB" })
    .int({ error: "must be a whole number of GiB" })
    .min(MIN_DATA_DISK_GIB, {
      error: `must be at least ${MIN_DATA_DISK_GIB}: the volume asks for the size less 1 GiB (GPT and alignment), and a 1 GiB disk has less than 1 GiB free`,
    })
    .max(MAX_DATA_DISK_GIB, {
      error: `must be at most ${MAX_DATA_DISK_GIB} — Talos reads a volume size as a 64-bit byte count`,
    }),
  /** Proxmox datastore of the disk. Defaults to proxmox.diskDatastore. */
  datastore: proxmoxStorageId.optional(),
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

/**
 * A Proxmox resource mapping id (a `pve-configid`: PVE::JSONSchema refuses anything but a letter
 * then one or more letters, digits, '_' or '-').
 */
const pciMappingName = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]+$/, {
  error:
    "is not a Proxmox resource mapping name — use the id shown under Datacenter → Resource Mappings (a letter, then letters, digits, '_' or '-'; at least 2 characters)",
});

/** One passed-through PCI device. */
export const PciDeviceSchema = z.strictObject({
  /** Proxmox resource mapping (Datacenter → Resource Mappings → PCI Devices). Works with API tokens. */
  mapping: pciMappingName.optional(),
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
  error:
    'is not a disk encryption mode — use "none", "tpm" (sealed to the TPM; needs secureBoot) or "nodeID"',
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
  z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
    error: "is not a valid class name — use lowercase letters, digits and '-' (a DNS label), e.g. gpu",
  }),
  NodeClassSchema,
);

/** `proxmox.pciMappings`: what the program knows of the cluster's PCI resource mappings. */
export const PciMappingsSchema = z.record(
  pciMappingName,
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
