/**
 * The platform addons inside `ClusterAddons` under mocks: which resources exist, their order (CRDs
 * before the objects that need them, pools before LoadBalancer Services), what they carry, that
 * turning one addon off removes exactly its resources and leaves the others' inputs alone, and
 * that every credential stays a Pulumi secret.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { AddonsConfigInput } from "../../components/addons";
import { CHARTS, GATEWAY_API_FOR_CILIUM, gatewayApiCrdsUrl } from "../../components/versions";
import { pathsOf, type RecordedResource, type Recording } from "../helpers/mocks";
import { NAMESPACE, READY_TYPE, RELEASE, SECRET } from "./harness";
import {
  allKeys,
  CERTIFICATE,
  CILIUM_L2,
  CILIUM_POOL,
  CLUSTER_ISSUER,
  CONFIG_FILE,
  CRB,
  FAKE_CA_PEM,
  fakeToken,
  GATEWAY,
  HTTPROUTE,
  PASSWORD_TYPE,
  PLATFORM_CONFIG,
  type PlatformRun,
  PROMETHEUS_RULE,
  runPlatform,
  SECRETS,
  SERVICE_ACCOUNT,
} from "./platform-harness";

type Values = Record<string, unknown>;
const valuesOf = (r: RecordedResource): Values => r.inputs.values as Values;
const get = (v: unknown, dotted: string): unknown =>
  dotted.split(".").reduce<unknown>((x, k) => (x && typeof x === "object" ? (x as Values)[k] : undefined), v);

/** The resources each platform addon owns, with the LoadBalancer-only exposure of TOGGLE_BASE. */
const OWNED = {
  ciliumL2: [
    `${CILIUM_POOL}::cilium-pool-default`,
    `${CILIUM_POOL}::cilium-pool-reserved`,
    `${CILIUM_L2}::cilium-l2-policy`,
  ],
  gateway: [
    `${CONFIG_FILE}::gateway-api-crds`,
    `${NAMESPACE}::gateway`,
    `${CERTIFICATE}::gateway-certificate`,
    `${GATEWAY}::gateway`,
    `${HTTPROUTE}::gateway-https-redirect`,
  ],
  certManager: [
    `${NAMESPACE}::cert-manager`,
    `${RELEASE}::certManager`,
    `${CLUSTER_ISSUER}::cluster-issuer-selfsigned`,
    `${CERTIFICATE}::ca-certificate`,
    `${CLUSTER_ISSUER}::cluster-issuer`,
  ],
  headlamp: [
    `${NAMESPACE}::headlamp`,
    `${RELEASE}::headlamp`,
    `${SERVICE_ACCOUNT}::headlamp-admin`,
    `${SERVICE_ACCOUNT}::headlamp-viewer`,
    `${CRB}::headlamp-admin`,
    `${CRB}::headlamp-viewer`,
    `${SECRET}::headlamp-admin-token`,
    `${SECRET}::headlamp-viewer-token`,
  ],
  monitoring: [
    `${NAMESPACE}::monitoring`,
    `${RELEASE}::monitoring`,
    `${SECRET}::alertmanager-smtp`,
    `${PASSWORD_TYPE}::grafana-admin-password`,
    `${SECRET}::grafana-admin`,
    `${PROMETHEUS_RULE}::day2-rules`,
  ],
  velero: [`${NAMESPACE}::velero`, `${RELEASE}::velero`, `${SECRET}::velero-s3`],
} as const;

/** PLATFORM_CONFIG with Grafana on its own LoadBalancer address, so the Gateway can go alone. */
const TOGGLE_BASE: AddonsConfigInput = {
  ...PLATFORM_CONFIG,
  monitoring: { ...PLATFORM_CONFIG.monitoring, grafana: { expose: { loadBalancer: "192.168.50.203:3000" } } },
};

