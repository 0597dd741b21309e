/**
 * Every default of a setting, stated once. Pure data with no imports: the zod schemas take their
 * `.default()` from here, the components leave an unset argument unset, and the dynamic-provider
 * logic (loaded in the provider process) fills in the same value when it parses inputs or state.
 */

/** Talos dynamic resources: bounds of one call sequence, in seconds. */
export const TIMEOUT_DEFAULTS = {
  /** Each apply, bootstrap and membership call. */
  applySeconds: 600,
  /** The whole readiness wait (ClusterReady). */
  readySeconds: 900,
} as const;

/** How `up` rolls changes and removals across the nodes (`rollout` in the stack config). */
export const ROLLOUT_DEFAULTS = {
  /** Workers changed at once; control planes always go one at a time. */
  workerBatchSize: 1,
  /** Bound of one node's step: upgrade, reboot, health gates. */
  nodeTimeoutSeconds: 900,
  /** Bound of draining a node before its removal. */
  drainTimeoutSeconds: 300,
  /** Production stacks may remove or reinstall nodes only when this is set. */
  allowNodeRemoval: false,
} as const;

/** The admin talosconfig/kubeconfig client certs (`clientCerts`); 365 days is Talos' own lifetime. */
export const CLIENT_CERT_DEFAULTS = {
  /** An `up` this many days or fewer before expiry issues fresh certs. */
  renewBeforeDays: 30,
  /** Lifetime of a new client cert (Talos' `KubernetesAdminCertDefaultLifetime`, 8760h). */
  validityDays: 365,
} as const;

/** etcd snapshots on disk (`backup` in the stack config); the folder defaults to `backups/<stack>`. */
export const BACKUP_DEFAULTS = {
  /** `up` snapshots etcd before the rolling chain touches the first control plane. */
  beforeRiskySteps: true,
  /** Snapshots of a stack kept in its folder. */
  keep: 10,
  /** Encrypt for the stack's SOPS recipient when it has one. */
  encrypt: true,
} as const;

/** The cluster's pod and service networks when `network` leaves them out (Talos' own defaults). */
export const NETWORK_DEFAULTS = {
  podSubnets: ["10.244.0.0/16"],
  serviceSubnets: ["10.96.0.0/12"],
} as const;

/** A node's VM and install disk when its entry leaves them out (the same for both roles). */
export const NODE_DEFAULTS = {
  cores: 2,
  memoryMiB: 4096,
  diskGiB: 32,
  installDisk: "/dev/sda",
} as const;
