/**
 * The platform addons' config: the worked example validates, and each refusal names the key, the
 * value and the fix, reported together with every other fault before anything is built.
 */
import * as assert from "node:assert/strict";
import { AddonsConfigSchema, formatAddonsIssues } from "../../components/addons/config";
import { ConfigError } from "../../components/config/errors";
import { decodeConfigValue } from "../../components/config/load";
import { platformConfigIssues } from "../../components/config/platform-rules";
import { readStackFile } from "../../components/config/stack-file";
import { validateStackConfig } from "../../components/config/validate";
import { EXAMPLE_FILE, EXAMPLE_SECRETS } from "./platform-harness";

function exampleRaw(): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(readStackFile(EXAMPLE_FILE).config)) {
    const key = fullKey.replace(/^proxmox-talos:/, "");
    raw[key] = decodeConfigValue(key, text);
  }
  return raw;
}

type Addons = Record<string, Record<string, unknown>>;

/** The example with `edit` applied to its addons; returns the problems as `key: message — fix` lines. */
function problemsWith(
  edit: (a: Addons) => void,
  secrets: Record<string, string> = EXAMPLE_SECRETS,
): string[] {
  const raw = exampleRaw();
  edit(raw.addons as Addons);
  try {
    validateStackConfig(raw, secrets);
  } catch (err) {
    if (err instanceof ConfigError)
      return err.message
        .split("\n")
        .slice(1)
        .map((l) => l.replace(/^ {2}- /, ""));
    throw err;
  }
  return [];
}

/** Field-level faults of an `addons` value (the zod schema). */
function addonProblems(input: unknown): string[] {
  const r = AddonsConfigSchema.safeParse(input, { reportInput: true });
  return r.success ? [] : formatAddonsIssues(r.error);
}

/** Cross-addon faults of a valid `addons` value, formatted as the stack validation reports them. */
function crossProblems(input: unknown): string[] {
  const addons = AddonsConfigSchema.parse(input);
  return platformConfigIssues(addons, { nodes: [] }, {}).map(
    (i) => `${i.path}: ${i.message}${i.fix ? ` — ${i.fix}` : ""}`,
  );
}

const has = (lines: string[], re: RegExp): void =>
  assert.ok(
    lines.some((l) => re.test(l)),
    `no problem matching ${re}:\n${lines.join("\n")}`,
  );

