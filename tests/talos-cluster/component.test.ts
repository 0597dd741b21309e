/**
 * `TalosCluster` under Pulumi mocks (tests/helpers/mocks.ts): what it registers, the dependency
 * edges secrets → per-node apply → bootstrap → ready (and each apply → its VM), and secrecy of the
 * rendered configs, credentials, talosconfig and kubeconfig.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { generateSecretsBundle, serializeSecretsYaml } from "../../components/talos/pki/secrets";
import { TalosCluster, type TalosClusterArgs } from "../../components/talos/talos-cluster";
import { type Recording, recordProgram, resolveOutput } from "../helpers/mocks";
import { CLUSTER_BASE } from "./cluster-args";
import { talosMockState } from "./mock-state";

/** Stands in for a node's VM. */
class Vm extends pulumi.CustomResource {
  constructor(name: string) {
    super("test:index:Vm", name, {});
  }
}

const T = {
  component: "proxmox-talos:index:TalosCluster",
  secrets: "pulumi-nodejs:dynamic/talos:MachineSecrets",
  apply: "pulumi-nodejs:dynamic/talos:MachineConfigApply",
  bootstrap: "pulumi-nodejs:dynamic/talos:Bootstrap",
  ready: "pulumi-nodejs:dynamic/talos:ClusterReady",
  clientConfigs: "pulumi-nodejs:dynamic/talos:ClientConfigs",
};

const NODES = [
  { name: "cp-1", role: "controlplane", ip: "10.0.0.11" },
  { name: "cp-2", role: "controlplane", ip: "10.0.0.12" },
  { name: "cp-3", role: "controlplane", ip: "10.0.0.13" },
  { name: "w-1", role: "worker", ip: "10.0.0.21" },
] as const;

function clusterArgs(
  vms: Record<string, pulumi.Resource>,
  extra: Partial<TalosClusterArgs> = {},
): TalosClusterArgs {
  return {
    ...CLUSTER_BASE,
    nodes: NODES.map((n) => ({
      ...n,
      installDisk: "/dev/sda",
      patches: n.name === "w-1" ? [{ machine: { nodeLabels: { tier: "worker" } } }] : [],
      dependsOn: [vms[n.name]!],
    })),
    patches: { all: [], controlplane: [], worker: [] },
    openebsHostpath: true,
    ...extra,
  };
}

