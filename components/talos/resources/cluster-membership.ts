/**
 * `ClusterMembership`: the cluster's node set; its update takes removed nodes out safely (drain,
 * etcd member removal, reset) before the engine deletes their resources (see logic/membership.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { MachineRole } from "../types";
import { ADMIN_CREDENTIAL_OUTPUTS, type AdminCredentialArgs, secretAdminCredentials } from "./credentials";
import { LOGIC, LogicResource } from "./providers";

export interface ClusterMembershipArgs extends AdminCredentialArgs {
  readonly nodes: pulumi.Input<pulumi.Input<{ name: string; role: MachineRole; address: string }>[]>;
  /** Admin kubeconfig (made secret here) for cordon, drain and Node deletion. */
  readonly kubeconfig: pulumi.Input<string>;
  /** Drain and delete Kubernetes Nodes of removed nodes. Default true. */
  readonly checkKubernetes?: pulumi.Input<boolean>;
  /** Bound of one node's drain in seconds; unset: ROLLOUT_DEFAULTS.drainTimeoutSeconds (logic). */
  readonly drainTimeoutSeconds?: pulumi.Input<number>;
  /** Bound of the other calls in seconds; unset: TIMEOUT_DEFAULTS.applySeconds (logic). */
  readonly timeoutSeconds?: pulumi.Input<number>;
  /** Refuse every node removal before anything is touched (production). Default false. */
  readonly protectNodes?: pulumi.Input<boolean>;
}

export class ClusterMembership extends LogicResource {
  /** Names of the nodes the last update took out. */
  declare readonly removed: pulumi.Output<string[]>;

  constructor(name: string, args: ClusterMembershipArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      LOGIC.membership,
      name,
      {
        nodes: args.nodes,
        ...secretAdminCredentials(args),
        kubeconfig: pulumi.secret(args.kubeconfig),
        checkKubernetes: args.checkKubernetes ?? true,
        drainTimeoutSeconds: args.drainTimeoutSeconds,
        timeoutSeconds: args.timeoutSeconds,
        protectNodes: args.protectNodes ?? false,
        removed: undefined,
      },
      { ...opts, additionalSecretOutputs: [...ADMIN_CREDENTIAL_OUTPUTS, "kubeconfig"] },
      "ClusterMembership",
    );
  }
}
