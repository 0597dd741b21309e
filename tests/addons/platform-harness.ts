/**
 * Runs `ClusterAddons` with the platform addons under the recording mocks.
 *
 * Where a resource's state is not just its inputs, the mock answers as the real provider does:
 * - a `kubernetes.io/service-account-token` Secret comes back with `data.token` filled: the
 *   Kubernetes provider waits for the token controller before it returns such a Secret
 *   (pulumi/pulumi-kubernetes#2048, "Add awaiter for service-account-token secret");
 * - the read of the CA's Secret returns `data["tls.crt"]` (base64 PEM), as cert-manager stores an
 *   issued certificate (keys tls.crt, tls.key, ca.crt).
 * The AgeIdentity dynamic resource gets its state from the real provider's `create`.
 */

import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { MockResourceArgs, MockResourceResult } from "@pulumi/pulumi/runtime/mocks";
import type { AddonsConfigInput, ClusterAddons, PlatformSecrets } from "../../components/addons";
import { generatedPasswordProvider } from "../../components/addons/generated-password";
import { type Recording, recordProgram, unwrapSecrets } from "../helpers/mocks";
import { PROJECT_ROOT } from "../helpers/shared";
import { AGE_TYPE, ageIdentityState, READY_TYPE, SECRET, testAddons } from "./harness";

export const CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile";
export const CR = (apiVersion: string, kind: string): string => `kubernetes:${apiVersion}:${kind}`;
export const GATEWAY = CR("gateway.networking.k8s.io/v1", "Gateway");
export const HTTPROUTE = CR("gateway.networking.k8s.io/v1", "HTTPRoute");
export const CERTIFICATE = CR("cert-manager.io/v1", "Certificate");
export const CLUSTER_ISSUER = CR("cert-manager.io/v1", "ClusterIssuer");
export const CILIUM_POOL = CR("cilium.io/v2", "CiliumLoadBalancerIPPool");
export const CILIUM_L2 = CR("cilium.io/v2alpha1", "CiliumL2AnnouncementPolicy");
export const PROMETHEUS_RULE = CR("monitoring.coreos.com/v1", "PrometheusRule");
export const PASSWORD_TYPE = "pulumi-nodejs:dynamic:GeneratedPassword";
const passwords = new Map<string, ReturnType<typeof generatedPasswordProvider.create>>();
export const SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount";
export const CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";

/** A JWT-shaped token the fake token controller hands out (not a real credential). */
export const fakeToken = (sa: string): string =>
  `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: `system:serviceaccount:headlamp:${sa}` })).toString("base64url")}.c2lnbmF0dXJl`;
export const FAKE_CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfakeCAcert\n-----END CERTIFICATE-----\n";

export const SECRETS = {
  certManagerCloudflareToken: "cf-token-0123456789",
  alertmanagerSmtpPassword: "smtp-pass-0123456789",
  veleroS3AccessKeyId: "AKIAFAKEACCESSKEY01",
  veleroS3SecretAccessKey: "s3-secret-key-0123456789",
  headlampOidcClientSecret: "oidc-client-secret-0123",
} as const;

/** Everything on: Cilium L2 LoadBalancer, Gateway, cert-manager (self-signed CA), Headlamp, monitoring, Velero. */
export const PLATFORM_CONFIG: AddonsConfigInput = {
  cilium: {
    enabled: true,
    loadBalancer: "l2",
    pools: [
      { name: "default", addresses: ["192.168.50.200-192.168.50.220"] },
      { name: "reserved", addresses: ["192.168.50.240/29"], autoAssign: false },
    ],
  },
  openebs: { enabled: true },
  // Flux on for Headlamp's Flux plugin; SOPS off so runs compare (its identity is generated per run).
  flux: { enabled: true },
  sops: { enabled: false },
  gateway: { enabled: true, domain: "home.example.com", address: "192.168.50.201" },
  certManager: { enabled: true },
  headlamp: { enabled: true, expose: { loadBalancer: "192.168.50.202:8080" } },
  monitoring: {
    enabled: true,
    grafana: { expose: { hostname: "grafana.home.example.com" } },
    alerting: {
      smtp: {
        smarthost: "smtp.example.com:587",
        from: "lab@example.com",
        to: ["me@example.com"],
        username: "lab",
      },
    },
  },
  velero: { enabled: true, s3: { endpoint: "https://minio.lan:9000", bucket: "velero" } },
};

