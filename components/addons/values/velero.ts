/**
 * Helm values for Velero: the AWS object-store plugin against S3-compatible storage, file-system
 * backups through the node agent (OpenEBS LocalPV has no CSI snapshots, so volume snapshots are
 * off), and a daily Schedule backing up every namespace with a TTL.
 */
import { TALOS_KUBELET_PODS_DIR } from "../../talos/constants";
import { VELERO_AWS_PLUGIN_IMAGE } from "../../versions";
import { type HelmValues, helmMerge } from "./merge";

/** Name of the Secret (in the velero namespace) holding the S3 keys, and its key (AWS profile file). */
export const VELERO_CREDENTIALS_SECRET = "velero-s3";
export const VELERO_CREDENTIALS_KEY = "cloud";
export const VELERO_SCHEDULE_NAME = "daily";

export interface VeleroOptions {
  readonly s3: {
    readonly endpoint: string;
    readonly bucket: string;
    readonly region: string;
    readonly pathStyle: boolean;
    readonly prefix?: string;
  };
  readonly schedule: { readonly cron: string; readonly ttl: string };
}

/** The AWS credentials file Velero's AWS plugin reads (a secret: it holds the keys). */
export function veleroCredentialsFile(accessKeyId: string, secretAccessKey: string): string {
  return `[default]\naws_access_key_id=${accessKeyId}\naws_secret_access_key=${secretAccessKey}\n`;
}

export function veleroBaseValues(o: VeleroOptions): HelmValues {
  return {
    initContainers: [
      {
        name: "velero-plugin-for-aws",
        image: VELERO_AWS_PLUGIN_IMAGE,
        imagePullPolicy: "IfNotPresent",
        volumeMounts: [{ mountPath: "/target", name: "plugins" }],
      },
    ],
    credentials: { useSecret: true, existingSecret: VELERO_CREDENTIALS_SECRET },
    snapshotsEnabled: false,
    deployNodeAgent: true,
    // Talos runs the kubelet with its standard root: pods' volumes live under this host path.
    nodeAgent: { podVolumePath: TALOS_KUBELET_PODS_DIR },
    configuration: {
      backupStorageLocation: [
        {
          name: "default",
          provider: "aws",
          bucket: o.s3.bucket,
          ...(o.s3.prefix ? { prefix: o.s3.prefix } : {}),
          default: true,
          credential: { name: VELERO_CREDENTIALS_SECRET, key: VELERO_CREDENTIALS_KEY },
          config: {
            region: o.s3.region,
            s3Url: o.s3.endpoint,
            s3ForcePathStyle: String(o.s3.pathStyle),
          },
        },
      ],
      volumeSnapshotLocation: [],
      defaultVolumesToFsBackup: true,
    },
    schedules: {
      [VELERO_SCHEDULE_NAME]: {
        disabled: false,
        schedule: o.schedule.cron,
        useOwnerReferencesInBackup: false,
        template: { ttl: o.schedule.ttl, includedNamespaces: ["*"], defaultVolumesToFsBackup: true },
      },
    },
  };
}

/** Velero values with the user's `addons.velero.values` merged last. */
export function veleroValues(o: VeleroOptions, user?: HelmValues): HelmValues {
  return helmMerge(veleroBaseValues(o), user);
}
