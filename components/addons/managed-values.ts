/**
 * Chart values the program owns, which an addon's `values` override must not set: the install
 * breaks (Cilium on Talos without Talos' cgroup settings, LocalPV writing outside the mount the
 * kubelet was given, cert-manager without its CRDs, Velero/Prometheus losing the location or
 * storage their own config keys define), or a secret would sit in plain stack config (the chart's
 * password fields; the program passes every secret through a Kubernetes Secret instead).
 * One table, checked on each addon's `values` when the stack config is validated.
 */
import { REDACTED } from "../config/errors";
import type { AddonName } from "../versions";
import { helmValues, wrong } from "./config-fields";

interface ManagedValue {
  /** Key path inside the chart's values. */
  readonly path: readonly string[];
  /** A value the override may still set (what the program sets, or a harmless alternative). */
  readonly allowed?: (value: unknown) => boolean;
  readonly why: string;
  readonly fix: string;
}

const SECRET = "would put a secret in plain stack config";
/** OpenEBS' two base paths (LocalPV's and the hostpath class's) are the one kubelet-mounted directory. */
const OPENEBS_BASE_PATH = {
  why: "is set by the program to the directory the kubelet mounts (extraMounts): volumes elsewhere fail on Talos",
  fix: "remove it; to keep volumes on a data disk set addons.openebs.dataDisk",
};

export const MANAGED_VALUES: Readonly<Partial<Record<AddonName, readonly ManagedValue[]>>> = {
  cilium: [
    {
      path: ["kubeProxyReplacement"],
      allowed: (v) => typeof v === "boolean",
      why: 'is not true or false: Cilium\'s chart renders nothing else (the pre-1.14 "strict" is gone)',
      fix: "remove the override to keep true",
    },
    {
      path: ["cgroup", "autoMount", "enabled"],
      allowed: (v) => v === false,
      why: "is set by the program: Talos mounts cgroup2 itself and Cilium's own mount fails there",
      fix: "remove it (the program sets false)",
    },
    {
      path: ["cgroup", "hostRoot"],
      allowed: (v) => v === "/sys/fs/cgroup",
      why: "is set by the program: Talos' cgroup2 mount is /sys/fs/cgroup",
      fix: "remove it",
    },
  ],
  openebs: [
    { path: ["localpv", "basePath"], ...OPENEBS_BASE_PATH },
    { path: ["hostpathClass", "basePath"], ...OPENEBS_BASE_PATH },
    {
      path: ["hostpathClass", "name"],
      why: "is addons.openebs.storageClassName, which monitoring's volumes also refer to",
      fix: "remove it and set addons.openebs.storageClassName",
    },
  ],
  certManager: [
    {
      path: ["crds", "enabled"],
      allowed: (v) => v === true,
      why: "turns off cert-manager's CRDs, which the program's ClusterIssuer and Certificate need",
      fix: "remove it",
    },
  ],
  headlamp: [
    {
      path: ["config", "oidc", "clientSecret"],
      why: SECRET,
      fix: "remove it: pulumi config set --secret proxmox-talos:headlampOidcClientSecret <value>",
    },
  ],
  monitoring: [
    {
      path: ["grafana", "adminPassword"],
      why: SECRET,
      fix: "remove it: the program generates the password (output grafanaAdminPassword)",
    },
    {
      path: ["alertmanager", "config", "global", "smtp_auth_password"],
      why: SECRET,
      fix: "remove it: pulumi config set --secret proxmox-talos:alertmanagerSmtpPassword <value>",
    },
    {
      path: ["prometheus", "prometheusSpec", "retention"],
      why: "is addons.monitoring.storage.retention",
      fix: "remove it and set addons.monitoring.storage.retention",
    },
    {
      path: ["prometheus", "prometheusSpec", "storageSpec"],
      why: "is addons.monitoring.storage (size, storageClassName)",
      fix: "remove it and set addons.monitoring.storage",
    },
  ],
  velero: [
    {
      path: ["credentials", "secretContents"],
      why: SECRET,
      fix: "remove it: pulumi config set --secret proxmox-talos:veleroS3AccessKeyId / veleroS3SecretAccessKey",
    },
    {
      path: ["credentials", "existingSecret"],
      why: "is the Secret the program fills from veleroS3AccessKeyId / veleroS3SecretAccessKey",
      fix: "remove it",
    },
    {
      path: ["configuration", "backupStorageLocation"],
      why: "is addons.velero.s3 (a list: an override replaces the program's location whole)",
      fix: "remove it and set addons.velero.s3",
    },
  ],
};

function lookup(
  values: Readonly<Record<string, unknown>>,
  path: readonly string[],
): { found: boolean; value?: unknown } {
  let cur: unknown = values;
  for (const key of path) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur) || !Object.hasOwn(cur, key))
      return { found: false };
    cur = (cur as Record<string, unknown>)[key];
  }
  return { found: true, value: cur };
}

/** Each managed key an override sets, with its path below `values` and the value. */
export function managedValueIssues(
  addon: AddonName,
  values: Readonly<Record<string, unknown>>,
): Array<{ path: string[]; value: unknown; message: string }> {
  const out: Array<{ path: string[]; value: unknown; message: string }> = [];
  for (const rule of MANAGED_VALUES[addon] ?? []) {
    const { found, value } = lookup(values, rule.path);
    // null deletes the key in Helm's merge: the program's value is gone too.
    if (!found || (rule.allowed?.(value) ?? false)) continue;
    // A secret is named, never shown.
    out.push({
      path: [...rule.path],
      value: rule.why === SECRET ? REDACTED : value,
      message: wrong(rule.why, rule.fix),
    });
  }
  return out;
}

/** An addon's `values`: free-form Helm values, minus the keys the program owns. */
export const addonValues = (addon: AddonName) =>
  helmValues.superRefine((values, ctx) => {
    if (values === undefined) return;
    for (const issue of managedValueIssues(addon, values))
      ctx.addIssue({ code: "custom", path: issue.path, input: issue.value, message: issue.message });
  });