describe("TalosCluster under mocks", function () {
  this.timeout(120_000);
  let secretsYaml = "";
  let rec: Recording;
  let cluster: TalosCluster | undefined;

  before(async () => {
    secretsYaml = serializeSecretsYaml(await generateSecretsBundle());
    rec = await recordProgram(
      () => {
        const vms: Record<string, pulumi.Resource> = {};
        for (const n of NODES) vms[n.name] = new Vm(`vm-${n.name}`);
        cluster = new TalosCluster("talos", clusterArgs(vms));
        return { talosconfig: cluster.talosconfig, kubeconfig: cluster.kubeconfig };
      },
      { newResource: talosMockState(secretsYaml) },
    );
  });

  it("registers secrets, one apply per node, a bootstrap and ready, all children of the component", () => {
    const comp = rec.find(T.component, "talos");
    assert.equal(rec.byType(T.secrets).length, 1);
    assert.deepEqual(
      rec
        .byType(T.apply)
        .map((r) => r.name)
        .sort(),
      NODES.map((n) => `talos-apply-${n.name}`).sort(),
    );
    assert.equal(rec.byType(T.bootstrap).length, 1);
    assert.equal(rec.byType(T.ready).length, 1);
    assert.equal(rec.byType(T.clientConfigs).length, 1);
    for (const t of [T.secrets, T.clientConfigs, T.apply, T.bootstrap, T.ready]) {
      for (const r of rec.byType(t)) assert.equal(r.parentUrn, comp.urn, r.name);
    }
  });

  it("dependency edges: VM and secrets → apply → bootstrap (control planes) → ready", () => {
    const secrets = rec.find(T.secrets, "talos-secrets");
    const boot = rec.find(T.bootstrap, "talos-bootstrap");
    const ready = rec.find(T.ready, "talos-ready");
    for (const n of NODES) {
      const apply = rec.find(T.apply, `talos-apply-${n.name}`);
      const vm = rec.find("test:index:Vm", `vm-${n.name}`);
      assert.ok(apply.dependencies.includes(vm.urn), `${n.name} apply → its VM`);
      assert.ok(apply.dependencies.includes(secrets.urn), `${n.name} apply → secrets`);
      for (const other of NODES.filter((o) => o.name !== n.name)) {
        assert.ok(!apply.dependencies.includes(rec.find("test:index:Vm", `vm-${other.name}`).urn));
      }
      assert.equal(boot.dependencies.includes(apply.urn), n.role === "controlplane", `bootstrap → ${n.name}`);
      assert.ok(ready.dependencies.includes(apply.urn), `ready → ${n.name} apply`);
    }
    assert.ok(ready.dependencies.includes(boot.urn));
    assert.ok(rec.dependsOn(ready, secrets));
    assert.equal(boot.inputs.node, "cp-1");
    assert.equal(boot.inputs.address, "10.0.0.11");
  });

  it("rendered configs and credentials passed to the applies are secret; the config hash is not", () => {
    for (const n of NODES) {
      const apply = rec.find(T.apply, `talos-apply-${n.name}`);
      for (const p of ["config", "osCa", "clientCert", "clientKey", "kubeconfig"]) {
        assert.ok(apply.secretInputPaths.includes(p), `${n.name}.${p} secret`);
      }
      assert.ok(!apply.secretInputPaths.includes("configHash"));
      assert.ok(!apply.secretInputPaths.includes("configView"), "the redacted view is plain");
      assert.ok(String(apply.inputs.configView).includes("<redacted hmac:"));
      const config = String(apply.inputs.config);
      assert.equal(apply.inputs.configHash, crypto.createHash("sha256").update(config).digest("hex"));
      const main = YAML.parseAllDocuments(config)[0]!.toJSON() as { machine: { type: string } };
      assert.equal(main.machine.type, n.role);
      assert.ok(config.includes(n.name));
      assert.equal(apply.inputs.address, n.ip);
      assert.equal(apply.inputs.mode, "auto");
      assert.equal(apply.inputs.resetOnDelete, false);
      assert.equal(apply.inputs.talosVersion, "v1.13.9");
      assert.deepEqual([...apply.additionalSecretOutputs].sort(), [
        "clientCert",
        "clientKey",
        "config",
        "kubeconfig",
        "osCa",
      ]);
    }
    assert.ok(String(rec.find(T.apply, "talos-apply-w-1").inputs.config).includes("tier: worker"));
    const ready = rec.find(T.ready, "talos-ready");
    assert.ok(ready.secretInputPaths.includes("kubeconfig"));
    assert.ok(!ready.secretInputPaths.includes("generation"));
    assert.equal(ready.inputs.checkKubernetes, true);
    assert.equal((ready.inputs.nodes as unknown[]).length, 4);
    assert.ok(rec.find(T.secrets, "talos-secrets").additionalSecretOutputs.includes("secretsYaml"));
    const cc = rec.find(T.clientConfigs, "talos-client-configs");
    assert.ok(cc.secretInputPaths.includes("secretsYaml"));
    assert.deepEqual([...cc.additionalSecretOutputs].sort(), ["kubeconfig", "secretsYaml", "talosconfig"]);
    assert.deepEqual(cc.inputs.endpoints, ["10.0.0.11", "10.0.0.12", "10.0.0.13"]);
    assert.ok(cc.dependencies.includes(rec.find(T.secrets, "talos-secrets").urn));
  });

  it("talosconfig and kubeconfig are secret outputs; expiry times are plain ISO strings", async () => {
    assert.ok(cluster);
    const tc = await resolveOutput(cluster.talosconfig);
    const kc = await resolveOutput(cluster.kubeconfig);
    assert.equal(tc.secret, true);
    assert.equal(kc.secret, true);
    assert.ok(rec.secretStackOutputs.includes("talosconfig"));
    assert.ok(rec.secretStackOutputs.includes("kubeconfig"));
    const t = YAML.parse(tc.value) as { context: string; contexts: Record<string, { endpoints: string[] }> };
    assert.equal(t.context, "homelab");
    assert.deepEqual(t.contexts.homelab!.endpoints, ["10.0.0.11", "10.0.0.12", "10.0.0.13"]);
    assert.match(kc.value, /server: https:\/\/10\.0\.0\.5:6443/);
    for (const o of [cluster.talosconfigExpiresAt, cluster.kubeconfigExpiresAt]) {
      const r = await resolveOutput(o);
      assert.equal(r.secret, false);
      assert.match(r.value, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.ok(new Date(r.value).getTime() > Date.now() + 300 * 86_400_000);
    }
    const rendered = await resolveOutput(cluster.configs["cp-1"]!);
    assert.equal(rendered.secret, true);
  });

  it("imported secrets go in as a secret with a plain hash; options reach the resources", async () => {
    const r = await recordProgram(
      () => {
        const vms: Record<string, pulumi.Resource> = {};
        for (const n of NODES) vms[n.name] = new Vm(`vm-${n.name}`);
        new TalosCluster(
          "talos",
          clusterArgs(vms, {
            importedSecrets: pulumi.secret(secretsYaml),
            applyMode: "staged",
            resetOnDelete: true,
            checkKubernetes: false,
          }),
        );
        return {};
      },
      { newResource: talosMockState(secretsYaml) },
    );
    const s = r.find(T.secrets, "talos-secrets");
    assert.ok(s.secretInputPaths.includes("importedSecrets"));
    assert.ok(!s.secretInputPaths.includes("importedHash"));
    assert.equal(s.inputs.importedHash, crypto.createHash("sha256").update(secretsYaml).digest("hex"));
    const a = r.find(T.apply, "talos-apply-cp-2");
    assert.equal(a.inputs.mode, "staged");
    assert.equal(a.inputs.resetOnDelete, true);
    assert.equal(r.find(T.ready, "talos-ready").inputs.checkKubernetes, false);
  });

  it("refuses a cluster without a control plane", () => {
    assert.throws(
      () =>
        new TalosCluster("bad", {
          ...clusterArgs({}),
          nodes: [{ name: "w-1", role: "worker", ip: "10.0.0.21" }],
        }),
      /at least one control-plane node/,
    );
  });
});
