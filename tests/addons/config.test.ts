import * as assert from "node:assert/strict";
import { AddonsConfigSchema, formatAddonsIssues } from "../../components/addons/config";
import { formatIssue } from "../../components/config/errors";
import { poolIssues } from "../../components/config/rules";

function problems(input: unknown): string[] {
  const r = AddonsConfigSchema.safeParse(input, { reportInput: true });
  assert.equal(r.success, false, "expected the config to be rejected");
  return r.success ? [] : formatAddonsIssues(r.error);
}

describe("addons config schema", () => {
  it("accepts an empty config and resolves the defaults", () => {
    assert.deepEqual(AddonsConfigSchema.parse({}), {
      cilium: { enabled: true, pools: [] },
      metallb: { enabled: false, pools: [], l2Advertisement: true },
      openebs: { enabled: false, storageClassName: "openebs-hostpath" },
      flux: { enabled: false },
      sops: { enabled: false },
      // Platform addons: all off; their defaults resolved.
      gateway: { enabled: false },
      certManager: {
        enabled: false,
        issuer: {
          type: "selfSigned",
          server: "production",
          dns01: "cloudflare",
          caCommonName: "proxmox-talos homelab CA",
        },
      },
      headlamp: { enabled: false },
      monitoring: { enabled: false, storage: { size: "20Gi", retention: "15d" }, grafana: {} },
      velero: { enabled: false, schedule: { cron: "0 3 * * *", ttl: "720h" } },
      etcdBackup: { enabled: false, schedule: "0 3 * * *", namespace: "talos-backup" },
    });
  });

  it("defaults git branch/path and turns SOPS on with Flux", () => {
    const c = AddonsConfigSchema.parse({
      flux: { enabled: true, git: { url: "https://git.example/fleet.git" } },
    });
    assert.deepEqual(c.flux.git, { url: "https://git.example/fleet.git", branch: "main", path: "./" });
    assert.equal(c.sops.enabled, true);
    assert.equal(
      AddonsConfigSchema.parse({ flux: { enabled: true }, sops: { enabled: false } }).sops.enabled,
      false,
    );
  });

  it("keeps free-form values, versions and pool options", () => {
    const c = AddonsConfigSchema.parse({
      cilium: { version: "1.18.2", values: { hubble: { relay: { enabled: true } } } },
      metallb: {
        enabled: true,
        pools: [{ name: "lan", addresses: ["10.0.0.240/28", "10.0.1.1-10.0.1.9"], autoAssign: false }],
      },
    });
    assert.equal(c.cilium.version, "1.18.2");
    assert.deepEqual(c.cilium.values, { hubble: { relay: { enabled: true } } });
    assert.deepEqual(c.metallb.pools[0].addresses, ["10.0.0.240/28", "10.0.1.1-10.0.1.9"]);
  });

  it("names key path, bad value and fix for a bad pool address", () => {
    const p = problems({
      metallb: { enabled: true, pools: [{ name: "lan", addresses: ["10.0.0.0/24", "10.0.0.300/28"] }] },
    });
    assert.equal(p.length, 1);
    assert.match(p[0], /^addons\.metallb\.pools\[0\]\.addresses\[1\]: /);
    assert.match(p[0], /"10\.0\.0\.300\/28"/);
    assert.match(p[0], / — write "10\.0\.0\.240\/28" or "10\.0\.0\.240-10\.0\.0\.250"/);
  });

  it("rejects reversed ranges, bare addresses, empty lists and duplicate pool names", () => {
    const p = problems({
      metallb: {
        pools: [
          { name: "a", addresses: ["10.0.0.9-10.0.0.1", "10.0.0.5"] },
          { name: "a", addresses: [] },
        ],
      },
    });
    assert.ok(
      p.some(
        (l) => l.startsWith("addons.metallb.pools[0].addresses[0]: ") && l.includes('"10.0.0.9-10.0.0.1"'),
      ),
    );
    assert.ok(
      p.some((l) => l.startsWith("addons.metallb.pools[0].addresses[1]: ") && l.includes('"10.0.0.5"')),
    );
    assert.ok(p.some((l) => l.startsWith("addons.metallb.pools[1].addresses: [] is empty")));
    // Unique names are a pool rule (config/rules.ts, shared with the policy pack).
    const pools = [
      { name: "a", addresses: ["10.0.0.1/32"] },
      { name: "a", addresses: ["10.0.0.2/32"] },
    ];
    assert.deepEqual(AddonsConfigSchema.parse({ metallb: { pools } }).metallb.pools, pools);
    assert.deepEqual(
      poolIssues(pools, { nodes: [] }).map((i) => formatIssue(undefined, i)),
      ['addons.metallb.pools[1].name: "a" is used by two pools — give every pool its own name'],
    );
  });

  it("reports wrong types, versions, Git URLs, paths and unknown keys with their fixes", () => {
    const p = problems({
      cilium: { enabled: "yes", version: "v1.16.3", valuse: {} },
      openebs: { storageClassName: "Fast_SSD" },
      flux: { enabled: true, git: { url: "github.com/me/fleet", path: "clusters/x", interval: "5 minutes" } },
    });
    const expect = [
      /^addons\.cilium\.enabled: "yes" must be true or false — write enabled: true/,
      /^addons\.cilium\.version: "v1\.16\.3" has a leading "v", but cilium's chart versions do not .* — remove the override/,
      /^addons\.cilium\.valuse: is not a known setting — remove it or correct its spelling/,
      /^addons\.openebs\.storageClassName: "Fast_SSD" is not a valid Kubernetes name — /,
      /^addons\.flux\.git\.url: "github\.com\/me\/fleet" is not an https:\/\/ URL — write it like https:\/\/github\.com\/me\/fleet\.git/,
      /^addons\.flux\.git\.path: "clusters\/x" .* — start it with "\.\/"/,
      /^addons\.flux\.git\.interval: "5 minutes" is not a Go duration — /,
    ];
    for (const re of expect)
      assert.ok(
        p.some((l) => re.test(l)),
        `no problem matching ${re}:\n${p.join("\n")}`,
      );
  });

  it("rejects SOPS without Flux", () => {
    assert.deepEqual(problems({ sops: { enabled: true } }), [
      "addons.sops.enabled: true needs addons.flux.enabled, which is false — the sops-age Secret is for Flux: enable addons.flux or remove addons.sops.enabled",
    ]);
  });
});
