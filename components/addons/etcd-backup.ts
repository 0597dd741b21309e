/**
 * `addons.etcdBackup`: scheduled etcd snapshots from inside the cluster, as Talos documents it
 * (Sidero's talos-backup, `cronjob.sample.yaml`): the control planes enable
 * `machine.features.kubernetesTalosAPIAccess` with role `os:etcd:backup` for the backup namespace;
 * a `talos.dev/v1alpha1` `ServiceAccount` there gets Talos to issue a talosconfig Secret; a CronJob
 * runs talos-backup with it, which snapshots etcd through the Talos API, age-encrypts it and
 * uploads it to S3-compatible storage (MinIO, Garage, a NAS). The access keys are Pulumi secrets
 * (`etcdBackupS3AccessKeyId`, `etcdBackupS3SecretAccessKey`) in a Kubernetes Secret.
 *
 * Pure schema and builders here; `ClusterAddons` registers the objects and `HomelabCluster` adds
 * the control-plane patch.
 */
import { z } from "zod";
import { wrong } from "./config-fields";
import { bucketName, cronSchedule, dottedBucketIssue, s3Endpoint, s3Prefix, s3Region } from "./field-formats";

/** talos-backup's image (v0.1.0-beta.2 reads USE_PATH_STYLE and DISABLE_ENCRYPTION). */
export const TALOS_BACKUP_IMAGE = "ghcr.io/siderolabs/talos-backup:v0.1.0-beta.2";
export const ETCD_BACKUP_ROLE = "os:etcd:backup";
export const ETCD_BACKUP_NAME = "talos-backup";

const k8sName = z
  .string({ error: wrong("must be a string", 'write a name like "talos-backup"') })
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
    error: wrong(
      "is not a valid Kubernetes name",
      'use lowercase letters, digits and "-", like "talos-backup"',
    ),
  });

export const EtcdBackupS3Schema = z
  .strictObject({
    /** https URL of the S3 API (MinIO, Garage, a NAS); omit for AWS. */
    endpoint: s3Endpoint("etcdBackupS3").optional(),
    bucket: bucketName("etcd-backups"),
    region: s3Region.default("us-east-1"),
    /** Path-style URLs (bucket in the path), as MinIO and most NAS servers want. Default true. */
    pathStyle: z.boolean({ error: wrong("must be true or false", "write pathStyle: true") }).default(true),
    /** Object key prefix. Default: the cluster name. */
    prefix: s3Prefix("homelab/etcd").optional(),
  })
  .superRefine(dottedBucketIssue);

export const EtcdBackupSchema = z.strictObject({
  enabled: z.boolean({ error: wrong("must be true or false", "write enabled: true") }).default(false),
  /** Cron schedule (UTC). Default daily at 03:00. */
  schedule: cronSchedule().default("0 3 * * *"),
  namespace: k8sName.default(ETCD_BACKUP_NAME),
  /** age recipient (`age1…`) to encrypt for. Default: the stack's SOPS recipient. */
  ageRecipient: z
    .string({ error: wrong("must be a string", 'write ageRecipient: "age1…"') })
    .regex(/^age1[0-9a-z]{10,}$/, { error: wrong("is not an age recipient", "write the age1… public key") })
    .optional(),
  s3: EtcdBackupS3Schema.optional(),
});
export type EtcdBackupConfig = z.output<typeof EtcdBackupSchema>;

/** Faults only visible with the whole config: a bucket is needed, and a recipient from somewhere. */
export function etcdBackupIssues(
  c: EtcdBackupConfig,
  o: { sopsEnabled: boolean; hasAccessKeys: boolean },
): { path: string; message: string; fix: string }[] {
  if (!c.enabled) return [];
  const issues: { path: string; message: string; fix: string }[] = [];
  if (!c.s3) {
    issues.push({
      path: "addons.etcdBackup.s3",
      message: "is missing while etcdBackup is enabled",
      fix: 'give the storage, e.g. s3: {endpoint: "https://minio.lan:9000", bucket: "etcd-backups"}',
    });
  }
  if (!c.ageRecipient && !o.sopsEnabled) {
    issues.push({
      path: "addons.etcdBackup.ageRecipient",
      message: "is unset and the stack has no SOPS recipient (addons.sops is off)",
      fix: "set ageRecipient to an age1… public key, or enable addons.sops",
    });
  }
  if (!o.hasAccessKeys) {
    issues.push({
      path: "etcdBackupS3AccessKeyId",
      message: "and etcdBackupS3SecretAccessKey must both be set while etcdBackup is enabled",
      fix: "pulumi config set --secret proxmox-talos:etcdBackupS3AccessKeyId <id>; pulumi config set --secret proxmox-talos:etcdBackupS3SecretAccessKey <key>",
    });
  }
  return issues;
}

