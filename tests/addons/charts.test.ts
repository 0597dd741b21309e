/**
 * The values the program generates, checked against each pinned chart's own data in
 * `../shared/reference/charts/<chart>/<version>/` (skipped with a message where absent):
 * merged into the chart's defaults as Helm merges them and validated against `values.schema.json`
 * where the chart has one; every key path we set must exist in the chart's values.yaml (so a
 * misspelt key fails); and the rules that live only in the charts' templates, stated here.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import * as YAML from "yaml";
import { AddonsConfigSchema } from "../../components/addons/config";
import {
  CILIUM_AGENT_CAPABILITIES,
  CILIUM_CLEAN_STATE_CAPABILITIES,
  certManagerValues,
  ciliumValues,
  fluxValues,
  type HelmValues,
  headlampValues,
  helmMerge,
  isHelmMap,
  metallbValues,
  monitoringValues,
  openebsValues,
  veleroValues,
} from "../../components/addons/values";
import { OPENEBS_HOSTPATH_BASE } from "../../components/talos/constants";
import { type AddonName, CHARTS } from "../../components/versions";
import { hasShared, requireShared } from "../helpers/shared";

/** A sample `addons` config with user values for every addon. */
const SAMPLE = AddonsConfigSchema.parse({
  cilium: {
    values: { hubble: { relay: { enabled: true }, ui: { enabled: true } }, operator: { replicas: 1 } },
  },
  metallb: {
    enabled: true,
    pools: [{ name: "default", addresses: ["192.168.50.200-192.168.50.220"] }],
    values: { controller: { logLevel: "warn" }, speaker: { tolerations: [{ operator: "Exists" }] } },
  },
  openebs: {
    enabled: true,
    values: { localpv: { nodeSelector: { "node.kubernetes.io/storage": "local" } } },
  },
  flux: { enabled: true, values: { imageAutomationController: { create: false }, logLevel: "debug" } },
  certManager: { enabled: true, values: { replicaCount: 2 } },
  headlamp: {
    enabled: true,
    oidc: { issuerURL: "https://auth.example.com/realms/lab", clientID: "headlamp" },
  },
  monitoring: {
    enabled: true,
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
});

/** The platform options the program derives from a stack (LoadBalancer exposure, control planes). */
const LB_SERVICE = {
  type: "LoadBalancer" as const,
  port: 8080,
  annotations: { "metallb.io/loadBalancerIPs": "192.168.50.202" },
};

/** What the program hands each release for SAMPLE. */
const GENERATED: Record<AddonName, () => HelmValues> = {
  cilium: () => ciliumValues(SAMPLE.cilium.values, { l2LoadBalancer: true, gatewayApi: true }),
  metallb: () => metallbValues(SAMPLE.metallb.values),
  openebs: () => openebsValues(SAMPLE.openebs.storageClassName, SAMPLE.openebs.values),
  flux: () => fluxValues(SAMPLE.flux.values),
  certManager: () => certManagerValues(SAMPLE.certManager.values),
  headlamp: () =>
    headlampValues(
      {
        service: LB_SERVICE,
        fluxPlugin: true,
        oidc: true,
        oidcCallbackUrl: "https://h.example.com/oidc-callback",
      },
      SAMPLE.headlamp.values,
    ),
  monitoring: () =>
    monitoringValues(
      {
        controlPlaneIps: ["192.168.50.11", "192.168.50.12", "192.168.50.13"],
        kubeProxy: false,
        storage: { ...SAMPLE.monitoring.storage, storageClassName: "openebs-hostpath" },
        grafanaService: LB_SERVICE,
        smtp: SAMPLE.monitoring.alerting?.smtp,
      },
      SAMPLE.monitoring.values,
    ),
  velero: () =>
    veleroValues({ s3: SAMPLE.velero.s3!, schedule: SAMPLE.velero.schedule }, SAMPLE.velero.values),
};

/**
 * Key paths whose contents are free-form though the chart's default is not an empty map, and keys
 * the chart supports without listing them in values.yaml.
 */
const FREE_FORM: Record<AddonName, readonly string[]> = {
  cilium: [],
  metallb: [],
  openebs: [],
  flux: [],
  certManager: [],
  headlamp: [],
  // Alertmanager's own configuration file (global.smtp_*, receivers ...), passed through as is.
  monitoring: ["alertmanager.config"],
  velero: [],
};
const KNOWN_EXTRA: Record<AddonName, readonly string[]> = {
  // Declared in 1.18+ values.yaml; listed for a stack that overrides the pin back to 1.16, whose values.yaml comments it out.
  cilium: ["kubeProxyReplacement"],
  metallb: [],
  openebs: [],
  flux: [],
  certManager: [],
  headlamp: [],
  // The grafana subchart's own values (grafana/grafana values.yaml: service.type, service.port,
  // service.annotations); the shared data holds kube-prometheus-stack's values.yaml only.
  monitoring: ["grafana.service.type", "grafana.service.port", "grafana.service.annotations"],
  velero: [],
};

function chartDir(addon: AddonName): string[] {
  return ["reference", "charts", CHARTS[addon].chart, CHARTS[addon].version];
}

/** Parses a values.yaml as Helm does (YAML 1.1). */
function loadDefaults(file: string): HelmValues {
  const parsed: unknown = YAML.parse(fs.readFileSync(file, "utf8"), { version: "1.1" });
  assert.ok(isHelmMap(parsed));
  return parsed;
}

function compileSchema(file: string): ValidateFunction {
  const json = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  // Ajv knows draft-07 only as http://...; MetalLB names it https://. Cilium's generated schema
  // trips strict mode (union types, properties without type): validation is unaffected.
  const { $schema: _ignored, ...schema } = json;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

/**
 * Every key path of `ours` absent from `defaults`, except below free-form maps (empty or null in
 * the defaults, or listed), and known extras. Lists are leaves.
 */
function unknownKeyPaths(
  ours: HelmValues,
  defaults: HelmValues,
  freeForm: readonly string[],
  extra: readonly string[],
  prefix = "",
): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(ours)) {
    const p = prefix ? `${prefix}.${key}` : key;
    if (extra.includes(p)) continue;
    if (!(key in defaults)) {
      out.push(p);
      continue;
    }
    const d = defaults[key];
    const freeMap = d === null || (isHelmMap(d) && Object.keys(d).length === 0) || freeForm.includes(p);
    if (isHelmMap(value) && isHelmMap(d) && !freeMap) {
      out.push(...unknownKeyPaths(value, d, freeForm, extra, p));
    }
  }
  return out;
}

