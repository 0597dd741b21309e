/** `ClusterReady`: waits for apid (mTLS) on every node and the Kubernetes API /readyz (see logic/ready.ts). */
import * as pulumi from "@pulumi/pulumi";
import { ADMIN_CREDENTIAL_OUTPUTS, type AdminCredentialArgs, secretAdminCredentials } from "./credentials";
import { LOGIC, LogicResource } from "./providers";

export interface ClusterReadyArgs extends AdminCredentialArgs {
  readonly nodes: pulumi.Input<pulumi.Input<{ name: string; address: string }>[]>;
  /** Admin kubeconfig (made secret here); used for /readyz. */
  readonly kubeconfig: pulumi.Input<string>;
  /** Check the Kubernetes API's /readyz too. Default true. */
  readonly checkKubernetes?: pulumi.Input<boolean>;
  /** Total bound in seconds; unset: TIMEOUT_DEFAULTS.readySeconds, filled in by the logic. */
  readonly timeoutSeconds?: pulumi.Input<number>;
  /** Non-secret summary of the cluster (config hashes…): a change waits again. */
  readonly generation: pulumi.Input<string>;
}

export class ClusterReady extends LogicResource {
  declare readonly readyAt: pulumi.Output<string>;
  declare readonly versions: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ClusterReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      LOGIC.ready,
      name,
      {
        nodes: args.nodes,
        ...secretAdminCredentials(args),
        kubeconfig: pulumi.secret(args.kubeconfig),
        checkKubernetes: args.checkKubernetes ?? true,
        timeoutSeconds: args.timeoutSeconds,
        generation: args.generation,
        readyAt: undefined,
        versions: undefined,
      },
      { ...opts, additionalSecretOutputs: [...ADMIN_CREDENTIAL_OUTPUTS, "kubeconfig"] },
      "ClusterReady",
    );
  }
}
