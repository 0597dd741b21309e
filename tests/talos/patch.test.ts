import * as assert from "node:assert/strict";
import type { ConfigPatch as StackConfigPatch } from "../../components/config/schema";
import {
  applyPatches,
  type ConfigPatch,
  ConfigPatchError,
  loadPatch,
  sameConfig,
} from "../../components/talos/machineconfig/patch";
import { applyJson6902 } from "../../components/talos/machineconfig/patch-json6902";
import type { PlainObject } from "../../components/talos/machineconfig/patch-yaml";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import { at, baseInput, docs, fakeBundle } from "./fixtures-machineconfig";

const SINGLE = `version: v1alpha1
machine:
  type: worker
  certSANs: [a]
  kubelet:
    extraArgs: {max-pods: "110", foo: bar}
  network:
    interfaces:
      - interface: eth0
        mtu: 1500
        vlans: [{vlanId: 5, mtu: 1400}]
  install: {disk: /dev/sda, wipe: false}
  nodeLabels: {a: "1", b: "2"}
cluster:
  controlPlane: {endpoint: "https://x:6443"}
  network:
    podSubnets: [10.244.0.0/16]
`;
const MULTI = `${SINGLE}---
apiVersion: v1alpha1
kind: HostnameConfig
hostname: w1
---
apiVersion: v1alpha1
kind: Layer2VIPConfig
name: 10.0.0.10
link: eth0
`;

const patch = (cfg: string, ...p: ConfigPatch[]): PlainObject[] =>
  docs(applyPatches(cfg, p, { node: "n1", validate: false }));
const refuse = (cfg: string, p: string, re: RegExp): void => {
  assert.throws(
    () => applyPatches(cfg, [p], { node: "n1", validate: false }),
    (e: unknown) => e instanceof ConfigPatchError && re.test(e.message) && e.node === "n1",
  );
};

