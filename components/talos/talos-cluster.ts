/**
 * `TalosCluster`: a Talos Kubernetes cluster on EXISTING machines (Proxmox VMs, bare metal, other
 * hypervisors): secrets → per-node machine config apply → etcd bootstrap → readiness wait.
 *
 * Machine configs are rendered here, in the program, by pure functions from the secrets bundle
 * Output, so every rendered config stays a secret Output; each apply carries a non-secret sha256
 * of its config so diffs are precise without revealing it. The admin talosconfig and kubeconfig
 * are generated locally from the bundle (secrets) by the `ClientConfigs` resource, which keeps them
 * stable across runs and renews them 30 days before the client certs expire.
 *
 * Dependencies: each node's apply waits for its `dependsOn` (its VM), the secrets, the membership
 * and the nodes before it in ROLLOUT ORDER — control planes one at a time, then workers in batches
 * of `rollout.workerBatchSize` — so the engine runs changes (upgrades, config updates) node by
 * node with health gates (logic/rollout.ts) and stops at the first failure; creates stay quick
 * (an apply returns once the node accepted its config). `ClusterMembership` takes removed nodes
 * out (drain, etcd member removal, reset) before the engine deletes their resources. The bootstrap
 * waits for every control-plane apply; `ready` waits for the bootstrap and every apply.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ConfigPatch as StackPatch } from "../config/schema";
import type { StackConfig } from "../config/validate";
import { ROLLOUT_DEFAULTS } from "../defaults";
import { sha256Hex } from "../hash";
import { mustParseVersion } from "../version";
import type { MachineHardware } from "./machineconfig/hardware";
import type { ConfigPatch } from "./machineconfig/patch";
import { redactMachineConfig } from "./machineconfig/redact";
import { endpointHost, type MachineConfigInput, renderMachineConfig } from "./machineconfig/render";
import { parseSecretsYaml } from "./pki/secrets";
import { Bootstrap } from "./resources/bootstrap";
import { ClientConfigs } from "./resources/client-configs";
import { ClusterMembership } from "./resources/cluster-membership";
import { ClusterReady } from "./resources/cluster-ready";
import { credentialsFromTalosconfig } from "./resources/credentials";
import { EtcdSnapshotStep } from "./resources/etcd-snapshot-step";
import { MachineConfigApply } from "./resources/machine-config-apply";
import { MachineSecrets } from "./resources/machine-secrets";
import type { MachineRole, SecretsBundle } from "./types";

export interface TalosNodeArgs {
  readonly name: string;
  readonly role: MachineRole;
  /** The node's static IP: apid address (port 50000) and cert SAN. */
  readonly ip: string;
  /** apid address when it is not `<ip>:50000` (e.g. behind NAT, or a test's fake node). */
  readonly apiAddress?: string;
  readonly installDisk?: string;
  readonly patches?: readonly StackPatch[];
  /** Resources the node's apply waits for (e.g. its VM). */
  readonly dependsOn?: readonly pulumi.Resource[];
  /**
   * Identity of the machine behind the node (e.g. its VM's host, id and MACs): when it changes,
   * the node's apply is replaced (the new machine is configured again) and the readiness gate
   * runs again. Default "" (unknown: existing machines).
   */
  readonly identity?: pulumi.Input<string>;
  /**
   * The machine is known to be new (a VM created or replaced in this update, or marked new by the
   * stack): only then may its first apply use the unauthenticated maintenance API. Default false.
   */
  readonly newMachine?: boolean;
  /** The node's own installer image (its schematic, Secure Boot); the cluster's when unset. */
  readonly installImage?: string;
  /** Data disks, disk encryption, GPU kernel modules in the node's machine config. */
  readonly hardware?: MachineHardware;
  /** Secure Boot / disk encryption profile: a change reinstalls the node. */
  readonly bootSecurity?: string;
  /** True for Proxmox VMs (a reinstall replaces the VM); existing machines cannot be re-imaged. */
  readonly reinstallable?: boolean;
}

