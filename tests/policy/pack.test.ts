/**
 * The whole pack over whole stacks: the sample stack passes, a deliberately broken one yields
 * exactly the expected violations. Resources come from the program's own builders (fixtures.ts);
 * once the Talos and addon components exist, the last suite runs the real program under mocks.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { PACK_NAME, policies } from "../../policy/policies";
import { PROJECT_ROOT } from "../helpers/shared";
import { brokenStack } from "./broken";
import { cloneConfig, sampleConfig, stackResources } from "./fixtures";
import { type PackViolation, runPack } from "./harness";

function mandatory(vs: readonly PackViolation[]): PackViolation[] {
  return vs.filter((v) => v.enforcementLevel === "mandatory");
}

/** `policy @ resource name`, sorted: a compact, order-free view of a pack run. */
function summary(vs: readonly PackViolation[]): string[] {
  return vs
    .map((v) => `${v.policy} @ ${v.urn ? v.urn.split("::").pop() : "(stack)"} [${v.enforcementLevel}]`)
    .sort();
}

describe("policy pack", () => {
  it(`is named ${PACK_NAME} and has at least ten uniquely named, described policies`, () => {
    assert.equal(PACK_NAME, "proxmox-talos");
    assert.ok(policies.length >= 10, `${policies.length} policies`);
    const names = policies.map((p) => p.name);
    assert.equal(new Set(names).size, names.length);
    for (const p of policies) {
      assert.match(p.name, /^[a-z0-9-]+$/);
      assert.ok(p.description.length > 10, p.name);
      assert.ok(p.enforcementLevel === "mandatory" || p.enforcementLevel === "advisory", p.name);
    }
  });

  it("declares config schemas the engine accepts, whose defaults validate", () => {
    const ajv = new Ajv({ strict: false, useDefaults: true });
    for (const p of policies) {
      if (!p.configSchema) continue;
      assert.equal(p.configSchema.properties.enforcementLevel, undefined, p.name);
      const validate = ajv.compile({ type: "object", ...p.configSchema });
      const filled: Record<string, unknown> = {};
      assert.ok(validate(filled), `${p.name}: ${ajv.errorsText(validate.errors)}`);
      assert.deepEqual(Object.keys(filled).sort(), Object.keys(p.configSchema.properties).sort(), p.name);
    }
  });

  it("ships policy/config.example.json: every policy, its level and defaults, valid against its schema", () => {
    const file = path.join(PROJECT_ROOT, "policy", "config.example.json");
    const example = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(example).sort(), policies.map((p) => p.name).sort());
    const ajv = new Ajv({ strict: false });
    for (const p of policies) {
      const { enforcementLevel, ...settings } = example[p.name];
      assert.equal(enforcementLevel, p.enforcementLevel, p.name);
      const props = p.configSchema?.properties ?? {};
      assert.deepEqual(Object.keys(settings).sort(), Object.keys(props).sort(), p.name);
      for (const [k, v] of Object.entries(settings)) assert.deepEqual(v, props[k].default, `${p.name}.${k}`);
      const validate = ajv.compile({ type: "object", additionalProperties: false, ...p.configSchema });
      assert.ok(validate(settings), `${p.name}: ${ajv.errorsText(validate.errors)}`);
    }
  });

  it("ships the files the CLI needs to start it", () => {
    const dir = path.join(PROJECT_ROOT, "policy");
    assert.match(fs.readFileSync(path.join(dir, "PulumiPolicy.yaml"), "utf8"), /^runtime: nodejs$/m);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as {
      version?: string;
      dependencies?: Record<string, string>;
    };
    assert.ok(pkg.version, "PolicyPack reads its version from policy/package.json");
    assert.deepEqual(Object.keys(pkg.dependencies ?? {}).sort(), ["@pulumi/policy", "@pulumi/pulumi"]);
  });

  describe("over the sample stack (Pulumi.homelab.yaml)", () => {
    it("reports no violation at all", async () => {
      assert.deepEqual(summary(await runPack(policies, stackResources(sampleConfig()))), []);
    });
    it("reports no mandatory violation without the clusterSpec output either", async () => {
      assert.deepEqual(
        mandatory(await runPack(policies, stackResources(sampleConfig(), { withClusterSpec: false }))),
        [],
      );
    });
    it("reports no violation for the same cluster on existing machines", async () => {
      const c = cloneConfig(sampleConfig());
      delete c.proxmox;
      assert.deepEqual(summary(await runPack(policies, stackResources(c))), []);
    });
  });

  describe("over a deliberately broken stack", () => {
    it("reports exactly the expected violations", async () => {
      const got = await runPack(policies, brokenStack());
      assert.deepEqual(summary(got), [
        "cluster-metallb-pools-disjoint @ homelab [mandatory]",
        "cluster-talos-kubernetes-supported @ homelab [mandatory]",
        "cluster-vip-free @ homelab [mandatory]",
        "credentials-only-in-secret-outputs @ proxmox-talos-homelab [mandatory]",
        "helm-chart-version-pinned @ flux [mandatory]",
        "helm-no-default-namespace @ openebs [advisory]",
        "proxmox-provider-tls-verified @ proxmox [mandatory]",
        "vm-cpu-x86-64-v2 @ worker-1 [mandatory]",
        "vm-minimum-memory @ cp-2 [mandatory]",
        "vm-protected-in-production @ cp-1 [mandatory]",
        "vm-protected-in-production @ cp-2 [mandatory]",
        "vm-protected-in-production @ cp-3 [mandatory]",
        "vm-protected-in-production @ worker-1 [mandatory]",
      ]);
      const byPolicy = (name: string) => got.filter((v) => v.policy === name).map((v) => v.message);
      assert.match(byPolicy("cluster-vip-free")[0], /"192\.168\.50\.13" is also nodes\[2\]\.ip \(cp-3\)/);
      assert.match(
        byPolicy("cluster-metallb-pools-disjoint")[0],
        /"192\.168\.50\.21" overlaps node worker-1/,
      );
      assert.match(byPolicy("credentials-only-in-secret-outputs")[0], /"debugKubeconfig"/);
    });
    it("honours per-policy config: enforcement levels and settings", async () => {
      const got = await runPack(policies, brokenStack(), {
        "vm-protected-in-production": { enforcementLevel: "disabled" },
        "proxmox-provider-tls-verified": { testStacks: ["homelab"] },
        "helm-chart-version-pinned": { enforcementLevel: "advisory" },
      });
      const s = summary(got);
      assert.ok(!s.some((l) => l.startsWith("vm-protected-in-production")));
      assert.ok(!s.some((l) => l.startsWith("proxmox-provider-tls-verified")));
      assert.ok(s.includes("helm-chart-version-pinned @ flux [advisory]"));
      assert.equal(s.length, 13 - 4 - 1);
    });
  });
});
