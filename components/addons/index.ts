/**
 * `ClusterAddons`: the cluster's addons as Helm releases on a freshly booted Talos cluster —
 * Cilium (CNI, kube-proxy replacement) first, then MetalLB (with its address pools), OpenEBS LocalPV
 * hostpath, Flux (optionally synced from Git) and a SOPS age identity for Flux.
 *
 * Order: the Kubernetes provider waits for `clusterReady`; Cilium goes first (nodes stay NotReady
 * without a CNI); everything else depends on the Cilium release; custom resources depend on the
 * release that installs their CRDs (releases wait for readiness). Each toggle removes exactly its
 * own resources.
 */
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { userVolumeMountPath } from "../talos/machineconfig/hardware";
import { type AddonName, CHARTS } from "../versions";
import { type AgeIdentity, sopsAgeIdentity, sopsCreationRule } from "./age-identity";
import type { AddonsConfig } from "./config";
import { ETCD_BACKUP_NAME, etcdBackupObjects, S3_SECRET_NAME } from "./etcd-backup";
import {
  installCiliumLoadBalancer,
  installGatewayApiCrds,
  installPlatform,
  PLATFORM_NAMESPACES,
  type PlatformOutputs,
  type PlatformSecrets,
} from "./platform";
import { ciliumValues, fluxValues, type HelmValues, metallbValues, openebsValues } from "./values";

export { AgeIdentity, ageIdentityProvider, sopsAgeIdentity, sopsCreationRule } from "./age-identity";
export { type AddonsConfig, type AddonsConfigInput, AddonsConfigSchema, formatAddonsIssues } from "./config";
export { etcdBackupMachinePatch } from "./etcd-backup";
export type { PlatformOutputs, PlatformSecrets } from "./platform";
export { helmMerge } from "./values";

/** Namespace each addon installs into. */
export const ADDON_NAMESPACES: Readonly<Record<AddonName, string>> = {
  cilium: "kube-system",
  metallb: "metallb-system",
  openebs: "openebs",
  flux: "flux-system",
  ...PLATFORM_NAMESPACES,
};

/** PodSecurity labels of a namespace whose pods need host access (MetalLB speaker, LocalPV). */
export const PRIVILEGED_POD_SECURITY_LABELS: Readonly<Record<string, string>> = {
  "pod-security.kubernetes.io/enforce": "privileged",
  "pod-security.kubernetes.io/audit": "privileged",
  "pod-security.kubernetes.io/warn": "privileged",
};

/** Name of the Secret (in flux-system) holding the SOPS age identity, and its key. */
export const SOPS_SECRET_NAME = "sops-age";
export const SOPS_SECRET_KEY = "age.agekey";
/** Name of Flux's GitRepository, Kustomization and Git credentials Secret (as `flux bootstrap` names them). */
export const FLUX_SYNC_NAME = "flux-system";

export interface GitCredentials {
  readonly username: string;
  readonly password: string;
}

export interface ClusterAddonsArgs {
  /** Admin kubeconfig of the cluster (a Pulumi secret). */
  readonly kubeconfig: pulumi.Input<string>;
  /** A resource that completes once the Kubernetes API answers; everything here waits for it. */
  readonly clusterReady: pulumi.Resource;
  /** The validated `addons` stack config (plain data: it decides which resources exist). */
  readonly config: AddonsConfig;
  /** Credentials for Flux's Git repository (a Pulumi secret). Defaults to none (a public repository). */
  readonly gitCredentials?: pulumi.Input<GitCredentials>;
  /** An age identity to adopt for SOPS (a Pulumi secret). Defaults to none: one is generated once. */
  readonly ageKey?: pulumi.Input<string>;
  /**
   * The SOPS identity resource, when the caller made it (HomelabCluster does, before the Talos
   * layer, so the pre-upgrade etcd snapshot is encrypted for it too). Defaults to one made here from
   * `ageKey`.
   */
  readonly ageIdentity?: AgeIdentity;
  /** Secrets of the platform addons (S3 keys, SMTP password, DNS token …), each a Pulumi secret. */
  readonly platformSecrets?: PlatformSecrets;
  /** Control-plane node IPs: the monitoring addon scrapes their etcd, scheduler and controller-manager. */
  readonly controlPlaneIps?: readonly string[];
  /** kube-proxy runs (flannel); default false (Cilium replaces it). */
  readonly kubeProxy?: boolean;
  /** `clientCerts.renewBeforeDays`: the client-cert expiry alert fires inside this window. Default 30. */
  readonly clientCertRenewBeforeDays?: number;
  /** Cluster name (object key prefix of the etcd backups). */
  readonly clusterName?: string;
  /** S3 access keys of `etcdBackup` (Pulumi secrets). */
  readonly etcdBackupKeys?: {
    readonly accessKeyId: pulumi.Input<string>;
    readonly secretAccessKey: pulumi.Input<string>;
  };
  /**
   * The stack stores `addons` as a secret (`pulumi config set --secret --path addons.*.values…`):
   * every release's values stay a Pulumi secret. Default false.
   */
  readonly secretValues?: boolean;
  /** Production: the age identity gets `protect` and `retainOnDelete`. Default false. */
  readonly production?: boolean;
}

