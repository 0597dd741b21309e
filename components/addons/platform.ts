/**
 * Pulumi wiring of the platform addons inside `ClusterAddons`: Cilium's LoadBalancer pools, the
 * Gateway API CRDs and the shared Gateway, cert-manager with its ClusterIssuer, Headlamp,
 * kube-prometheus-stack and Velero. The values and objects come from pure builders (`values/`,
 * `platform-objects.ts`); this module only decides order and secrecy.
 *
 * Order: the Gateway API CRDs before the Cilium release (Cilium's operator enables its Gateway
 * controller only when the CRDs exist at start); every release after Cilium; each custom resource
 * after the release (or manifest) that installs its CRD; UIs and the Gateway after the
 * LoadBalancer pools (Helm waits for a LoadBalancer Service to get its address).
 */
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type AddonName, CHARTS, GATEWAY_API_FOR_CILIUM, gatewayApiCrdsUrl } from "../versions";
import type { AddonsConfig } from "./config";
import { GeneratedPassword } from "./generated-password";
import { day2Rules, PLATFORM_RULE_NAME } from "./monitoring-rules";
import type { PlatformSecretKey } from "./platform-config";
import {
  CA_ISSUER,
  CA_SECRET,
  caCertificateSpec,
  ciliumPoolSpec,
  clusterIssuerSpec,
  exposedService,
  GATEWAY_NAME,
  GATEWAY_NAMESPACE,
  GATEWAY_TLS_SECRET,
  gatewayCertificateSpec,
  gatewaySpec,
  HEADLAMP_SERVICE_ACCOUNTS,
  httpsRedirectRouteSpec,
  issuerName,
  lbKindOf,
  routeSpec,
} from "./platform-objects";
import {
  ALERTMANAGER_SMTP_KEY,
  ALERTMANAGER_SMTP_SECRET,
  certManagerValues,
  GRAFANA_ADMIN_SECRET,
  HEADLAMP_OIDC_SECRET,
  type HelmValues,
  headlampValues,
  monitoringValues,
  VELERO_CREDENTIALS_KEY,
  VELERO_CREDENTIALS_SECRET,
  veleroCredentialsFile,
  veleroValues,
} from "./values";

/** Secret values of the platform addons, each a Pulumi secret. */
export type PlatformSecrets = Partial<Record<PlatformSecretKey, pulumi.Input<string>>>;

/** Outputs the platform addons add to the stack. */
export interface PlatformOutputs {
  /** PEM of the self-signed CA cert-manager issues from (public: clients trust it). */
  caCertificate?: pulumi.Output<string>;
  /** Long-lived token of the Headlamp admin ServiceAccount (secret). */
  headlampAdminToken?: pulumi.Output<string>;
  /** Long-lived token of the Headlamp read-only ServiceAccount (secret). */
  headlampViewerToken?: pulumi.Output<string>;
  /** Grafana's `admin` password (secret). */
  grafanaAdminPassword?: pulumi.Output<string>;
}

export interface PlatformContext {
  readonly config: AddonsConfig;
  readonly k8s: pulumi.CustomResourceOptions;
  readonly afterCni: pulumi.Resource[];
  /** Resources after which LoadBalancer addresses can be handed out (pools, announcements). */
  readonly lbReady: pulumi.Resource[];
  readonly releases: Partial<Record<AddonName, kubernetes.helm.v3.Release>>;
  readonly release: (
    addon: AddonName,
    namespace: pulumi.Input<string>,
    values: HelmValues,
    dependsOn: pulumi.Resource[],
  ) => kubernetes.helm.v3.Release;
  readonly namespace: (
    name: string,
    labels: Record<string, string>,
    dependsOn: pulumi.Resource[],
  ) => kubernetes.core.v1.Namespace;
  readonly privileged: Readonly<Record<string, string>>;
  readonly secrets: PlatformSecrets;
  readonly controlPlaneIps: readonly string[];
  readonly kubeProxy: boolean;
  readonly renewBeforeDays: number;
  /** The Gateway API CRDs, when the Gateway is on. */
  readonly gatewayCrds?: pulumi.Resource;
}

