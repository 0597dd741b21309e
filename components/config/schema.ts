/**
 * The stack config schema: one zod schema per top-level key of the `proxmox-talos:` namespace.
 * Each key is parsed on its own so that a fault in one key does not hide faults in another;
 * cross-field rules live in `rules.ts` and run on whatever parsed.
 */

import { z } from "zod";
import { CLIENT_CERT_DEFAULTS, NETWORK_DEFAULTS, ROLLOUT_DEFAULTS } from "../defaults";
import { isIpv4, parseCidr } from "../net/ipv4";
import { parseSecretsYaml, SecretsBundleError } from "../talos/pki/secrets";
import { isReleaseVersion } from "../version";
import {
  DEFAULT_EXTENSIONS,
  DEFAULT_KUBERNETES_VERSION,
  DEFAULT_TALOS_VERSION,
  IMAGE_FACTORY_URL,
} from "../versions";
import { BACKUP_DEFAULTS, BackupSchema } from "./backup";
import { isAgeIdentity } from "./bech32";
import {
  extensionName,
  NODE_HARDWARE_FIELDS,
  NodeClassesSchema,
  PciMappingsSchema,
  proxmoxStorageId,
  SECURITY_DEFAULTS,
  SecuritySchema,
} from "./hardware";
import { httpsEndpoint } from "./https-endpoint";
import { hostBitsProblem } from "./subnet";

export { CONFIG_NAMESPACE } from "./namespace";

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const ipv4 = z
  .string()
  .refine(isIpv4, { error: "is not an IPv4 address — write it as a dotted quad like 10.0.0.10" });
// A subnet is written by its network address (subnet.ts).
const cidr = z.string().superRefine((text, ctx) => {
  const parsed = parseCidr(text);
  const hostBits = parsed && hostBitsProblem(parsed);
  if (!parsed) {
    ctx.addIssue({ code: "custom", input: text, message: "is not an IPv4 CIDR — write it like 10.0.0.0/24" });
  } else if (hostBits) {
    ctx.addIssue({ code: "custom", input: text, message: `${hostBits.what} — ${hostBits.fix}` });
  }
});
// No leading zeros: `1.36.03` would name an image tag that does not exist.
const version = (example: string) =>
  z.string().refine(isReleaseVersion, {
    error: `is not a release version (numbers without leading zeros) — write it like ${example}`,
  });

const PROXMOX_TAG = /^[a-z0-9_.-]+$/;

/** A device node path (`/dev/sda`, `/dev/disk/by-id/…`, `/dev/disk/by-path/pci-0000:00:05.0-…`). */
function isDevicePath(p: string): boolean {
  return /^\/dev\/[A-Za-z0-9._:+@-]+(\/[A-Za-z0-9._:+@-]+)*$/.test(p) && !p.split("/").includes("..");
}

/**
 * A Talos config patch: a YAML string (a strategic-merge document, several `---` documents, or a
 * list of RFC 6902 operations) or the same as a structured value.
 */
export const PatchSchema = z.union([
  z.string().min(1, { error: "is an empty patch — remove it or give a YAML patch" }),
  z.record(z.string(), z.unknown()),
  z.array(z.record(z.string(), z.unknown())),
]);
export type ConfigPatch = z.infer<typeof PatchSchema>;

