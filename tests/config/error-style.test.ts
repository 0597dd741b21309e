/**
 * One config error style: a schema or rule says "is not … — fix", and errors.ts alone shows the
 * value, once. zod's own messages are told apart by comparing with zod's English wording, not by
 * guessing from their first words.
 */
import * as assert from "node:assert/strict";
import { z } from "zod";
import { ConfigError, formatIssue, zodIssues } from "../../components/config/errors";
import { poolIssues } from "../../components/config/rules";
import { validateStackConfig } from "../../components/config/validate";

const BASE = {
  clusterName: "homelab",
  controlPlane: { vip: "10.0.0.5" },
  network: { cidr: "10.0.0.0/24", gateway: "10.0.0.1", dnsServers: ["10.0.0.1"] },
  nodes: [{ name: "cp-1", role: "controlplane", ip: "10.0.0.11" }],
};

function lines(raw: Record<string, unknown>): string[] {
  try {
    validateStackConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => formatIssue("proxmox-talos", i));
    throw e;
  }
  return assert.fail("expected the config to be rejected");
}

describe("config errors: one style", () => {
  it("an addon value is shown once, then what is wrong and the fix", () => {
    const [line, ...rest] = lines({ ...BASE, addons: { cilium: { version: "v1.16" } } });
    assert.deepEqual(rest, []);
    assert.equal(
      line,
      'proxmox-talos:addons.cilium.version: "v1.16" is not a Helm chart version — write a bare semver like "1.16.3" (no leading "v")',
    );
    assert.equal(line.split('"v1.16"').length, 2, "the value appears exactly once");
  });

  it("zod's own wording keeps a colon and gets a fix by code; a schema's custom message without a fix is kept whole", () => {
    const schema = z.strictObject({ n: z.number(), m: z.number().min(5, { error: "must be at least 5" }) });
    const r = schema.safeParse({ n: "x", m: 1 }, { reportInput: true });
    assert.equal(r.success, false);
    const issues = r.success ? [] : zodIssues("k", r.error.issues);
    assert.deepEqual(
      issues.map((i) => formatIssue(undefined, i)),
      [
        'k.n: "x": Invalid input: expected number, received string — set it to a number',
        "k.m: 1 must be at least 5",
      ],
    );
    // A message that merely starts like zod's ("Invalid …") is still ours when zod would say otherwise.
    const own = z
      .string()
      .regex(/^a$/, { error: "Invalid here — write a" })
      .safeParse("b", { reportInput: true });
    const ownIssues = own.success ? [] : zodIssues("k", own.error.issues);
    assert.deepEqual(ownIssues, [{ path: "k", message: '"b" Invalid here', fix: "write a" }]);
  });

  it("MetalLB pool rules live together: empty when required, unique names, overlaps", () => {
    const reserved = { nodes: [{ name: "cp-1", role: "controlplane" as const, ip: "10.0.0.11" }] };
    assert.deepEqual(
      poolIssues([], reserved, { required: true }).map((i) => i.path),
      ["addons.metallb.pools"],
    );
    assert.deepEqual(
      poolIssues([], reserved),
      [],
      "not required: the policy pack cannot tell an empty list from MetalLB off",
    );
    const issues = poolIssues(
      [
        { name: "a", addresses: ["10.0.0.10-10.0.0.12"] },
        { name: "a", addresses: ["10.0.0.200/30"] },
      ],
      reserved,
    );
    assert.deepEqual(
      issues.map((i) => formatIssue(undefined, i)),
      [
        'addons.metallb.pools[1].name: "a" is used by two pools — give every pool its own name',
        'addons.metallb.pools[0].addresses[0]: "10.0.0.10-10.0.0.12" overlaps node cp-1 (10.0.0.11) — MetalLB must own its addresses alone: shrink or move the range',
      ],
    );
  });

  it("the program reports an empty pool list while MetalLB is on, with every other fault", () => {
    const found = lines({ ...BASE, clusterName: "Bad_Name", addons: { metallb: { enabled: true } } });
    assert.ok(
      found.some((l) =>
        l.startsWith("proxmox-talos:addons.metallb.pools: is empty while MetalLB is enabled — "),
      ),
    );
    assert.ok(found.some((l) => l.startsWith('proxmox-talos:clusterName: "Bad_Name" must be a DNS label')));
  });
});
