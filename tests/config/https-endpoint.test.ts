/**
 * The config's one https-endpoint rule (components/config/https-endpoint.ts): what it refuses, and
 * that the same fault reads as the same sentence at every key that holds an endpoint, with the
 * value shown once (by errors.ts) and each key's own fix.
 */
import * as assert from "node:assert/strict";
import { ConfigError, showValue } from "../../components/config/errors";
import { type EndpointRule, httpsEndpointProblem } from "../../components/config/https-endpoint";
import { validateStackConfig } from "../../components/config/validate";
import { SAMPLE_SECRETS, sampleRaw } from "../helpers/sample-stack";

type Rec = Record<string, unknown>;

const S3: EndpointRule = { example: "https://minio.lan:9000", path: "root" };
const ISSUER: EndpointRule = { example: "https://auth.example.com/realms/homelab", path: "any" };
const BASE: EndpointRule = { example: "https://factory.talos.dev", path: "none" };
const REPO: EndpointRule = { example: "https://github.com/me/fleet.git", path: "required" };

describe("config: the https-endpoint rule", () => {
  it("takes a host, a port 1-65535 and the path its caller allows", () => {
    for (const ok of [
      "https://minio.lan:9000",
      "https://minio.lan:9000/",
      "https://10.0.0.5",
      "https://[::1]:9000",
    ])
      assert.equal(httpsEndpointProblem(ok, S3), undefined, ok);
    assert.equal(httpsEndpointProblem("https://auth.example.com/realms/homelab", ISSUER), undefined);
    assert.equal(httpsEndpointProblem("https://factory.talos.dev", BASE), undefined);
    assert.equal(httpsEndpointProblem("https://github.com/me/fleet.git", REPO), undefined);
  });

  it("refuses each fault with one sentence, whatever the caller", () => {
    const cases: Array<[string, EndpointRule, string]> = [
      ["http://minio.lan:9000", S3, "is not an https:// URL"],
      ["HTTPS://minio.lan:9000", S3, "is not an https:// URL"],
      ["https://minio lan", S3, "has white space in it"],
      ["https://admin:secret@minio.lan:9000", S3, "has credentials in it"],
      ["https://token@minio.lan", ISSUER, "has credentials in it"],
      ["https://minio.lan:0", S3, "has a port outside 1-65535"],
      ["https://minio.lan:99999", S3, "has a port outside 1-65535"],
      ["https://minio.lan:x/", ISSUER, "has a port outside 1-65535"],
      ["https://:9000", S3, "is not a URL with a host"],
      ["https://minio.lan/?x=1", S3, "has a query or fragment"],
      ["https://auth.lan/realms/x#a", ISSUER, "has a query or fragment"],
      ["https://auth.lan/realms/x?", ISSUER, "has a query or fragment"],
      ["https://minio.lan:9000/bucket", S3, "has a path"],
      ["https://factory.talos.dev/", BASE, "has a path"],
      ["https://github.com", REPO, "has no path"],
      ["https://github.com/", REPO, "has no path"],
    ];
    for (const [url, rule, what] of cases) assert.equal(httpsEndpointProblem(url, rule)?.what, what, url);
  });

  it("names the caller's example, where credentials go and why the path rule is so in the fix", () => {
    const rule: EndpointRule = {
      example: "https://pve.lan:8006/",
      path: "root",
      credentials: "the API token goes in the secret proxmoxApiToken",
      pathWhy: "the provider adds /api2/json",
    };
    assert.deepEqual(httpsEndpointProblem("https://pve.lan:8006/api2/json", rule), {
      what: "has a path",
      fix: "write it without one, like https://pve.lan:8006/ (the provider adds /api2/json)",
    });
    assert.deepEqual(httpsEndpointProblem("https://root:pw@pve.lan:8006/", rule), {
      what: "has credentials in it",
      fix: "remove them: the API token goes in the secret proxmoxApiToken",
    });
    assert.equal(
      httpsEndpointProblem("https://u:p@minio.lan", S3)?.fix,
      "remove them: they go in the secret config keys, not in plain config",
    );
  });
});