export class ClusterAddons extends pulumi.ComponentResource {
  /** The component's Pulumi type token. */
  static readonly TYPE = "proxmox-talos:index:ClusterAddons";
  /** The Kubernetes provider every addon resource uses. */
  public readonly provider: kubernetes.Provider;
  /** The Helm releases of the enabled addons. */
  public readonly releases: Readonly<Partial<Record<AddonName, kubernetes.helm.v3.Release>>>;
  /** Names of the enabled addons. */
  public readonly enabledAddons: pulumi.Output<AddonName[]>;
  /** Public age recipient (`age1...`) SOPS encrypts for, when SOPS is on. */
  public readonly sopsRecipient?: pulumi.Output<string>;
  /** A ready `.sops.yaml` holding one creation rule for `sopsRecipient`, when SOPS is on. */
  public readonly sopsConfig?: pulumi.Output<string>;
  /** The age identity (a Pulumi secret), when SOPS is on. Not registered as a component output. */
  public readonly sopsAgeIdentity?: pulumi.Output<string>;
  /** Outputs of the platform addons (CA certificate, Headlamp tokens). */
  public readonly platform: PlatformOutputs;

  constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ClusterAddons.TYPE, name, {}, opts);
    const { config } = args;

    this.provider = new kubernetes.Provider(
      "kubernetes",
      { kubeconfig: pulumi.secret(args.kubeconfig) },
      { parent: this, dependsOn: [args.clusterReady] },
    );
    const k8s: pulumi.CustomResourceOptions = { parent: this, provider: this.provider };
    const releases: Partial<Record<AddonName, kubernetes.helm.v3.Release>> = {};

    const release = (
      addon: AddonName,
      namespace: pulumi.Input<string>,
      values: HelmValues,
      dependsOn: pulumi.Resource[],
    ): kubernetes.helm.v3.Release => {
      const pin = CHARTS[addon];
      const r = new kubernetes.helm.v3.Release(
        addon,
        {
          name: addon,
          chart: pin.chart,
          version: config[addon].version ?? pin.version,
          repositoryOpts: { repo: pin.repository },
          namespace,
          createNamespace: false,
          values: args.secretValues ? pulumi.secret(values) : values,
        },
        { ...k8s, dependsOn },
      );
      releases[addon] = r;
      return r;
    };
    const namespace = (nsName: string, labels: Record<string, string>, dependsOn: pulumi.Resource[]) =>
      new kubernetes.core.v1.Namespace(nsName, { metadata: { name: nsName, labels } }, { ...k8s, dependsOn });

    // Cilium first: without a CNI no pod of any other addon can start.
    const afterCni: pulumi.Resource[] = [];
    // The Gateway API CRDs go before Cilium: its operator starts the Gateway controller only if they exist.
    const gatewayCrds = installGatewayApiCrds(config, k8s, [args.clusterReady]);
    const lbReady: pulumi.Resource[] = [];
    if (config.cilium.enabled) {
      const cilium = release(
        "cilium",
        ADDON_NAMESPACES.cilium,
        ciliumValues(config.cilium.values, {
          l2LoadBalancer: config.cilium.loadBalancer === "l2",
          gatewayApi: config.gateway.enabled,
        }),
        [args.clusterReady, ...(gatewayCrds ? [gatewayCrds] : [])],
      );
      afterCni.push(cilium);
      lbReady.push(...installCiliumLoadBalancer(config, k8s, cilium));
    } else {
      afterCni.push(args.clusterReady);
    }

    if (config.metallb.enabled) {
      const ns = namespace(ADDON_NAMESPACES.metallb, { ...PRIVILEGED_POD_SECURITY_LABELS }, afterCni);
      const metallb = release("metallb", ns.metadata.name, metallbValues(config.metallb.values), afterCni);
      const pools = config.metallb.pools.map(
        (pool) =>
          new kubernetes.apiextensions.CustomResource(
            `metallb-pool-${pool.name}`,
            {
              apiVersion: "metallb.io/v1beta1",
              kind: "IPAddressPool",
              metadata: { name: pool.name, namespace: ns.metadata.name },
              spec: {
                addresses: [...pool.addresses],
                ...(pool.autoAssign !== undefined ? { autoAssign: pool.autoAssign } : {}),
              },
            },
            { ...k8s, dependsOn: [metallb] },
          ),
      );
      lbReady.push(metallb, ...pools);
      if (config.metallb.l2Advertisement && pools.length > 0) {
        const l2 = new kubernetes.apiextensions.CustomResource(
          "metallb-l2",
          {
            apiVersion: "metallb.io/v1beta1",
            kind: "L2Advertisement",
            metadata: { name: "default", namespace: ns.metadata.name },
            spec: { ipAddressPools: config.metallb.pools.map((p) => p.name) },
          },
          { ...k8s, dependsOn: [metallb, ...pools] },
        );
        lbReady.push(l2);
      }
    }

    if (config.openebs.enabled) {
      const ns = namespace(ADDON_NAMESPACES.openebs, { ...PRIVILEGED_POD_SECURITY_LABELS }, afterCni);
      release(
        "openebs",
        ns.metadata.name,
        openebsValues(
          config.openebs.storageClassName,
          config.openebs.values,
          config.openebs.dataDisk !== undefined ? userVolumeMountPath(config.openebs.dataDisk) : undefined,
        ),
        afterCni,
      );
    }

    if (config.flux.enabled) {
      const ns = namespace(ADDON_NAMESPACES.flux, {}, afterCni);
      const flux = release("flux", ns.metadata.name, fluxValues(config.flux.values), afterCni);

      let sopsSecret: kubernetes.core.v1.Secret | undefined;
      if (config.sops.enabled) {
        const age =
          args.ageIdentity ??
          sopsAgeIdentity(args.ageKey, args.production ?? false, { parent: this, dependsOn: afterCni });
        const identity = pulumi.secret(age.identity);
        sopsSecret = new kubernetes.core.v1.Secret(
          SOPS_SECRET_NAME,
          {
            metadata: { name: SOPS_SECRET_NAME, namespace: ns.metadata.name },
            type: "Opaque",
            stringData: { [SOPS_SECRET_KEY]: identity },
          },
          { ...k8s, dependsOn: afterCni },
        );
        this.sopsAgeIdentity = identity;
        this.sopsRecipient = pulumi.unsecret(age.recipient);
        this.sopsConfig = this.sopsRecipient.apply((r) => sopsCreationRule(r));
      }

      const git = config.flux.git;
      if (git) {
        let credentials: kubernetes.core.v1.Secret | undefined;
        if (args.gitCredentials) {
          const creds = pulumi.output(args.gitCredentials);
          credentials = new kubernetes.core.v1.Secret(
            `${FLUX_SYNC_NAME}-git`,
            {
              metadata: { name: FLUX_SYNC_NAME, namespace: ns.metadata.name },
              type: "Opaque",
              stringData: pulumi.secret(creds.apply((c) => ({ username: c.username, password: c.password }))),
            },
            { ...k8s, dependsOn: afterCni },
          );
        }
        const source = new kubernetes.apiextensions.CustomResource(
          "flux-gitrepository",
          {
            apiVersion: "source.toolkit.fluxcd.io/v1",
            kind: "GitRepository",
            metadata: { name: FLUX_SYNC_NAME, namespace: ns.metadata.name },
            spec: {
              interval: git.interval ?? "1m",
              url: git.url,
              ref: { branch: git.branch },
              ...(credentials ? { secretRef: { name: FLUX_SYNC_NAME } } : {}),
            },
          },
          { ...k8s, dependsOn: [flux, ...(credentials ? [credentials] : [])] },
        );
        new kubernetes.apiextensions.CustomResource(
          "flux-kustomization",
          {
            apiVersion: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            metadata: { name: FLUX_SYNC_NAME, namespace: ns.metadata.name },
            spec: {
              interval: git.interval ?? "10m",
              path: git.path,
              prune: true,
              sourceRef: { kind: "GitRepository", name: FLUX_SYNC_NAME },
              ...(sopsSecret
                ? { decryption: { provider: "sops", secretRef: { name: SOPS_SECRET_NAME } } }
                : {}),
            },
          },
          { ...k8s, dependsOn: [flux, source, ...(sopsSecret ? [sopsSecret] : [])] },
        );
      }
    }

    this.platform = installPlatform({
      config,
      k8s,
      afterCni,
      lbReady,
      releases,
      release,
      namespace,
      privileged: PRIVILEGED_POD_SECURITY_LABELS,
      secrets: args.platformSecrets ?? {},
      controlPlaneIps: args.controlPlaneIps ?? [],
      kubeProxy: args.kubeProxy ?? false,
      renewBeforeDays: args.clientCertRenewBeforeDays ?? 30,
      gatewayCrds,
    });
    if (config.etcdBackup.enabled) {
      const keys = args.etcdBackupKeys;
      const recipient = config.etcdBackup.ageRecipient ?? this.sopsRecipient;
      if (!keys || !recipient) {
        throw new Error(
          "addons.etcdBackup needs its S3 access keys and an age recipient (checked by the config)",
        );
      }
      const ns = namespace(config.etcdBackup.namespace, {}, afterCni);
      const built = pulumi
        .output(recipient)
        .apply((r) => etcdBackupObjects(config.etcdBackup, args.clusterName ?? "cluster", r));
      const secret = new kubernetes.core.v1.Secret(
        "etcd-backup-s3",
        {
          metadata: { name: S3_SECRET_NAME, namespace: ns.metadata.name },
          type: "Opaque",
          stringData: {
            accessKeyId: pulumi.secret(keys.accessKeyId),
            secretAccessKey: pulumi.secret(keys.secretAccessKey),
          },
        },
        { ...k8s, dependsOn: [ns] },
      );
      const sa = new kubernetes.apiextensions.CustomResource(
        "etcd-backup-talos-serviceaccount",
        {
          apiVersion: "talos.dev/v1alpha1",
          kind: "ServiceAccount",
          metadata: { name: ETCD_BACKUP_NAME, namespace: ns.metadata.name },
          spec: built.apply((b) => b.serviceAccount.spec),
        },
        { ...k8s, dependsOn: [ns] },
      );
      new kubernetes.apiextensions.CustomResource(
        "etcd-backup-cronjob",
        {
          apiVersion: "batch/v1",
          kind: "CronJob",
          metadata: { name: ETCD_BACKUP_NAME, namespace: ns.metadata.name },
          spec: built.apply((b) => b.cronJob.spec),
        },
        { ...k8s, dependsOn: [ns, secret, sa] },
      );
    }

    this.releases = releases;
    this.enabledAddons = pulumi.output(Object.keys(releases) as AddonName[]);
    this.registerOutputs({
      enabledAddons: this.enabledAddons,
      ...(this.sopsRecipient ? { sopsRecipient: this.sopsRecipient } : {}),
      ...(this.sopsConfig ? { sopsConfig: this.sopsConfig } : {}),
      ...(this.platform.caCertificate ? { caCertificate: this.platform.caCertificate } : {}),
    });
  }
}