/** The control-plane patch: Talos API access from Kubernetes for the backup role and namespace. */
export function etcdBackupMachinePatch(c: EtcdBackupConfig): Record<string, unknown> {
  return {
    machine: {
      features: {
        kubernetesTalosAPIAccess: {
          enabled: true,
          allowedRoles: [ETCD_BACKUP_ROLE],
          allowedKubernetesNamespaces: [c.namespace],
        },
      },
    },
  };
}

export interface EtcdBackupObjects {
  readonly serviceAccount: Record<string, unknown>;
  /** Without `stringData`: the keys are added as Pulumi secrets by the caller. */
  readonly secretMeta: Record<string, unknown>;
  readonly cronJob: Record<string, unknown>;
}

export const S3_SECRET_NAME = "talos-backup-s3";

/** The Kubernetes objects (besides the Namespace) the addon installs. */
export function etcdBackupObjects(
  c: EtcdBackupConfig,
  clusterName: string,
  recipient: string,
): EtcdBackupObjects {
  const s3 = c.s3;
  if (!s3) throw new Error("addons.etcdBackup.s3 is required");
  const env: Record<string, unknown>[] = [
    { name: "AWS_ACCESS_KEY_ID", valueFrom: { secretKeyRef: { name: S3_SECRET_NAME, key: "accessKeyId" } } },
    {
      name: "AWS_SECRET_ACCESS_KEY",
      valueFrom: { secretKeyRef: { name: S3_SECRET_NAME, key: "secretAccessKey" } },
    },
    { name: "AWS_REGION", value: s3.region },
    ...(s3.endpoint ? [{ name: "CUSTOM_S3_ENDPOINT", value: s3.endpoint.replace(/\/$/, "") }] : []),
    { name: "BUCKET", value: s3.bucket },
    { name: "CLUSTER_NAME", value: clusterName },
    { name: "S3_PREFIX", value: s3.prefix ?? clusterName },
    { name: "USE_PATH_STYLE", value: String(s3.pathStyle) },
    { name: "AGE_X25519_PUBLIC_KEY", value: recipient },
  ];
  return {
    serviceAccount: {
      apiVersion: "talos.dev/v1alpha1",
      kind: "ServiceAccount",
      metadata: { name: ETCD_BACKUP_NAME, namespace: c.namespace },
      spec: { roles: [ETCD_BACKUP_ROLE] },
    },
    secretMeta: { name: S3_SECRET_NAME, namespace: c.namespace },
    cronJob: {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: ETCD_BACKUP_NAME, namespace: c.namespace },
      spec: {
        schedule: c.schedule,
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 2,
            template: {
              spec: {
                restartPolicy: "OnFailure",
                containers: [
                  {
                    name: ETCD_BACKUP_NAME,
                    image: TALOS_BACKUP_IMAGE,
                    command: ["/talos-backup"],
                    workingDir: "/tmp",
                    env,
                    securityContext: {
                      runAsUser: 1000,
                      runAsGroup: 1000,
                      runAsNonRoot: true,
                      allowPrivilegeEscalation: false,
                      capabilities: { drop: ["ALL"] },
                      seccompProfile: { type: "RuntimeDefault" },
                    },
                    volumeMounts: [
                      { name: "tmp", mountPath: "/tmp" },
                      // Talos writes the ServiceAccount's talosconfig into the Secret of its name.
                      { name: "talos-secrets", mountPath: "/var/run/secrets/talos.dev" },
                    ],
                  },
                ],
                volumes: [
                  { name: "tmp", emptyDir: {} },
                  { name: "talos-secrets", secret: { secretName: ETCD_BACKUP_NAME } },
                ],
              },
            },
          },
        },
      },
    },
  };
}

/** The stack's patches with the Talos API access patch first among the control planes' (when enabled). */
export function withEtcdBackupPatch<P extends { readonly controlplane: readonly unknown[] }>(
  patches: P,
  c: EtcdBackupConfig,
): P {
  if (!c.enabled) return patches;
  return { ...patches, controlplane: [etcdBackupMachinePatch(c), ...patches.controlplane] };
}
