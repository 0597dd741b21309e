/**
 * Stack config of the platform addons users add after the cluster exists: Cilium's own
 * LoadBalancer (L2 announcements + LB IPAM), the shared Gateway, cert-manager, Headlamp, monitoring
 * and Velero. Plain data validated with zod; the refusals that span several addons are
 * `platformAddonIssues` (run by `AddonsConfigSchema`), the ones that need the secret config keys
 * are `platformSecretIssues` (run by the stack validation). Secrets never appear here.
 */
import { z } from "zod";
import { httpsEndpoint } from "../config/https-endpoint";
import { parseIpv4, parseRange, rangeContains } from "../net/ipv4";
import { GATEWAY_API_FOR_CILIUM } from "../versions";
import { chartVersion } from "./chart-range";
import { flag, wrong } from "./config-fields";
import {
  bucketName,
  cronSchedule,
  dottedBucketIssue,
  email,
  goDuration,
  hostPort,
  k8sSubdomain,
  prometheusDuration,
  s3Endpoint,
  s3Prefix,
  s3Region,
  storageSize,
} from "./field-formats";
import { addonValues } from "./managed-values";

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsName = (example: string) =>
  z.string({ error: wrong("must be a string", `write a DNS name like "${example}"`) }).regex(DNS_NAME, {
    error: wrong("is not a lowercase DNS name", `write it like "${example}"`),
  });

const ipv4 = (example: string) =>
  z
    .string({ error: wrong("must be a string", `write an address like "${example}"`) })
    .refine((s) => parseIpv4(s) !== undefined, {
      error: wrong("is not an IPv4 address", `write a dotted quad like "${example}"`),
    });

/** `ip:port` of a LoadBalancer Service (the design notes' way to reach a UI). */
const ipPort = z.string({ error: wrong("must be a string", 'write "192.168.50.202:80"') }).refine(
  (s) => {
    const m = /^([^:]+):(\d{1,5})$/.exec(s);
    return m !== null && parseIpv4(m[1]) !== undefined && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
  },
  {
    error: wrong(
      "is not ip:port",
      'write an address from a LoadBalancer pool and a port, like "192.168.50.202:80"',
    ),
  },
);

/** Splits a validated `ip:port`. */
export function splitIpPort(text: string): { ip: string; port: number } {
  const [ip, port] = text.split(":");
  return { ip, port: Number(port) };
}

/** How a web UI (Headlamp, Grafana) is reached: its own LoadBalancer `ip:port`, or a hostname on the Gateway. */
export const ExposeSchema = z.strictObject({
  loadBalancer: ipPort.optional(),
  hostname: dnsName("headlamp.home.example.com").optional(),
});
export type Expose = z.output<typeof ExposeSchema>;

export const GatewaySchema = z.strictObject({
  enabled: flag(false),
  /** Listener hostnames: `*.domain` (and `domain`), with one certificate from cert-manager. */
  domain: dnsName("home.example.com").optional(),
  /** A fixed LoadBalancer address for the Gateway, inside a pool; default: the pool assigns one. */
  address: ipv4("192.168.50.201").optional(),
});

export const CertManagerIssuerSchema = z.strictObject({
  type: z.enum(["acme", "selfSigned"], {
    error: wrong('must be "acme" or "selfSigned"', "write type: acme or type: selfSigned"),
  }),
  /** ACME account e-mail (Let's Encrypt). */
  email: email.optional(),
  /** ACME directory: Let's Encrypt production (default) or staging. */
  server: z
    .enum(["production", "staging"], {
      error: wrong('must be "production" or "staging"', "write server: staging to test"),
    })
    .default("production"),
  /** DNS-01 provider; its token is the secret key `certManagerCloudflareToken`. */
  dns01: z
    .enum(["cloudflare"], { error: wrong('must be "cloudflare"', "write dns01: cloudflare") })
    .default("cloudflare"),
  /** Common name of the self-signed CA. */
  caCommonName: z
    .string({ error: wrong("must be a string", 'write caCommonName: "homelab CA"') })
    .min(1)
    // cert-manager's webhook refuses a Certificate whose commonName is longer than 64 bytes.
    .refine((cn) => Buffer.byteLength(cn, "utf8") <= 64, {
      error: wrong("is longer than 64 bytes, which cert-manager refuses", 'shorten it, like "homelab CA"'),
    })
    .default("proxmox-talos homelab CA"),
});