/** Namespaces of the platform addons. */
export const PLATFORM_NAMESPACES = {
  certManager: "cert-manager",
  headlamp: "headlamp",
  monitoring: "monitoring",
  velero: "velero",
} as const satisfies Partial<Record<AddonName, string>>;

/** The Gateway API release for the Cilium version in use. */
export function gatewayApiVersion(config: AddonsConfig): string {
  const version = config.cilium.version ?? CHARTS.cilium.version;
  const minor = version.split(".").slice(0, 2).join(".");
  const api = GATEWAY_API_FOR_CILIUM[minor];
  // The config validation refuses unknown minors; this guards direct callers.
  if (api === undefined)
    throw new Error(`addons.cilium.version: no known Gateway API release for Cilium ${version}`);
  return api;
}

/** The Gateway API CRDs from their published manifest, fetched by the provider at run time. */
export function installGatewayApiCrds(
  config: AddonsConfig,
  k8s: pulumi.CustomResourceOptions,
  dependsOn: pulumi.Resource[],
): pulumi.Resource | undefined {
  if (!config.gateway.enabled) return undefined;
  return new kubernetes.yaml.v2.ConfigFile(
    "gateway-api-crds",
    { file: gatewayApiCrdsUrl(gatewayApiVersion(config)) },
    { parent: k8s.parent, provider: k8s.provider, dependsOn },
  );
}

/** Cilium's LB IPAM pools and one L2 announcement policy, after the Cilium release. */
export function installCiliumLoadBalancer(
  config: AddonsConfig,
  k8s: pulumi.CustomResourceOptions,
  cilium: pulumi.Resource,
): pulumi.Resource[] {
  if (!(config.cilium.enabled && config.cilium.loadBalancer === "l2")) return [];
  const pools = config.cilium.pools.map(
    (pool) =>
      new kubernetes.apiextensions.CustomResource(
        `cilium-pool-${pool.name}`,
        {
          apiVersion: "cilium.io/v2",
          kind: "CiliumLoadBalancerIPPool",
          metadata: { name: pool.name },
          spec: ciliumPoolSpec(pool),
        },
        { ...k8s, dependsOn: [cilium] },
      ),
  );
  const policy = new kubernetes.apiextensions.CustomResource(
    "cilium-l2-policy",
    {
      apiVersion: "cilium.io/v2alpha1",
      kind: "CiliumL2AnnouncementPolicy",
      metadata: { name: "default" },
      spec: { loadBalancerIPs: true },
    },
    { ...k8s, dependsOn: [cilium] },
  );
  return [...pools, policy];
}

const b64decode = (s: string): string => Buffer.from(s, "base64").toString("utf8");