export const NodeSchema = z.strictObject({
  /** Hostname of the node and name of its VM. */
  name: z.string().regex(DNS_LABEL, {
    error:
      "is not a valid node name — use lowercase letters, digits and '-' (a DNS label, at most 63 characters)",
  }),
  role: z.enum(["controlplane", "worker"], { error: 'must be "controlplane" or "worker"' }),
  /** Static IPv4 address of the node (inside `network.cidr`). */
  ip: ipv4,
  /** Proxmox node (host) the VM runs on. Required with a `proxmox` section. */
  proxmoxNode: z.string().min(1).optional(),
  /**
   * Existing machines only: the machine is known to be new (booted from the Talos image, in
   * maintenance mode), so its first apply may use the unauthenticated maintenance API. Proxmox
   * VMs need no flag: a VM created or replaced in this update is new. Defaults to false.
   */
  newMachine: z.boolean().default(false),
  /** Proxmox VM id. Required with a `proxmox` section. */
  vmId: z
    .number({ error: "must be a whole number from 100 to 999999999 (a Proxmox VM id)" })
    .int()
    .min(100, { error: "must be at least 100 (Proxmox reserves lower VM ids)" })
    .max(999_999_999)
    .optional(),
  /** vCPUs. Defaults to NODE_DEFAULTS.cores (components/defaults.ts, like every default below). */
  cores: z.number().int().min(1, { error: "must be at least 1" }).max(512).optional(),
  /** Memory in MiB. Defaults to NODE_DEFAULTS.memoryMiB. */
  memoryMiB: z
    .number()
    .int()
    .min(1024, { error: "must be at least 1024 MiB (Talos needs 1 GiB or more)" })
    .optional(),
  /** Boot disk size in GiB. Defaults to NODE_DEFAULTS.diskGiB. */
  diskGiB: z
    .number()
    .int()
    .min(10, { error: "must be at least 10 GiB (Talos' minimum system disk)" })
    .optional(),
  /** Install disk inside the VM. Defaults to NODE_DEFAULTS.installDisk. */
  installDisk: z
    .string()
    .startsWith("/dev/", { error: "must be a device path like /dev/sda", abort: true })
    .refine(isDevicePath, {
      error:
        'is not a plain device path (no "..", spaces or shell characters) — write it like /dev/sda or /dev/disk/by-id/…',
    })
    .optional(),
  /** Talos config patches for this node only, applied after the role patches. */
  patches: z.array(PatchSchema).default([]),
  /** Extra Proxmox tags for the VM. */
  tags: z
    .array(
      z.string().regex(PROXMOX_TAG, {
        error: "is not a Proxmox tag — use lowercase letters, digits, '_', '.', '-' (no spaces)",
      }),
    )
    .default([]),
  /** Node class, image additions, data disks, PCI passthrough, boot security (see hardware.ts). */
  ...NODE_HARDWARE_FIELDS,
});
export type NodeConfig = z.infer<typeof NodeSchema>;

export const ControlPlaneSchema = z.strictObject({
  /** Shared virtual IP the control planes announce (layer 2). */
  vip: ipv4,
  /** Kubernetes API endpoint. Defaults to https://<vip>:6443. */
  endpoint: httpsEndpoint({
    example: "https://10.0.0.5:6443",
    path: "none",
    credentials: "the API is reached with the cluster's client certificates",
  }).optional(),
  /** Allow an even number of control planes (etcd quorum gains nothing from it). Defaults to false. */
  allowEvenCount: z.boolean().default(false),
  /** Run workloads on control planes. Defaults to false. */
  allowSchedulingOnControlPlanes: z.boolean().default(false),
});

export const NetworkSchema = z.strictObject({
  /** The node network, e.g. 10.0.0.0/24. */
  cidr,
  gateway: ipv4,
  dnsServers: z.array(ipv4).min(1, { error: "needs at least one DNS server" }),
  /** Proxmox bridge for the VMs' NIC. Defaults to vmbr0. */
  bridge: z.string().min(1).default("vmbr0"),
  /** VLAN tag of the VMs' NIC. Defaults to none. */
  vlan: z.number().int().min(1).max(4094, { error: "must be a VLAN id from 1 to 4094" }).optional(),
  /** CNI: `cilium` (the Cilium addon, Talos' CNI off), `flannel` (Talos' built-in). Defaults to cilium. */
  cni: z.enum(["cilium", "flannel"], { error: 'must be "cilium" or "flannel"' }).default("cilium"),
  /** Run kube-proxy. Defaults to false with Cilium (kube-proxy replacement), true with flannel. */
  kubeProxy: z.boolean().optional(),
  podSubnets: z.array(cidr).default([...NETWORK_DEFAULTS.podSubnets]),
  serviceSubnets: z.array(cidr).default([...NETWORK_DEFAULTS.serviceSubnets]),
});