export const CertManagerSchema = z.strictObject({
  enabled: flag(false),
  version: chartVersion("certManager"),
  issuer: CertManagerIssuerSchema.prefault({ type: "selfSigned" }),
  values: addonValues("certManager"),
});

export const HeadlampSchema = z.strictObject({
  enabled: flag(false),
  version: chartVersion("headlamp"),
  expose: ExposeSchema.optional(),
  /** OIDC login instead of ServiceAccount tokens; the client secret is `headlampOidcClientSecret`. */
  oidc: z
    .strictObject({
      issuerURL: httpsEndpoint({ example: "https://auth.example.com/realms/homelab", path: "any" }),
      clientID: z.string({ error: wrong("must be a string", 'write clientID: "headlamp"') }).min(1),
      /** Comma-separated, as Headlamp's `-oidc-scopes` flag splits them. */
      scopes: z
        .string({ error: wrong("must be a string", 'write scopes: "openid,profile,email"') })
        .regex(/^[!#-[\]-~]+(,[!#-[\]-~]+)*$/, {
          error: wrong(
            "is not a comma-separated scope list",
            'write it like "openid,profile,email" (no spaces)',
          ),
          abort: true,
        })
        .refine((s) => s.split(",").includes("openid"), {
          error: wrong(
            "lacks openid: without it there is no ID token to log in with",
            'write "openid,profile,email"',
          ),
        })
        .default("openid,profile,email"),
    })
    .optional(),
  values: addonValues("headlamp"),
});

export const MonitoringSchema = z.strictObject({
  enabled: flag(false),
  version: chartVersion("monitoring"),
  storage: z
    .strictObject({
      /** StorageClass of Prometheus' and Alertmanager's volumes; default: the cluster's default class. */
      storageClassName: k8sSubdomain("openebs-hostpath").optional(),
      size: storageSize("20Gi").default("20Gi"),
      retention: prometheusDuration("15d").default("15d"),
    })
    .prefault({}),
  grafana: z.strictObject({ expose: ExposeSchema.optional() }).prefault({}),
  /** E-mail alerting through Alertmanager; the SMTP password is `alertmanagerSmtpPassword`. */
  alerting: z
    .strictObject({
      smtp: z.strictObject({
        /** `host:port` of the SMTP server (STARTTLS required). */
        smarthost: hostPort("smtp.example.com:587"),
        from: email,
        to: z
          .array(email, { error: wrong("must be a list of addresses", 'write to: ["me@example.com"]') })
          .min(1, { error: wrong("is empty", 'give at least one address, like ["me@example.com"]') }),
        username: z.string().min(1).optional(),
      }),
    })
    .optional(),
  values: addonValues("monitoring"),
});

export const VeleroSchema = z.strictObject({
  enabled: flag(false),
  version: chartVersion("velero"),
  /** S3-compatible object storage; keys are `veleroS3AccessKeyId` / `veleroS3SecretAccessKey`. */
  s3: z
    .strictObject({
      endpoint: s3Endpoint("veleroS3"),
      bucket: bucketName("velero"),
      region: s3Region.default("us-east-1"),
      pathStyle: flag(true, "pathStyle"),
      prefix: s3Prefix("homelab").optional(),
    })
    .superRefine(dottedBucketIssue)
    .optional(),
  schedule: z
    .strictObject({
      cron: cronSchedule().default("0 3 * * *"),
      /** Velero's Schedule reads it as a Go duration (metav1.Duration): hours, not days. */
      ttl: goDuration("720h").default("720h"),
    })
    .prefault({}),
  values: addonValues("velero"),
});

/** Cilium's own LoadBalancer: L2 announcements and LB IPAM pools (instead of MetalLB). */
export const CiliumLoadBalancerFields = {
  loadBalancer: z
    .enum(["l2"], { error: wrong('must be "l2"', "write loadBalancer: l2, or remove it") })
    .optional(),
} as const;

