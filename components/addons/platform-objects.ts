/**
 * Pure builders of the platform addons' Kubernetes objects (specs only, no Pulumi): Cilium LB IPAM
 * pools, cert-manager issuers and certificates, the shared Gateway and its routes, the Services of
 * exposed UIs. Field names follow the upstream APIs: cilium.io/v2 CiliumLoadBalancerIPPool,
 * cert-manager.io/v1, gateway.networking.k8s.io/v1.
 */
import { parseRange } from "../net/ipv4";
import type { AddonsConfig } from "./config";
import { type Expose, splitIpPort } from "./platform-config";

export const GATEWAY_NAMESPACE = "gateway";
export const GATEWAY_NAME = "shared";
/** Secret (in the gateway namespace) holding the listener certificate cert-manager issues. */
export const GATEWAY_TLS_SECRET = "gateway-tls";
/** The self-signed CA: its Certificate/Secret (in cert-manager's namespace) and its ClusterIssuer. */
export const CA_SECRET = "homelab-ca";
export const CA_ISSUER = "homelab-ca";
export const ACME_ISSUER = "letsencrypt";

export const ACME_SERVERS = {
  production: "https://acme-v02.api.letsencrypt.org/directory",
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

/** Label a Service sets to draw from a Cilium pool with `autoAssign: false`. */
export const CILIUM_POOL_LABEL = "proxmox-talos.io/lb-pool";

/** The two Headlamp ServiceAccounts and the built-in ClusterRoles they are bound to. */
export const HEADLAMP_SERVICE_ACCOUNTS = {
  admin: { name: "headlamp-admin", clusterRole: "cluster-admin" },
  viewer: { name: "headlamp-viewer", clusterRole: "view" },
} as const;

export type LbKind = "cilium" | "metallb" | "none";

export function lbKindOf(config: AddonsConfig): LbKind {
  if (config.cilium.enabled && config.cilium.loadBalancer === "l2") return "cilium";
  if (config.metallb.enabled) return "metallb";
  return "none";
}

/** Annotations that pin a LoadBalancer Service to one address, for the implementation in use. */
export function fixedIpAnnotations(ip: string | undefined, kind: LbKind): Record<string, string> {
  if (ip === undefined) return {};
  if (kind === "cilium") return { "lbipam.cilium.io/ips": ip };
  if (kind === "metallb") return { "metallb.io/loadBalancerIPs": ip };
  return {};
}

/** A Cilium LB IPAM pool from a pool entry: CIDRs as `cidr`, ranges as `start`/`stop`. */
export function ciliumPoolSpec(pool: {
  readonly addresses: readonly string[];
  readonly autoAssign?: boolean;
  readonly name: string;
}): Record<string, unknown> {
  const blocks = pool.addresses.map((text) => {
    if (text.includes("/")) return { cidr: text };
    const [start, stop] = text.split("-");
    // The config schema accepted only CIDRs and valid ranges; keep the guard for direct callers.
    if (parseRange(text) === undefined) throw new Error(`not a CIDR or range: ${text}`);
    return { start, stop };
  });
  return {
    blocks,
    // Cilium has no autoAssign switch: a pool with a serviceSelector serves only matching Services.
    ...(pool.autoAssign === false
      ? { serviceSelector: { matchLabels: { [CILIUM_POOL_LABEL]: pool.name } } }
      : {}),
  };
}

type Issuer = AddonsConfig["certManager"]["issuer"];

export function issuerName(issuer: Issuer): string {
  return issuer.type === "acme" ? ACME_ISSUER : CA_ISSUER;
}

/** The ClusterIssuer spec: ACME with DNS-01 through Cloudflare, or the self-signed CA. */
export function clusterIssuerSpec(issuer: Issuer): Record<string, unknown> {
  if (issuer.type === "acme") {
    return {
      acme: {
        email: issuer.email,
        server: ACME_SERVERS[issuer.server],
        privateKeySecretRef: { name: `${ACME_ISSUER}-account-key` },
        solvers: [
          {
            dns01: { cloudflare: { apiTokenSecretRef: { name: "cloudflare-api-token", key: "api-token" } } },
          },
        ],
      },
    };
  }
  return { ca: { secretName: CA_SECRET } };
}

/** The self-signed CA certificate (issued by the bootstrap selfSigned ClusterIssuer). */
export function caCertificateSpec(commonName: string): Record<string, unknown> {
  return {
    isCA: true,
    commonName,
    secretName: CA_SECRET,
    duration: "87600h",
    privateKey: { algorithm: "ECDSA", size: 256 },
    issuerRef: { name: "selfsigned-bootstrap", kind: "ClusterIssuer", group: "cert-manager.io" },
  };
}

/** The Gateway's listener certificate: the domain and one level of subdomains. */
export function gatewayCertificateSpec(domain: string, issuer: string): Record<string, unknown> {
  return {
    secretName: GATEWAY_TLS_SECRET,
    dnsNames: [domain, `*.${domain}`],
    issuerRef: { name: issuer, kind: "ClusterIssuer", group: "cert-manager.io" },
  };
}

/**
 * The shared Gateway: HTTP on 80 (only the redirect route of its own namespace attaches), HTTPS on
 * 443 for `domain` and `*.domain` with the cert-manager certificate, routes from every namespace.
 */
export function gatewaySpec(
  domain: string,
  address: string | undefined,
  kind: LbKind,
): Record<string, unknown> {
  const annotations = fixedIpAnnotations(address, kind);
  const tls = { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: GATEWAY_TLS_SECRET }] };
  return {
    gatewayClassName: "cilium",
    ...(Object.keys(annotations).length > 0 ? { infrastructure: { annotations } } : {}),
    listeners: [
      { name: "http", protocol: "HTTP", port: 80, allowedRoutes: { namespaces: { from: "Same" } } },
      {
        name: "https",
        protocol: "HTTPS",
        port: 443,
        hostname: `*.${domain}`,
        tls,
        allowedRoutes: { namespaces: { from: "All" } },
      },
      {
        name: "https-apex",
        protocol: "HTTPS",
        port: 443,
        hostname: domain,
        tls,
        allowedRoutes: { namespaces: { from: "All" } },
      },
    ],
  };
}

/** Every plain-HTTP request answered with a permanent redirect to HTTPS. */
export function httpsRedirectRouteSpec(): Record<string, unknown> {
  return {
    parentRefs: [{ name: GATEWAY_NAME, sectionName: "http" }],
    rules: [
      { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
    ],
  };
}

/** An HTTPS route on the shared Gateway to one Service. */
export function routeSpec(hostname: string, service: string, port: number): Record<string, unknown> {
  return {
    parentRefs: [{ name: GATEWAY_NAME, namespace: GATEWAY_NAMESPACE, sectionName: "https" }],
    hostnames: [hostname],
    rules: [
      {
        matches: [{ path: { type: "PathPrefix", value: "/" } }],
        backendRefs: [{ name: service, port }],
      },
    ],
  };
}

/** The Service of an exposed UI: a LoadBalancer on `ip:port`, or ClusterIP:80 behind the Gateway. */
export function exposedService(
  expose: Expose | undefined,
  kind: LbKind,
): { type: "LoadBalancer" | "ClusterIP"; port: number; annotations: Record<string, string> } {
  if (expose?.loadBalancer !== undefined) {
    const { ip, port } = splitIpPort(expose.loadBalancer);
    return { type: "LoadBalancer", port, annotations: fixedIpAnnotations(ip, kind) };
  }
  return { type: "ClusterIP", port: 80, annotations: {} };
}
