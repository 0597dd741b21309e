import * as assert from "node:assert/strict";
import { OPENEBS_HOSTPATH_BASE } from "../../components/talos/constants";
import type { PlainObject } from "../../components/talos/machineconfig/patch-yaml";
import {
  buildMachineConfigDocuments,
  renderMachineConfig,
  talosMinorOf,
} from "../../components/talos/machineconfig/render";
import { validateMachineConfig } from "../../components/talos/machineconfig/validate";
import { TALOS_MINORS, talosMinorFacts } from "../../components/talos-minors";
import { requireShared } from "../helpers/shared";
import {
  at,
  baseInput,
  docs,
  fakeBundle,
  kindsMissingFromSchema,
  MINORS,
  minorsWhere,
  NEWEST,
  ROLES,
  schemaErrors,
} from "./fixtures-machineconfig";

const kinds = (yaml: string): string[] => docs(yaml).map((d) => String(d.kind ?? "v1alpha1"));
const b64 = (s: string): string => Buffer.from(s).toString("base64");

/** The rows by config layout (tests pick minors by their row's facts, never by name). */
const LEGACY_NETWORK = minorsWhere((c) => !c.multiDocNetwork);
const NETWORK_DOCS = minorsWhere((c) => c.multiDocNetwork);
const V1ALPHA1_KUBERNETES = minorsWhere((c) => !c.multiDocKubernetes);
const KUBERNETES_DOCS = minorsWhere((c) => c.multiDocKubernetes);
const last = <T>(xs: readonly T[]): T => xs[xs.length - 1]!;
const docOf = (ds: PlainObject[], kind: string, name?: string): PlainObject | undefined =>
  ds.find((d) => d.kind === kind && (name === undefined || d.name === name));