interface PoolLike {
  readonly name: string;
  readonly addresses: readonly string[];
}

/** The subset of the parsed addons config the cross-addon rules read. */
export interface PlatformView {
  readonly cilium: { enabled: boolean; version?: string; loadBalancer?: "l2"; pools: readonly PoolLike[] };
  readonly metallb: { enabled: boolean; pools: readonly PoolLike[] };
  readonly openebs: { enabled: boolean };
  readonly gateway: z.output<typeof GatewaySchema>;
  readonly certManager: z.output<typeof CertManagerSchema>;
  readonly headlamp: z.output<typeof HeadlampSchema>;
  readonly monitoring: z.output<typeof MonitoringSchema>;
  readonly velero: z.output<typeof VeleroSchema>;
}

export interface PlatformIssue {
  readonly path: (string | number)[];
  readonly input: unknown;
  /** "is …" sentence, with the fix after " — ". */
  readonly message: string;
}

/** The LoadBalancer pools in use (MetalLB's or Cilium's) and the key naming them. */
export function activePools(a: PlatformView): { key: string; pools: readonly PoolLike[] } | undefined {
  if (a.cilium.enabled && a.cilium.loadBalancer === "l2")
    return { key: "addons.cilium.pools", pools: a.cilium.pools };
  if (a.metallb.enabled) return { key: "addons.metallb.pools", pools: a.metallb.pools };
  return undefined;
}

function inSomePool(ip: string, pools: readonly PoolLike[]): boolean {
  const n = parseIpv4(ip);
  if (n === undefined) return false;
  return pools.some((p) =>
    p.addresses.some((text) => {
      const r = parseRange(text);
      return r !== undefined && rangeContains(r, n);
    }),
  );
}

/** Minor of a chart version like "1.19.6". */
const minorOf = (v: string): string => v.replace(/^v/, "").split(".").slice(0, 2).join(".");

/**
 * Refusals spanning addons: both LoadBalancers on, the Gateway without Cilium/cert-manager/a pool,
 * ACME without an e-mail, UIs exposed on a hostname without the Gateway or on an address outside
 * the pools, monitoring without a StorageClass, Velero without its bucket.
 */
