/**
 * Issue #19 in the config: https-only Image Factory / Flux Git URLs without credentials (an error
 * naming the key, never echoing the credentials), the new guard keys, and config errors that never
 * echo a value the stack stores as a secret.
 */
import * as assert from "node:assert/strict";
import { ConfigError } from "../../components/config/errors";
import { validateStackConfig } from "../../components/config/validate";
import { SAMPLE_SECRETS, sampleRaw } from "../helpers/sample-stack";

function errorOf(raw: Record<string, unknown>, secretSettings: string[] = []): string {
  try {
    validateStackConfig(raw, SAMPLE_SECRETS, secretSettings);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return assert.fail("expected the config to be rejected");
}

const withFactory = (url: string) => ({ ...sampleRaw(), imageFactory: { url } });
const withGit = (url: string) => {
  const raw = sampleRaw();
  const addons = structuredClone(raw.addons) as { flux: { git: { url: string } } };
  addons.flux.git.url = url;
  return { ...raw, addons };
};

describe("stack config: safe URLs and secret-stored settings (#19)", () => {
  it("imageFactory.url: https only, no credentials; the error names the key and hides the credentials", () => {
    assert.match(
      errorOf(withFactory("http://factory.talos.dev")),
      /proxmox-talos:imageFactory\.url: "http:\/\/factory\.talos\.dev" is not an https:\/\/ URL — write it like https:\/\/factory\.talos\.dev/,
    );
    const e = errorOf(withFactory("https://user:FACTORY-PW@factory.lan"));
    assert.match(e, /proxmox-talos:imageFactory\.url: .*has credentials in it — remove them/);
    assert.ok(!e.includes("FACTORY-PW"), e);
    assert.doesNotThrow(() => validateStackConfig(withFactory("https://factory.lan:8443"), SAMPLE_SECRETS));
  });

  it("addons.flux.git.url: https without credentials; never echoed; SSH refused (no deploy key managed)", () => {
    assert.match(
      errorOf(withGit("http://git.lan/fleet.git")),
      /proxmox-talos:addons\.flux\.git\.url: "http:\/\/git\.lan\/fleet\.git" is not an https:\/\/ URL — write it like https:\/\/github\.com\/me\/fleet\.git/,
    );
    const e = errorOf(withGit("https://ghp_GITTOKEN@github.com/me/fleet.git"));
    assert.match(e, /addons\.flux\.git\.url/);
    assert.ok(!e.includes("ghp_GITTOKEN"), e);
    const p = errorOf(withGit("ssh://git:SSH-PW@github.com/me/fleet.git"));
    assert.ok(!p.includes("SSH-PW"), p);
    // Flux's ssh transport authenticates only with a deploy key (Secret keys identity, known_hosts):
    // with the username/password Secret this program writes, such a source could never sync.
    for (const ssh of [
      "ssh://git@github.com/me/fleet.git",
      "git@github.com:me/fleet.git",
      "ssh://git.lan/fleet.git",
    ])
      assert.match(
        errorOf(withGit(ssh)),
        /is an SSH Git URL: Flux needs a deploy key and known_hosts.* — use the https:\/\/ URL/,
        ssh,
      );
    assert.doesNotThrow(() =>
      validateStackConfig(withGit("https://github.com/me/fleet.git"), SAMPLE_SECRETS),
    );
  });

  it("the guard keys parse with safe defaults", () => {
    const cfg = validateStackConfig(sampleRaw(), SAMPLE_SECRETS);
    assert.equal(cfg.rollout.allowNodeRemoval, false);
    assert.equal(cfg.allowTalosSecretsReplacement, false);
    assert.ok(cfg.nodes.every((n) => n.newMachine === false));
    assert.match(
      errorOf({ ...sampleRaw(), rollout: { allowNodeRemoval: "yes" } }),
      /rollout\.allowNodeRemoval/,
    );
  });

  it("a config error about a secret-stored setting never echoes its values (schema and cross-field rules)", () => {
    const raw = sampleRaw();
    const addons = structuredClone(raw.addons) as Record<string, Record<string, unknown>>;
    addons.cilium!.version = "SECRET-VERSION-x1";
    addons.metallb!.pools = [
      { name: "SECRET-POOL", addresses: ["192.168.50.200-192.168.50.220"] },
      { name: "SECRET-POOL", addresses: ["192.168.50.230-192.168.50.231"] },
    ];
    const bad = { ...raw, addons };
    const plain = errorOf(bad);
    assert.ok(plain.includes("SECRET-VERSION-x1") && plain.includes("SECRET-POOL"), "the check is real");
    const secret = errorOf(bad, ["addons"]);
    assert.ok(!secret.includes("SECRET-VERSION-x1") && !secret.includes("SECRET-POOL"), secret);
    assert.match(secret, /proxmox-talos:addons\.cilium\.version: .*\(secret value\)/);
    assert.match(secret, /proxmox-talos:addons\.metallb\.pools\[1\]\.name/);
  });
});
