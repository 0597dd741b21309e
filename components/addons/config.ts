/**
 * The stack config key `addons`: which cluster addons to install and how. Plain data, validated
 * with zod before any resource exists. Secrets (Git credentials, an imported age key) are not part
 * of it: they come from separate secret config keys and reach `ClusterAddons` as Pulumi secrets.
 *
 * Cross-checks against node addresses and the VIP live with the config owner
 * (`components/config/rules.ts`), not here.
 */
import { z } from "zod";
import { formatIssue, zodIssues } from "../config/errors";
import { httpsEndpoint } from "../config/https-endpoint";
import { parseRange } from "../net/ipv4";
import { chartVersion } from "./chart-range";
import { flag, reportProblem, wrong } from "./config-fields";
import { EtcdBackupSchema } from "./etcd-backup";
import { goDurationProblem } from "./field-formats";
import { gitBranchProblem } from "./git-ref";
import { addonValues } from "./managed-values";
import {
  CertManagerSchema,
  CiliumLoadBalancerFields,
  GatewaySchema,
  HeadlampSchema,
  MonitoringSchema,
  VeleroSchema,
} from "./platform-config";

/** A Kubernetes object name (DNS-1123 label). */
const k8sName = (example: string) =>
  z
    .string({ error: wrong("must be a string", `write a name like "${example}"`) })
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
      error: wrong(
        "is not a valid Kubernetes name",
        `use lowercase letters, digits and '-' (at most 63 characters), like "${example}"`,
      ),
    });

/** One MetalLB address entry: a CIDR "a.b.c.d/n" or an inclusive range "a.b.c.d-e.f.g.h". */
const poolAddress = z
  .string({ error: wrong("must be a string", 'write "10.0.0.240/28" or "10.0.0.240-10.0.0.250"') })
  .refine((s) => parseRange(s) !== undefined && (s.includes("/") || s.includes("-")), {
    error: wrong(
      'is not an IPv4 CIDR ("a.b.c.d/n") or range ("a.b.c.d-e.f.g.h", first <= last)',
      'write "10.0.0.240/28" or "10.0.0.240-10.0.0.250"',
    ),
  });

export const MetallbPoolSchema = z.strictObject({
  name: k8sName("default"),
  addresses: z
    .array(poolAddress, { error: wrong("must be a list of addresses", 'write addresses: ["10.0.0.240/28"]') })
    .min(1, { error: wrong("is empty", 'give at least one CIDR or range, like ["10.0.0.240/28"]') }),
  autoAssign: z
    .boolean({ error: wrong("must be true or false", "write autoAssign: false to reserve the pool") })
    .optional(),
});

const gitUrl = z
  .string({ error: wrong("must be a string", 'write url: "https://github.com/me/fleet.git"') })
  // Flux authenticates ssh:// only with a deploy key and known_hosts (its Secret's `identity` and
  // `known_hosts`), which this program does not manage: such a source could never sync.
  .refine((url) => !/^ssh:\/\//.test(url) && !/^[^/\s:@]+@[^/\s:]+:/.test(url), {
    error: wrong(
      "is an SSH Git URL: Flux needs a deploy key and known_hosts for it, which this program does not manage",
      'use the https:// URL with a token in the secret fluxGitPassword, like "https://github.com/me/fleet.git"',
    ),
    abort: true,
  })
  // https, no userinfo (the token belongs in the secret fluxGitPassword), a repository path; Flux
  // has no use for a query or fragment (the branch is `branch`).
  .pipe(
    httpsEndpoint({
      example: "https://github.com/me/fleet.git",
      path: "required",
      credentials: "put a token in the secret fluxGitPassword",
    }),
  );

const fluxInterval = z
  .string({ error: wrong("must be a string", 'write a Go duration like "10m"') })
  // Flux's CRD pattern; zero would never resync.
  .regex(/^(\d+(\.\d+)?(ms|s|m|h))+$/, {
    error: wrong("is not a Go duration", 'write it like "1m", "10m" or "1h30m"'),
    abort: true,
  })
  .refine((s) => goDurationProblem(s) === undefined, {
    error: wrong("is zero: Flux would never sync again", 'write it like "1m", "10m" or "1h30m"'),
  });