export function platformAddonIssues(a: PlatformView): PlatformIssue[] {
  const out: PlatformIssue[] = [];
  const lb = activePools(a);

  if (a.cilium.loadBalancer === "l2") {
    if (!a.cilium.enabled) {
      out.push({
        path: ["cilium", "loadBalancer"],
        input: "l2",
        message:
          "is set while addons.cilium.enabled is false — enable Cilium or remove addons.cilium.loadBalancer",
      });
    }
    if (a.metallb.enabled) {
      out.push({
        path: ["cilium", "loadBalancer"],
        input: "l2",
        message:
          "is set while addons.metallb.enabled is true: two LoadBalancer implementations would answer ARP for the same addresses — keep one: remove addons.cilium.loadBalancer or disable addons.metallb",
      });
    }
    if (a.cilium.pools.length === 0) {
      out.push({
        path: ["cilium", "pools"],
        input: [],
        message:
          "is empty while addons.cilium.loadBalancer is l2 — add a pool of free addresses, like pools: [{name: default, addresses: [192.168.50.200-192.168.50.220]}]",
      });
    }
  } else if (a.cilium.pools.length > 0) {
    out.push({
      path: ["cilium", "pools"],
      input: a.cilium.pools.map((p) => p.name),
      message:
        "are set without addons.cilium.loadBalancer: l2 — set loadBalancer: l2 or remove addons.cilium.pools",
    });
  }

  if (a.gateway.enabled) {
    if (!a.cilium.enabled) {
      out.push({
        path: ["gateway", "enabled"],
        input: true,
        message:
          "is true while addons.cilium.enabled is false: the Gateway is Cilium's Gateway API implementation — enable addons.cilium or disable addons.gateway",
      });
    } else {
      const version = a.cilium.version ?? "";
      if (version !== "" && GATEWAY_API_FOR_CILIUM[minorOf(version)] === undefined) {
        out.push({
          path: ["cilium", "version"],
          input: version,
          message: `is a Cilium release whose Gateway API CRD version this project does not know (known: ${Object.keys(GATEWAY_API_FOR_CILIUM).join(", ")}) — remove the override or pick one of those minors`,
        });
      }
    }
    if (!a.certManager.enabled) {
      out.push({
        path: ["gateway", "enabled"],
        input: true,
        message:
          "is true while addons.certManager.enabled is false: the HTTPS listener's certificate comes from cert-manager — enable addons.certManager",
      });
    }
    if (a.gateway.domain === undefined) {
      out.push({
        path: ["gateway", "domain"],
        input: undefined,
        message:
          'is unset while addons.gateway is enabled — set the domain the listeners serve, like domain: "home.example.com" (hosts *.home.example.com)',
      });
    }
    if (!lb) {
      out.push({
        path: ["gateway", "enabled"],
        input: true,
        message:
          "is true but no LoadBalancer is on: the Gateway needs an address from a pool — enable addons.metallb or set addons.cilium.loadBalancer: l2",
      });
    } else if (a.gateway.address !== undefined && !inSomePool(a.gateway.address, lb.pools)) {
      out.push({
        path: ["gateway", "address"],
        input: a.gateway.address,
        message: `is outside every pool of ${lb.key} — pick an address inside a pool`,
      });
    }
  }

  if (
    a.certManager.enabled &&
    a.certManager.issuer.type === "acme" &&
    a.certManager.issuer.email === undefined
  ) {
    out.push({
      path: ["certManager", "issuer", "email"],
      input: undefined,
      message:
        'is unset while addons.certManager.issuer.type is acme: Let\'s Encrypt requires an account e-mail — set email: "me@example.com"',
    });
  }

  const exposures: Array<{ path: (string | number)[]; expose?: Expose; on: boolean }> = [
    { path: ["headlamp", "expose"], expose: a.headlamp.expose, on: a.headlamp.enabled },
    {
      path: ["monitoring", "grafana", "expose"],
      expose: a.monitoring.grafana.expose,
      on: a.monitoring.enabled,
    },
  ];
  const usedIps = new Map<string, string>();
  if (a.gateway.enabled && a.gateway.address) usedIps.set(a.gateway.address, "addons.gateway.address");
  const usedHosts = new Map<string, string>();
  for (const { path, expose, on } of exposures) {
    if (!on || !expose) continue;
    const key = `addons.${path.join(".")}`;
    if ((expose.loadBalancer === undefined) === (expose.hostname === undefined)) {
      out.push({
        path,
        input: expose,
        message:
          'must set exactly one of loadBalancer and hostname — write loadBalancer: "192.168.50.202:80" or hostname: "ui.home.example.com"',
      });
      continue;
    }
    if (expose.hostname !== undefined) {
      // Two HTTPRoutes for one hostname on one listener: the Gateway sends each request to one of them.
      const other = usedHosts.get(expose.hostname);
      if (other !== undefined)
        out.push({
          path: [...path, "hostname"],
          input: expose.hostname,
          message: `is also ${other}: two UIs on one hostname would split its requests — give each UI its own name under the domain`,
        });
      usedHosts.set(expose.hostname, `${key}.hostname`);
      const domain = a.gateway.domain;
      if (!a.gateway.enabled) {
        out.push({
          path: [...path, "hostname"],
          input: expose.hostname,
          message:
            'is a Gateway hostname while addons.gateway is disabled — enable addons.gateway or expose it with loadBalancer: "ip:port"',
        });
      } else if (domain !== undefined && !expose.hostname.endsWith(`.${domain}`)) {
        out.push({
          path: [...path, "hostname"],
          input: expose.hostname,
          message: `is not under addons.gateway.domain (${domain}): the listener certificate covers *.${domain} only — use a name like "ui.${domain}"`,
        });
      } else if (domain !== undefined && expose.hostname.slice(0, -domain.length - 1).includes(".")) {
        out.push({
          path: [...path, "hostname"],
          input: expose.hostname,
          message: `is more than one label below ${domain}: the wildcard certificate *.${domain} does not cover it — use a name like "ui.${domain}"`,
        });
      }
    }
    if (expose.loadBalancer !== undefined) {
      const { ip } = splitIpPort(expose.loadBalancer);
      if (!lb) {
        out.push({
          path: [...path, "loadBalancer"],
          input: expose.loadBalancer,
          message:
            "needs a LoadBalancer but none is on — enable addons.metallb or set addons.cilium.loadBalancer: l2",
        });
      } else if (!inSomePool(ip, lb.pools)) {
        out.push({
          path: [...path, "loadBalancer"],
          input: expose.loadBalancer,
          message: `is outside every pool of ${lb.key} — pick an address inside a pool`,
        });
      }
      const other = usedIps.get(ip);
      if (other !== undefined) {
        out.push({
          path: [...path, "loadBalancer"],
          input: expose.loadBalancer,
          message: `uses the address of ${other} — give each LoadBalancer its own address`,
        });
      }
      usedIps.set(ip, `${key}.loadBalancer`);
    }
  }

  if (a.monitoring.enabled && !a.openebs.enabled && a.monitoring.storage.storageClassName === undefined) {
    out.push({
      path: ["monitoring", "storage", "storageClassName"],
      input: undefined,
      message:
        "is unset while addons.openebs is disabled: Prometheus' volume would wait for a default StorageClass forever — enable addons.openebs or name a StorageClass",
    });
  }

  if (a.velero.enabled && a.velero.s3 === undefined) {
    out.push({
      path: ["velero", "s3"],
      input: undefined,
      message:
        'is unset while addons.velero is enabled — set s3: {endpoint: "https://minio.lan:9000", bucket: velero}',
    });
  }
  return out;
}

