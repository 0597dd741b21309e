/** `MachineSecrets`: the cluster's Talos secrets bundle, generated once or imported (see logic/secrets.ts). */
import * as pulumi from "@pulumi/pulumi";
import { sha256Hex } from "../../hash";
import { LOGIC, LogicResource } from "./providers";

export interface MachineSecretsArgs {
  /** An existing secrets.yaml (talosctl gen secrets / talhelper) to adopt; secret. */
  readonly importedSecrets?: pulumi.Input<string | undefined>;
  /** Let a changed or removed import replace the bundle; refused by default (see logic/secrets.ts). */
  readonly allowReplacement?: pulumi.Input<boolean>;
}

export class MachineSecrets extends LogicResource {
  /** The bundle as secrets.yaml text (secret). */
  declare readonly secretsYaml: pulumi.Output<string>;
  declare readonly source: pulumi.Output<"generated" | "imported">;
  declare readonly importedHash: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string>;

  constructor(name: string, args: MachineSecretsArgs, opts?: pulumi.CustomResourceOptions) {
    const imported = pulumi.output(args.importedSecrets).apply((t) => t ?? "");
    super(
      LOGIC.secrets,
      name,
      {
        importedSecrets: pulumi.secret(imported),
        importedHash: pulumi.unsecret(imported.apply((t) => (t ? sha256Hex(t) : ""))),
        allowReplacement: args.allowReplacement ?? false,
        secretsYaml: undefined,
        source: undefined,
        createdAt: undefined,
      },
      { ...opts, additionalSecretOutputs: ["secretsYaml"] },
      "MachineSecrets",
    );
  }
}