describe("platform addons (mocks)", function () {
  this.timeout(120_000);
  let run: PlatformRun;
  let rec: Recording;
  before(async () => {
    run = await runPlatform(PLATFORM_CONFIG);
    rec = run.rec;
  });

  it("registers the platform resources, each under ClusterAddons with the cluster's provider", () => {
    const keys = allKeys(rec);
    const expected = [
      ...OWNED.ciliumL2,
      ...OWNED.gateway,
      ...OWNED.certManager,
      ...OWNED.headlamp,
      ...OWNED.monitoring,
      ...OWNED.velero,
      `${HTTPROUTE}::grafana-route`,
    ];
    for (const k of expected) assert.ok(keys.has(k), `missing ${k}`);
    const comp = rec.find("proxmox-talos:index:ClusterAddons", "addons");
    const provider = rec.find("pulumi:providers:kubernetes", "kubernetes");
    for (const k of expected) {
      const [type, name] = k.split("::");
      const r = rec.find(type, name);
      assert.equal(r.parentUrn, comp.urn, k);
      // Dynamic resources (the generated password) run in the program, not against the cluster.
      if (r.custom && r.type !== PASSWORD_TYPE)
        assert.equal(r.providerUrn, provider.urn, `${k} uses the cluster's provider`);
    }
  });

  it("pins each platform release to components/versions.ts", () => {
    for (const addon of ["certManager", "headlamp", "monitoring", "velero"] as const) {
      const r = rec.find(RELEASE, addon);
      assert.equal(r.inputs.chart, CHARTS[addon].chart);
      assert.equal(r.inputs.version, CHARTS[addon].version);
      assert.deepEqual(r.inputs.repositoryOpts, { repo: CHARTS[addon].repository });
    }
    assert.equal(rec.find(RELEASE, "cilium").inputs.version, "1.19.6");
  });

  it("applies the Gateway API CRDs of the release Cilium documents, from the published URL, before Cilium", () => {
    const crds = rec.find(CONFIG_FILE, "gateway-api-crds");
    assert.equal(GATEWAY_API_FOR_CILIUM["1.19"], "v1.4.1");
    assert.equal(
      crds.inputs.file,
      "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.4.1/standard-install.yaml",
    );
    assert.equal(crds.inputs.file, gatewayApiCrdsUrl("v1.4.1"));
    const cilium = rec.find(RELEASE, "cilium");
    assert.ok(cilium.dependencies.includes(crds.urn), "Cilium starts after the CRDs exist");
    assert.ok(rec.dependsOn(crds, rec.find(READY_TYPE, "ready")));
    assert.equal(
      crds.providerUrn,
      rec.find("pulumi:providers:kubernetes", "kubernetes").urn,
      "applied to this cluster",
    );
    assert.equal(get(valuesOf(cilium), "gatewayAPI.enabled"), true);
    assert.equal(get(valuesOf(cilium), "l2announcements.enabled"), true);
    assert.equal(get(valuesOf(cilium), "kubeProxyReplacement"), true);
  });

  it("creates Cilium's LB IPAM pools and L2 policy after the Cilium release", () => {
    const cilium = rec.find(RELEASE, "cilium");
    const def = rec.find(CILIUM_POOL, "cilium-pool-default");
    const reserved = rec.find(CILIUM_POOL, "cilium-pool-reserved");
    assert.deepEqual(def.inputs.spec, { blocks: [{ start: "192.168.50.200", stop: "192.168.50.220" }] });
    assert.deepEqual(reserved.inputs.spec, {
      blocks: [{ cidr: "192.168.50.240/29" }],
      serviceSelector: { matchLabels: { "proxmox-talos.io/lb-pool": "reserved" } },
    });
    const l2 = rec.find(CILIUM_L2, "cilium-l2-policy");
    assert.deepEqual(l2.inputs.spec, { loadBalancerIPs: true });
    for (const r of [def, reserved, l2]) assert.ok(r.dependencies.includes(cilium.urn), r.name);
  });

  it("orders cert-manager: release → self-signed bootstrap issuer → CA certificate → CA ClusterIssuer", () => {
    const cm = rec.find(RELEASE, "certManager");
    assert.equal(get(valuesOf(cm), "crds.enabled"), true, "CRDs come with the chart");
    assert.ok(rec.dependsOn(cm, rec.find(RELEASE, "cilium")));
    const boot = rec.find(CLUSTER_ISSUER, "cluster-issuer-selfsigned");
    const ca = rec.find(CERTIFICATE, "ca-certificate");
    const issuer = rec.find(CLUSTER_ISSUER, "cluster-issuer");
    assert.ok(boot.dependencies.includes(cm.urn));
    assert.ok(ca.dependencies.includes(boot.urn) && ca.dependencies.includes(cm.urn));
    assert.ok(issuer.dependencies.includes(ca.urn));
    assert.deepEqual(issuer.inputs.spec, { ca: { secretName: "homelab-ca" } });
    assert.equal(get(ca.inputs, "spec.isCA"), true);
    assert.equal((get(ca.inputs, "metadata.annotations") as Values)["pulumi.com/waitFor"], "condition=Ready");
  });

  it("exports the self-signed CA certificate read from its Secret, as a plain output", async () => {
    assert.ok(run.reads.includes("kubernetes:core/v1:Secret::cert-manager/homelab-ca"), run.reads.join(", "));
    const ca = await settle(run.addons.platform.caCertificate);
    assert.equal(ca.value, FAKE_CA_PEM);
    assert.equal(ca.secret, false, "a CA certificate is public: clients import it");
    assert.equal(rec.stackOutputs.caCertificate, FAKE_CA_PEM);
  });

  it("builds the shared Gateway with a fixed LB IPAM address, the cert-manager certificate and an HTTP→HTTPS redirect", () => {
    const gw = rec.find(GATEWAY, "gateway");
    const cert = rec.find(CERTIFICATE, "gateway-certificate");
    const crds = rec.find(CONFIG_FILE, "gateway-api-crds");
    const spec = gw.inputs.spec as Values;
    assert.equal(spec.gatewayClassName, "cilium");
    assert.deepEqual(spec.infrastructure, { annotations: { "lbipam.cilium.io/ips": "192.168.50.201" } });
    const listeners = spec.listeners as Values[];
    assert.deepEqual(
      listeners.map((l) => [l.name, l.protocol, l.port, l.hostname ?? null]),
      [
        ["http", "HTTP", 80, null],
        ["https", "HTTPS", 443, "*.home.example.com"],
        ["https-apex", "HTTPS", 443, "home.example.com"],
      ],
    );
    for (const l of listeners.slice(1)) {
      assert.deepEqual(l.tls, {
        mode: "Terminate",
        certificateRefs: [{ kind: "Secret", name: "gateway-tls" }],
      });
    }
    assert.deepEqual(get(cert.inputs, "spec.dnsNames"), ["home.example.com", "*.home.example.com"]);
    assert.equal(get(cert.inputs, "spec.secretName"), "gateway-tls");
    assert.deepEqual(get(cert.inputs, "spec.issuerRef"), {
      name: "homelab-ca",
      kind: "ClusterIssuer",
      group: "cert-manager.io",
    });
    assert.ok(cert.dependencies.includes(rec.find(CLUSTER_ISSUER, "cluster-issuer").urn));
    for (const dep of [
      crds,
      cert,
      rec.find(CILIUM_POOL, "cilium-pool-default"),
      rec.find(RELEASE, "cilium"),
    ]) {
      assert.ok(gw.dependencies.includes(dep.urn), `Gateway waits for ${dep.name}`);
    }
    const redirect = rec.find(HTTPROUTE, "gateway-https-redirect");
    assert.deepEqual(redirect.inputs.spec, {
      parentRefs: [{ name: "shared", sectionName: "http" }],
      rules: [
        { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
      ],
    });
    assert.ok(redirect.dependencies.includes(gw.urn) && redirect.dependencies.includes(crds.urn));
  });

  it("exposes Headlamp on its LoadBalancer ip:port after the pools, with the Flux plugin and no cluster-admin for its pod", () => {
    const h = rec.find(RELEASE, "headlamp");
    const v = valuesOf(h);
    assert.deepEqual(v.service, {
      type: "LoadBalancer",
      port: 8080,
      annotations: { "lbipam.cilium.io/ips": "192.168.50.202" },
    });
    assert.deepEqual(v.clusterRoleBinding, { create: false });
    assert.equal(get(v, "pluginsManager.enabled"), true);
    assert.match(String(get(v, "pluginsManager.configContent")), /headlamp_flux\n {4}version: 0\.7\.0\n/);
    assert.ok(h.dependencies.includes(rec.find(CILIUM_POOL, "cilium-pool-default").urn));
    assert.ok(h.dependencies.includes(rec.find(CILIUM_L2, "cilium-l2-policy").urn));
  });

  it("gives Headlamp a read-only and an admin ServiceAccount with long-lived tokens as secret outputs", async () => {
    for (const [sa, role] of [
      ["headlamp-admin", "cluster-admin"],
      ["headlamp-viewer", "view"],
    ]) {
      const crb = rec.find(CRB, sa);
      assert.deepEqual(crb.inputs.roleRef, {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: role,
      });
      assert.deepEqual(crb.inputs.subjects, [{ kind: "ServiceAccount", name: sa, namespace: "headlamp" }]);
      const secret = rec.find(SECRET, `${sa}-token`);
      assert.equal(secret.inputs.type, "kubernetes.io/service-account-token");
      assert.deepEqual(get(secret.inputs, "metadata.annotations"), {
        "kubernetes.io/service-account.name": sa,
      });
      assert.ok(secret.additionalSecretOutputs.includes("data"));
      assert.ok(secret.dependencies.includes(rec.find(SERVICE_ACCOUNT, sa).urn));
    }
    const admin = await settle(run.addons.platform.headlampAdminToken);
    const viewer = await settle(run.addons.platform.headlampViewerToken);
    assert.deepEqual([admin.value, admin.secret], [fakeToken("headlamp-admin"), true]);
    assert.deepEqual([viewer.value, viewer.secret], [fakeToken("headlamp-viewer"), true]);
    assert.ok(rec.secretStackOutputs.includes("headlampAdminToken"));
    assert.ok(rec.secretStackOutputs.includes("headlampViewerToken"));
  });

  it("installs kube-prometheus-stack for Talos: control-plane endpoints, etcd on 2381, storage, Grafana on the Gateway", () => {
    const m = rec.find(RELEASE, "monitoring");
    const v = valuesOf(m);
    const cps = ["192.168.50.11", "192.168.50.12", "192.168.50.13"];
    assert.deepEqual(get(v, "kubeEtcd.endpoints"), cps);
    assert.deepEqual(get(v, "kubeEtcd.service"), { port: 2381, targetPort: 2381 });
    assert.deepEqual(get(v, "kubeControllerManager.endpoints"), cps);
    assert.deepEqual(get(v, "kubeScheduler.serviceMonitor"), { https: true, insecureSkipVerify: true });
    assert.equal(get(v, "kubeProxy.enabled"), false, "Cilium replaces kube-proxy: nothing to scrape");
    assert.equal(get(v, "prometheus.prometheusSpec.retention"), "15d");
    assert.deepEqual(get(v, "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec"), {
      storageClassName: "openebs-hostpath",
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "20Gi" } },
    });
    assert.ok(m.dependencies.includes(rec.find(RELEASE, "openebs").urn), "volumes after the provisioner");
    assert.deepEqual(get(v, "grafana.service"), { type: "ClusterIP", port: 80, annotations: {} });
    const route = rec.find(HTTPROUTE, "grafana-route");
    assert.deepEqual(get(route.inputs, "spec.hostnames"), ["grafana.home.example.com"]);
    assert.deepEqual(get(route.inputs, "spec.parentRefs"), [
      { name: "shared", namespace: "gateway", sectionName: "https" },
    ]);
    assert.deepEqual((get(route.inputs, "spec.rules") as Values[])[0].backendRefs, [
      { name: "monitoring-grafana", port: 80 },
    ]);
    assert.ok(route.dependencies.includes(rec.find(GATEWAY, "gateway").urn));
    const ns = rec.find(NAMESPACE, "monitoring");
    assert.equal(
      (get(ns.inputs, "metadata.labels") as Values)["pod-security.kubernetes.io/enforce"],
      "privileged",
    );
  });

  it("mails alerts through SMTP with the password mounted from a Secret, never in the values", () => {
    const m = rec.find(RELEASE, "monitoring");
    const v = valuesOf(m);
    assert.deepEqual(get(v, "alertmanager.alertmanagerSpec.secrets"), ["alertmanager-smtp"]);
    const global = get(v, "alertmanager.config.global") as Values;
    assert.equal(global.smtp_smarthost, "smtp.example.com:587");
    assert.equal(global.smtp_auth_password_file, "/etc/alertmanager/secrets/alertmanager-smtp/password");
    assert.deepEqual(get(v, "alertmanager.config.receivers"), [
      { name: "null" },
      { name: "email", email_configs: [{ to: "me@example.com", send_resolved: true }] },
    ]);
    const smtp = rec.find(SECRET, "alertmanager-smtp");
    assert.deepEqual(smtp.inputs.stringData, { password: SECRETS.alertmanagerSmtpPassword });
    assert.ok(m.dependencies.includes(smtp.urn));
  });

  it("generates Grafana's admin password once, as a secret output and a secret Secret the chart uses", async () => {
    const pw = await settle(run.addons.platform.grafanaAdminPassword);
    assert.equal(pw.secret, true);
    assert.match(pw.value, /^[A-Za-z0-9_-]{32}$/);
    const gen = rec.find(PASSWORD_TYPE, "grafana-admin-password");
    assert.ok(gen.additionalSecretOutputs.includes("password"));
    const secret = rec.find(SECRET, "grafana-admin");
    assert.deepEqual(secret.inputs.stringData, { "admin-user": "admin", "admin-password": pw.value });
    assert.ok(secret.secretInputPaths.some((p) => p === "stringData" || p.startsWith("stringData.")));
    const m = rec.find(RELEASE, "monitoring");
    assert.deepEqual(get(valuesOf(m), "grafana.admin"), {
      existingSecret: "grafana-admin",
      userKey: "admin-user",
      passwordKey: "admin-password",
    });
    assert.ok(m.dependencies.includes(secret.urn));
    assert.deepEqual(pathsOf(valuesOf(m), pw.value), [], "never in the Helm values");
    assert.ok(rec.secretStackOutputs.includes("grafanaAdminPassword"));
  });

  it("adds the day-2 PrometheusRule after the chart that installs its CRD, selected by the release label", () => {
    const rule = rec.find(PROMETHEUS_RULE, "day2-rules");
    assert.ok(rule.dependencies.includes(rec.find(RELEASE, "monitoring").urn));
    assert.deepEqual(get(rule.inputs, "metadata.labels"), { release: "monitoring" });
    const rules = (
      get(rule.inputs, "spec.groups") as Array<{ rules: Array<{ alert: string; for: string; expr: string }> }>
    )[0].rules;
    assert.deepEqual(
      rules.map((r) => [r.alert, r.for]),
      [
        ["EtcdMemberDown", "3m"],
        ["NodeNotReadyTenMinutes", "10m"],
        ["ClientCertificateExpiringWithinRenewalWindow", "5m"],
        ["KubeletClientCertificateExpiringWithinRenewalWindow", "5m"],
      ],
    );
    // 30 days (clientCerts.renewBeforeDays) in seconds.
    assert.match(rules[2].expr, /< 2592000$/);
    assert.match(rules[3].expr, /< 2592000$/);
  });

  it("installs Velero with the AWS plugin, node-agent fs backups on Talos' kubelet pods path and a daily Schedule", () => {
    const r = rec.find(RELEASE, "velero");
    const v = valuesOf(r);
    assert.deepEqual(
      (v.initContainers as Values[]).map((c) => c.image),
      ["velero/velero-plugin-for-aws:v1.14.2"],
    );
    assert.equal(v.deployNodeAgent, true);
    assert.equal(v.snapshotsEnabled, false, "LocalPV has no CSI snapshots");
    assert.equal(get(v, "nodeAgent.podVolumePath"), "/var/lib/kubelet/pods");
    assert.deepEqual((get(v, "configuration.backupStorageLocation") as Values[])[0].config, {
      region: "us-east-1",
      s3Url: "https://minio.lan:9000",
      s3ForcePathStyle: "true",
    });
    assert.deepEqual(get(v, "schedules.daily"), {
      disabled: false,
      schedule: "0 3 * * *",
      useOwnerReferencesInBackup: false,
      template: { ttl: "720h", includedNamespaces: ["*"], defaultVolumesToFsBackup: true },
    });
    const creds = rec.find(SECRET, "velero-s3");
    assert.equal(
      (creds.inputs.stringData as Values).cloud,
      `[default]\naws_access_key_id=${SECRETS.veleroS3AccessKeyId}\naws_secret_access_key=${SECRETS.veleroS3SecretAccessKey}\n`,
    );
    assert.ok(r.dependencies.includes(creds.urn));
    const labels = get(rec.find(NAMESPACE, "velero").inputs, "metadata.labels") as Values;
    assert.equal(
      labels["pod-security.kubernetes.io/enforce"],
      "privileged",
      "the node agent mounts a host path",
    );
  });

  it("keeps every credential secret: only in secret inputs, never in plain outputs", async () => {
    for (const [name, value] of Object.entries(SECRETS)) {
      if (name === "headlampOidcClientSecret" || name === "certManagerCloudflareToken") continue; // not used by this config
      let seen = 0;
      for (const r of rec.resources) {
        for (const p of pathsOf(r.inputs, value)) {
          seen++;
          assert.ok(
            r.secretInputPaths.some((s) => p === s || p.startsWith(`${s}.`) || p.startsWith(`${s}[`)),
            `${r.type} ${r.name} input ${p} holds ${name} in plain text`,
          );
        }
        assert.deepEqual(pathsOf(r.outputs ?? {}, value), [], `outputs of ${r.type} ${r.name}`);
      }
      assert.ok(seen > 0, `${name} reaches the cluster`);
      assert.deepEqual(pathsOf(rec.stackOutputs, value), []);
    }
    for (const r of rec.byType(RELEASE)) {
      for (const value of Object.values(SECRETS))
        assert.deepEqual(pathsOf(r.inputs, value), [], `${r.name} values`);
    }
  });

  describe("ACME and OIDC variants", () => {
    it("ACME: a Let's Encrypt DNS-01 ClusterIssuer whose Cloudflare token is a secret Secret; no CA output", async () => {
      const r = await runPlatform({
        ...PLATFORM_CONFIG,
        certManager: { enabled: true, issuer: { type: "acme", email: "me@example.com", server: "staging" } },
      });
      const issuer = r.rec.find(CLUSTER_ISSUER, "cluster-issuer");
      assert.deepEqual(issuer.inputs.spec, {
        acme: {
          email: "me@example.com",
          server: "https://acme-staging-v02.api.letsencrypt.org/directory",
          privateKeySecretRef: { name: "letsencrypt-account-key" },
          solvers: [
            {
              dns01: {
                cloudflare: { apiTokenSecretRef: { name: "cloudflare-api-token", key: "api-token" } },
              },
            },
          ],
        },
      });
      const token = r.rec.find(SECRET, "cert-manager-cloudflare-token");
      assert.deepEqual(token.inputs.stringData, { "api-token": SECRETS.certManagerCloudflareToken });
      assert.ok(token.secretInputPaths.some((p) => p === "stringData" || p.startsWith("stringData.")));
      assert.ok(issuer.dependencies.includes(token.urn));
      assert.equal(r.rec.tryFind(CERTIFICATE, "ca-certificate"), undefined);
      assert.equal(r.addons.platform.caCertificate, undefined);
      assert.equal(
        get(r.rec.find(CERTIFICATE, "gateway-certificate").inputs, "spec.issuerRef.name"),
        "letsencrypt",
      );
    });

    it("OIDC: Headlamp reads its settings from a secret Secret and gets no ServiceAccount tokens", async () => {
      const r = await runPlatform({
        ...PLATFORM_CONFIG,
        headlamp: {
          enabled: true,
          expose: { hostname: "headlamp.home.example.com" },
          oidc: { issuerURL: "https://auth.example.com/realms/lab", clientID: "headlamp" },
        },
      });
      const oidc = r.rec.find(SECRET, "headlamp-oidc");
      assert.deepEqual(oidc.inputs.stringData, {
        OIDC_CLIENT_ID: "headlamp",
        OIDC_CLIENT_SECRET: SECRETS.headlampOidcClientSecret,
        OIDC_ISSUER_URL: "https://auth.example.com/realms/lab",
        OIDC_SCOPES: "openid,profile,email",
        OIDC_CALLBACK_URL: "https://headlamp.home.example.com/oidc-callback",
      });
      assert.deepEqual(oidc.secretInputPaths, ["stringData"]);
      const v = valuesOf(r.rec.find(RELEASE, "headlamp"));
      assert.deepEqual(get(v, "config.oidc.externalSecret"), {
        enabled: true,
        name: "headlamp-oidc",
        hasScopes: true,
      });
      // The chart passes the callback flag only when config.oidc.callbackURL is set.
      assert.equal(get(v, "config.oidc.callbackURL"), "https://headlamp.home.example.com/oidc-callback");
      assert.deepEqual(v.service, { type: "ClusterIP", port: 80, annotations: {} });
      assert.equal(r.rec.byType(SERVICE_ACCOUNT).length, 0);
      assert.equal(r.addons.platform.headlampAdminToken, undefined);
      const route = r.rec.find(HTTPROUTE, "headlamp-route");
      assert.deepEqual(get(route.inputs, "spec.hostnames"), ["headlamp.home.example.com"]);
      assert.ok(r.rec.find(RELEASE, "headlamp").dependencies.includes(oidc.urn));
    });

    it("MetalLB as the LoadBalancer: the fixed addresses use MetalLB's annotation and wait for its pools", async () => {
      const r = await runPlatform({
        ...PLATFORM_CONFIG,
        cilium: { enabled: true },
        metallb: {
          enabled: true,
          pools: [{ name: "default", addresses: ["192.168.50.200-192.168.50.220"] }],
        },
      });
      assert.equal(r.rec.byType(CILIUM_POOL).length, 0);
      const gw = r.rec.find(GATEWAY, "gateway");
      assert.deepEqual(get(gw.inputs, "spec.infrastructure"), {
        annotations: { "metallb.io/loadBalancerIPs": "192.168.50.201" },
      });
      const pool = r.rec.find("kubernetes:metallb.io/v1beta1:IPAddressPool", "metallb-pool-default");
      assert.ok(gw.dependencies.includes(pool.urn));
      assert.ok(r.rec.find(RELEASE, "headlamp").dependencies.includes(pool.urn));
      assert.equal(get(valuesOf(r.rec.find(RELEASE, "cilium")), "l2announcements"), undefined);
    });
  });

  describe("toggles", () => {
    let base: Recording;
    before(async () => {
      base = (await runPlatform(TOGGLE_BASE)).rec;
    });

    const cases: Array<{
      name: string;
      patch: AddonsConfigInput;
      from?: AddonsConfigInput;
      owned: readonly string[];
      changed?: string[];
    }> = [
      {
        name: "gateway",
        patch: { gateway: { enabled: false } },
        owned: OWNED.gateway,
        changed: [`${RELEASE}::cilium`],
      },
      { name: "headlamp", patch: { headlamp: { enabled: false } }, owned: OWNED.headlamp },
      { name: "monitoring", patch: { monitoring: { enabled: false } }, owned: OWNED.monitoring },
      { name: "velero", patch: { velero: { enabled: false } }, owned: OWNED.velero },
    ];
    for (const c of cases) {
      it(`turning ${c.name} off removes exactly its resources and leaves the others' inputs alone`, async () => {
        const after = (await runPlatform({ ...TOGGLE_BASE, ...c.patch })).rec;
        const beforeKeys = allKeys(base);
        const afterKeys = allKeys(after);
        assert.deepEqual([...beforeKeys].filter((k) => !afterKeys.has(k)).sort(), [...c.owned].sort());
        assert.deepEqual(
          [...afterKeys].filter((k) => !beforeKeys.has(k)),
          [],
        );
        for (const k of afterKeys) {
          if (c.changed?.includes(k)) continue;
          const [type, name] = k.split("::");
          assert.deepEqual(after.find(type, name).inputs, base.find(type, name).inputs, `${k} unchanged`);
        }
      });
    }

    it("turning the Gateway off drops only Cilium's gatewayAPI value", async () => {
      const after = (await runPlatform({ ...TOGGLE_BASE, gateway: { enabled: false } })).rec;
      const a = valuesOf(after.find(RELEASE, "cilium"));
      const b = valuesOf(base.find(RELEASE, "cilium"));
      assert.deepEqual({ ...a, gatewayAPI: undefined }, { ...b, gatewayAPI: undefined });
      assert.equal(a.gatewayAPI, undefined);
      assert.ok(!after.find(RELEASE, "cilium").dependencies.some((u) => u.includes("gateway-api-crds")));
    });

    it("turning cert-manager off (with the Gateway) removes exactly both", async () => {
      const noGw = (await runPlatform({ ...TOGGLE_BASE, gateway: { enabled: false } })).rec;
      const after = (
        await runPlatform({ ...TOGGLE_BASE, gateway: { enabled: false }, certManager: { enabled: false } })
      ).rec;
      const b = allKeys(noGw);
      const a = allKeys(after);
      assert.deepEqual([...b].filter((k) => !a.has(k)).sort(), [...OWNED.certManager].sort());
      assert.deepEqual(
        [...a].filter((k) => !b.has(k)),
        [],
      );
    });

    it("turning Cilium's L2 LoadBalancer off (for MetalLB) removes its pools and policy", async () => {
      const metallb = {
        enabled: true,
        pools: [{ name: "default", addresses: ["192.168.50.200-192.168.50.220"] }],
      };
      const after = (await runPlatform({ ...TOGGLE_BASE, cilium: { enabled: true }, metallb })).rec;
      const a = allKeys(after);
      for (const k of OWNED.ciliumL2) assert.ok(!a.has(k), k);
      assert.ok(a.has("kubernetes:metallb.io/v1beta1:IPAddressPool::metallb-pool-default"));
    });
  });
});

async function settle<T>(o: pulumi.Output<T> | undefined): Promise<{ value: T; secret: boolean }> {
  assert.ok(o, "output is defined");
  const secret = await pulumi.isSecret(o);
  const value = await new Promise<T>((resolve) => o.apply((v) => resolve(v)));
  return { value, secret };
}
