/** `MachineConfigApply`: one node's machine config, applied over the Talos API (see logic/apply.ts). */
import * as pulumi from "@pulumi/pulumi";
import { sha256Hex } from "../../hash";
import type { MachineRole } from "../types";
import { ADMIN_CREDENTIAL_OUTPUTS, secretAdminCredentials } from "./credentials";
import { LOGIC, LogicResource } from "./providers";

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
  /** Bound of create/update/delete (one rollout step) in seconds; unset: TIMEOUT_DEFAULTS.applySeconds (logic). */
  readonly timeoutSeconds?: pulumi.Input<number>;
  /** Installer image the node must run; a change upgrades the node in its rollout step. */
  readonly installImage?: pulumi.Input<string>;
  /** Kubernetes version the node's kubelet must report after a rollout step. */
  readonly kubernetesVersion?: pulumi.Input<string>;
  /** Non-secret redacted view of the config, so `pulumi preview --diff` shows which keys change. */
  readonly configView?: pulumi.Input<string>;
  /** The cluster's control planes (name, apid address) for the etcd gates of a rollout step. */
  readonly controlPlanes?: pulumi.Input<pulumi.Input<{ name: string; address: string }>[]>;
  /** Admin kubeconfig for the Ready gate; made secret here. */
  readonly kubeconfig?: pulumi.Input<string>;
  /** Wait for the node's Ready condition in Kubernetes after a rollout step. Default false. */
  readonly checkKubernetes?: pulumi.Input<boolean>;
  /** Identity of the machine behind the node (e.g. its VM); a change replaces this apply. Default "". */
  readonly machineIdentity?: pulumi.Input<string>;
  /** The node is known to be new: its first apply may use the maintenance API. Default false. */
  readonly maintenanceAllowed?: pulumi.Input<boolean>;
  /** Secure Boot / disk encryption profile; a change replaces (reinstalls) the node. */
  readonly bootSecurity?: pulumi.Input<string>;
  /** May a boot-security change reinstall the node (false on production stacks without the allowance). */
  readonly allowReinstall?: pulumi.Input<boolean>;
  /** Can this program reinstall the node (true for Proxmox VMs, false for existing machines). */
  readonly reinstallable?: pulumi.Input<boolean>;
}

export class MachineConfigApply extends LogicResource {
  declare readonly node: pulumi.Output<string>;
  declare readonly address: pulumi.Output<string>;
  declare readonly config: pulumi.Output<string>;
  declare readonly configHash: pulumi.Output<string>;
  declare readonly appliedMode: pulumi.Output<string>;
  declare readonly fromMaintenance: pulumi.Output<boolean>;
  declare readonly appliedAt: pulumi.Output<string>;
  declare readonly installImage: pulumi.Output<string>;
  declare readonly configView: pulumi.Output<string>;

  constructor(name: string, args: MachineConfigApplyArgs, opts?: pulumi.CustomResourceOptions) {
    const config = pulumi.secret(args.config);
    super(
      LOGIC.apply,
      name,
      {
        node: args.node,
        address: args.address,
        role: args.role,
        config,
        configHash: args.configHash ?? pulumi.unsecret(config.apply(sha256Hex)),
        talosVersion: args.talosVersion,
        mode: args.mode ?? "auto",
        ...secretAdminCredentials(args),
        resetOnDelete: args.resetOnDelete ?? false,
        timeoutSeconds: args.timeoutSeconds,
        installImage: args.installImage ?? "",
        kubernetesVersion: args.kubernetesVersion ?? "",
        configView: args.configView ?? "",
        controlPlanes: args.controlPlanes ?? [],
        kubeconfig: args.kubeconfig === undefined ? "" : pulumi.secret(args.kubeconfig),
        checkKubernetes: args.checkKubernetes ?? false,
        machineIdentity: args.machineIdentity ?? "",
        maintenanceAllowed: args.maintenanceAllowed ?? false,
        bootSecurity: args.bootSecurity ?? "",
        allowReinstall: args.allowReinstall ?? true,
        reinstallable: args.reinstallable ?? false,
        appliedMode: undefined,
        fromMaintenance: undefined,
        appliedAt: undefined,
      },
      { ...opts, additionalSecretOutputs: ["config", ...ADMIN_CREDENTIAL_OUTPUTS, "kubeconfig"] },
      "MachineConfigApply",
    );
  }
}