export interface TalosClusterArgs {
  readonly clusterName: string;
  /** Kubernetes API endpoint, `https://<vip>:6443`. */
  readonly endpoint: string;
  readonly vip: string;
  readonly talosVersion: string;
  readonly kubernetesVersion: string;
  /** Installer image, e.g. factory.talos.dev/nocloud-installer/<schematic>:v1.13.9. */
  readonly installImage: string;
  readonly nodes: readonly TalosNodeArgs[];
  /** The validated network config (cidr, gateway, dnsServers, cni, kubeProxy, pod/service subnets…). */
  readonly network: Pick<
    StackConfig["network"],
    "dnsServers" | "cni" | "kubeProxy" | "podSubnets" | "serviceSubnets"
  >;
  readonly patches?: {
    readonly all?: readonly StackPatch[];
    readonly controlplane?: readonly StackPatch[];
    readonly worker?: readonly StackPatch[];
  };
  readonly allowSchedulingOnControlPlanes: boolean;
  /** Mount the OpenEBS LocalPV hostpath into the kubelet. */
  readonly openebsHostpath: boolean;
  /** OpenEBS LocalPV's base path when it lives on a data disk (`/var/mnt/<name>`). */
  readonly openebsBasePath?: string;
  /** May a boot-security change reinstall nodes (production stacks: the node-removal allowance). Default true. */
  readonly allowReinstall?: boolean;
  /** An existing secrets.yaml to adopt (secret). */
  readonly importedSecrets?: pulumi.Input<string | undefined>;
  /** Apply mode for config updates: auto (default) or staged. */
  readonly applyMode?: "auto" | "staged";
  /** Reset nodes (wipe STATE/EPHEMERAL) when their apply is deleted. Default false. */
  readonly resetOnDelete?: boolean;
  /** Wait for the Kubernetes API's /readyz too. Default true. */
  readonly checkKubernetes?: boolean;
  /** Bounds (seconds): each apply/bootstrap, the readiness wait (defaults: TIMEOUT_DEFAULTS). */
  readonly applyTimeoutSeconds?: number;
  readonly readyTimeoutSeconds?: number;
  /** Rolling changes: worker batch size, per-node step bound, drain bound (defaults: ROLLOUT_DEFAULTS). */
  readonly rollout?: {
    readonly workerBatchSize?: number;
    readonly nodeTimeoutSeconds?: number;
    readonly drainTimeoutSeconds?: number;
  };
  /**
   * Give each apply a plain redacted view of its config for `preview --diff`. Default true; false
   * when patches are stored as secrets (they would show in the views).
   */
  readonly showConfigViews?: boolean;
  /** Admin client certs: renew this many days before expiry, lifetime (defaults: CLIENT_CERT_DEFAULTS). */
  readonly clientCerts?: { readonly renewBeforeDays?: number; readonly validityDays?: number };
  /**
   * The etcd snapshot before risky steps (`EtcdSnapshotStep`, first in the rolling chain); none
   * when omitted.
   */
  readonly backup?: {
    readonly stack: string;
    readonly beforeRiskySteps: boolean;
    /** Absolute folder of the stack's snapshots. */
    readonly dir: string;
    readonly keep: number;
    /** age recipient to encrypt for. */
    readonly recipient?: pulumi.Input<string>;
  };
  /**
   * Production: node removals are refused before anything is touched (unless `allowNodeRemoval`),
   * and the cluster identity (`MachineSecrets`, `ClientConfigs`) gets `protect` + `retainOnDelete`.
   * Default false.
   */
  readonly production?: boolean;
  /** Let this update take nodes out of a production cluster. Default false. */
  readonly allowNodeRemoval?: boolean;
  /** Let a changed or removed `importedSecrets` replace the bundle. Default false (refused). */
  readonly allowSecretsReplacement?: boolean;
}

/**
 * Rollout order as groups: each control plane alone (config order), then workers in batches.
 * Each group's applies depend on the whole previous group.
 */