/** cert-manager, the Gateway, Headlamp, monitoring and Velero. */
export function installPlatform(ctx: PlatformContext): PlatformOutputs {
  const { config, k8s, afterCni, lbReady } = ctx;
  const out: PlatformOutputs = {};
  const lbKind = lbKindOf(config);

  // cert-manager and its ClusterIssuer.
  let issuerReady: pulumi.Resource[] = [];
  if (config.certManager.enabled) {
    const ns = ctx.namespace(PLATFORM_NAMESPACES.certManager, {}, afterCni);
    const cm = ctx.release(
      "certManager",
      ns.metadata.name,
      certManagerValues(config.certManager.values),
      afterCni,
    );
    const issuer = config.certManager.issuer;
    if (issuer.type === "acme") {
      const token = new kubernetes.core.v1.Secret(
        "cert-manager-cloudflare-token",
        {
          metadata: { name: "cloudflare-api-token", namespace: ns.metadata.name },
          type: "Opaque",
          stringData: { "api-token": pulumi.secret(ctx.secrets.certManagerCloudflareToken ?? "") },
        },
        { ...k8s, dependsOn: afterCni },
      );
      issuerReady = [
        new kubernetes.apiextensions.CustomResource(
          "cluster-issuer",
          {
            apiVersion: "cert-manager.io/v1",
            kind: "ClusterIssuer",
            metadata: { name: issuerName(issuer) },
            spec: clusterIssuerSpec(issuer),
          },
          { ...k8s, dependsOn: [cm, token] },
        ),
      ];
    } else {
      const bootstrap = new kubernetes.apiextensions.CustomResource(
        "cluster-issuer-selfsigned",
        {
          apiVersion: "cert-manager.io/v1",
          kind: "ClusterIssuer",
          metadata: { name: "selfsigned-bootstrap" },
          spec: { selfSigned: {} },
        },
        { ...k8s, dependsOn: [cm] },
      );
      const ca = new kubernetes.apiextensions.CustomResource(
        "ca-certificate",
        {
          apiVersion: "cert-manager.io/v1",
          kind: "Certificate",
          // Pulumi waits until cert-manager has issued it, so the Secret below exists.
          metadata: {
            name: CA_SECRET,
            namespace: ns.metadata.name,
            annotations: { "pulumi.com/waitFor": "condition=Ready" },
          },
          spec: caCertificateSpec(issuer.caCommonName),
        },
        { ...k8s, dependsOn: [cm, bootstrap] },
      );
      issuerReady = [
        new kubernetes.apiextensions.CustomResource(
          "cluster-issuer",
          {
            apiVersion: "cert-manager.io/v1",
            kind: "ClusterIssuer",
            metadata: { name: CA_ISSUER },
            spec: clusterIssuerSpec(issuer),
          },
          { ...k8s, dependsOn: [cm, ca] },
        ),
      ];
      const caSecret = kubernetes.core.v1.Secret.get(
        "ca-certificate-secret",
        pulumi.interpolate`${PLATFORM_NAMESPACES.certManager}/${CA_SECRET}`,
        { ...k8s, dependsOn: [ca] },
      );
      // The CA certificate is public; only its key (never read here) is secret.
      out.caCertificate = pulumi.unsecret(caSecret.data.apply((d) => b64decode(d?.["tls.crt"] ?? "")));
    }
  }

  // The shared Gateway with its certificate and the HTTP → HTTPS redirect.
  let gateway: pulumi.Resource | undefined;
  if (config.gateway.enabled && config.gateway.domain !== undefined) {
    const domain = config.gateway.domain;
    const ns = ctx.namespace(GATEWAY_NAMESPACE, {}, afterCni);
    const cert = new kubernetes.apiextensions.CustomResource(
      "gateway-certificate",
      {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: GATEWAY_TLS_SECRET, namespace: ns.metadata.name },
        spec: gatewayCertificateSpec(domain, issuerName(config.certManager.issuer)),
      },
      { ...k8s, dependsOn: [...issuerReady] },
    );
    const crds = ctx.gatewayCrds ? [ctx.gatewayCrds] : [];
    gateway = new kubernetes.apiextensions.CustomResource(
      "gateway",
      {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "Gateway",
        metadata: { name: GATEWAY_NAME, namespace: ns.metadata.name },
        spec: gatewaySpec(domain, config.gateway.address, lbKind),
      },
      { ...k8s, dependsOn: [...afterCni, ...crds, ...lbReady, cert] },
    );
    new kubernetes.apiextensions.CustomResource(
      "gateway-https-redirect",
      {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { name: "https-redirect", namespace: ns.metadata.name },
        spec: httpsRedirectRouteSpec(),
      },
      { ...k8s, dependsOn: [...crds, gateway] },
    );
  }
  const routeDeps = gateway ? [...(ctx.gatewayCrds ? [ctx.gatewayCrds] : []), gateway] : [];

  // Headlamp.
  if (config.headlamp.enabled) {
    const h = config.headlamp;
    const nsName = PLATFORM_NAMESPACES.headlamp;
    const ns = ctx.namespace(nsName, {}, afterCni);
    const svc = exposedService(h.expose, lbKind);
    const deps: pulumi.Resource[] = [...afterCni, ...(svc.type === "LoadBalancer" ? lbReady : [])];
    const callback = h.oidc && h.expose?.hostname ? `https://${h.expose.hostname}/oidc-callback` : undefined;
    if (h.oidc) {
      deps.push(
        new kubernetes.core.v1.Secret(
          HEADLAMP_OIDC_SECRET,
          {
            metadata: { name: HEADLAMP_OIDC_SECRET, namespace: ns.metadata.name },
            type: "Opaque",
            stringData: pulumi.secret(
              pulumi.output(ctx.secrets.headlampOidcClientSecret ?? "").apply((secret) => ({
                OIDC_CLIENT_ID: h.oidc!.clientID,
                OIDC_CLIENT_SECRET: secret,
                OIDC_ISSUER_URL: h.oidc!.issuerURL,
                OIDC_SCOPES: h.oidc!.scopes,
                ...(callback ? { OIDC_CALLBACK_URL: callback } : {}),
              })),
            ),
          },
          { ...k8s, dependsOn: afterCni },
        ),
      );
    }
    const values = headlampValues(
      {
        service: svc,
        fluxPlugin: config.flux.enabled,
        oidc: h.oidc !== undefined,
        ...(callback ? { oidcCallbackUrl: callback } : {}),
      },
      h.values,
    );
    ctx.release("headlamp", ns.metadata.name, values, deps);
    if (h.expose?.hostname && gateway) {
      new kubernetes.apiextensions.CustomResource(
        "headlamp-route",
        {
          apiVersion: "gateway.networking.k8s.io/v1",
          kind: "HTTPRoute",
          metadata: { name: "headlamp", namespace: ns.metadata.name },
          spec: routeSpec(h.expose.hostname, "headlamp", svc.port),
        },
        { ...k8s, dependsOn: [...routeDeps, ns] },
      );
    }
    if (!h.oidc) {
      const tokens: Partial<Record<"admin" | "viewer", pulumi.Output<string>>> = {};
      for (const [role, sa] of Object.entries(HEADLAMP_SERVICE_ACCOUNTS) as Array<
        [
          keyof typeof HEADLAMP_SERVICE_ACCOUNTS,
          (typeof HEADLAMP_SERVICE_ACCOUNTS)[keyof typeof HEADLAMP_SERVICE_ACCOUNTS],
        ]
      >) {
        const account = new kubernetes.core.v1.ServiceAccount(
          sa.name,
          { metadata: { name: sa.name, namespace: ns.metadata.name } },
          { ...k8s, dependsOn: afterCni },
        );
        new kubernetes.rbac.v1.ClusterRoleBinding(
          sa.name,
          {
            metadata: { name: sa.name },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: sa.clusterRole },
            subjects: [{ kind: "ServiceAccount", name: sa.name, namespace: nsName }],
          },
          { ...k8s, dependsOn: [account] },
        );
        // A long-lived token Secret; the provider waits until the token controller filled it.
        const tokenSecret = new kubernetes.core.v1.Secret(
          `${sa.name}-token`,
          {
            metadata: {
              name: `${sa.name}-token`,
              namespace: ns.metadata.name,
              annotations: { "kubernetes.io/service-account.name": sa.name },
            },
            type: "kubernetes.io/service-account-token",
          },
          { ...k8s, dependsOn: [account], additionalSecretOutputs: ["data"] },
        );
        tokens[role] = pulumi.secret(tokenSecret.data.apply((d) => b64decode(d?.token ?? "")));
      }
      out.headlampAdminToken = tokens.admin;
      out.headlampViewerToken = tokens.viewer;
    }
  }

  // Monitoring and alerting.
  if (config.monitoring.enabled) {
    const m = config.monitoring;
    const ns = ctx.namespace(PLATFORM_NAMESPACES.monitoring, { ...ctx.privileged }, afterCni);
    const svc = exposedService(m.grafana.expose, lbKind);
    const deps: pulumi.Resource[] = [
      ...afterCni,
      ...(svc.type === "LoadBalancer" ? lbReady : []),
      ...(ctx.releases.openebs ? [ctx.releases.openebs] : []),
    ];
    const smtp = m.alerting?.smtp;
    if (smtp?.username) {
      deps.push(
        new kubernetes.core.v1.Secret(
          ALERTMANAGER_SMTP_SECRET,
          {
            metadata: { name: ALERTMANAGER_SMTP_SECRET, namespace: ns.metadata.name },
            type: "Opaque",
            stringData: {
              [ALERTMANAGER_SMTP_KEY]: pulumi.secret(ctx.secrets.alertmanagerSmtpPassword ?? ""),
            },
          },
          { ...k8s, dependsOn: afterCni },
        ),
      );
    }
    // Grafana's admin login: generated once, a Pulumi secret, handed to the chart as an existing Secret.
    const grafanaPassword = new GeneratedPassword("grafana-admin-password", {
      parent: k8s.parent,
      dependsOn: afterCni,
    });
    out.grafanaAdminPassword = pulumi.secret(grafanaPassword.password);
    deps.push(
      new kubernetes.core.v1.Secret(
        GRAFANA_ADMIN_SECRET,
        {
          metadata: { name: GRAFANA_ADMIN_SECRET, namespace: ns.metadata.name },
          type: "Opaque",
          stringData: { "admin-user": "admin", "admin-password": out.grafanaAdminPassword },
        },
        { ...k8s, dependsOn: afterCni },
      ),
    );
    const storageClassName =
      m.storage.storageClassName ?? (config.openebs.enabled ? config.openebs.storageClassName : undefined);
    const values = monitoringValues(
      {
        controlPlaneIps: ctx.controlPlaneIps,
        kubeProxy: ctx.kubeProxy,
        storage: { ...m.storage, storageClassName },
        grafanaService: svc,
        ...(smtp ? { smtp } : {}),
      },
      m.values,
    );
    const release = ctx.release("monitoring", ns.metadata.name, values, deps);
    new kubernetes.apiextensions.CustomResource(
      "day2-rules",
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        // Prometheus selects rules labelled with the release name (ruleSelectorNilUsesHelmValues).
        metadata: {
          name: PLATFORM_RULE_NAME,
          namespace: ns.metadata.name,
          labels: { release: "monitoring" },
        },
        spec: { groups: [{ name: "proxmox-talos.day2", rules: day2Rules(ctx.renewBeforeDays) }] },
      },
      { ...k8s, dependsOn: [release] },
    );
    if (m.grafana.expose?.hostname && gateway) {
      new kubernetes.apiextensions.CustomResource(
        "grafana-route",
        {
          apiVersion: "gateway.networking.k8s.io/v1",
          kind: "HTTPRoute",
          metadata: { name: "grafana", namespace: ns.metadata.name },
          spec: routeSpec(m.grafana.expose.hostname, "monitoring-grafana", svc.port),
        },
        { ...k8s, dependsOn: [...routeDeps, ns] },
      );
    }
  }

  // Velero.
  if (config.velero.enabled && config.velero.s3) {
    const v = config.velero;
    const ns = ctx.namespace(PLATFORM_NAMESPACES.velero, { ...ctx.privileged }, afterCni);
    const keys = pulumi
      .all([ctx.secrets.veleroS3AccessKeyId ?? "", ctx.secrets.veleroS3SecretAccessKey ?? ""])
      .apply(([id, key]) => veleroCredentialsFile(id, key));
    const creds = new kubernetes.core.v1.Secret(
      VELERO_CREDENTIALS_SECRET,
      {
        metadata: { name: VELERO_CREDENTIALS_SECRET, namespace: ns.metadata.name },
        type: "Opaque",
        stringData: { [VELERO_CREDENTIALS_KEY]: pulumi.secret(keys) },
      },
      { ...k8s, dependsOn: afterCni },
    );
    ctx.release("velero", ns.metadata.name, veleroValues({ s3: v.s3!, schedule: v.schedule }, v.values), [
      ...afterCni,
      creds,
    ]);
  }
  return out;
}
