/**
 * The addons' value formats, each checked as the program that reads the value parses it (facts
 * from upstream sources, cited per block), and each bad value refused at validation with its key,
 * the value and the fix, together with every other fault, before anything is built.
 */
import * as assert from "node:assert/strict";
import { chartVersionProblem } from "../../components/addons/chart-range";
import { AddonsConfigSchema, formatAddonsIssues } from "../../components/addons/config";
import {
  bucketNameProblem,
  cronProblem,
  goDurationProblem,
  isEmail,
  prometheusDurationProblem,
  storageSizeProblem,
} from "../../components/addons/field-formats";
import { managedValueIssues } from "../../components/addons/managed-values";
import { ConfigError } from "../../components/config/errors";
import { decodeConfigValue } from "../../components/config/load";
import { platformConfigIssues } from "../../components/config/platform-rules";
import { readStackFile } from "../../components/config/stack-file";
import { validateStackConfig } from "../../components/config/validate";
import { runProgram } from "../helpers/program";
import { talosMockState } from "../talos-cluster/mock-state";
import { EXAMPLE_FILE, EXAMPLE_SECRETS } from "./platform-harness";

const accepts = (problem: (s: string) => string | undefined, values: string[]) => {
  for (const v of values) assert.equal(problem(v), undefined, `${JSON.stringify(v)} should pass`);
};
const refuses = (problem: (s: string) => string | undefined, cases: Array<[string, RegExp]>) => {
  for (const [v, why] of cases) {
    const p = problem(v);
    assert.ok(p !== undefined, `${JSON.stringify(v)} should be refused`);
    assert.match(p, why, JSON.stringify(v));
  }
};

function addonProblems(input: unknown): string[] {
  const r = AddonsConfigSchema.safeParse(input, { reportInput: true });
  return r.success ? [] : formatAddonsIssues(r.error);
}