describe("talos machine config: rendering", () => {
  const bundle = fakeBundle();

  it("parses Talos versions into supported minors and refuses others", () => {
    const oldest = MINORS[0]!;
    const [oMaj, oMin] = oldest.split(".").map(Number) as [number, number];
    const [nMaj, nMin] = NEWEST.split(".").map(Number) as [number, number];
    assert.equal(talosMinorOf(`v${oldest}.5`), oldest);
    assert.equal(talosMinorOf(NEWEST), NEWEST);
    assert.equal(talosMinorOf(`${NEWEST}.0-beta.1`), NEWEST);
    const below = `${oMaj}.${oMin - 1}.6`;
    assert.throws(() => talosMinorOf(below), new RegExp(`unsupported Talos version "${below}"`));
    assert.throws(() => talosMinorOf(`${nMaj}.${nMin + 1}.0`), /unsupported/);
  });

  it("single v1alpha1 document (≤ 1.11 rows): legacy features, apiServer SANs, hostname/nameservers/VIP in machine.network", () => {
    for (const minor of LEGACY_NETWORK) {
      const y = renderMachineConfig(baseInput(minor, "controlplane", bundle));
      assert.deepEqual(kinds(y), ["v1alpha1"]);
      const [v1] = docs(y);
      assert.equal(at(v1, "machine.features.rbac"), true);
      assert.equal(at(v1, "machine.features.stableHostname"), true);
      assert.equal(at(v1, "machine.features.apidCheckExtKeyUsage"), true);
      assert.equal(at(v1, "cluster.apiServer.disablePodSecurityPolicy"), true);
      assert.deepEqual(at(v1, "cluster.apiServer.certSANs"), ["10.0.0.10", "10.0.0.11", "k8s.home.arpa"]);
      assert.equal(at(v1, "machine.network.hostname"), "cp-1");
      assert.deepEqual(at(v1, "machine.network.nameservers"), ["10.0.0.1", "1.1.1.1"]);
      assert.deepEqual(at(v1, "machine.network.interfaces"), [
        { deviceSelector: { physical: true }, vip: { ip: "10.0.0.10" } },
      ]);
      assert.equal(at(v1, "machine.install.grubUseUKICmdline"), undefined);
    }
  });

  it("network documents (1.12+ rows): HostnameConfig (static, no auto), ResolverConfig, LinkAliasConfig + Layer2VIPConfig; legacy fields gone", () => {
    for (const minor of NETWORK_DOCS) {
      const layout = talosMinorFacts(minor)!.config;
      const ds = docs(renderMachineConfig(baseInput(minor, "controlplane", bundle)));
      const v1 = ds[0];
      if (!layout.multiDocKubernetes) {
        assert.deepEqual(
          ds.map((d) => d.kind ?? "v1alpha1"),
          ["v1alpha1", "HostnameConfig", "ResolverConfig", "LinkAliasConfig", "Layer2VIPConfig"],
        );
      }
      const [host, resolver, alias, vip] = [
        "HostnameConfig",
        "ResolverConfig",
        "LinkAliasConfig",
        "Layer2VIPConfig",
      ].map((k) => docOf(ds, k));
      assert.deepEqual(host, { apiVersion: "v1alpha1", kind: "HostnameConfig", hostname: "cp-1" });
      assert.deepEqual(resolver!.nameservers, [{ address: "10.0.0.1" }, { address: "1.1.1.1" }]);
      assert.equal(alias!.name, vip!.link);
      assert.equal(vip!.name, "10.0.0.10");
      assert.match(String(at(alias, "selector.match")), /link\.type == 1/);
      for (const gone of [
        "machine.features.rbac",
        "machine.features.stableHostname",
        "machine.features.apidCheckExtKeyUsage",
        "cluster.apiServer.certSANs",
        "cluster.apiServer.disablePodSecurityPolicy",
        "machine.network.hostname",
        "machine.network.interfaces",
      ]) {
        assert.equal(at(v1, gone), undefined, `${minor}: ${gone} must not be emitted`);
      }
      assert.equal(at(v1, "machine.install.grubUseUKICmdline"), layout.multiDocKubernetes ? undefined : true);
      assert.deepEqual(at(v1, "machine.certSANs"), ["10.0.0.10", "10.0.0.11", "k8s.home.arpa"]);
      // The empty machine.network: {} of the generator, where the row says it emits one.
      const worker = docs(renderMachineConfig(baseInput(minor, "worker", bundle)))[0];
      if (layout.emptyNetworkSection) assert.deepEqual(at(worker, "machine.network"), {});
      else assert.equal(at(worker, "machine.network"), undefined);
    }
  });

  it("a MAC or fixed link name selects the VIP link", () => {
    for (const minor of NETWORK_DOCS) {
      const mac = docs(
        renderMachineConfig(
          baseInput(minor, "controlplane", bundle, { vipLink: { kind: "mac", mac: "BC:24:11:00:00:01" } }),
        ),
      );
      assert.equal(
        at(docOf(mac, "LinkAliasConfig"), "selector.match"),
        'mac(link.permanent_addr) == "bc:24:11:00:00:01"',
      );
      const named = docs(
        renderMachineConfig(
          baseInput(minor, "controlplane", bundle, { vipLink: { kind: "name", name: "ens18" } }),
        ),
      );
      assert.equal(docOf(named, "LinkAliasConfig"), undefined);
      assert.equal(docOf(named, "Layer2VIPConfig")!.link, "ens18");
    }
    for (const minor of LEGACY_NETWORK) {
      const legacy = docs(
        renderMachineConfig(
          baseInput(minor, "controlplane", bundle, { vipLink: { kind: "name", name: "eth0" } }),
        ),
      );
      assert.deepEqual(at(legacy[0], "machine.network.interfaces"), [
        { interface: "eth0", vip: { ip: "10.0.0.10" } },
      ]);
    }
  });

  it("workers (v1alpha1 Kubernetes rows): empty CA keys, reduced cluster section, no nodeLabels, never a VIP", () => {
    for (const minor of V1ALPHA1_KUBERNETES) {
      const y = renderMachineConfig(baseInput(minor, "worker", bundle));
      const [v1, ...rest] = docs(y);
      assert.equal(at(v1, "machine.type"), "worker");
      assert.equal(at(v1, "machine.ca.key"), "");
      assert.equal(at(v1, "machine.ca.crt"), b64(bundle.certs.os.crt));
      assert.equal(at(v1, "cluster.ca.key"), "");
      assert.equal(at(v1, "machine.nodeLabels"), undefined);
      assert.deepEqual(Object.keys(at(v1, "cluster") as PlainObject), [
        "id",
        "secret",
        "controlPlane",
        "clusterName",
        "network",
        "token",
        "ca",
        "discovery",
      ]);
      assert.ok(!rest.some((d) => d.kind === "Layer2VIPConfig" || d.kind === "LinkAliasConfig"));
      assert.equal(at(v1, "machine.network.interfaces"), undefined);
      assert.deepEqual(at(v1, "machine.certSANs"), ["10.0.0.10", "10.0.0.21", "k8s.home.arpa"]);
    }
  });

  it("control planes (v1alpha1 Kubernetes rows) carry every CA key, secretbox secret, KubePrism, CNI none, kube-proxy disabled", () => {
    for (const minor of V1ALPHA1_KUBERNETES) {
      const [v1] = docs(renderMachineConfig(baseInput(minor, "controlplane", bundle)));
      assert.equal(at(v1, "machine.ca.key"), b64(bundle.certs.os.key));
      assert.equal(at(v1, "cluster.ca.key"), b64(bundle.certs.k8s.key));
      assert.equal(at(v1, "cluster.aggregatorCA.key"), b64(bundle.certs.k8sAggregator.key));
      assert.equal(at(v1, "cluster.serviceAccount.key"), b64(bundle.certs.k8sServiceAccount.key));
      assert.equal(at(v1, "cluster.etcd.ca.key"), b64(bundle.certs.etcd.key));
      assert.equal(at(v1, "cluster.secretboxEncryptionSecret"), bundle.secrets.secretboxEncryptionSecret);
      assert.equal(at(v1, "cluster.token"), bundle.secrets.bootstrapToken);
      assert.equal(at(v1, "machine.token"), bundle.trustdInfo.token);
      assert.deepEqual(at(v1, "machine.features.kubePrism"), { enabled: true, port: 7445 });
      assert.deepEqual(at(v1, "cluster.network.cni"), { name: "none" });
      assert.equal(at(v1, "cluster.proxy.disabled"), true);
      assert.equal(at(v1, "cluster.controlPlane.endpoint"), "https://10.0.0.10:6443");
      assert.equal(at(v1, "machine.install.disk"), "/dev/sda");
      assert.equal(at(v1, "cluster.allowSchedulingOnControlPlanes"), undefined);
      assert.deepEqual(at(v1, "machine.nodeLabels"), {
        "node.kubernetes.io/exclude-from-external-load-balancers": "",
      });
    }
  });

  it("flannel + kube-proxy, no OpenEBS, no discovery, scheduling on CPs, custom subnets/disk (v1alpha1 Kubernetes)", () => {
    const [v1] = docs(
      renderMachineConfig(
        baseInput(last(V1ALPHA1_KUBERNETES), "controlplane", bundle, {
          cni: "flannel",
          kubeProxyDisabled: false,
          openebsHostpath: false,
          discovery: false,
          allowSchedulingOnControlPlanes: true,
          podSubnets: ["10.32.0.0/16"],
          serviceSubnets: ["10.33.0.0/16"],
          installDisk: "/dev/vda",
        }),
      ),
    );
    assert.equal(at(v1, "cluster.network.cni"), undefined);
    assert.equal(at(v1, "cluster.proxy.disabled"), undefined);
    assert.equal(at(v1, "machine.kubelet.extraMounts"), undefined);
    assert.deepEqual(at(v1, "cluster.discovery"), { enabled: false });
    assert.equal(at(v1, "cluster.allowSchedulingOnControlPlanes"), true);
    assert.deepEqual(at(v1, "cluster.network.podSubnets"), ["10.32.0.0/16"]);
    assert.deepEqual(at(v1, "cluster.network.serviceSubnets"), ["10.33.0.0/16"]);
    assert.equal(at(v1, "machine.install.disk"), "/dev/vda");
  });

  it("Kubernetes documents (1.14+ rows): secrets, CAs and settings each in their own document; v1alpha1 keeps the rest", () => {
    for (const minor of KUBERNETES_DOCS) {
      const cp = docs(renderMachineConfig(baseInput(minor, "controlplane", bundle)));
      const v1 = cp[0]!;
      assert.deepEqual(Object.keys(at(v1, "machine") as PlainObject), [
        "type",
        "token",
        "ca",
        "certSANs",
        "kubelet",
        "features",
      ]);
      assert.deepEqual(at(v1, "machine.ca"), {
        crt: b64(bundle.certs.os.crt),
        key: b64(bundle.certs.os.key),
      });
      assert.deepEqual(at(v1, "cluster"), {
        token: bundle.secrets.bootstrapToken,
        etcd: { ca: { crt: b64(bundle.certs.etcd.crt), key: b64(bundle.certs.etcd.key) } },
      });
      assert.deepEqual(docOf(cp, "DiscoveryIdentityConfig"), {
        apiVersion: "v1alpha1",
        kind: "DiscoveryIdentityConfig",
        clusterID: bundle.cluster.id,
        clusterSecret: bundle.cluster.secret,
      });
      assert.equal(docOf(cp, "DiscoveryServiceConfig")!.endpoint, "https://discovery.talos.dev/");
      assert.deepEqual(
        at(docOf(cp, "UnattendedInstallConfig"), "installer.image"),
        baseInput(minor, "controlplane", bundle).installImage,
      );
      assert.equal(
        at(docOf(cp, "UnattendedInstallConfig"), "provisioning.diskSelector.match"),
        'disk.dev_path == "/dev/sda"',
      );
      assert.deepEqual(at(docOf(cp, "ResolverConfig"), "hostDNS"), {
        enabled: true,
        forwardKubeDNSToHost: true,
      });
      assert.equal(docOf(cp, "KubeClusterConfig")!.endpoint, "https://10.0.0.10:6443");
      assert.deepEqual(at(docOf(cp, "KubeNodeConfig"), "taints"), {
        "node-role.kubernetes.io/control-plane": "NoSchedule",
      });
      assert.deepEqual(docOf(cp, "KubeAPIServerCAConfig")!.issuingCA, {
        cert: bundle.certs.k8s.crt,
        key: bundle.certs.k8s.key,
      });
      assert.deepEqual(docOf(cp, "KubeAggregatorCAConfig")!.issuingCA, {
        cert: bundle.certs.k8sAggregator.crt,
        key: bundle.certs.k8sAggregator.key,
      });
      assert.equal(
        at(docOf(cp, "KubeServiceAccountConfig"), "issuer.privateKey"),
        bundle.certs.k8sServiceAccount.key,
      );
      assert.match(
        JSON.stringify(docOf(cp, "KubeEtcdEncryptionConfig")),
        new RegExp(bundle.secrets.secretboxEncryptionSecret!.replace(/[+/]/g, "\\$&")),
      );
      assert.equal(docOf(cp, "KubePrismConfig")!.port, 7445);
      assert.equal(docOf(cp, "KubeProxyConfig")!.enabled, false, "kube-proxy off with Cilium");
      assert.equal(docOf(cp, "KubeFlannelCNIConfig"), undefined, "CNI none: no flannel document");
      assert.equal(
        docOf(cp, "KubeletConfig"),
        undefined,
        "OpenEBS mount keeps the kubelet in machine.kubelet",
      );
      assert.deepEqual(
        at(v1, "machine.kubelet.image"),
        `ghcr.io/siderolabs/kubelet:v${baseInput(minor, "controlplane", bundle).kubernetesVersion}`,
      );

      const worker = docs(renderMachineConfig(baseInput(minor, "worker", bundle)));
      assert.deepEqual(at(worker[0], "cluster"), { token: bundle.secrets.bootstrapToken });
      assert.equal(at(worker[0], "machine.ca.key"), "");
      assert.deepEqual(docOf(worker, "KubeAPIServerCAConfig")!.acceptedCAs, [bundle.certs.k8s.crt]);
      assert.deepEqual(docOf(worker, "KubeNodeConfig"), {
        apiVersion: "v1alpha1",
        kind: "KubeNodeConfig",
        nodeIP: {},
      });
      for (const cpOnly of [
        "KubeAggregatorCAConfig",
        "KubeServiceAccountConfig",
        "KubeEtcdEncryptionConfig",
        "KubeAPIServerConfig",
      ]) {
        assert.equal(docOf(worker, cpOnly), undefined, `worker without ${cpOnly}`);
      }
      assert.ok(!worker.some((d) => d.kind === "Layer2VIPConfig" || d.kind === "LinkAliasConfig"));

      const plain = docs(
        renderMachineConfig(
          baseInput(minor, "controlplane", bundle, {
            cni: "flannel",
            kubeProxyDisabled: false,
            openebsHostpath: false,
            discovery: false,
            allowSchedulingOnControlPlanes: true,
          }),
        ),
      );
      assert.equal(at(plain[0], "machine.kubelet"), undefined);
      assert.equal(docOf(plain, "KubeletConfig")!.defaultRuntimeSeccompProfileEnabled, true);
      assert.equal(docOf(plain, "KubeProxyConfig")!.enabled, undefined);
      assert.deepEqual(docOf(plain, "KubeFlannelCNIConfig"), {
        apiVersion: "v1alpha1",
        kind: "KubeFlannelCNIConfig",
        backendType: "vxlan",
        backendPort: 4789,
      });
      assert.equal(docOf(plain, "DiscoveryServiceConfig"), undefined);
      assert.equal(at(docOf(plain, "KubeNodeConfig"), "taints"), undefined);
    }
  });

  it("OpenEBS hostpath: rshared bind mount of OPENEBS_HOSTPATH_BASE into the kubelet, on both roles", () => {
    assert.equal(OPENEBS_HOSTPATH_BASE, "/var/openebs/local");
    for (const [minor, role] of MINORS.flatMap((m) => ROLES.map((r) => [m, r] as const))) {
      const [v1] = docs(renderMachineConfig(baseInput(minor, role, bundle)));
      assert.deepEqual(at(v1, "machine.kubelet.extraMounts"), [
        {
          destination: OPENEBS_HOSTPATH_BASE,
          type: "bind",
          source: OPENEBS_HOSTPATH_BASE,
          options: ["bind", "rshared", "rw"],
        },
      ]);
    }
  });

  it("no VIP given: none configured and the endpoint host still in the SANs", () => {
    for (const minor of MINORS) {
      const input = baseInput(minor, "controlplane", bundle, {
        vip: undefined,
        endpoint: "https://k8s.home.arpa:6443",
        certSANs: [],
      });
      const [v1, ...rest] = docs(renderMachineConfig(input));
      assert.ok(!rest.some((d) => d.kind === "Layer2VIPConfig"));
      assert.equal(at(v1, "machine.network.interfaces"), undefined);
      assert.deepEqual(at(v1, "machine.certSANs"), ["k8s.home.arpa", "10.0.0.11"]);
      if (talosMinorFacts(minor)!.config.apiServerCertSANs) {
        assert.deepEqual(at(v1, "cluster.apiServer.certSANs"), ["k8s.home.arpa", "10.0.0.11"]);
      }
    }
  });

  it("is deterministic and applies patches at the end", () => {
    for (const minor of MINORS) {
      const input = baseInput(minor, "controlplane", bundle);
      assert.equal(renderMachineConfig(input), renderMachineConfig(input));
      const patched = renderMachineConfig({
        ...input,
        patches: ["machine:\n  sysctls:\n    vm.max_map_count: '262144'\n"],
      });
      assert.deepEqual(at(docs(patched)[0], "machine.sysctls"), { "vm.max_map_count": "262144" });
    }
  });

  it("refuses bad input and patches that break the config, naming the node and path", () => {
    assert.throws(
      () => renderMachineConfig(baseInput(NEWEST, "worker", bundle, { endpoint: "http://x:6443" })),
      /https/,
    );
    assert.throws(
      () => renderMachineConfig(baseInput(NEWEST, "worker", bundle, { podSubnets: [] })),
      /worker-1: podSubnets is empty/,
    );
    assert.throws(
      () => renderMachineConfig(baseInput(NEWEST, "controlplane", bundle, { vip: "10.0.0" })),
      /cp-1: vip "10.0.0" is not an IP address/,
    );
    assert.throws(
      () =>
        renderMachineConfig(
          baseInput(MINORS[0]!, "controlplane", bundle, {
            patches: ["machine:\n  install:\n    disk: sda\n"],
          }),
        ),
      /node cp-1: config invalid after patches: v1alpha1: machine.install.disk: must be a \/dev\/… path/,
    );
    assert.throws(
      () =>
        renderMachineConfig(
          baseInput(NEWEST, "worker", bundle, {
            patches: ["apiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: 10.0.0.99\nlink: eth0\n"],
          }),
        ),
      /node worker-1: config invalid after patches: .*a worker must not carry a VIP/,
    );
  });

  it("patches are judged by the rendered Talos version: a kind is refused before the row that registers it", () => {
    for (const [i, row] of TALOS_MINORS.entries()) {
      const older = TALOS_MINORS[i - 1];
      if (!older) continue;
      const kind = (row.newDocumentKinds as readonly string[]).includes("HostnameConfig")
        ? "HostnameConfig"
        : row.newDocumentKinds[0]!;
      const patch =
        kind === "HostnameConfig"
          ? `apiVersion: v1alpha1\nkind: ${kind}\nhostname: other\n`
          : `apiVersion: v1alpha1\nkind: ${kind}\nname: x\n`;
      assert.throws(
        () => renderMachineConfig(baseInput(older.minor, "worker", bundle, { patches: [patch] })),
        new RegExp(`node worker-1: patch #1: .*"${kind}" "v1alpha1": not registered`),
      );
      if (kind === "HostnameConfig") {
        const y = renderMachineConfig(baseInput(row.minor, "worker", bundle, { patches: [patch] }));
        assert.equal(docOf(docs(y), "HostnameConfig")!.hostname, "other");
      }
    }
  });

  it("validate: cross-field checks find a missing or unexpected VIP and hostname conflicts", () => {
    for (const minor of MINORS) {
      const cp = renderMachineConfig(baseInput(minor, "controlplane", bundle));
      assert.deepEqual(validateMachineConfig(cp, { role: "controlplane", vip: "10.0.0.10" }), []);
      assert.match(
        JSON.stringify(validateMachineConfig(cp, { role: "controlplane", vip: "10.0.0.77" })),
        /VIP 10.0.0.77 is not configured/,
      );
      assert.match(
        JSON.stringify(validateMachineConfig(cp, { role: "controlplane", vip: undefined })),
        /unexpected VIP 10.0.0.10/,
      );
      assert.match(JSON.stringify(validateMachineConfig(cp, { role: "worker" })), /expected worker/);
    }
    const built = buildMachineConfigDocuments(baseInput(NETWORK_DOCS[0]!, "controlplane", bundle));
    (built[0]!.machine as PlainObject).network = { hostname: "x" };
    const issues = validateMachineConfig(built.map((d) => JSON.stringify(d)).join("\n---\n"));
    assert.match(JSON.stringify(issues), /machine.network.hostname.*conflicts with the HostnameConfig/);
  });
});

