/** `ClientConfigs`: admin talosconfig + kubeconfig made from the bundle, kept stable (see logic/client-configs.ts). */
import * as pulumi from "@pulumi/pulumi";
import { LOGIC, LogicResource } from "./providers";

export interface ClientConfigsArgs {
  /** The secrets bundle YAML (made secret here). */
  readonly secretsYaml: pulumi.Input<string>;
  readonly clusterName: pulumi.Input<string>;
  readonly endpoint: pulumi.Input<string>;
  readonly endpoints: pulumi.Input<pulumi.Input<string>[]>;
  readonly nodes?: pulumi.Input<pulumi.Input<string>[]>;
  /** Unset: CLIENT_CERT_DEFAULTS.renewBeforeDays (components/defaults.ts), filled in by the logic. */
  readonly renewBeforeDays?: pulumi.Input<number>;
  /** Unset: CLIENT_CERT_DEFAULTS.validityDays, filled in by the logic. */
  readonly validityDays?: pulumi.Input<number>;
}

export class ClientConfigs extends LogicResource {
  declare readonly talosconfig: pulumi.Output<string>;
  declare readonly kubeconfig: pulumi.Output<string>;
  declare readonly talosconfigExpiresAt: pulumi.Output<string>;
  declare readonly kubeconfigExpiresAt: pulumi.Output<string>;

  constructor(name: string, args: ClientConfigsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      LOGIC.clientConfigs,
      name,
      {
        secretsYaml: pulumi.secret(args.secretsYaml),
        clusterName: args.clusterName,
        endpoint: args.endpoint,
        endpoints: args.endpoints,
        nodes: args.nodes ?? [],
        renewBeforeDays: args.renewBeforeDays,
        validityDays: args.validityDays,
        talosconfig: undefined,
        kubeconfig: undefined,
        talosconfigExpiresAt: undefined,
        kubeconfigExpiresAt: undefined,
        bundleHash: undefined,
      },
      { ...opts, additionalSecretOutputs: ["secretsYaml", "talosconfig", "kubeconfig"] },
      "ClientConfigs",
    );
  }
}
