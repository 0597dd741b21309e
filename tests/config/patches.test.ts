import * as assert from "node:assert/strict";
import { ConfigError } from "../../components/config/errors";
import { validateStackConfig } from "../../components/config/validate";
import { SAMPLE_SECRETS, sampleRaw } from "../helpers/sample-stack";

/** Patches are config: a patch Talos refuses fails validation, named by its stack key. */

function issues(raw: Record<string, unknown>): ConfigError["issues"] {
  try {
    validateStackConfig(raw, SAMPLE_SECRETS);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

type Node = Record<string, unknown>;

describe("stack config: patches are validated with the config", () => {
  it("names patches.worker[0] for a misspelt nested key and nodes[k].patches[i] for a wrong type, with other faults", () => {
    const raw = sampleRaw();
    raw.talosVersion = "1.12.6";
    raw.kubernetesVersion = "1.34.1";
    raw.patches = { worker: ["machine:\n  kubelet:\n    extraArg:\n      max-pods: '200'\n"] };
    const nodes = raw.nodes as Node[];
    const cp = nodes.findIndex((n, i) => i > 0 && n.role === "controlplane");
    nodes[cp]!.patches = [
      "machine:\n  network:\n    hostname: ok\n",
      "machine:\n  kubelet:\n    extraArgs:\n      feature-gates: [A, B]\n",
    ];
    nodes[0]!.ip = "192.168.50.300";
    const found = issues(raw);
    const byPath = new Map(found.map((i) => [i.path, i.message]));
    assert.match(
      byPath.get("patches.worker[0]") ?? "",
      /Talos 1\.12\.6.*unknown keys found during decoding: machine\.kubelet\.extraArg/,
    );
    assert.match(
      byPath.get(`nodes[${cp}].patches[1]`) ?? "",
      /machine\.kubelet\.extraArgs\.feature-gates: cannot unmarshal !!seq into string/,
    );
    assert.ok(byPath.has("nodes[0].ip"), "the bad IP is reported together with the patch faults");
  });

  it("accepts a list in extraArgs on 1.13 (Talos 1.13 does)", () => {
    const raw = sampleRaw();
    raw.patches = { all: ["machine:\n  kubelet:\n    extraArgs:\n      feature-gates: [A, B]\n"] };
    assert.deepEqual(issues(raw), []);
  });

  it("refuses a role patch deleting the PodSecurity plugin on workers (no apiServer there), once per key", () => {
    const raw = sampleRaw();
    raw.patches = {
      all: [
        "cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        $patch: delete\n",
      ],
    };
    const found = issues(raw).filter((i) => i.path === "patches.all[0]");
    assert.equal(found.length, 1);
    assert.match(found[0]!.message, /lookup failed.*\(node/);
  });

  it("refuses a worker patch setting machine.token", () => {
    const raw = sampleRaw();
    raw.patches = { worker: [{ machine: { token: "abcdef.0123456789abcdef" } }] };
    const found = issues(raw);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.path, "patches.worker[0]");
    assert.match(found[0]!.message, /sets machine\.token/);
  });

  it("refuses a patch changing any value that comes from the secrets bundle, in either layout", () => {
    const cases: Array<{
      talos?: [string, string];
      role: "all" | "worker" | "controlplane";
      patch: unknown;
      path: string;
    }> = [
      { role: "worker", patch: { machine: { ca: { crt: "Zm9v" } } }, path: "machine.ca.crt" },
      { role: "controlplane", patch: { machine: { ca: { key: "Zm9v" } } }, path: "machine.ca.key" },
      {
        role: "all",
        patch: "apiVersion: v1alpha1\nkind: DiscoveryIdentityConfig\nclusterSecret: c2VjcmV0\n",
        path: "DiscoveryIdentityConfig.clusterSecret",
      },
      {
        role: "controlplane",
        patch: "apiVersion: v1alpha1\nkind: KubeServiceAccountConfig\nissuer:\n  privateKey: x\n",
        path: "KubeServiceAccountConfig.issuer.privateKey",
      },
      {
        talos: ["1.11.6", "1.34.1"],
        role: "all",
        patch: { cluster: { secret: "x" } },
        path: "cluster.secret",
      },
      { talos: ["1.11.6", "1.34.1"], role: "all", patch: { cluster: { id: "x" } }, path: "cluster.id" },
      {
        talos: ["1.11.6", "1.34.1"],
        role: "controlplane",
        patch: { cluster: { aggregatorCA: { crt: "Zm9v" } } },
        path: "cluster.aggregatorCA.crt",
      },
      {
        talos: ["1.11.6", "1.34.1"],
        role: "controlplane",
        patch: { cluster: { secretboxEncryptionSecret: "eA==" } },
        path: "cluster.secretboxEncryptionSecret",
      },
    ];
    for (const c of cases) {
      const raw = sampleRaw();
      if (c.talos) [raw.talosVersion, raw.kubernetesVersion] = c.talos;
      raw.patches = { [c.role]: [c.patch] };
      const found = issues(raw);
      const key = `patches.${c.role}[0]`;
      const mine = found.filter((i) => i.path === key);
      assert.equal(mine.length, 1, `${c.path}: ${JSON.stringify(found)}`);
      assert.match(
        mine[0]!.message,
        new RegExp(
          `^changes ${c.path.replace(/[.()[\]]/g, "\\$&")}, which comes from the cluster's secrets bundle`,
        ),
      );
      assert.match(mine[0]!.fix ?? "", /talosSecrets/);
    }
    // A patch near those values but not on them is fine.
    const raw = sampleRaw();
    raw.patches = {
      all: [{ machine: { kubelet: { extraArgs: { "rotate-server-certificates": "true" } } } }],
    };
    assert.deepEqual(issues(raw), []);
  });

  it("refuses an empty or comment-only patch on a 1.12+ (multi-document) config", () => {
    const raw = sampleRaw();
    raw.patches = { controlplane: ["# nothing here\n"] };
    const found = issues(raw);
    assert.equal(found[0]?.path, "patches.controlplane[0]");
    assert.match(found[0]!.message, /JSON6902 patches are not supported for multi-document/);
  });

  it("refuses a v1alpha1 field beside the document that replaced it, naming the patch's key, the document and the fix", () => {
    const cases = [
      {
        talosVersion: "1.12.6",
        kubernetesVersion: "1.34.1",
        role: "worker",
        patch: "machine:\n  network:\n    nameservers: [1.1.1.1]\n",
        path: "machine.network.nameservers",
        kind: "ResolverConfig",
      },
      {
        talosVersion: "1.14.1",
        kubernetesVersion: "1.37.2",
        role: "controlplane",
        patch: { cluster: { coreDNS: { disabled: false } } },
        path: "cluster.coreDNS",
        kind: "KubeCoreDNSConfig",
      },
    ] as const;
    for (const c of cases) {
      const raw = sampleRaw();
      raw.talosVersion = c.talosVersion;
      raw.kubernetesVersion = c.kubernetesVersion;
      raw.patches = { [c.role]: [c.patch] };
      const found = issues(raw);
      assert.deepEqual(
        found.map((i) => i.path),
        [`patches.${c.role}[0]`],
        JSON.stringify(found),
      );
      assert.match(
        found[0]!.message,
        new RegExp(
          `\\.${c.path.replace(/\./g, "\\.")} is already set in v1alpha1 config, which conflicts with the ${c.kind} document: Talos ${c.talosVersion.slice(0, 4).replace(".", "\\.")} refuses both.*set it in ${c.kind} instead`,
        ),
      );
      // Without the setting the same stack is fine.
      raw.patches = {};
      assert.deepEqual(issues(raw), []);
    }
  });

  it("applies a node's patches together as Talos does: what an earlier patch left can make a later one fail", () => {
    // A delete of a document the config lacks leaves Talos' placeholder document behind (1.11:
    // the config is then multi-document, and an RFC 6902 patch after it is refused).
    const raw = sampleRaw();
    raw.talosVersion = "1.11.5";
    raw.kubernetesVersion = "1.34.1";
    raw.patches = {
      worker: [
        "apiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n",
        "- op: add\n  path: /machine/certSANs/-\n  value: x\n",
      ],
    };
    const found = issues(raw);
    assert.deepEqual(
      found.map((i) => i.path),
      ["patches.worker[1]"],
    );
    assert.match(
      found[0]!.message,
      /after the patches before it \(patches\.worker\[0\]\): JSON6902 patches are not supported for multi-document/,
    );
  });

  it("refuses, up to 1.13, a delete of an unnamed document the config lacks (Talos cannot load the result)", () => {
    for (const [talos, refused] of [
      ["1.13.0", true],
      ["1.14.1", false],
    ] as const) {
      const raw = sampleRaw();
      raw.talosVersion = talos;
      raw.kubernetesVersion = "1.34.1";
      raw.patches = { worker: ["apiVersion: v1alpha1\nkind: TimeSyncConfig\n$patch: delete\n"] };
      const found = issues(raw).filter((i) => i.path.startsWith("patches."));
      if (refused) {
        assert.equal(found.length, 1, talos);
        assert.match(found[0]!.message, /TimeSyncConfig.*empty document/, talos);
      } else {
        assert.deepEqual(found, [], talos);
      }
    }
  });

  it("checks each node's patches against what the program renders for it: node hardware documents included", () => {
    // On 1.11 a config is one document, until a data disk adds a UserVolumeConfig: an RFC 6902 patch
    // then fails (Talos: not supported on multi-document configs). It used to pass the check and
    // fail inside preview.
    const raw = sampleRaw();
    raw.talosVersion = "1.11.5";
    raw.kubernetesVersion = "1.34.1";
    const nodes = raw.nodes as Node[];
    const w = nodes.findIndex((n) => n.role === "worker");
    nodes[w]!.dataDisks = [{ name: "data", sizeGiB: 50 }];
    raw.patches = { worker: ["- op: add\n  path: /machine/certSANs/-\n  value: x\n"] };
    const found = issues(raw);
    assert.deepEqual(
      found.map((i) => i.path),
      ["patches.worker[0]"],
    );
    assert.match(
      found[0]!.message,
      /JSON6902 patches are not supported for multi-document.*\(node worker-1\)/,
    );
    delete nodes[w]!.dataDisks;
    assert.deepEqual(issues(raw), [], "without the data disk the same patch applies");
  });

  it("checks control-plane patches after the Talos settings an enabled addon adds, as the program applies them", () => {
    // Monitoring makes controller-manager listen on all addresses (a control-plane patch put before
    // the stack's): a stack patch replacing that value applies, as it does in the render.
    const raw = sampleRaw();
    raw.talosVersion = "1.11.5";
    raw.kubernetesVersion = "1.34.1";
    raw.patches = {
      controlplane: [
        "- op: replace\n  path: /cluster/controllerManager/extraArgs/bind-address\n  value: 127.0.0.1\n",
      ],
    };
    const addons = raw.addons as Record<string, unknown>;
    const found = issues(raw);
    assert.equal(found.length, 1, "without monitoring the path is absent");
    assert.match(found[0]!.message, /patches\.controlplane\[0\]|missing path|does not apply/);
    raw.addons = { ...addons, monitoring: { enabled: true } };
    assert.deepEqual(issues(raw), []);
  });
});
