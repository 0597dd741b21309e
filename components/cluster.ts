/**
 * `HomelabCluster`: the whole cluster from one validated stack config —
 * `ProxmoxNodes` (when a Proxmox section is configured) → `TalosCluster` → `ClusterAddons`, created
 * from the pure `clusterPlan(config)` (plan.ts).
 */
import * as path from "node:path";
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { type AgeIdentity, ClusterAddons, type PlatformOutputs, sopsAgeIdentity } from "./addons";
import { platformSecretsOf } from "./addons/platform-cluster";
import { backupDir } from "./config/backup";
import type { StackSecrets } from "./config/load";
import type { StackConfig } from "./config/validate";
import { clusterPlan } from "./plan";
import { allowNodeRemovalFromEnv } from "./production";
import { ProxmoxNodes } from "./proxmox/nodes";
import { TalosCluster } from "./talos/talos-cluster";

/**
 * What the Talos layer knows about the machine behind a node. A Proxmox VM: its identity (host,
 * VM id, NIC MACs — a replaced VM gets new MACs even with the same id) and "new" (an apply is created
 * only with its VM, or because the VM's identity changed). An existing machine: new only when the
 * stack says so (`nodes[].newMachine`).
 */
export function machineOf(
  vm: proxmox.VmLegacy | undefined,
  newMachine: boolean,
): { dependsOn: pulumi.Resource[]; identity?: pulumi.Output<string>; newMachine: boolean } {
  if (!vm) return { dependsOn: [], newMachine };
  // The configured NIC MACs (Proxmox generates them per new VM), not the agent-reported
  // `macAddresses`, which change with every interface the CNI creates inside the guest.
  const identity = pulumi
    .all([vm.nodeName, vm.vmId, vm.networkDevices])
    .apply(([host, id, nics]) => `proxmox:${host}/${id}/${(nics ?? []).map((d) => d.macAddress).join(",")}`);
  return { dependsOn: [vm], identity, newMachine: true };
}

export interface HomelabClusterArgs {
  readonly config: StackConfig;
  readonly secrets: StackSecrets;
  /** Plain settings stored as secrets (from `loadStackConfig`); none by default. */
  readonly secretSettings?: readonly string[];
}

/** Project root (components/ → ..): where `backup.dir` is relative to. */
const PROJECT_ROOT = path.resolve(__dirname, "..");

/** The addons component's name (the SOPS identity's alias names its former parent by it). */
const ADDONS_NAME = "addons";

async function recipientOf(identity: string): Promise<string> {
  const age = await import("age-encryption");
  return age.identityToRecipient(identity.trim());
}

/**
 * A cluster's SOPS identity, made as the cluster's own child. It lived under the addons component
 * before: the alias names that parent, so its state carries over — a new identity would orphan
 * every SOPS file already encrypted in Git.
 */
export function clusterSopsIdentity(
  cluster: pulumi.Resource,
  importedIdentity: pulumi.Input<string> | undefined,
  production: boolean,
): AgeIdentity {
  return sopsAgeIdentity(importedIdentity, production, {
    parent: cluster,
    aliases: [{ parent: pulumi.createUrn(ADDONS_NAME, ClusterAddons.TYPE, cluster) }],
  });
}

export class HomelabCluster extends pulumi.ComponentResource {
  public readonly endpoint: pulumi.Output<string>;
  public readonly vip: pulumi.Output<string>;
  public readonly nodes: pulumi.Output<Array<{ name: string; role: string; ip: string }>>;
  public readonly schematicId: pulumi.Output<string>;
  public readonly talosVersion: pulumi.Output<string>;
  public readonly kubernetesVersion: pulumi.Output<string>;
  /** Admin talosconfig (secret). */
  public readonly talosconfig: pulumi.Output<string>;
  /** Admin kubeconfig (secret). */
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly talosconfigExpiresAt: pulumi.Output<string>;
  public readonly kubeconfigExpiresAt: pulumi.Output<string>;
  /** The last etcd snapshot `up` took before a risky step: file name and SHA-256 (plain). */
  public readonly etcdSnapshotFile: pulumi.Output<string>;
  public readonly etcdSnapshotSha256: pulumi.Output<string>;
  /** Public age recipient for SOPS, when the SOPS addon is on. */
  public readonly sopsRecipient?: pulumi.Output<string>;
  /** A ready `.sops.yaml` creation rule, when the SOPS addon is on. */
  public readonly sopsConfig?: pulumi.Output<string>;
  /** Outputs of the platform addons: the self-signed CA (plain), Headlamp tokens, Grafana password (secret). */
  public readonly platform: PlatformOutputs;