function get(values: HelmValues, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((v, k) => (isHelmMap(v) ? v[k] : undefined), values);
}

for (const addon of Object.keys(CHARTS) as AddonName[]) {
  const pin = CHARTS[addon];
  describe(`chart ${pin.chart} ${pin.version} (${addon})`, () => {
    let defaults: HelmValues;
    before(function () {
      defaults = loadDefaults(requireShared(this, ...chartDir(addon), "values.yaml"));
    });

    it("every key path the program sets exists in the chart's values.yaml", () => {
      assert.deepEqual(
        unknownKeyPaths(GENERATED[addon](), defaults, FREE_FORM[addon], KNOWN_EXTRA[addon]),
        [],
      );
    });

    /** Charts that never shipped a values.schema.json: only the key-path check applies. */
    const NO_SCHEMA: readonly string[] = ["flux2", "localpv-provisioner", "kube-prometheus-stack"];
    if (NO_SCHEMA.includes(pin.chart)) {
      it("has no values.schema.json (key paths are the check)", function () {
        requireShared(this, ...chartDir(addon), "values.yaml");
        assert.equal(hasShared(...chartDir(addon), "values.schema.json"), false);
      });
    } else {
      it("the chart defaults merged with our values validate against values.schema.json", function () {
        const validate = compileSchema(requireShared(this, ...chartDir(addon), "values.schema.json"));
        assert.ok(validate(defaults), "the chart's own defaults validate");
        const merged = helmMerge(defaults, GENERATED[addon]());
        assert.ok(validate(merged), JSON.stringify(validate.errors, null, 2));
      });
    }
  });
}

