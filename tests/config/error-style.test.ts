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
      'proxmox-talos:addons.cilium.version: "v1.16" is not a Helm chart version — write a semver like "1.19.6" (no leading "v")',
    );
    assert.equal(line.split('"v1.16"').length, 2, "the value appears exactly once");
  });

  it("zod's own wording is reworded in the project's style by code; a schema's custom message without a fix is kept whole", () => {
    const schema = z.strictObject({ n: z.number(), m: z.number().min(5, { error: "must be at least 5" }) });
    const r = schema.safeParse({ n: "x", m: 1 }, { reportInput: true });
    assert.equal(r.success, false);
    const issues = r.success ? [] : zodIssues("k", r.error.issues);
    assert.deepEqual(
      issues.map((i) => formatIssue(undefined, i)),
      ['k.n: "x" is not a number — write a number, unquoted', "k.m: 1 must be at least 5"],
    );
    // A message that merely starts like zod's ("Invalid …") is still ours when zod would say otherwise.
    const own = z
      .string()
      .regex(/^a$/, { error: "Invalid here — write a" })
      .safeParse("b", { reportInput: true });
    const ownIssues = own.success ? [] : zodIssues("k", own.error.issues);
    assert.deepEqual(ownIssues, [{ path: "k", message: '"b" Invalid here', fix: "write a" }]);
  });

  it("every built-in zod issue reads 'value is not … — fix', with no zod wording left", () => {
    const schema = z.strictObject({
      list: z.array(z.string()),
      map: z.strictObject({ a: z.string().optional() }),
      flag: z.boolean(),
      count: z.int(),
      name: z.string(),
      required: z.string(),
      few: z.array(z.string()).min(2),
      small: z.number().min(3),
      big: z.number().max(9),
      mode: z.enum(["a", "b"]),
      even: z.number().multipleOf(2),
      either: z.union([z.number(), z.boolean()]),
    });
    const r = schema.safeParse(
      {
        list: { a: 1 },
        map: ["x"],
        flag: "yes",
        count: 2.5,
        name: 5,
        few: ["x"],
        small: 1,
        big: 10,
        mode: "c",
        even: 3,
        either: "x",
      },
      { reportInput: true },
    );
    assert.equal(r.success, false);
    const text = (r.success ? [] : zodIssues("k", r.error.issues)).map((i) => formatIssue(undefined, i));
    assert.deepEqual(text, [
      'k.list: {"a":1} is not a list — write a YAML list (one `- item` per line)',
      'k.map: ["x"] is not a map of settings — write a YAML map of `key: value` lines',
      'k.flag: "yes" is not true or false — set it to true or false, unquoted',
      "k.count: 2.5 is not a whole number — write a whole number, unquoted",
      "k.name: 5 is not text — write it as text (quote it in YAML)",
      "k.required: is required but unset — set it",
      'k.few: ["x"] has fewer than 2 entries — give it at least 2 entries',
      "k.small: 1 is less than 3 — use 3 or more",
      "k.big: 10 is more than 9 — use 9 or less",
      'k.mode: "c" is not one of the accepted values — use one of "a", "b"',
      "k.even: 3 is not a multiple of 2 — use a multiple of 2",
      'k.either: "x" matches none of the accepted forms — see the README\'s config table for this key',
    ]);
    for (const line of text) assert.doesNotMatch(line, /Invalid|Too (small|big)|expected|received/, line);
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
    assert.ok(found.some((l) => l.startsWith('proxmox-talos:clusterName: "Bad_Name" is not a DNS label')));
  });
});