/** Secret config keys of the platform addons (declared in components/config/schema.ts). */
export const PLATFORM_SECRET_KEYS = [
  "certManagerCloudflareToken",
  "alertmanagerSmtpPassword",
  "veleroS3AccessKeyId",
  "veleroS3SecretAccessKey",
  "headlampOidcClientSecret",
] as const;
export type PlatformSecretKey = (typeof PLATFORM_SECRET_KEYS)[number];

const setSecret = (key: PlatformSecretKey) => `pulumi config set --secret proxmox-talos:${key} <value>`;

/** Refusals that need to know which secret keys are set (never their values). */
export function platformSecretIssues(
  a: PlatformView,
  isSet: (key: PlatformSecretKey) => boolean,
): Array<{ path: string; message: string; fix: string }> {
  const out: Array<{ path: string; message: string; fix: string }> = [];
  if (a.certManager.enabled && a.certManager.issuer.type === "acme" && !isSet("certManagerCloudflareToken")) {
    out.push({
      path: "certManagerCloudflareToken",
      message: "is unset while addons.certManager.issuer is ACME with DNS-01 through Cloudflare",
      fix: `${setSecret("certManagerCloudflareToken")} (an API token with Zone:DNS:Edit)`,
    });
  }
  if (
    a.monitoring.enabled &&
    a.monitoring.alerting?.smtp.username !== undefined &&
    !isSet("alertmanagerSmtpPassword")
  ) {
    out.push({
      path: "alertmanagerSmtpPassword",
      message: "is unset while addons.monitoring.alerting.smtp.username is set",
      fix: setSecret("alertmanagerSmtpPassword"),
    });
  }
  if (a.velero.enabled) {
    for (const key of ["veleroS3AccessKeyId", "veleroS3SecretAccessKey"] as const) {
      if (!isSet(key)) {
        out.push({ path: key, message: "is unset while addons.velero is enabled", fix: setSecret(key) });
      }
    }
  }
  if (a.headlamp.enabled && a.headlamp.oidc !== undefined && !isSet("headlampOidcClientSecret")) {
    out.push({
      path: "headlampOidcClientSecret",
      message: "is unset while addons.headlamp.oidc is set",
      fix: setSecret("headlampOidcClientSecret"),
    });
  }
  return out;
}