describe("chart rules that live only in templates", () => {
  it("Cilium: kubeProxyReplacement is exactly true; KubePrism localhost:7445; kubernetes IPAM", () => {
    const v = ciliumValues(SAMPLE.cilium.values);
    assert.equal(
      v.kubeProxyReplacement,
      true,
      "the template accepts only true/false, and we replace kube-proxy",
    );
    assert.equal(get(v, "k8sServiceHost"), "localhost");
    assert.equal(get(v, "k8sServicePort"), 7445);
    assert.equal(get(v, "ipam.mode"), "kubernetes");
  });

  it("Cilium: Talos' capability lists and cgroup settings", () => {
    const v = ciliumValues(SAMPLE.cilium.values);
    // From Talos' "Deploying Cilium CNI" guide; SYS_MODULE is not allowed on Talos.
    assert.deepEqual(get(v, "securityContext.capabilities.ciliumAgent"), [
      "CHOWN",
      "KILL",
      "NET_ADMIN",
      "NET_RAW",
      "IPC_LOCK",
      "SYS_ADMIN",
      "SYS_RESOURCE",
      "DAC_OVERRIDE",
      "FOWNER",
      "SETGID",
      "SETUID",
    ]);
    assert.deepEqual(get(v, "securityContext.capabilities.cleanCiliumState"), [
      "NET_ADMIN",
      "SYS_ADMIN",
      "SYS_RESOURCE",
    ]);
    assert.deepEqual([...CILIUM_AGENT_CAPABILITIES].includes("SYS_MODULE" as never), false);
    assert.equal(CILIUM_CLEAN_STATE_CAPABILITIES.length, 3);
    assert.equal(get(v, "cgroup.autoMount.enabled"), false);
    assert.equal(get(v, "cgroup.hostRoot"), "/sys/fs/cgroup");
  });

  it("Cilium: a user value that the template would reject fails early, naming the key", () => {
    assert.throws(
      () => ciliumValues({ kubeProxyReplacement: "strict" }),
      /addons\.cilium\.values\.kubeProxyReplacement: "strict" is not true or false — /,
    );
    assert.equal(ciliumValues({ kubeProxyReplacement: false }).kubeProxyReplacement, false);
  });

  it("LocalPV: the hostpath StorageClass is the default one, based at OPENEBS_HOSTPATH_BASE", () => {
    const v = openebsValues("openebs-hostpath", SAMPLE.openebs.values);
    assert.equal(OPENEBS_HOSTPATH_BASE, "/var/openebs/local");
    assert.equal(get(v, "hostpathClass.enabled"), true);
    assert.equal(get(v, "hostpathClass.isDefaultClass"), true);
    assert.equal(get(v, "hostpathClass.name"), "openebs-hostpath");
    assert.equal(get(v, "hostpathClass.basePath"), OPENEBS_HOSTPATH_BASE);
    assert.equal(get(v, "localpv.basePath"), OPENEBS_HOSTPATH_BASE);
    assert.equal(get(openebsValues("fast"), "hostpathClass.name"), "fast");
  });

  it("MetalLB: layer 2 only, FRR off", () => {
    assert.equal(get(metallbValues(), "speaker.frr.enabled"), false);
  });
});

describe("deliberately invalid values are caught", () => {
  it("a MetalLB field of the wrong type fails the chart's schema", function () {
    const dir = chartDir("metallb");
    const defaults = loadDefaults(requireShared(this, ...dir, "values.yaml"));
    const validate = compileSchema(requireShared(this, ...dir, "values.schema.json"));
    const bad = helmMerge(defaults, metallbValues({ speaker: { frr: { enabled: "no" } } }));
    assert.equal(validate(bad), false);
    assert.ok(
      validate.errors?.some((e) => e.instancePath === "/speaker/frr/enabled" && e.keyword === "type"),
      JSON.stringify(validate.errors),
    );
    const badPort = helmMerge(defaults, metallbValues({ speaker: { memberlist: { mlBindPort: "7946" } } }));
    assert.equal(validate(badPort), false);
  });

  it("a misspelt Cilium key passes the schema but fails the key-path check", function () {
    const dir = chartDir("cilium");
    const defaults = loadDefaults(requireShared(this, ...dir, "values.yaml"));
    const validate = compileSchema(requireShared(this, ...dir, "values.schema.json"));
    const typo = ciliumValues({ kubeProxyReplacment: true, ipam: { mdoe: "kubernetes" } });
    assert.equal(validate(helmMerge(defaults, typo)), true, "the schema lets extra keys through");
    assert.deepEqual(unknownKeyPaths(typo, defaults, FREE_FORM.cilium, KNOWN_EXTRA.cilium), [
      "ipam.mdoe",
      "kubeProxyReplacment",
    ]);
  });

  it("a Cilium value of the wrong type fails the schema", function () {
    const dir = chartDir("cilium");
    const defaults = loadDefaults(requireShared(this, ...dir, "values.yaml"));
    const validate = compileSchema(requireShared(this, ...dir, "values.schema.json"));
    assert.equal(validate(helmMerge(defaults, ciliumValues({ cgroup: { hostRoot: 7 } }))), false);
  });

  it("misspelt LocalPV and Flux keys fail the key-path check", function () {
    const lp = loadDefaults(requireShared(this, ...chartDir("openebs"), "values.yaml"));
    assert.deepEqual(
      unknownKeyPaths(openebsValues("x", { hostpathClass: { isDefault: true } }), lp, [], []),
      ["hostpathClass.isDefault"],
    );
    const fx = loadDefaults(requireShared(this, ...chartDir("flux"), "values.yaml"));
    assert.deepEqual(unknownKeyPaths(fluxValues({ kustomizeControler: { create: false } }), fx, [], []), [
      "kustomizeControler",
    ]);
  });
});