  constructor(name: string, args: HomelabClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("proxmox-talos:index:HomelabCluster", name, {}, opts);
    const { config, secrets } = args;
    const plan = clusterPlan(config, { secretSettings: args.secretSettings });

    let vms: pulumi.Resource[] = [];
    let vmsByNode: Record<string, proxmox.VmLegacy> = {};
    if (plan.proxmox) {
      const provider = new proxmox.Provider(
        "proxmox",
        { ...plan.proxmox.provider, apiToken: secrets.proxmoxApiToken },
        { parent: this },
      );
      const proxmoxNodes = new ProxmoxNodes("nodes", plan.proxmox.nodes, {
        parent: this,
        providers: { proxmoxve: provider },
      });
      vmsByNode = proxmoxNodes.vms;
      vms = Object.values(proxmoxNodes.vms);
    }

    // The SOPS identity comes first, beside the Talos layer rather than inside the addons, so the
    // pre-upgrade etcd snapshot (which holds every Kubernetes Secret) is encrypted for it even when
    // it is generated in this very run.
    const sops = plan.addons?.flux.enabled && plan.addons.sops.enabled;
    const ageIdentity = sops ? clusterSopsIdentity(this, secrets.sopsAgeKey, config.production) : undefined;

    const talos = new TalosCluster(
      "talos",
      {
        ...plan.talos,
        nodes: plan.talos.nodes.map((n) => ({
          ...n,
          ...machineOf(vmsByNode[n.name], n.newMachine ?? false),
        })),
        // The runner's run-only allowance (`up --allow-node-removal`) joins the stack's.
        allowNodeRemoval: plan.talos.allowNodeRemoval || allowNodeRemovalFromEnv(),
        importedSecrets: secrets.talosSecrets,
        backup: {
          stack: pulumi.getStack(),
          beforeRiskySteps: config.backup.beforeRiskySteps,
          dir: backupDir(PROJECT_ROOT, pulumi.getStack(), config.backup.dir),
          keep: config.backup.keep,
          // The SOPS identity's recipient (public), adopted or generated; with SOPS off, an
          // adopted key's still.
          recipient: !config.backup.encrypt
            ? ""
            : ageIdentity
              ? ageIdentity.recipient
              : secrets.sopsAgeKey
                ? pulumi.unsecret(secrets.sopsAgeKey.apply(recipientOf))
                : "",
        },
      },
      { parent: this, dependsOn: vms },
    );

    // With every addon off there is nothing to install: no ClusterAddons, so no Kubernetes provider
    // either (an existing-machines stack then needs no third-party plugin at all).
    const addons = plan.addons
      ? new ClusterAddons(
          ADDONS_NAME,
          {
            kubeconfig: talos.kubeconfig,
            clusterReady: talos.ready,
            config: plan.addons,
            gitCredentials: secrets.fluxGitPassword?.apply((password) => ({
              username: config.fluxGitUsername ?? "git",
              password,
            })),
            ageKey: secrets.sopsAgeKey,
            ageIdentity,
            platformSecrets: platformSecretsOf(secrets),
            controlPlaneIps: config.nodes.filter((n) => n.role === "controlplane").map((n) => n.ip),
            kubeProxy: config.network.kubeProxy,
            clientCertRenewBeforeDays: config.clientCerts.renewBeforeDays,
            clusterName: config.clusterName,
            etcdBackupKeys:
              secrets.etcdBackupS3AccessKeyId && secrets.etcdBackupS3SecretAccessKey
                ? {
                    accessKeyId: secrets.etcdBackupS3AccessKeyId,
                    secretAccessKey: secrets.etcdBackupS3SecretAccessKey,
                  }
                : undefined,
            production: config.production,
            secretValues: (args.secretSettings ?? []).includes("addons"),
          },
          { parent: this },
        )
      : undefined;

    this.endpoint = pulumi.output(config.controlPlane.endpoint);
    this.vip = pulumi.output(config.controlPlane.vip);
    this.nodes = pulumi.output(config.nodes.map((n) => ({ name: n.name, role: n.role, ip: n.ip })));
    this.schematicId = pulumi.output(plan.image.schematicId);
    this.talosVersion = pulumi.output(config.talosVersion);
    this.kubernetesVersion = pulumi.output(config.kubernetesVersion);
    this.talosconfig = pulumi.secret(talos.talosconfig);
    this.kubeconfig = pulumi.secret(talos.kubeconfig);
    this.talosconfigExpiresAt = talos.talosconfigExpiresAt;
    this.kubeconfigExpiresAt = talos.kubeconfigExpiresAt;
    this.etcdSnapshotFile = talos.snapshotStep?.snapshotFile ?? pulumi.output("");
    this.etcdSnapshotSha256 = talos.snapshotStep?.snapshotSha256 ?? pulumi.output("");
    this.sopsRecipient = addons?.sopsRecipient;
    this.sopsConfig = addons?.sopsConfig;
    this.platform = addons?.platform ?? {};

    this.registerOutputs({
      endpoint: this.endpoint,
      vip: this.vip,
      nodes: this.nodes,
      schematicId: this.schematicId,
      talosconfig: this.talosconfig,
      kubeconfig: this.kubeconfig,
      // Plain cluster facts (no secrets) for stack policies, which see component outputs only.
      clusterSpec: plan.spec,
    });
  }
}