describe("platform addons config", () => {
  it("the worked example (stacks/examples/Pulumi.platform.yaml) validates with everything on", () => {
    const cfg = validateStackConfig(exampleRaw(), EXAMPLE_SECRETS);
    const a = cfg.addons;
    for (const on of [
      a.cilium,
      a.openebs,
      a.flux,
      a.gateway,
      a.certManager,
      a.headlamp,
      a.monitoring,
      a.velero,
    ]) {
      assert.equal(on.enabled, true);
    }
    assert.equal(a.cilium.loadBalancer, "l2");
    assert.equal(a.metallb.enabled, false);
    assert.deepEqual(a.monitoring.storage, { size: "30Gi", retention: "30d" });
    assert.deepEqual(a.velero.s3, {
      endpoint: "https://minio.example.lan:9000",
      bucket: "velero",
      region: "us-east-1",
      pathStyle: true,
    });
  });

  it("refuses Cilium's L2 LoadBalancer and MetalLB together, naming the key", () => {
    const p = problemsWith((a) => {
      a.metallb = { enabled: true, pools: [{ name: "m", addresses: ["192.168.60.240/29"] }] };
    });
    has(
      p,
      /^proxmox-talos:addons\.cilium\.loadBalancer: "l2" is set while addons\.metallb\.enabled is true: .* — keep one/,
    );
  });

  it("validates Cilium pools exactly like MetalLB's: overlaps with nodes, VIP, gateway, other pools", () => {
    const p = problemsWith((a) => {
      a.cilium.pools = [
        { name: "a", addresses: ["192.168.60.10-192.168.60.12"] },
        { name: "b", addresses: ["192.168.60.1/32", "192.168.60.11/32"] },
      ];
      a.gateway.address = "192.168.60.10";
    });
    has(
      p,
      /^proxmox-talos:addons\.cilium\.pools\[0\]\.addresses\[0\]: "192\.168\.60\.10-192\.168\.60\.12" overlaps node cp-1/,
    );
    has(
      p,
      /^proxmox-talos:addons\.cilium\.pools\[1\]\.addresses\[0\]: "192\.168\.60\.1\/32" overlaps the gateway/,
    );
    has(
      p,
      /^proxmox-talos:addons\.cilium\.pools\[1\]\.addresses\[1\]: "192\.168\.60\.11\/32" overlaps node cp-1/,
    );
    has(
      p,
      /^proxmox-talos:addons\.cilium\.pools\[0\]\.addresses\[0\]: .* — Cilium's LB IPAM must own its addresses alone/,
    );
    const dup = crossProblems({
      cilium: {
        loadBalancer: "l2",
        pools: [
          { name: "x", addresses: ["10.0.0.1/32"] },
          { name: "x", addresses: ["10.0.0.2/32"] },
        ],
      },
    });
    has(dup, /^addons\.cilium\.pools\[1\]\.name: "x" is used by two pools — give every pool its own name/);
    has(
      crossProblems({ cilium: { loadBalancer: "l2" } }),
      /^addons\.cilium\.pools: \[\] is empty while addons\.cilium\.loadBalancer is l2/,
    );
    has(
      addonProblems({ cilium: { loadBalancer: "bgp" } }),
      /^addons\.cilium\.loadBalancer: "bgp" must be "l2" — /,
    );
  });

  it("refuses the Gateway without Cilium, without cert-manager, without a domain or a LoadBalancer — each naming the key", () => {
    const p = crossProblems({ cilium: { enabled: false }, gateway: { enabled: true } });
    has(
      p,
      /^addons\.gateway\.enabled: true is true while addons\.cilium\.enabled is false: .* — enable addons\.cilium/,
    );
    has(
      p,
      /^addons\.gateway\.enabled: true is true while addons\.certManager\.enabled is false: .* — enable addons\.certManager/,
    );
    has(p, /^addons\.gateway\.domain: is unset while addons\.gateway is enabled — set the domain/);
    has(
      p,
      /^addons\.gateway\.enabled: true is true but no LoadBalancer is on: .* — enable addons\.metallb or set addons\.cilium\.loadBalancer: l2/,
    );
  });

  it("refuses a Gateway address outside the pools and a Cilium version with no known Gateway API release", () => {
    const p = problemsWith((a) => {
      a.gateway.address = "192.168.60.99";
      a.cilium.version = "1.16.3";
    });
    has(
      p,
      /^proxmox-talos:addons\.gateway\.address: "192\.168\.60\.99" is outside every pool of addons\.cilium\.pools/,
    );
    has(
      p,
      /^proxmox-talos:addons\.cilium\.version: "1\.16\.3" is a Cilium release whose Gateway API CRD version this project does not know \(known: 1\.18, 1\.19\)/,
    );
  });

  it("refuses ACME without an e-mail and DNS-01 without its token, naming the keys", () => {
    const p = problemsWith((a) => {
      a.certManager.issuer = { type: "acme" };
    });
    has(
      p,
      /^proxmox-talos:addons\.certManager\.issuer\.email: is unset while addons\.certManager\.issuer\.type is acme/,
    );
    has(
      p,
      /^proxmox-talos:certManagerCloudflareToken: is unset while addons\.certManager\.issuer is ACME with DNS-01 through Cloudflare — pulumi config set --secret proxmox-talos:certManagerCloudflareToken/,
    );
    assert.deepEqual(
      problemsWith(
        (a) => {
          a.certManager.issuer = { type: "acme", email: "me@example.com" };
        },
        { ...EXAMPLE_SECRETS, certManagerCloudflareToken: "cf-token" },
      ),
      [],
    );
    has(
      addonProblems({ certManager: { issuer: { type: "acme", email: "not-an-email" } } }),
      /^addons\.certManager\.issuer\.email: "not-an-email" is not one e-mail address — /,
    );
  });

  it("refuses missing S3 keys, SMTP password and OIDC client secret, without showing any value", () => {
    const p = problemsWith(
      (a) => {
        a.headlamp.oidc = { issuerURL: "https://auth.example.com/realms/lab", clientID: "headlamp" };
      },
      { proxmoxApiToken: EXAMPLE_SECRETS.proxmoxApiToken },
    );
    for (const key of [
      "veleroS3AccessKeyId",
      "veleroS3SecretAccessKey",
      "alertmanagerSmtpPassword",
      "headlampOidcClientSecret",
    ]) {
      has(
        p,
        new RegExp(
          `^proxmox-talos:${key}: is unset while .* — pulumi config set --secret proxmox-talos:${key} `,
        ),
      );
    }
  });

  it("checks UI exposure: one of loadBalancer/hostname, inside a pool, under the Gateway's domain, distinct addresses", () => {
    const p = problemsWith((a) => {
      a.headlamp.expose = { hostname: "headlamp.other.example.org" };
      a.monitoring.grafana = { expose: { loadBalancer: "192.168.60.200:3000" } };
    });
    has(
      p,
      /^proxmox-talos:addons\.headlamp\.expose\.hostname: "headlamp\.other\.example\.org" is not under addons\.gateway\.domain/,
    );
    has(
      p,
      /^proxmox-talos:addons\.monitoring\.grafana\.expose\.loadBalancer: "192\.168\.60\.200:3000" uses the address of addons\.gateway\.address/,
    );
    const q = problemsWith((a) => {
      a.headlamp.expose = { hostname: "a.b.home.example.com", loadBalancer: "192.168.60.201:80" };
      a.monitoring.grafana = { expose: { loadBalancer: "192.168.60.50:80" } };
    });
    has(q, /^proxmox-talos:addons\.headlamp\.expose: .*must set exactly one of loadBalancer and hostname/);
    has(
      q,
      /^proxmox-talos:addons\.monitoring\.grafana\.expose\.loadBalancer: "192\.168\.60\.50:80" is outside every pool/,
    );
    const r = problemsWith((a) => {
      a.headlamp.expose = { hostname: "a.b.home.example.com" };
      a.gateway.enabled = false;
    });
    has(
      r,
      /^proxmox-talos:addons\.headlamp\.expose\.hostname: "a\.b\.home\.example\.com" is a Gateway hostname while addons\.gateway is disabled/,
    );
    const s = problemsWith((a) => {
      a.headlamp.expose = { hostname: "a.b.home.example.com" };
    });
    has(s, /is more than one label below home\.example\.com/);
    has(
      addonProblems({ headlamp: { expose: { loadBalancer: "192.168.60.201" } } }),
      /^addons\.headlamp\.expose\.loadBalancer: "192\.168\.60\.201" is not ip:port — /,
    );
  });

  it("refuses monitoring without a StorageClass, Velero without its bucket or over plain http", () => {
    has(
      problemsWith((a) => {
        a.openebs.enabled = false;
      }),
      /^proxmox-talos:addons\.monitoring\.storage\.storageClassName: is unset while addons\.openebs is disabled/,
    );
    has(
      problemsWith((a) => {
        a.velero.s3 = { endpoint: "http://minio.lan:9000", bucket: "velero" };
      }),
      /^proxmox-talos:addons\.velero\.s3\.endpoint: "http:\/\/minio\.lan:9000" is not an https:\/\/ URL/,
    );
    has(
      crossProblems({ velero: { enabled: true } }),
      /^addons\.velero\.s3: is unset while addons\.velero is enabled/,
    );
    has(
      addonProblems({ velero: { schedule: { cron: "daily" } } }),
      /^addons\.velero\.schedule\.cron: "daily" is not a cron schedule Kubernetes accepts: has 1 field, not 5 — /,
    );
    has(
      addonProblems({ monitoring: { storage: { size: "20GB" } } }),
      /^addons\.monitoring\.storage\.size: "20GB" is not a Kubernetes quantity \(no "B": Gi = GiB, G = GB\) — /,
    );
  });

  // Cross-field rules run once every key parsed (schema faults come first), as for the other addons.
  it("reports every cross-field and secret fault together", () => {
    const p = problemsWith(
      (a) => {
        a.metallb = { enabled: true, pools: [{ name: "m", addresses: ["192.168.60.240/29"] }] };
        a.certManager.issuer = { type: "acme" };
        a.openebs.enabled = false;
      },
      { proxmoxApiToken: EXAMPLE_SECRETS.proxmoxApiToken },
    );
    for (const key of [
      "addons.cilium.loadBalancer",
      "addons.certManager.issuer.email",
      "addons.monitoring.storage.storageClassName",
      "certManagerCloudflareToken",
      "alertmanagerSmtpPassword",
      "veleroS3AccessKeyId",
      "veleroS3SecretAccessKey",
    ]) {
      assert.ok(
        p.some((l) => l.startsWith(`proxmox-talos:${key}: `)),
        `${key} missing from:\n${p.join("\n")}`,
      );
    }
  });
});