export const FluxGitSchema = z.strictObject({
  url: gitUrl,
  branch: z
    .string({ error: wrong("must be a string", 'write branch: "main"') })
    .min(1, { error: wrong("is empty", 'write branch: "main"') })
    .superRefine(reportProblem(gitBranchProblem, "write the branch name as Git shows it"))
    .default("main"),
  path: z
    .string({ error: wrong("must be a string", 'write path: "./clusters/homelab"') })
    .regex(/^\.\/[^\s]*$/, {
      error: wrong(
        "is not a path relative to the repository root",
        'start it with "./", like "./clusters/homelab"',
      ),
    })
    // Flux confines the path to the checkout; a ".." that climbs out is a mistake, not a path.
    .refine((path) => !path.split("/").includes(".."), {
      error: wrong(
        'climbs out with ".."',
        'write the path from the repository root, like "./clusters/homelab"',
      ),
    })
    .default("./"),
  interval: fluxInterval.optional(),
});

/** LoadBalancer address pools: MetalLB's, or Cilium's LB IPAM pools (the same schema and rules). */
const poolsSchema = z
  .array(MetallbPoolSchema, {
    error: wrong("must be a list of pools", "write pools: [{name: default, addresses: [10.0.0.240/28]}]"),
  })
  // Unique names, emptiness and overlaps: poolIssues in config/rules.ts (shared with the policy pack).
  .default([]);

const CiliumSchema = z.strictObject({
  enabled: flag(true),
  version: chartVersion("cilium"),
  ...CiliumLoadBalancerFields,
  pools: poolsSchema,
  values: addonValues("cilium"),
});

const MetallbSchema = z.strictObject({
  enabled: flag(false),
  version: chartVersion("metallb"),
  pools: poolsSchema,
  l2Advertisement: z
    .boolean({ error: wrong("must be true or false", "write l2Advertisement: false to announce nothing") })
    .default(true),
  values: addonValues("metallb"),
});

const OpenebsSchema = z.strictObject({
  enabled: flag(false),
  version: chartVersion("openebs"),
  storageClassName: k8sName("openebs-hostpath").default("openebs-hostpath"),
  /** Keep volumes on this node data disk (`nodes[].dataDisks[].name`): base path /var/mnt/<name>. */
  dataDisk: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/, {
      error: wrong(
        "is not a data disk name",
        "write the name of a disk in nodes[].dataDisks (lowercase letters, digits and '-'), like dataDisk: models",
      ),
    })
    .optional(),
  values: addonValues("openebs"),
});

const FluxSchema = z.strictObject({
  enabled: flag(false),
  version: chartVersion("flux"),
  git: FluxGitSchema.optional(),
  values: addonValues("flux"),
});

const SopsSchema = z.strictObject({
  /** Defaults to the value of `flux.enabled`. */
  enabled: z
    .boolean({ error: wrong("must be true or false", "write enabled: true or enabled: false") })
    .optional(),
});

/** The stack config key `addons`. Every part may be omitted; `AddonsConfigSchema.parse({})` is valid. */
export const AddonsConfigSchema = z
  .strictObject({
    cilium: CiliumSchema.prefault({}),
    metallb: MetallbSchema.prefault({}),
    openebs: OpenebsSchema.prefault({}),
    flux: FluxSchema.prefault({}),
    sops: SopsSchema.prefault({}),
    gateway: GatewaySchema.prefault({}),
    certManager: CertManagerSchema.prefault({}),
    headlamp: HeadlampSchema.prefault({}),
    monitoring: MonitoringSchema.prefault({}),
    velero: VeleroSchema.prefault({}),
    etcdBackup: EtcdBackupSchema.prefault({}),
  })
  .superRefine((a, ctx) => {
    if (a.sops.enabled === true && !a.flux.enabled) {
      ctx.addIssue({
        code: "custom",
        path: ["sops", "enabled"],
        input: true,
        message:
          "needs addons.flux.enabled, which is false — the sops-age Secret is for Flux: enable addons.flux or remove addons.sops.enabled",
      });
    }
  })
  .transform((a) => ({ ...a, sops: { enabled: a.sops.enabled ?? a.flux.enabled } }));

/** The validated `addons` config with its defaults resolved. */
export type AddonsConfig = z.output<typeof AddonsConfigSchema>;
/** What a stack file may hold under `addons`. */
export type AddonsConfigInput = z.input<typeof AddonsConfigSchema>;
export type MetallbPool = z.output<typeof MetallbPoolSchema>;
export type FluxGit = z.output<typeof FluxGitSchema>;

/**
 * Formats the issues of a failed `AddonsConfigSchema.safeParse(x, { reportInput: true })` as the
 * stack config errors do: `addons.metallb.pools[0].addresses[1]: "x" is not … — fix` lines.
 */
export function formatAddonsIssues(error: z.ZodError, root = "addons"): string[] {
  return zodIssues(root, error.issues).map((issue) => formatIssue(undefined, issue));
}