export function rolloutGroups<N extends { readonly role: MachineRole }>(
  nodes: readonly N[],
  workerBatchSize: number = ROLLOUT_DEFAULTS.workerBatchSize,
): N[][] {
  if (!(Number.isInteger(workerBatchSize) && workerBatchSize >= 1))
    throw new Error(`workerBatchSize must be a whole number of at least 1, got ${workerBatchSize}`);
  const groups: N[][] = nodes.filter((n) => n.role === "controlplane").map((n) => [n]);
  const workers = nodes.filter((n) => n.role === "worker");
  for (let k = 0; k < workers.length; k += workerBatchSize)
    groups.push(workers.slice(k, k + workerBatchSize));
  return groups;
}

/**
 * One node's machine-config input from the cluster args: role patches (all, then the role's) then
 * the node's own. Shared by the component and the offline `render` command.
 */
export function nodeConfigInput(
  args: Omit<TalosClusterArgs, "nodes" | "importedSecrets">,
  node: Pick<TalosNodeArgs, "name" | "role" | "ip" | "installDisk" | "patches" | "installImage" | "hardware">,
  bundle: SecretsBundle,
): MachineConfigInput {
  const cni = args.network.cni === "flannel" ? "flannel" : "none";
  const endpointName = endpointHost(args.endpoint);
  const patches: ConfigPatch[] = [
    ...(args.patches?.all ?? []),
    ...((node.role === "controlplane" ? args.patches?.controlplane : args.patches?.worker) ?? []),
    ...(node.patches ?? []),
  ];
  return {
    talosVersion: args.talosVersion,
    kubernetesVersion: args.kubernetesVersion,
    clusterName: args.clusterName,
    endpoint: args.endpoint,
    role: node.role,
    hostname: node.name,
    nodeIp: node.ip,
    vip: node.role === "controlplane" ? args.vip : undefined,
    nameservers: args.network.dnsServers,
    installDisk: node.installDisk,
    installImage: node.installImage ?? args.installImage,
    certSANs: endpointName === args.vip ? [] : [endpointName],
    cni,
    kubeProxyDisabled: !(args.network.kubeProxy ?? cni === "flannel"),
    openebsHostpath: args.openebsHostpath,
    ...(args.openebsBasePath !== undefined ? { openebsBasePath: args.openebsBasePath } : {}),
    ...(node.hardware !== undefined ? { hardware: node.hardware } : {}),
    allowSchedulingOnControlPlanes: args.allowSchedulingOnControlPlanes,
    discovery: true,
    podSubnets: args.network.podSubnets,
    serviceSubnets: args.network.serviceSubnets,
    bundle,
    patches,
  };
}

/** The config view when the stack keeps its patches secret. */
export const CONFIG_VIEW_WITHHELD = "(withheld: the stack stores its patches or nodes as secrets)";

export class TalosCluster extends pulumi.ComponentResource {
  /** Admin talosconfig (secret); endpoints = control-plane IPs. */
  public readonly talosconfig: pulumi.Output<string>;
  /** Admin kubeconfig (secret). */
  public readonly kubeconfig: pulumi.Output<string>;
  /** ISO time the talosconfig's client cert expires. */
  public readonly talosconfigExpiresAt: pulumi.Output<string>;
  /** ISO time the kubeconfig's client cert expires. */
  public readonly kubeconfigExpiresAt: pulumi.Output<string>;
  /** Readiness of the cluster: depend on it before talking to Kubernetes. */
  public readonly ready: ClusterReady;
  public readonly machineSecrets: MachineSecrets;
  /** The admin talosconfig/kubeconfig, kept stable in state (renewed 30 days before expiry). */
  public readonly clientConfigs: ClientConfigs;
  public readonly bootstrap: Bootstrap;
  /** The node set; takes removed nodes out safely. */
  public readonly membership: ClusterMembership;
  /** The etcd snapshot before risky steps (when `backup` is given). */
  public readonly snapshotStep?: EtcdSnapshotStep;
  /** Per node name: its config apply resource. */
  public readonly applies: Readonly<Record<string, MachineConfigApply>>;
  /** Per node name: its rendered machine config (secret). */
  public readonly configs: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: TalosClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("proxmox-talos:index:TalosCluster", name, {}, opts);
    const talosVersion = mustParseVersion(args.talosVersion, "talosVersion");
    const controlPlanes = args.nodes.filter((n) => n.role === "controlplane");
    const first = controlPlanes[0];
    if (!first) throw new pulumi.ResourceError("at least one control-plane node is required", this);
    const address = (n: TalosNodeArgs): string => n.apiAddress ?? n.ip;

