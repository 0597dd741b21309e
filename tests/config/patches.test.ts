import * as assert from "node:assert/strict";
import * as path from "node:path";
import { ConfigError } from "../../components/config/errors";
import { decodeConfigValue } from "../../components/config/load";
import { readStackFile } from "../../components/config/stack-file";
import { validateStackConfig } from "../../components/config/validate";
import { PROJECT_ROOT } from "../helpers/shared";

/** Patches are config: a patch Talos refuses fails validation, named by its stack key. */
function sampleRaw(): Record<string, unknown> {
  const { config } = readStackFile(path.join(PROJECT_ROOT, "Pulumi.homelab.yaml"));
  const raw: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(config)) {
    const key = fullKey.replace(/^proxmox-talos:/, "");
    raw[key] = decodeConfigValue(key, text);
  }
  return raw;
}
const SECRETS = { proxmoxApiToken: "root@pam!pulumi=00000000-0000-0000-0000-000000000000" };

function issues(raw: Record<string, unknown>): ConfigError["issues"] {
  try {
    validateStackConfig(raw, SECRETS);
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
});