export const ProxmoxSchema = z.strictObject({
  /** Proxmox API URL, e.g. https://pve1.example.lan:8006/. */
  endpoint: httpsEndpoint({
    example: "https://pve.lan:8006/",
    path: "root",
    credentials: "the API token goes in the secret proxmoxApiToken",
    pathWhy: "the provider adds /api2/json",
  }),
  /** Skip TLS verification of the Proxmox API. Defaults to false; allowed only where you set it. */
  insecure: z.boolean().default(false),
  /** Datastore for VM disks. Defaults to local-lvm. */
  diskDatastore: proxmoxStorageId.default("local-lvm"),
  /** Datastore (with the `import`/`iso` content type) for the downloaded Talos image. Defaults to local. */
  imageDatastore: proxmoxStorageId.default("local"),
  /** Firmware: ovmf (UEFI) or seabios. Defaults to ovmf. */
  bios: z.enum(["ovmf", "seabios"], { error: 'must be "ovmf" or "seabios"' }).default("ovmf"),
  /** VM CPU type. Defaults to host. */
  cpuType: z
    .enum(["host", "x86-64-v2-AES", "x86-64-v3", "x86-64-v4"], {
      error: 'must be "host" or an x86-64-v2+ model like "x86-64-v2-AES" (Talos needs x86-64-v2)',
    })
    .default("host"),
  /** SSH-less API user for the provider, e.g. root@pam. Only used for tagging. */
  tags: z
    .array(
      z.string().regex(PROXMOX_TAG, {
        error: "is not a Proxmox tag — use lowercase letters, digits, '_', '.', '-' (no spaces)",
      }),
    )
    .default(["talos", "kubernetes"]),
  /** PCI resource mappings nodes pass through, with the hosts that have the device. */
  pciMappings: PciMappingsSchema.default({}),
});

export const PatchesSchema = z.strictObject({
  all: z.array(PatchSchema).default([]),
  controlplane: z.array(PatchSchema).default([]),
  worker: z.array(PatchSchema).default([]),
});

export const ImageFactorySchema = z.strictObject({
  // The boot image and installer come from here; image paths are appended to it.
  url: httpsEndpoint({ example: "https://factory.talos.dev", path: "none" }).default(IMAGE_FACTORY_URL),
  extensions: z.array(extensionName).default([...DEFAULT_EXTENSIONS]),
});

/** How `up` rolls changes (upgrades, config changes) and removals across the nodes. */
export const RolloutSchema = z.strictObject({
  /** Workers changed at once (control planes always go one at a time). */
  workerBatchSize: z
    .number()
    .int()
    .min(1, { error: "must be at least 1" })
    .max(100)
    .default(ROLLOUT_DEFAULTS.workerBatchSize),
  /** Bound of one node's step: upgrade, reboot, health gates. */
  nodeTimeoutSeconds: z
    .number()
    .int()
    .min(30, { error: "must be at least 30 seconds" })
    .default(ROLLOUT_DEFAULTS.nodeTimeoutSeconds),
  /** Bound of draining a node before its removal. */
  drainTimeoutSeconds: z
    .number()
    .int()
    .min(10, { error: "must be at least 10 seconds" })
    .default(ROLLOUT_DEFAULTS.drainTimeoutSeconds),
  /** Production stacks: allow removing or replacing (reinstalling) nodes. */
  allowNodeRemoval: z.boolean().default(ROLLOUT_DEFAULTS.allowNodeRemoval),
});

/** The admin talosconfig / kubeconfig client certificates. */
export const ClientCertsSchema = z.strictObject({
  /** An `up` this many days or fewer before a client cert expires issues fresh ones. */
  renewBeforeDays: z
    .number()
    .int()
    .min(1, { error: "must be at least 1 day" })
    .max(3650)
    .default(CLIENT_CERT_DEFAULTS.renewBeforeDays),
  /** Lifetime of a new client cert. */
  validityDays: z
    .number()
    .int()
    .min(2, { error: "must be at least 2 days" })
    .max(3650)
    .default(CLIENT_CERT_DEFAULTS.validityDays),
});