    const production = args.production ?? false;
    // The cluster identity: no engine path (destroy, replacement) may drop it in production. A
    // replacement the stack allows explicitly must not be blocked by `protect`.
    const keepIdentity = { protect: production, retainOnDelete: production };
    this.machineSecrets = new MachineSecrets(
      `${name}-secrets`,
      { importedSecrets: args.importedSecrets, allowReplacement: args.allowSecretsReplacement ?? false },
      {
        parent: this,
        protect: production && !args.allowSecretsReplacement,
        retainOnDelete: production,
      },
    );
    const bundle: pulumi.Output<SecretsBundle> = pulumi.secret(
      this.machineSecrets.secretsYaml.apply((y) => {
        if (typeof y !== "string" || y === "") {
          // Only seen under mocks whose state echoes the inputs: see tests/talos-cluster/mock-state.ts.
          throw new pulumi.ResourceError("MachineSecrets has no secretsYaml output", this);
        }
        return parseSecretsYaml(y);
      }),
    );
    const clusterFingerprint = pulumi.unsecret(
      bundle.apply((b) => sha256Hex(`${b.cluster.id}\n${b.certs.os.crt}`).slice(0, 32)),
    );

    const cpIps = controlPlanes.map((n) => n.ip);
    this.clientConfigs = new ClientConfigs(
      `${name}-client-configs`,
      {
        secretsYaml: this.machineSecrets.secretsYaml,
        clusterName: args.clusterName,
        endpoint: args.endpoint,
        endpoints: cpIps,
        nodes: cpIps,
        renewBeforeDays: args.clientCerts?.renewBeforeDays,
        validityDays: args.clientCerts?.validityDays,
      },
      { parent: this, ...keepIdentity },
    );
    this.talosconfig = pulumi.secret(this.clientConfigs.talosconfig);
    this.kubeconfig = pulumi.secret(this.clientConfigs.kubeconfig);
    this.talosconfigExpiresAt = pulumi.unsecret(this.clientConfigs.talosconfigExpiresAt);
    this.kubeconfigExpiresAt = pulumi.unsecret(this.clientConfigs.kubeconfigExpiresAt);
    const creds = pulumi.secret(this.talosconfig.apply(credentialsFromTalosconfig));
    const osCa = creds.apply((c) => c.osCa);
    const clientCert = creds.apply((c) => c.clientCert);
    const clientKey = creds.apply((c) => c.clientKey);

    const checkKubernetes = args.checkKubernetes ?? true;
    const controlPlanePeers = controlPlanes.map((n) => ({ name: n.name, address: address(n) }));
    // First in the chain: the membership (control-plane removals) and every apply wait for it.
    this.snapshotStep = args.backup
      ? new EtcdSnapshotStep(
          `${name}-etcd-snapshot`,
          {
            stack: args.backup.stack,
            enabled: args.backup.beforeRiskySteps,
            dir: args.backup.dir,
            keep: args.backup.keep,
            recipient: args.backup.recipient ?? "",
            installImage: args.installImage,
            kubernetesVersion: args.kubernetesVersion,
            controlPlanes: controlPlanePeers,
            osCa,
            clientCert,
            clientKey,
            timeoutSeconds: args.rollout?.nodeTimeoutSeconds ?? args.applyTimeoutSeconds,
          },
          { parent: this, dependsOn: [this.machineSecrets, this.clientConfigs] },
        )
      : undefined;
    this.membership = new ClusterMembership(
      `${name}-membership`,
      {
        nodes: args.nodes.map((n) => ({ name: n.name, role: n.role, address: address(n) })),
        osCa,
        clientCert,
        clientKey,
        kubeconfig: this.kubeconfig,
        checkKubernetes,
        drainTimeoutSeconds: args.rollout?.drainTimeoutSeconds,
        timeoutSeconds: args.applyTimeoutSeconds,
        protectNodes: production && !args.allowNodeRemoval,
      },
      { parent: this, dependsOn: [this.machineSecrets, ...(this.snapshotStep ? [this.snapshotStep] : [])] },
    );

