import * as assert from "node:assert/strict";
import { checkBootSecurity, diff } from "../../components/talos/resources/logic/apply";
import { DEFAULT_BOOT_SECURITY } from "../../components/talos/resources/logic/boot-security";
import { machineConfigApplyProvider } from "../../components/talos/resources/providers";

/** A node's apply inputs as the program gives them (credentials are placeholders: never used here). */
function inputs(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    node: "worker-1",
    address: "127.0.0.1",
    role: "worker",
    config: "version: v1alpha1\n",
    configHash: "h1",
    talosVersion: "v1.13.9",
    installImage: "factory.talos.dev/nocloud-installer/x:v1.13.9",
    osCa: "ca",
    clientCert: "crt",
    clientKey: "key",
    bootSecurity: DEFAULT_BOOT_SECURITY,
    allowReinstall: true,
    reinstallable: true,
    ...over,
  };
}
const SB = "secureBoot=true,diskEncryption=tpm";

describe("boot-security changes are replacements (apply resource)", () => {
  it("diff: a changed profile replaces the node (delete before replace); an unchanged one does not", () => {
    const d = diff(inputs(), inputs({ bootSecurity: SB }));
    assert.deepEqual(d.replaces, ["bootSecurity"]);
    assert.equal(d.deleteBeforeReplace, true);
    assert.deepEqual(diff(inputs(), inputs()).replaces, []);
    assert.equal(diff(inputs(), inputs()).changes, false);
  });

  it("diff: a state from before boot security was managed counts as the default profile", () => {
    const { bootSecurity: _b, ...legacy } = inputs();
    assert.deepEqual(diff(legacy, inputs()).replaces, [], "default profile: nothing to do");
    assert.deepEqual(diff(legacy, inputs({ bootSecurity: SB })).replaces, ["bootSecurity"]);
  });

  it("check: production without the allowance refuses at preview, naming the node and the key", async () => {
    const failures = checkBootSecurity(inputs(), inputs({ bootSecurity: SB, allowReinstall: false }));
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.property, "bootSecurity");
    assert.match(failures[0]!.reason, /node worker-1: boot security .* reinstalls the node/);
    assert.match(failures[0]!.reason, /rollout\.allowNodeRemoval: true/);
    assert.deepEqual(checkBootSecurity(inputs(), inputs({ bootSecurity: SB })), []);
    // Through the provider, as the engine calls it.
    const r = await machineConfigApplyProvider.check!(
      inputs(),
      inputs({ bootSecurity: SB, allowReinstall: false }),
    );
    assert.equal(r.failures?.length, 1);
  });

  it("check: an existing machine cannot be reinstalled by the program", () => {
    const f = checkBootSecurity(inputs(), inputs({ bootSecurity: SB, reinstallable: false }));
    assert.equal(f.length, 1);
    assert.match(f[0]!.reason, /only for Proxmox VMs/);
  });

  it("check: a control plane is not reinstalled in place (its etcd member would stay behind)", () => {
    const f = checkBootSecurity(
      inputs({ role: "controlplane" }),
      inputs({ role: "controlplane", bootSecurity: SB }),
    );
    assert.equal(f.length, 1);
    assert.match(f[0]!.reason, /etcd member/);
    assert.match(f[0]!.reason, /add it back/);
  });

  it("check: a node from before boot security was tracked must record its profile first", () => {
    const { bootSecurity: _b, ...legacy } = inputs();
    assert.deepEqual(checkBootSecurity(legacy, inputs()), [], "same (default) profile: fine");
    const f = checkBootSecurity(legacy, inputs({ bootSecurity: SB }));
    assert.equal(f.length, 1);
    assert.match(f[0]!.reason, /run one `up` with its current setting first/);
  });

  it("check: creating a node with any profile is no change", () => {
    assert.deepEqual(checkBootSecurity({}, inputs({ bootSecurity: SB, allowReinstall: false })), []);
  });
});