describe("talos patches: strategic merge", () => {
  it("merges maps and appends lists", () => {
    const [v1] = patch(SINGLE, "machine:\n  certSANs: [b]\n  nodeLabels: {c: '3'}\n  sysctls: {x: '1'}\n");
    assert.deepEqual(at(v1, "machine.certSANs"), ["a", "b"]);
    assert.deepEqual(at(v1, "machine.nodeLabels"), { a: "1", b: "2", c: "3" });
    assert.deepEqual(at(v1, "machine.sysctls"), { x: "1" });
    assert.equal(at(v1, "machine.install.disk"), "/dev/sda");
  });

  it("replaces podSubnets, merges extraArgs per key, interfaces by name and vlans by id", () => {
    const [v1] = patch(
      SINGLE,
      "cluster:\n  network:\n    podSubnets: [10.1.0.0/16]\nmachine:\n  kubelet:\n    extraArgs: {max-pods: '200'}\n  network:\n    interfaces:\n      - interface: eth0\n        mtu: 9000\n        vlans: [{vlanId: 5, dhcp: true}, {vlanId: 7}]\n      - interface: eth1\n        dhcp: true\n",
    );
    assert.deepEqual(at(v1, "cluster.network.podSubnets"), ["10.1.0.0/16"]);
    assert.deepEqual(at(v1, "machine.kubelet.extraArgs"), { "max-pods": "200", foo: "bar" });
    assert.deepEqual(at(v1, "machine.network.interfaces"), [
      { interface: "eth0", mtu: 9000, vlans: [{ vlanId: 5, mtu: 1400, dhcp: true }, { vlanId: 7 }] },
      { interface: "eth1", dhcp: true },
    ]);
  });

  it("false replaces, empty string and null leave the value", () => {
    const [v1] = patch(
      SINGLE,
      "machine:\n  install: {wipe: true, disk: ''}\n  type: null\n",
      "machine:\n  install: {wipe: false}\n",
    );
    assert.equal(at(v1, "machine.install.wipe"), false);
    assert.equal(at(v1, "machine.install.disk"), "/dev/sda");
    assert.equal(at(v1, "machine.type"), "worker");
  });

  it("$patch: delete removes map keys, list items (by string field) and documents", () => {
    const [v1, ...rest] = patch(
      MULTI,
      "machine:\n  nodeLabels:\n    a:\n      $patch: delete\n  network:\n    interfaces:\n      - interface: eth0\n        $patch: delete\n---\napiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: 10.0.0.10\n$patch: delete\n",
    );
    assert.deepEqual(at(v1, "machine.nodeLabels"), { b: "2" });
    assert.deepEqual(at(v1, "machine.network.interfaces"), []);
    assert.deepEqual(
      rest.map((d) => d.kind),
      ["HostnameConfig"],
    );
  });

  it("a map holding $patch: delete is deleted whole; other keys in it are ignored", () => {
    const [v1] = patch(SINGLE, "machine:\n  install:\n    $patch: delete\n    disk: /dev/vda\n");
    assert.equal(at(v1, "machine.install"), undefined);
  });

  it("targets documents by kind and name; unmatched documents are appended", () => {
    const out = patch(
      MULTI,
      "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: w2\n---\napiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: 10.0.0.11\nlink: eth0\n",
    );
    assert.deepEqual(
      out.map((d) => `${String(d.kind ?? "v1alpha1")}/${String(d.name ?? d.hostname ?? "")}`),
      ["v1alpha1/", "HostnameConfig/w2", "Layer2VIPConfig/10.0.0.10", "Layer2VIPConfig/10.0.0.11"],
    );
  });

  it("deleting a document the config lacks changes nothing visible but keeps Talos' placeholder", () => {
    const del = "apiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n";
    assert.deepEqual(patch(SINGLE, del), docs(SINGLE));
    const opts = { node: "n1", validate: false };
    assert.throws(
      () => applyPatches(SINGLE, [del, "- op: remove\n  path: /machine/nodeLabels\n"], opts),
      /patch #2: JSON6902 patches are not supported for multi-document/,
    );
    assert.throws(
      () => applyPatches(SINGLE, [del, "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: x\n"], opts),
      /patch #2: merge type mismatch: document v1alpha1\/HostnameConfig was deleted/,
    );
    // A second delete of the same missing document removes the placeholder again.
    const [v1] = patch(SINGLE, del, del, "- op: remove\n  path: /machine/nodeLabels\n");
    assert.equal(at(v1, "machine.nodeLabels"), undefined);
  });

  it("refuses document kinds the target Talos version does not know", () => {
    const hostname = "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: x\n";
    assert.throws(
      () => applyPatches(SINGLE, [hostname], { node: "n1", validate: false, talosVersion: "1.11.6" }),
      /"HostnameConfig" "v1alpha1": not registered/,
    );
    assert.equal(patch(SINGLE, hostname).length, 2);
  });

  it("accepts a parsed object as a strategic patch", () => {
    const [v1] = patch(SINGLE, { machine: { certSANs: ["obj"] } });
    assert.deepEqual(at(v1, "machine.certSANs"), ["a", "obj"]);
  });

  it("takes the stack config's patch forms (YAML text, structured map, structured RFC 6902 list)", () => {
    const forms: StackConfigPatch[] = [
      "machine:\n  certSANs: [s]\n",
      { machine: { certSANs: ["o"], nodeLabels: { gone: undefined } } },
      [{ op: "add", path: "/machine/certSANs/-", value: "j" }],
    ];
    const [v1] = patch(SINGLE, ...forms);
    assert.deepEqual(at(v1, "machine.certSANs"), ["a", "s", "o", "j"]);
    assert.deepEqual(at(v1, "machine.nodeLabels"), { a: "1", b: "2" });
  });

  it("refuses with messages naming node, patch and path", () => {
    refuse(
      SINGLE,
      "machine:\n  certSANs:\n    - $patch: delete\n",
      /node n1: patch #1: no key:val found in sequence node for path machine.certSANs/,
    );
    refuse(
      SINGLE,
      "machine:\n  nodeLabels: [x]\n",
      /error decoding document \/v1alpha1\/: machine.nodeLabels: cannot unmarshal !!seq into map/,
    );
    refuse(SINGLE, "apiVersion: v1alpha1\nkind: Bogus\n", /"Bogus" "v1alpha1": not registered/);
    refuse(SINGLE, "kind: HostnameConfig\nhostname: x\n", /missing apiVersion/);
    refuse(
      SINGLE,
      "machine:\n  network:\n    interfaces:\n      - interface: eth7\n        $patch: delete\n",
      /path 'machine.network.interfaces' .*lookup failed/,
    );
    refuse(SINGLE, "foo: [unclosed\n", /node n1: patch #1: patch: /);
  });

  it("validates the result by default, naming node and path", () => {
    assert.throws(
      () => applyPatches(SINGLE, ["cluster:\n  network:\n    cni: {name: calico}\n"], { node: "w-7" }),
      /node w-7: config invalid after patches: v1alpha1: cluster.network.cni.name: must be one of flannel, custom, none/,
    );
  });
});

describe("talos patches: RFC 6902", () => {
  const doc: PlainObject = { a: { b: [1, 2], c: "x" }, d: true };

  it("add (object key, array index, array end)", () => {
    assert.deepEqual(
      applyJson6902(doc, [
        { op: "add", path: "/a/e", value: 1 },
        { op: "add", path: "/a/b/0", value: 0 },
        { op: "add", path: "/a/b/-", value: 3 },
      ]),
      { a: { b: [0, 1, 2, 3], c: "x", e: 1 }, d: true },
    );
    assert.throws(() => applyJson6902(doc, [{ op: "add", path: "/z/y", value: 1 }]), /doc is missing path/);
    assert.throws(() => applyJson6902(doc, [{ op: "add", path: "/a/b/5", value: 1 }]), /invalid index/);
  });

  it("remove and replace need an existing target", () => {
    assert.deepEqual(
      applyJson6902(doc, [
        { op: "remove", path: "/a/b/0" },
        { op: "replace", path: "/d", value: false },
      ]),
      {
        a: { b: [2], c: "x" },
        d: false,
      },
    );
    assert.throws(
      () => applyJson6902(doc, [{ op: "remove", path: "/nope" }]),
      /Unable to remove nonexistent key: nope/,
    );
    // evanphx/json-patch v4 (Talos): replace of a missing key of an existing map sets it
    // (checked with talos-oracle 1.11); a missing parent is refused.
    assert.deepEqual(applyJson6902(doc, [{ op: "replace", path: "/nope", value: 1 }]), { ...doc, nope: 1 });
    assert.throws(
      () => applyJson6902(doc, [{ op: "replace", path: "/nope/deeper", value: 1 }]),
      /doc is missing path/,
    );
  });

  it("move, copy, test; the input is not mutated", () => {
    assert.deepEqual(
      applyJson6902(doc, [
        { op: "copy", from: "/a/c", path: "/f" },
        { op: "move", from: "/a/b", path: "/g" },
        { op: "test", path: "/g", value: [1, 2] },
      ]),
      { a: { c: "x" }, d: true, f: "x", g: [1, 2] },
    );
    assert.throws(
      () => applyJson6902(doc, [{ op: "test", path: "/d", value: false }]),
      /testing value \/d failed/,
    );
    assert.throws(() => applyJson6902(doc, [{ op: "move", from: "/q", path: "/r" }]), /missing from path/);
    // A list index past the end is an error even for a test against null (evanphx/json-patch).
    for (const index of ["9", "-"]) {
      assert.throws(
        () => applyJson6902(doc, [{ op: "test", path: `/a/b/${index}`, value: null }]),
        new RegExp(`Unable to access invalid index: ${index}: invalid index referenced`),
      );
    }
    assert.deepEqual(doc, { a: { b: [1, 2], c: "x" }, d: true });
  });

  it("YAML lists of operations are JSON 6902; refused on multi-document configs", () => {
    assert.equal(loadPatch("- op: remove\n  path: /a\n").type, "json6902");
    assert.equal(loadPatch("machine: {}\n").type, "strategic");
    assert.equal(loadPatch([{ op: "add", path: "/a", value: 1 }]).type, "json6902");
    assert.throws(() => loadPatch("- op: frobnicate\n  path: /a\n"), /unexpected op "frobnicate"/);
    const [v1] = patch(SINGLE, "- op: replace\n  path: /machine/install/disk\n  value: /dev/vdb\n");
    assert.equal(at(v1, "machine.install.disk"), "/dev/vdb");
    refuse(
      MULTI,
      "- op: remove\n  path: /machine\n",
      /patch #1: JSON6902 patches are not supported for multi-document machine configuration/,
    );
    refuse(
      SINGLE,
      "- op: test\n  path: /machine/type\n  value: controlplane\n",
      /failure applying rfc6902 patches .*test failed/,
    );
  });

  it("sameConfig compares as parsed YAML", () => {
    assert.ok(sameConfig("a: 1\nb: [x]\n", "b:\n  - x\na: 1\n"));
    assert.ok(!sameConfig("a: 1\n", "a: 2\n"));
  });
});

describe("talos patches: container rules checked after patches", () => {
  it("1.14: discovery (DiscoveryServiceConfig) needs the cluster identity (DiscoveryIdentityConfig or v1alpha1)", () => {
    // Talos 1.14 config/container/validate.go: "cluster ID (.cluster.id or DiscoveryIdentityConfig)
    // should be set when cluster discovery (DiscoveryServiceConfig) is enabled".
    const config = renderMachineConfig(baseInput("1.14", "controlplane", fakeBundle()));
    const opts = {
      node: "cp-1",
      talosVersion: "1.14.1",
      expect: { role: "controlplane" as const, vip: "10.0.0.10" },
    };
    const dropIdentity = "apiVersion: v1alpha1\nkind: DiscoveryIdentityConfig\n$patch: delete\n";
    assert.throws(
      () => applyPatches(config, [dropIdentity], opts),
      /DiscoveryIdentityConfig.*cluster ID \(\.cluster\.id or DiscoveryIdentityConfig\) is required/,
    );
    // Without discovery the identity is not needed.
    const dropDiscovery =
      "apiVersion: v1alpha1\nkind: DiscoveryServiceConfig\nname: default\n$patch: delete\n";
    assert.doesNotThrow(() => applyPatches(config, [dropIdentity, dropDiscovery], opts));
  });
});
