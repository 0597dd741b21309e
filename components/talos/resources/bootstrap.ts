/** `Bootstrap`: etcd bootstrap on the first control plane, once (see logic/bootstrap.ts). */
import type * as pulumi from "@pulumi/pulumi";
import { ADMIN_CREDENTIAL_OUTPUTS, secretAdminCredentials } from "./credentials";
import { LOGIC, LogicResource } from "./providers";

export interface BootstrapArgs {
  readonly node: pulumi.Input<string>;
  readonly address: pulumi.Input<string>;
  /** Non-secret fingerprint of the secrets bundle: a new cluster bootstraps again. */
  readonly clusterFingerprint: pulumi.Input<string>;
  readonly osCa: pulumi.Input<string>;
  readonly clientCert: pulumi.Input<string>;
  readonly clientKey: pulumi.Input<string>;
  /** Seconds; unset: TIMEOUT_DEFAULTS.applySeconds (components/defaults.ts), filled in by the logic. */
  readonly timeoutSeconds?: pulumi.Input<number>;
}

export class Bootstrap extends LogicResource {
  declare readonly node: pulumi.Output<string>;
  declare readonly alreadyBootstrapped: pulumi.Output<boolean>;
  declare readonly bootstrappedAt: pulumi.Output<string>;

  constructor(name: string, args: BootstrapArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      LOGIC.bootstrap,
      name,
      {
        node: args.node,
        address: args.address,
        clusterFingerprint: args.clusterFingerprint,
        ...secretAdminCredentials(args),
        timeoutSeconds: args.timeoutSeconds,
        alreadyBootstrapped: undefined,
        bootstrappedAt: undefined,
      },
      { ...opts, additionalSecretOutputs: [...ADMIN_CREDENTIAL_OUTPUTS] },
      "Bootstrap",
    );
  }
}
