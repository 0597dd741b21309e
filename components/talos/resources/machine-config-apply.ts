/** `MachineConfigApply`: one node's machine config, applied over the Talos API (see logic/apply.ts). */
import * as pulumi from "@pulumi/pulumi";
import type { MachineRole } from "../types";
import { sha256 } from "./credentials";
import { machineConfigApplyProvider } from "./providers";

export interface MachineConfigApplyArgs {
  readonly node: pulumi.Input<string>;
  /** apid address (`ip` or `ip:port`), declared by the user. */
  readonly address: pulumi.Input<string>;
  readonly role: pulumi.Input<MachineRole>;
  /** Rendered machine config; made secret here. */
  readonly config: pulumi.Input<string>;
  /** Non-secret sha256 of the config; computed from it when omitted. */
  readonly configHash?: pulumi.Input<string>;
  readonly talosVersion: pulumi.Input<string>;
  /** `auto` (default) or `staged` for updates. */
  readonly mode?: pulumi.Input<"auto" | "staged">;
  /** OS CA cert and admin client cert/key (PEM) for mutual TLS; made secret here. */
  readonly osCa: pulumi.Input<string>;
  readonly clientCert: pulumi.Input<string>;
  readonly clientKey: pulumi.Input<string>;
  /** Reset the node (wipe STATE and EPHEMERAL) when this resource is deleted. Default false. */
  readonly resetOnDelete?: pulumi.Input<boolean>;
  /** Bound of create/update/delete in seconds. Default 600. */
  readonly timeoutSeconds?: pulumi.Input<number>;
}

export class MachineConfigApply extends pulumi.dynamic.Resource {
  declare readonly node: pulumi.Output<string>;
  declare readonly address: pulumi.Output<string>;
  declare readonly config: pulumi.Output<string>;
  declare readonly configHash: pulumi.Output<string>;
  declare readonly appliedMode: pulumi.Output<string>;
  declare readonly fromMaintenance: pulumi.Output<boolean>;
  declare readonly appliedAt: pulumi.Output<string>;

  constructor(name: string, args: MachineConfigApplyArgs, opts?: pulumi.CustomResourceOptions) {
    const config = pulumi.secret(args.config);
    super(
      machineConfigApplyProvider,
      name,
      {
        node: args.node,
        address: args.address,
        role: args.role,
        config,
        configHash: args.configHash ?? pulumi.unsecret(config.apply(sha256)),
        talosVersion: args.talosVersion,
        mode: args.mode ?? "auto",
        osCa: pulumi.secret(args.osCa),
        clientCert: pulumi.secret(args.clientCert),
        clientKey: pulumi.secret(args.clientKey),
        resetOnDelete: args.resetOnDelete ?? false,
        timeoutSeconds: args.timeoutSeconds ?? 600,
        appliedMode: undefined,
        fromMaintenance: undefined,
        appliedAt: undefined,
      },
      { ...opts, additionalSecretOutputs: ["config", "osCa", "clientCert", "clientKey"] },
      "talos",
      "MachineConfigApply",
    );
  }
}