/** Every key that holds an endpoint, and how to put a URL there in the sample stack. */
const KEYS: Record<string, (raw: Rec, url: string) => void> = {
  "controlPlane.endpoint": (raw, url) => {
    (raw.controlPlane as Rec).endpoint = url;
  },
  "proxmox.endpoint": (raw, url) => {
    (raw.proxmox as Rec).endpoint = url;
  },
  "imageFactory.url": (raw, url) => {
    raw.imageFactory = { url };
  },
  "addons.flux.git.url": (raw, url) => {
    ((raw.addons as Rec).flux as { git: Rec }).git.url = url;
  },
  "addons.velero.s3.endpoint": (raw, url) => {
    (raw.addons as Rec).velero = { s3: { endpoint: url, bucket: "velero" } };
  },
  "addons.etcdBackup.s3.endpoint": (raw, url) => {
    (raw.addons as Rec).etcdBackup = { s3: { endpoint: url, bucket: "etcd-backups" } };
  },
  "addons.headlamp.oidc.issuerURL": (raw, url) => {
    (raw.addons as Rec).headlamp = { oidc: { issuerURL: url, clientID: "headlamp" } };
  },
};

/** The config issues at the endpoint keys when each of them holds `url`. */
function issuesAtEveryKey(url: string): Map<string, { message: string; fix?: string }> {
  const raw = sampleRaw();
  for (const put of Object.values(KEYS)) put(raw, url);
  try {
    validateStackConfig(raw, SAMPLE_SECRETS);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return new Map(err.issues.filter((i) => i.path in KEYS).map((i) => [i.path, i]));
  }
  return new Map();
}

describe("config: the same endpoint fault reads the same at every key", () => {
  const faults: Array<[string, string]> = [
    ["http://host.lan", "is not an https:// URL"],
    ["https://host lan", "has white space in it"],
    ["https://admin:pw@host.lan", "has credentials in it"],
    ["https://host.lan:0", "has a port outside 1-65535"],
    ["https://host.lan:70000", "has a port outside 1-65535"],
    ["https://host.lan?x=1", "has a query or fragment"],
  ];
  for (const [url, what] of faults)
    it(`${url}: "${what}" at each of ${Object.keys(KEYS).length} keys, each with its fix`, () => {
      const issues = issuesAtEveryKey(url);
      assert.deepEqual([...issues.keys()].sort(), Object.keys(KEYS).sort());
      for (const [key, issue] of issues) {
        assert.equal(issue.message, `${showValue(url)} ${what}`, key);
        assert.ok(issue.fix !== undefined && issue.fix.length > 0, key);
      }
    });

  it("credentials are masked in the value and each key names where they go", () => {
    const issues = issuesAtEveryKey("https://admin:S3CRET@host.lan");
    for (const [key, issue] of issues) assert.ok(!issue.message.includes("S3CRET"), key);
    assert.match(issues.get("proxmox.endpoint")?.fix ?? "", /secret proxmoxApiToken/);
    assert.match(issues.get("controlPlane.endpoint")?.fix ?? "", /client certificates/);
    assert.match(issues.get("addons.flux.git.url")?.fix ?? "", /secret fluxGitPassword/);
    assert.match(issues.get("addons.velero.s3.endpoint")?.fix ?? "", /veleroS3AccessKeyId/);
    assert.match(issues.get("addons.etcdBackup.s3.endpoint")?.fix ?? "", /etcdBackupS3AccessKeyId/);
    assert.match(issues.get("imageFactory.url")?.fix ?? "", /secret config keys/);
  });

  it("a path: refused with each key's reason where the key takes none", () => {
    const issues = issuesAtEveryKey("https://host.lan/some/path");
    assert.deepEqual([...issues.keys()].sort(), [
      "addons.etcdBackup.s3.endpoint",
      "addons.velero.s3.endpoint",
      "controlPlane.endpoint",
      "imageFactory.url",
      "proxmox.endpoint",
    ]);
    for (const [key, issue] of issues)
      assert.equal(issue.message, `"https://host.lan/some/path" has a path`, key);
    assert.match(issues.get("proxmox.endpoint")?.fix ?? "", /the provider adds \/api2\/json/);
    assert.match(issues.get("addons.velero.s3.endpoint")?.fix ?? "", /the bucket goes in its own key/);
  });
});