describe("talos machine config: published JSON schema (../shared)", () => {
  const bundle = fakeBundle();
  const patches = {
    controlplane: [
      "machine:\n  sysctls:\n    net.core.somaxconn: '65535'\n  certSANs: [cp.example]\ncluster:\n  apiServer:\n    extraArgs:\n      audit-log-maxage: '30'\n",
      "- op: add\n  path: /machine/time\n  value: {servers: [time.cloudflare.com]}\n",
    ],
    worker: [
      "machine:\n  nodeLabels:\n    role: storage\n  kubelet:\n    extraArgs:\n      max-pods: '150'\n",
    ],
  } as const;

  for (const minor of MINORS) {
    for (const role of ROLES) {
      for (const withPatches of [false, true]) {
        it(`${minor} ${role} ${withPatches ? "with" : "without"} patches validates against v${minor}/config.schema.json`, function () {
          requireShared(this, "reference", "talos", `v${minor}`, "config.schema.json");
          const missing = kindsMissingFromSchema(minor, renderMachineConfig(baseInput(minor, role, bundle)));
          if (missing.length > 0) {
            // A schema from a pre-release (1.14's is from rc.1): the oracle is the judge there.
            console.log(
              `      skipped: v${minor}/config.schema.json lacks kinds of the release: ${missing.join(", ")}`,
            );
            this.skip();
          }
          // JSON 6902 only applies to single-document (≤ 1.11) configs.
          const multi = talosMinorFacts(minor)!.config.multiDocNetwork;
          const list = withPatches ? patches[role].filter((p) => !(multi && p.startsWith("- op"))) : [];
          const y = renderMachineConfig(baseInput(minor, role, bundle, { patches: list }));
          if (withPatches && role === "controlplane") assert.match(y, /somaxconn/);
          assert.deepEqual(schemaErrors(minor, y), []);
        });
      }
    }
  }

  it("the schema check itself rejects a wrong document", function () {
    requireShared(this, "reference", "talos");
    const minor = last(
      NETWORK_DOCS.filter(
        (m) =>
          kindsMissingFromSchema(m, renderMachineConfig(baseInput(m, "controlplane", bundle))).length === 0,
      ),
    );
    requireShared(this, "reference", "talos", `v${minor}`, "config.schema.json");
    const y = renderMachineConfig(baseInput(minor, "controlplane", bundle));
    assert.deepEqual(schemaErrors(minor, y), []);
    assert.notDeepEqual(
      schemaErrors(minor, y.replace("hostname: cp-1", "hostname: cp-1\nauto: sometimes")),
      [],
    );
    assert.notDeepEqual(schemaErrors(minor, y.replace("persist: true", "persist: true\nbogus: 1")), []);
  });
});
