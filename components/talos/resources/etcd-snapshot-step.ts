/**
 * `EtcdSnapshotStep`: the etcd snapshot `up` takes before the rolling chain touches the first
 * control plane (a Talos or Kubernetes upgrade, a control-plane removal), as a step of the chain:
 * `preview` shows it, and the membership and every node's apply wait for it, so a failed
 * snapshot stops `up` before any node is touched (see logic/snapshot.ts). Outputs: the file name
 * and its SHA-256 (plain); the snapshot's bytes never enter the state.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ADMIN_CREDENTIAL_OUTPUTS, type AdminCredentialArgs, secretAdminCredentials } from "./credentials";
import { LOGIC, LogicResource } from "./providers";

export interface EtcdSnapshotStepArgs extends AdminCredentialArgs {
  readonly stack: pulumi.Input<string>;
  /** `backup.beforeRiskySteps`. */
  readonly enabled: pulumi.Input<boolean>;
  /** Absolute folder of the stack's snapshots. */
  readonly dir: pulumi.Input<string>;
  /** `backup.keep`. */
  readonly keep: pulumi.Input<number>;
  /** age recipient to encrypt for ("" = plain). */
  readonly recipient?: pulumi.Input<string>;
  /** What makes a change risky: the installer image, the Kubernetes version, the control planes. */
  readonly installImage: pulumi.Input<string>;
  readonly kubernetesVersion: pulumi.Input<string>;
  readonly controlPlanes: pulumi.Input<pulumi.Input<{ name: string; address: string }>[]>;
  readonly timeoutSeconds?: pulumi.Input<number>;
}

export class EtcdSnapshotStep extends LogicResource {
  /** File name of the last snapshot this step took ("" before the first). */
  declare readonly snapshotFile: pulumi.Output<string>;
  /** Hex SHA-256 of that file. */
  declare readonly snapshotSha256: pulumi.Output<string>;
  declare readonly snapshotTakenAt: pulumi.Output<string>;
  declare readonly snapshotNode: pulumi.Output<string>;

  constructor(name: string, args: EtcdSnapshotStepArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      LOGIC.snapshot,
      name,
      {
        stack: args.stack,
        enabled: args.enabled,
        dir: args.dir,
        keep: args.keep,
        recipient: args.recipient ?? "",
        installImage: args.installImage,
        kubernetesVersion: args.kubernetesVersion,
        controlPlanes: args.controlPlanes,
        ...secretAdminCredentials(args),
        timeoutSeconds: args.timeoutSeconds,
        snapshotFile: undefined,
        snapshotSha256: undefined,
        snapshotTakenAt: undefined,
        snapshotNode: undefined,
      },
      { ...opts, additionalSecretOutputs: [...ADMIN_CREDENTIAL_OUTPUTS] },
      "EtcdSnapshotStep",
    );
  }
}