describe("addons: value formats as their consumers parse them", () => {
  // Kubernetes validates CronJob.spec.schedule with robfig/cron v3 ParseStandard and refuses TZ= /
  // CRON_TZ= in it; Velero parses Schedule.spec.schedule with the same parser. robfig v3 bounds:
  // minute 0-59, hour 0-23, dom 1-31, month 1-12 (jan-dec), dow 0-6 (sun-sat).
  it("cron: what ParseStandard takes passes; out of range, weekday 7, zero steps, TZ and junk fail", () => {
    accepts(cronProblem, [
      "0 3 * * *",
      "*/15 * * * *",
      "0 0 1,15 * 0-6",
      "0 3 * * MON-FRI",
      "0 3 1 jan,jul sun",
      "5/10 * * * *",
      "0 3 ? * *",
      "@daily",
      "@midnight",
      "@yearly",
      "@every 6h",
    ]);
    refuses(cronProblem, [
      ["x y z a b", /"x" is not a number in the minute field/],
      ["61 3 * * *", /outside 0-59 in the minute field/],
      ["0 24 * * *", /outside 0-23/],
      ["0 3 0 * *", /outside 1-31/],
      ["0 3 * 13 *", /outside 1-12/],
      ["0 3 * * 7", /outside 0-6 in the day of week field/],
      ["*/0 * * * *", /step that is not a positive number/],
      ["0 5-3 * * *", /start is past its end/],
      ["0 3 * * funday", /not a number or name/],
      ["1,,2 * * * *", /not a number/],
      ["TZ=UTC 0 3 * * *", /time zone/],
      ["CRON_TZ=Europe/Berlin 0 3 * * *", /time zone/],
      ["@daily garbage", /not a schedule shorthand/],
      ["@every 1d", /not a Go duration/],
      ["0 0 3 * * *", /has 6 fields, not 5/],
      ["daily", /has 1 field, not 5/],
    ]);
  });

  // prometheus/common model.ParseDuration: units y w d h m s ms, each at most once, in that order,
  // integers; the operator's CRD pattern for `retention` is the same. Zero would mean "default".
  it("Prometheus retention: ordered integer units pass; repeats, disorder, fractions, zero fail", () => {
    accepts(prometheusDurationProblem, ["15d", "1y2w", "90d", "12h30m", "500ms"]);
    refuses(prometheusDurationProblem, [
      ["1h1d", /largest first/],
      ["1d1d", /each once/],
      ["1.5d", /whole numbers/],
      ["15 days", /not a Prometheus duration/],
      ["", /not a Prometheus duration/],
      ["0d", /is zero/],
      ["300y", /longer than Prometheus can count/],
    ]);
  });

  // Velero's Schedule.spec.template.ttl is a metav1.Duration: Go's time.ParseDuration, no days.
  it("Velero TTL: Go durations pass; days, weeks and zero fail", () => {
    accepts(goDurationProblem, ["720h", "1.5h", "90m", "2h45m30s"]);
    refuses(goDurationProblem, [
      ["30d", /Go has no days/],
      ["4w", /Go has no days/],
      ["720", /not a Go duration/],
      ["0h", /is zero/],
      ["h", /not a Go duration/],
    ]);
  });

  // resource.Quantity: a decimal number with a binary (Ki…Ei), decimal (k…E) or exponent suffix;
  // a PVC request must be positive; milli ("m") is a valid Quantity but not a byte count.
  it("storage sizes: Kubernetes quantities of bytes pass; GB, negatives, milli and zero fail", () => {
    accepts(storageSizeProblem, ["20Gi", "50G", "1.5Ti", "500Mi", "1e9"]);
    refuses(storageSizeProblem, [
      ["20GB", /no "B"/],
      ["20gi", /not a Kubernetes quantity/],
      ["-20Gi", /not a Kubernetes quantity/],
      ["500m", /not a Kubernetes quantity/],
      ["0Gi", /is zero/],
      ["0.0", /is zero/],
    ]);
  });

  it("e-mail: one bare address passes; lists, display forms, mailto:, bad domains fail", () => {
    for (const ok of ["me@example.com", "first.last+tag@mail.example.org"]) assert.ok(isEmail(ok), ok);
    for (const bad of [
      "me@example.com,you@example.com",
      "Me <me@example.com>",
      "<me@example.com>",
      "mailto:me@example.com",
      "me@example..com",
      "me@localhost",
      ".me@example.com",
      "me@-example.com",
    ])
      assert.ok(!isEmail(bad), bad);
  });

  // AWS' bucket naming rules (MinIO applies the same): 3-63 of [a-z0-9.-], letter/digit at both
  // ends, no "..", not an IP address, reserved prefixes/suffixes.
  it("S3 bucket names: AWS' rules", () => {
    accepts(bucketNameProblem, ["velero", "etcd-backups", "my.bucket.1"]);
    refuses(bucketNameProblem, [
      ["ab", /3-63/],
      ["Velero", /3-63 lowercase/],
      ["-velero", /starting and ending/],
      ["my..bucket", /"\.\."/],
      ["my.-bucket", /next to a "-"/],
      ["192.168.1.1", /IP address/],
      ["xn--bucket", /reserves/],
      ["sthree-bucket", /reserves/],
      ["backups-s3alias", /reserves/],
      ["backups--ol-s3", /reserves/],
    ]);
  });

  it("a dotted bucket with virtual-hosted addressing and a CA name cert-manager refuses are caught", () => {
    const lines = addonProblems({
      velero: { s3: { endpoint: "https://s3.example.com", bucket: "my.backups", pathStyle: false } },
      etcdBackup: { s3: { bucket: "etcd.backups", pathStyle: false } },
      certManager: { issuer: { type: "selfSigned", caCommonName: "x".repeat(65) } },
    });
    for (const re of [
      /^addons\.velero\.s3\.bucket: "my\.backups" has dots while pathStyle is false.* — set pathStyle: true/,
      /^addons\.etcdBackup\.s3\.bucket: "etcd\.backups" has dots while pathStyle is false/,
      /^addons\.certManager\.issuer\.caCommonName: "x+\.*" is longer than 64 bytes, which cert-manager refuses — /,
    ])
      assert.ok(
        lines.some((l) => re.test(l)),
        `${re}:\n${lines.join("\n")}`,
      );
    assert.deepEqual(
      addonProblems({
        velero: { s3: { endpoint: "https://s3.example.com", bucket: "my.backups", pathStyle: true } },
        certManager: { issuer: { type: "selfSigned", caCommonName: "x".repeat(64) } },
      }),
      [],
    );
  });

  it("two UIs on one Gateway hostname are refused like two on one address", () => {
    const addons = AddonsConfigSchema.parse({
      cilium: {
        loadBalancer: "l2",
        pools: [{ name: "default", addresses: ["192.168.60.200-192.168.60.229"] }],
      },
      openebs: { enabled: true },
      gateway: { enabled: true, domain: "home.example.com" },
      certManager: { enabled: true },
      headlamp: { enabled: true, expose: { hostname: "ui.home.example.com" } },
      monitoring: { enabled: true, grafana: { expose: { hostname: "ui.home.example.com" } } },
    });
    const lines = platformConfigIssues(addons, { nodes: [] }, {}).map(
      (i) => `${i.path}: ${i.message} — ${i.fix}`,
    );
    assert.deepEqual(lines, [
      'addons.monitoring.grafana.expose.hostname: "ui.home.example.com" is also addons.headlamp.expose.hostname: two UIs on one hostname would split its requests — give each UI its own name under the domain',
    ]);
  });

  it("chart versions: the pinned chart's series and spelling", () => {
    assert.equal(chartVersionProblem("cilium", "1.18.9"), undefined);
    assert.equal(chartVersionProblem("certManager", "v1.20.0"), undefined);
    assert.equal(chartVersionProblem("metallb", "0.15.2"), undefined);
    assert.match(chartVersionProblem("cilium", "2.0.0") ?? "", /outside 1\.x, .* \(pinned 1\.19\.6\)/);
    assert.match(chartVersionProblem("metallb", "0.14.9") ?? "", /outside 0\.15\.x/);
    assert.match(chartVersionProblem("velero", "11.0.0") ?? "", /outside 12\.x/);
    assert.match(chartVersionProblem("monitoring", "45.0.0") ?? "", /kube-prometheus-stack/);
    assert.match(chartVersionProblem("headlamp", "v0.45.0") ?? "", /has a leading "v"/);
    assert.match(chartVersionProblem("certManager", "1.21.1") ?? "", /has no leading "v"/);
  });

  it("values overrides: keys the program owns are refused, secrets named but never shown", () => {
    assert.deepEqual(
      managedValueIssues("cilium", { kubeProxyReplacement: false, hubble: { ui: { enabled: true } } }),
      [],
    );
    assert.deepEqual(managedValueIssues("cilium", { cgroup: { autoMount: { enabled: false } } }), []);
    const refused: Array<[Parameters<typeof managedValueIssues>[0], Record<string, unknown>, string]> = [
      ["cilium", { kubeProxyReplacement: "strict" }, "kubeProxyReplacement"],
      ["cilium", { kubeProxyReplacement: null }, "kubeProxyReplacement"],
      ["cilium", { cgroup: { autoMount: { enabled: true } } }, "cgroup.autoMount.enabled"],
      ["cilium", { cgroup: { hostRoot: "/run/cilium/cgroupv2" } }, "cgroup.hostRoot"],
      ["openebs", { localpv: { basePath: "/var/local" } }, "localpv.basePath"],
      ["openebs", { hostpathClass: { name: "fast" } }, "hostpathClass.name"],
      ["certManager", { crds: { enabled: false } }, "crds.enabled"],
      [
        "monitoring",
        { prometheus: { prometheusSpec: { retention: "1d" } } },
        "prometheus.prometheusSpec.retention",
      ],
      ["velero", { configuration: { backupStorageLocation: [] } }, "configuration.backupStorageLocation"],
    ];
    for (const [addon, values, path] of refused)
      assert.deepEqual(
        managedValueIssues(addon, values).map((i) => i.path.join(".")),
        [path],
        `${addon} ${JSON.stringify(values)}`,
      );
    const lines = addonProblems({
      monitoring: { values: { grafana: { adminPassword: "hunter2-secret" } } },
      velero: { values: { credentials: { secretContents: { cloud: "aws_secret_access_key=s3cr3t" } } } },
      headlamp: { values: { config: { oidc: { clientSecret: "oidc-s3cr3t" } } } },
    });
    assert.equal(lines.length, 3, lines.join("\n"));
    for (const l of lines) {
      assert.match(l, /: \(a secret, not shown\) would put a secret in plain stack config — remove it/);
      assert.doesNotMatch(l, /hunter2|s3cr3t/);
    }
  });

  it("a stack with one bad value per class fails validation with every fault, each with key, value and fix", () => {
    const raw: Record<string, unknown> = {};
    for (const [fullKey, text] of Object.entries(readStackFile(EXAMPLE_FILE).config)) {
      const key = fullKey.replace(/^proxmox-talos:/, "");
      raw[key] = decodeConfigValue(key, text);
    }
    const a = raw.addons as Record<string, Record<string, unknown>>;
    a.velero = {
      enabled: true,
      version: "2.0.0",
      s3: { endpoint: "https://admin:pw@minio.lan:9000", bucket: "my..bucket" },
      schedule: { cron: "0 3 * * 7", ttl: "30d" },
    };
    a.monitoring = { ...a.monitoring, storage: { size: "0Gi", retention: "1h1d" } };
    a.certManager = { enabled: true, issuer: { type: "acme", email: "Me <me@example.com>" } };
    a.cilium = { ...a.cilium, values: { cgroup: { autoMount: { enabled: true } } } };
    let message = "";
    try {
      validateStackConfig(raw, { ...EXAMPLE_SECRETS, certManagerCloudflareToken: "cf-token" });
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      message = err.message;
    }
    for (const re of [
      /addons\.velero\.version: "2\.0\.0" is outside 12\.x, .* — remove the override/,
      /addons\.velero\.s3\.endpoint: "https:\/\/\(credentials\)@minio\.lan:9000" has credentials in it.* — /,
      /addons\.velero\.s3\.bucket: "my\.\.bucket" has "\.\." .* — name it like "velero"/,
      /addons\.velero\.schedule\.cron: "0 3 \* \* 7" is not a cron schedule Kubernetes accepts: .*0-6.* — write five fields/,
      /addons\.velero\.schedule\.ttl: "30d" is not a Go duration: Go has no days.* — .*720h/,
      /addons\.monitoring\.storage\.size: "0Gi" is zero.* — write it like "20Gi"/,
      /addons\.monitoring\.storage\.retention: "1h1d" is not a Prometheus duration .* — /,
      /addons\.certManager\.issuer\.email: "Me <me@example\.com>" is not one e-mail address — /,
      /addons\.cilium\.values\.cgroup\.autoMount\.enabled: true is set by the program.* — remove it/,
    ])
      assert.match(message, re);
    assert.doesNotMatch(message, /admin:pw/);
  });

  it("the program under mocks stops on such values before registering any resource", async function () {
    this.timeout(120_000);
    const config: Record<string, string> = { ...readStackFile(EXAMPLE_FILE).config };
    for (const [k, v] of Object.entries(EXAMPLE_SECRETS)) config[`proxmox-talos:${k}`] = v;
    const addons = JSON.parse(config["proxmox-talos:addons"]!) as Record<string, Record<string, unknown>>;
    addons.velero = { ...addons.velero, schedule: { cron: "0 3 * * 7", ttl: "30d" } };
    addons.monitoring = { ...addons.monitoring, values: { grafana: { adminPassword: "hunter2-secret" } } };
    config["proxmox-talos:addons"] = JSON.stringify(addons);
    const created: string[] = [];
    const state = talosMockState();
    await assert.rejects(
      runProgram(
        config,
        Object.keys(EXAMPLE_SECRETS).map((k) => `proxmox-talos:${k}`),
        {
          newResource: (args) => {
            created.push(`${args.type}::${args.name}`);
            return state(args);
          },
        },
      ),
      (err: Error) =>
        /addons\.velero\.schedule\.cron: "0 3 \* \* 7"/.test(err.message) &&
        /addons\.velero\.schedule\.ttl: "30d"/.test(err.message) &&
        /addons\.monitoring\.values\.grafana\.adminPassword: \(a secret, not shown\)/.test(err.message) &&
        !err.message.includes("hunter2"),
    );
    assert.deepEqual(created, []);
  });
});