    const applies: Record<string, MachineConfigApply> = {};
    const configs: Record<string, pulumi.Output<string>> = {};
    const hashes: pulumi.Output<string>[] = [];
    let previous: pulumi.Resource[] = [];
    for (const group of rolloutGroups(args.nodes, args.rollout?.workerBatchSize)) {
      const current: pulumi.Resource[] = [];
      for (const node of group) {
        const config = pulumi.secret(
          bundle.apply((b) => renderMachineConfig(nodeConfigInput(args, node, b))),
        );
        const configHash = pulumi.unsecret(config.apply(sha256Hex));
        const identity = pulumi.output(node.identity ?? "");
        // A replaced machine re-runs the readiness gate even when its config is the same.
        hashes.push(
          pulumi.all([configHash, identity]).apply(([h, id]) => `${node.name}=${h}${id ? `@${id}` : ""}`),
        );
        configs[node.name] = config;
        const apply = new MachineConfigApply(
          `${name}-apply-${node.name}`,
          {
            node: node.name,
            address: address(node),
            role: node.role,
            config,
            configHash,
            // Keyed with the cluster secret: markers reveal nothing, not even a weak password.
            configView:
              args.showConfigViews === false
                ? CONFIG_VIEW_WITHHELD
                : pulumi.unsecret(
                    pulumi.all([config, bundle]).apply(([c, b]) => redactMachineConfig(c, b.cluster.secret)),
                  ),
            // The apply resource records the wire form (`v1.14.1`), as states before it did.
            talosVersion: talosVersion.tag,
            kubernetesVersion: args.kubernetesVersion,
            installImage: node.installImage ?? args.installImage,
            mode: args.applyMode ?? "auto",
            osCa,
            clientCert,
            clientKey,
            controlPlanes: controlPlanePeers,
            kubeconfig: this.kubeconfig,
            checkKubernetes,
            machineIdentity: identity,
            maintenanceAllowed: node.newMachine ?? false,
            resetOnDelete: args.resetOnDelete ?? false,
            timeoutSeconds: args.rollout?.nodeTimeoutSeconds ?? args.applyTimeoutSeconds,
            ...(node.bootSecurity !== undefined
              ? {
                  bootSecurity: node.bootSecurity,
                  allowReinstall: args.allowReinstall ?? true,
                  reinstallable: node.reinstallable ?? false,
                }
              : {}),
          },
          {
            parent: this,
            dependsOn: [...(node.dependsOn ?? []), this.machineSecrets, this.membership, ...previous],
          },
        );
        applies[node.name] = apply;
        current.push(apply);
      }
      previous = current;
    }
    this.applies = applies;
    this.configs = configs;

    this.bootstrap = new Bootstrap(
      `${name}-bootstrap`,
      {
        node: first.name,
        address: address(first),
        clusterFingerprint,
        osCa,
        clientCert,
        clientKey,
        timeoutSeconds: args.applyTimeoutSeconds,
      },
      { parent: this, dependsOn: controlPlanes.map((n) => applies[n.name]!) },
    );

    this.ready = new ClusterReady(
      `${name}-ready`,
      {
        nodes: args.nodes.map((n) => ({ name: n.name, address: address(n) })),
        osCa,
        clientCert,
        clientKey,
        kubeconfig: this.kubeconfig,
        checkKubernetes,
        timeoutSeconds: args.readyTimeoutSeconds,
        generation: pulumi
          .all([clusterFingerprint, ...hashes])
          .apply((parts) => sha256Hex(parts.join("\n")).slice(0, 32)),
      },
      { parent: this, dependsOn: [this.bootstrap, ...Object.values(applies)] },
    );

    this.registerOutputs({
      talosconfig: this.talosconfig,
      kubeconfig: this.kubeconfig,
      talosconfigExpiresAt: this.talosconfigExpiresAt,
      kubeconfigExpiresAt: this.kubeconfigExpiresAt,
    });
  }
}
