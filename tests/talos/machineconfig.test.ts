import * as assert from "node:assert/strict";
import { OPENEBS_HOSTPATH_BASE } from "../../components/talos/constants";
import {
  buildMachineConfigDocuments,
  renderMachineConfig,
  talosMinorOf,
} from "../../components/talos/machineconfig";
import {
  isPlainObject,
  type PlainObject,
  type PlainValue,
  parseYamlDocuments,
} from "../../components/talos/patch-yaml";
import { validateMachineConfig } from "../../components/talos/validate";
import { requireShared } from "../helpers/shared";
import { baseInput, fakeBundle, MINORS, ROLES, schemaErrors } from "./fixtures-machineconfig";

function docs(yaml: string): PlainObject[] {
  return parseYamlDocuments(yaml).map((d) => {
    assert.ok(isPlainObject(d));
    return d;
  });
}

function at(v: PlainValue | undefined, path: string): PlainValue | undefined {
  let cur = v;
  for (const k of path.split(".")) cur = isPlainObject(cur) ? cur[k] : undefined;
  return cur;
}

const kinds = (yaml: string): string[] => docs(yaml).map((d) => String(d.kind ?? "v1alpha1"));
const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("talos machine config: rendering", () => {
  const bundle = fakeBundle();

  it("parses Talos versions into supported minors and refuses others", () => {
    assert.equal(talosMinorOf("v1.11.5"), "1.11");
    assert.equal(talosMinorOf("1.13"), "1.13");
    assert.equal(talosMinorOf("1.12.0-beta.1"), "1.12");
    assert.throws(() => talosMinorOf("1.9.6"), /unsupported Talos version "1.9.6"/);
    assert.throws(() => talosMinorOf("1.14.0"), /unsupported/);
  });

  it("1.10/1.11: single v1alpha1 document with legacy features, apiServer SANs, hostname/nameservers/VIP in machine.network", () => {
    for (const minor of ["1.10", "1.11"] as const) {
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

  it("1.12+: HostnameConfig (static, no auto), ResolverConfig, LinkAliasConfig + Layer2VIPConfig; legacy fields gone", () => {
    for (const minor of ["1.12", "1.13"] as const) {
      const y = renderMachineConfig(baseInput(minor, "controlplane", bundle));
      assert.deepEqual(kinds(y), [
        "v1alpha1",
        "HostnameConfig",
        "ResolverConfig",
        "LinkAliasConfig",
        "Layer2VIPConfig",
      ]);
      const [v1, host, resolver, alias, vip] = docs(y);
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
      assert.equal(at(v1, "machine.install.grubUseUKICmdline"), true);
      assert.deepEqual(at(v1, "machine.certSANs"), ["10.0.0.10", "10.0.0.11", "k8s.home.arpa"]);
    }
    // 1.12 keeps the empty machine.network: {}, 1.13 drops it.
    const v112 = docs(renderMachineConfig(baseInput("1.12", "worker", bundle)))[0];
    const v113 = docs(renderMachineConfig(baseInput("1.13", "worker", bundle)))[0];
    assert.deepEqual(at(v112, "machine.network"), {});
    assert.equal(at(v113, "machine.network"), undefined);
  });

  it("a MAC or fixed link name selects the VIP link", () => {
    const mac = docs(
      renderMachineConfig(
        baseInput("1.13", "controlplane", bundle, { vipLink: { kind: "mac", mac: "BC:24:11:00:00:01" } }),
      ),
    );
    assert.equal(at(mac[3], "selector.match"), 'mac(link.permanent_addr) == "bc:24:11:00:00:01"');
    const named = docs(
      renderMachineConfig(
        baseInput("1.12", "controlplane", bundle, { vipLink: { kind: "name", name: "ens18" } }),
      ),
    );
    assert.deepEqual(
      named.map((d) => d.kind ?? "v1alpha1"),
      ["v1alpha1", "HostnameConfig", "ResolverConfig", "Layer2VIPConfig"],
    );
    assert.equal(named[3]!.link, "ens18");
    const legacy = docs(
      renderMachineConfig(
        baseInput("1.11", "controlplane", bundle, { vipLink: { kind: "name", name: "eth0" } }),
      ),
    );
    assert.deepEqual(at(legacy[0], "machine.network.interfaces"), [
      { interface: "eth0", vip: { ip: "10.0.0.10" } },
    ]);
  });

  it("workers: empty CA keys, reduced cluster section, no nodeLabels, never a VIP", () => {
    for (const minor of MINORS) {
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

  it("control planes carry every CA key, secretbox secret, KubePrism, CNI none, kube-proxy disabled", () => {
    for (const minor of MINORS) {
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

  it("flannel + kube-proxy, no OpenEBS, no discovery, scheduling on CPs, custom subnets/disk", () => {
    const [v1] = docs(
      renderMachineConfig(
        baseInput("1.13", "controlplane", bundle, {
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

  it("OpenEBS hostpath: rshared bind mount of OPENEBS_HOSTPATH_BASE into the kubelet, on both roles", () => {
    assert.equal(OPENEBS_HOSTPATH_BASE, "/var/openebs/local");
    for (const role of ROLES) {
      const [v1] = docs(renderMachineConfig(baseInput("1.11", role, bundle)));
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
    const input = baseInput("1.13", "controlplane", bundle, {
      vip: undefined,
      endpoint: "https://k8s.home.arpa:6443",
      certSANs: [],
    });
    const y = renderMachineConfig(input);
    assert.ok(!kinds(y).includes("Layer2VIPConfig"));
    assert.deepEqual(at(docs(y)[0], "machine.certSANs"), ["k8s.home.arpa", "10.0.0.11"]);
    const legacy = docs(renderMachineConfig({ ...input, talosVersion: "1.10.9" }))[0];
    assert.equal(at(legacy, "machine.network.interfaces"), undefined);
    assert.deepEqual(at(legacy, "cluster.apiServer.certSANs"), ["k8s.home.arpa", "10.0.0.11"]);
  });

  it("is deterministic and applies patches at the end", () => {
    const input = baseInput("1.12", "controlplane", bundle);
    assert.equal(renderMachineConfig(input), renderMachineConfig(input));
    const patched = renderMachineConfig({
      ...input,
      patches: ["machine:\n  sysctls:\n    vm.max_map_count: '262144'\n"],
    });
    assert.deepEqual(at(docs(patched)[0], "machine.sysctls"), { "vm.max_map_count": "262144" });
  });

  it("refuses bad input and patches that break the config, naming the node and path", () => {
    assert.throws(
      () => renderMachineConfig(baseInput("1.13", "worker", bundle, { endpoint: "http://x:6443" })),
      /https/,
    );
    assert.throws(
      () => renderMachineConfig(baseInput("1.13", "worker", bundle, { podSubnets: [] })),
      /worker-1: podSubnets is empty/,
    );
    assert.throws(
      () => renderMachineConfig(baseInput("1.13", "controlplane", bundle, { vip: "10.0.0" })),
      /cp-1: vip "10.0.0" is not an IP address/,
    );
    assert.throws(
      () =>
        renderMachineConfig(
          baseInput("1.11", "controlplane", bundle, { patches: ["machine:\n  install:\n    disk: sda\n"] }),
        ),
      /node cp-1: config invalid after patches: v1alpha1: machine.install.disk: must be a \/dev\/… path/,
    );
    assert.throws(
      () =>
        renderMachineConfig(
          baseInput("1.13", "worker", bundle, {
            patches: ["apiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: 10.0.0.99\nlink: eth0\n"],
          }),
        ),
      /node worker-1: config invalid after patches: .*a worker must not carry a VIP/,
    );
  });

  it("patches are judged by the rendered Talos version (1.11 does not know HostnameConfig)", () => {
    const patch = "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: other\n";
    assert.throws(
      () => renderMachineConfig(baseInput("1.11", "worker", bundle, { patches: [patch] })),
      /node worker-1: patch #1: .*"HostnameConfig" "v1alpha1": not registered/,
    );
    const y = renderMachineConfig(baseInput("1.12", "worker", bundle, { patches: [patch] }));
    assert.equal(docs(y)[1]!.hostname, "other");
  });

  it("validate: cross-field checks find a missing or unexpected VIP and hostname conflicts", () => {
    const cp = renderMachineConfig(baseInput("1.13", "controlplane", bundle));
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
    const built = buildMachineConfigDocuments(baseInput("1.12", "controlplane", bundle));
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
          // JSON 6902 only applies to single-document (≤ 1.11) configs.
          const multi = minor === "1.12" || minor === "1.13";
          const list = withPatches ? patches[role].filter((p) => !(multi && p.startsWith("- op"))) : [];
          const y = renderMachineConfig(baseInput(minor, role, bundle, { patches: list }));
          if (withPatches && role === "controlplane") assert.match(y, /somaxconn/);
          assert.deepEqual(schemaErrors(minor, y), []);
        });
      }
    }
  }

  it("the schema check itself rejects a wrong document", function () {
    requireShared(this, "reference", "talos", "v1.13", "config.schema.json");
    const y = renderMachineConfig(baseInput("1.13", "controlplane", bundle));
    assert.notDeepEqual(
      schemaErrors("1.13", y.replace("hostname: cp-1", "hostname: cp-1\nauto: sometimes")),
      [],
    );
    assert.notDeepEqual(schemaErrors("1.13", y.replace("persist: true", "persist: true\nbogus: 1")), []);
  });
});