export interface PlatformRun {
  readonly rec: Recording;
  readonly addons: { platform: ClusterAddons["platform"] };
  /** The resources read (not created): `type::id`. */
  readonly reads: string[];
}

export async function runPlatform(
  config: AddonsConfigInput,
  secrets: PlatformSecrets = Object.fromEntries(
    Object.entries(SECRETS).map(([k, v]) => [k, pulumi.secret(v)]),
  ),
): Promise<PlatformRun> {
  let platform: ClusterAddons["platform"] = {};
  const reads: string[] = [];
  const rec = await recordProgram(
    () => {
      const addons = testAddons(config, {
        platformSecrets: secrets,
        controlPlaneIps: ["192.168.50.11", "192.168.50.12", "192.168.50.13"],
        clientCertRenewBeforeDays: 30,
      });
      platform = addons.platform;
      return {
        ...(platform.caCertificate ? { caCertificate: platform.caCertificate } : {}),
        ...(platform.headlampAdminToken
          ? { headlampAdminToken: pulumi.secret(platform.headlampAdminToken) }
          : {}),
        ...(platform.headlampViewerToken
          ? { headlampViewerToken: pulumi.secret(platform.headlampViewerToken) }
          : {}),
        ...(platform.grafanaAdminPassword ? { grafanaAdminPassword: platform.grafanaAdminPassword } : {}),
      };
    },
    {
      newResource: platformMockState(reads),
    },
  );
  return { rec, addons: { platform }, reads };
}

/**
 * The mock answers of the real providers for the platform addons (see the file comment); records
 * reads as `type::id` into `reads`; everything else goes to `fallback` (default: inputs as state).
 */
export function platformMockState(
  reads: string[] = [],
  fallback?: (args: MockResourceArgs) => Promise<MockResourceResult | undefined>,
): (args: MockResourceArgs) => Promise<MockResourceResult | undefined> {
  return async (args) => {
    if (args.type === AGE_TYPE) return ageIdentityState(args);
    const inputs = unwrapSecrets(args.inputs) as Record<string, unknown>;
    if (args.type === PASSWORD_TYPE) {
      // The real provider's create, once per name: later runs see the state the first one left,
      // as a later `pulumi up` does (the resource has no inputs, so it is never replaced).
      let made = passwords.get(args.name);
      if (!made) {
        made = generatedPasswordProvider.create();
        passwords.set(args.name, made);
      }
      const created = await made;
      return { id: created.id, state: { ...created.outs } };
    }
    if (args.id) {
      reads.push(`${args.type}::${args.id}`);
      if (args.type === SECRET) {
        return { id: args.id, state: { data: { "tls.crt": Buffer.from(FAKE_CA_PEM).toString("base64") } } };
      }
    }
    if (args.type === SECRET && inputs.type === "kubernetes.io/service-account-token") {
      const meta = inputs.metadata as { annotations: Record<string, string> };
      const sa = meta.annotations["kubernetes.io/service-account.name"];
      return {
        id: `${args.name}-id`,
        state: { ...args.inputs, data: { token: Buffer.from(fakeToken(sa)).toString("base64") } },
      };
    }
    return fallback ? fallback(args) : undefined;
  };
}

/** `type::name` of every resource the addons registered, components included (the CRD manifest is one). */
export function allKeys(rec: Recording): Set<string> {
  return new Set(
    rec.resources
      .filter(
        (r) =>
          r.type !== READY_TYPE &&
          !r.type.startsWith("pulumi:providers:") &&
          r.type !== "proxmox-talos:index:ClusterAddons" &&
          r.type !== "pulumi:pulumi:Stack",
      )
      .map((r) => `${r.type}::${r.name}`),
  );
}

/** The worked example stack with everything on, and the secrets it needs (placeholders). */
export const EXAMPLE_FILE = path.join(PROJECT_ROOT, "stacks", "examples", "Pulumi.platform.yaml");
export const EXAMPLE_SECRETS = {
  proxmoxApiToken: "root@pam!pulumi=00000000-0000-0000-0000-000000000000",
  alertmanagerSmtpPassword: "smtp-pass",
  veleroS3AccessKeyId: "AKIAEXAMPLE",
  veleroS3SecretAccessKey: "s3-secret",
};