/** Top-level keys and their schemas (plain, non-secret keys). */
export const TOP_LEVEL = {
  clusterName: z.string().regex(DNS_LABEL, { error: "must be a DNS label like homelab" }),
  talosVersion: version(DEFAULT_TALOS_VERSION).default(DEFAULT_TALOS_VERSION),
  kubernetesVersion: version(DEFAULT_KUBERNETES_VERSION).default(DEFAULT_KUBERNETES_VERSION),
  production: z.boolean().default(false),
  controlPlane: ControlPlaneSchema,
  network: NetworkSchema,
  proxmox: ProxmoxSchema.optional(),
  nodes: z.array(NodeSchema).min(1, { error: "needs at least one node" }),
  patches: PatchesSchema.default({ all: [], controlplane: [], worker: [] }),
  /** Git user name for Flux's credentials (the password/token is the secret `fluxGitPassword`). Defaults to git. */
  fluxGitUsername: z.string().min(1).optional(),
  /** Offsets for `npm run ephemeral` throwaway copies of this stack. */
  ephemeral: z
    .strictObject({
      vmidOffset: z.number().int().min(1).optional(),
      ipOffset: z.number().int().min(1).optional(),
      /** Secret keys (and `flux`) the throwaway copy may take from this stack; none by default. */
      copy: z
        .array(
          z.enum(["talosSecrets", "sopsAgeKey", "fluxGitPassword", "flux"], {
            error: 'must be one of "talosSecrets", "sopsAgeKey", "fluxGitPassword", "flux"',
          }),
        )
        .default([]),
    })
    .optional(),
  imageFactory: ImageFactorySchema.default({ url: IMAGE_FACTORY_URL, extensions: [...DEFAULT_EXTENSIONS] }),
  rollout: RolloutSchema.default({ ...ROLLOUT_DEFAULTS }),
  /**
   * Let a changed or removed `talosSecrets` replace the cluster's secrets bundle (a new PKI: the
   * running cluster rejects the new credentials). Defaults to false: such a change is refused.
   */
  allowTalosSecretsReplacement: z.boolean().default(false),
  clientCerts: ClientCertsSchema.default(CLIENT_CERT_DEFAULTS),
  backup: BackupSchema.default(BACKUP_DEFAULTS),
  /** Secure Boot and disk encryption of every node (nodes and node classes may override). */
  security: SecuritySchema.default(SECURITY_DEFAULTS),
  /** Named node hardware definitions (`nodes[].class`). */
  nodeClasses: NodeClassesSchema.default({}),
} as const;

/**
 * Secret keys: read only from Pulumi secret config (`pulumi config set --secret`); a plain value
 * for any of them is an error.
 */
export const SECRET_KEYS = {
  /** Proxmox API token `user@realm!tokenid=uuid`. */
  proxmoxApiToken: z
    .string()
    .regex(/^[^@\s]+@[^!\s]+![^=\s]+=\S+$/, {
      error: "is not a Proxmox API token — expected user@realm!tokenid=secret",
      abort: true,
    })
    // Proxmox generates every token secret as a UUID; anything else is a mistyped or cut value.
    .regex(/=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
      error:
        "has a secret that is not a UUID — copy the whole user@realm!tokenid=<uuid> Proxmox showed when the token was made",
    }),
  /** Git credentials for Flux: the password or token (username in `fluxGitUsername`). */
  fluxGitPassword: z.string().min(1),
  /** An existing Talos secrets bundle (secrets.yaml from talosctl or talhelper), to adopt a cluster. */
  talosSecrets: z
    .string()
    .min(1)
    .superRefine((text, ctx) => {
      try {
        parseSecretsYaml(text);
      } catch (e) {
        // SecretsBundleError names the field and the fault, never a value.
        if (!(e instanceof SecretsBundleError)) throw e;
        ctx.addIssue({
          code: "custom",
          input: text,
          message: `is not a Talos secrets bundle (${e.message}) — set it to the secrets.yaml of \`talosctl gen secrets\` or talhelper, whole`,
        });
      }
    }),
  /** An existing age identity for SOPS (`AGE-SECRET-KEY-1...`). */
  sopsAgeKey: z
    .string()
    .regex(/^AGE-SECRET-KEY-1[0-9A-Z]+$/, {
      error: "is not an age identity (AGE-SECRET-KEY-1...)",
      abort: true,
    })
    .refine(isAgeIdentity, {
      error:
        "fails its checksum: it is not a whole age identity — copy the full AGE-SECRET-KEY-1… line of the key file",
    }),
  /** Platform addons (components/addons/platform-config.ts): DNS-01 token, SMTP password, S3 keys, OIDC secret. */
  certManagerCloudflareToken: z.string().min(1),
  alertmanagerSmtpPassword: z.string().min(1),
  veleroS3AccessKeyId: z.string().min(1),
  veleroS3SecretAccessKey: z.string().min(1),
  headlampOidcClientSecret: z.string().min(1),
  /** S3 access key id and secret of `addons.etcdBackup`. */
  etcdBackupS3AccessKeyId: z.string().min(1),
  etcdBackupS3SecretAccessKey: z.string().min(1),
} as const;
export type SecretKey = keyof typeof SECRET_KEYS;