describe("platform charts: deliberately invalid values are caught", () => {
  it("Cilium 1.19.6's schema declares kubeProxyReplacement, gatewayAPI and l2announcements", function () {
    const file = requireShared(this, ...chartDir("cilium"), "values.schema.json");
    const props = (JSON.parse(fs.readFileSync(file, "utf8")) as { properties: Record<string, unknown> })
      .properties;
    for (const key of ["kubeProxyReplacement", "gatewayAPI", "l2announcements", "k8sClientRateLimit"]) {
      assert.ok(key in props, `${key} is declared`);
    }
    const defaults = loadDefaults(requireShared(this, ...chartDir("cilium"), "values.yaml"));
    const validate = compileSchema(file);
    const bad = helmMerge(defaults, ciliumValues({ gatewayAPI: { enabled: "yes" } }, { gatewayApi: true }));
    assert.equal(validate(bad), false);
    assert.ok(
      validate.errors?.some((e) => e.instancePath === "/gatewayAPI/enabled"),
      JSON.stringify(validate.errors),
    );
  });

  it("misspelt keys fail the key-path check for cert-manager, Headlamp, kube-prometheus-stack and Velero", function () {
    const load = (addon: AddonName) => loadDefaults(requireShared(this, ...chartDir(addon), "values.yaml"));
    assert.deepEqual(
      unknownKeyPaths(certManagerValues({ crds: { enable: true } }), load("certManager"), [], []),
      ["crds.enable"],
    );
    const svc = { type: "ClusterIP" as const, port: 80, annotations: {} };
    assert.deepEqual(
      unknownKeyPaths(
        headlampValues(
          { service: svc, fluxPlugin: false, oidc: false },
          { clusterRoleBindng: { create: false } },
        ),
        load("headlamp"),
        [],
        [],
      ),
      ["clusterRoleBindng"],
    );
    const kps = GENERATED.monitoring();
    assert.deepEqual(
      unknownKeyPaths(
        helmMerge(kps, { kubeEtcd: { endpoint: ["10.0.0.1"] } }),
        load("monitoring"),
        FREE_FORM.monitoring,
        KNOWN_EXTRA.monitoring,
      ),
      ["kubeEtcd.endpoint"],
    );
    assert.deepEqual(
      unknownKeyPaths(
        helmMerge(GENERATED.velero(), { nodeAgent: { podVolumPath: "/x" } }),
        load("velero"),
        [],
        [],
      ),
      ["nodeAgent.podVolumPath"],
    );
  });

  it("values of the wrong type fail the cert-manager, Headlamp and Velero schemas", function () {
    for (const [addon, bad] of [
      ["certManager", { crds: { enabled: "yes" } }],
      ["headlamp", { service: { port: "80" } }],
      ["velero", { deployNodeAgent: "true" }],
    ] as const) {
      const defaults = loadDefaults(requireShared(this, ...chartDir(addon), "values.yaml"));
      const validate = compileSchema(requireShared(this, ...chartDir(addon), "values.schema.json"));
      assert.ok(validate(helmMerge(defaults, GENERATED[addon]())), `${addon}: our values pass`);
      assert.equal(
        validate(helmMerge(helmMerge(defaults, GENERATED[addon]()), bad)),
        false,
        `${addon}: ${JSON.stringify(bad)} fails`,
      );
    }
  });
});

describe("Cilium 1.18.9 (a supported version override with a known Gateway API release)", () => {
  const dir = ["reference", "charts", "cilium", "1.18.9"];
  it("our values (L2 LoadBalancer, Gateway API) use only its keys and validate merged into its defaults", function () {
    const defaults = loadDefaults(requireShared(this, ...dir, "values.yaml"));
    const validate = compileSchema(requireShared(this, ...dir, "values.schema.json"));
    const ours = GENERATED.cilium();
    assert.deepEqual(unknownKeyPaths(ours, defaults, [], []), []);
    assert.ok(validate(helmMerge(defaults, ours)), JSON.stringify(validate.errors, null, 2));
  });
});
