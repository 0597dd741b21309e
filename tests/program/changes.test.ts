/**
 * Issue #5's change properties of the whole program under mocks (index.ts, sample stack): two runs
 * that differ in one stack setting register resource graphs that differ exactly where they should.
 * Runs compared with each other share one Talos mock state (one PKI, kept client configs) so the
 * Talos inputs are comparable, and the downloaded image gets the id the Proxmox provider gives it
 * (`<datastore>:<content type>/<file name>`), so a new image reaches the VMs' `disks[0].fileId`.
 */
import * as assert from "node:assert/strict";
import type { MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";
import * as YAML from "yaml";
import { mustParseVersion } from "../../components/version";
import { DEFAULT_TALOS_VERSION } from "../../components/versions";
import type { RecordedResource, Recording } from "../helpers/mocks";
import { type NewResourceHook, runProgram, sampleStackConfig, sharedTalosState } from "../helpers/program";
import { TALOS_TYPES } from "../talos-cluster/mock-state";

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const IMAGE = "proxmoxve:download/file:File";
const NODES_KEY = "proxmox-talos:nodes";
const MEMBERSHIP = "pulumi-nodejs:dynamic/talos:ClusterMembership";

type Node = { name: string; role: string; ip: string };

const key = (r: Pick<RecordedResource, "type" | "name">): string => `${r.type}::${r.name}`;
const shortDeps = (r: RecordedResource): string[] => r.dependencies.map((u) => u.split("::").pop()!).sort();
const json = (v: unknown): string => JSON.stringify(v);

/** A shared Talos state, plus provider-like ids for downloaded files. */
function comparableState(): NewResourceHook {
  const talos = sharedTalosState();
  return (args: MockResourceArgs) => {
    if (args.type === IMAGE) {
      const i = args.inputs as { datastoreId: string; contentType: string; fileName: string };
      return { id: `${i.datastoreId}:${i.contentType}/${i.fileName}`, state: args.inputs };
    }
    return talos(args);
  };
}

/** Top-level input keys whose values differ between `a` and `b`, sorted. */
function changedKeys(a: RecordedResource, b: RecordedResource): string[] {
  return [...new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)])]
    .filter((k) => json(a.inputs[k]) !== json(b.inputs[k]))
    .sort();
}

/** Resources of both runs by `type::name`. */
function pair(a: Recording, b: Recording) {
  const inB = new Map(b.resources.map((r) => [key(r), r]));
  const inA = new Set(a.resources.map(key));
  return {
    onlyA: a.resources
      .filter((r) => !inB.has(key(r)))
      .map(key)
      .sort(),
    onlyB: b.resources
      .filter((r) => !inA.has(key(r)))
      .map(key)
      .sort(),
    both: a.resources.filter((r) => inB.has(key(r))).map((r) => [r, inB.get(key(r))!] as const),
  };
}

/** `machine.install.image` of the apply's rendered config (the v1alpha1 document of the multi-doc YAML). */
/** The installer image in a config: `machine.install.image`, or (1.14+) `UnattendedInstallConfig.installer.image`. */
function installImage(apply: RecordedResource): string {
  const docs = YAML.parseAllDocuments(String(apply.inputs.config)).map(
    (d) =>
      d.toJS() as {
        version?: string;
        kind?: string;
        machine?: { install?: { image?: string } };
        installer?: { image?: string };
      } | null,
  );
  const main = docs.filter((d) => d?.version === "v1alpha1");
  assert.equal(main.length, 1, `${apply.name}: one v1alpha1 document`);
  const unattended = docs.find((d) => d?.kind === "UnattendedInstallConfig");
  return String(main[0]!.machine?.install?.image ?? unattended?.installer?.image);
}

describe("the program under mocks: what a stack change changes", function () {
  this.timeout(300_000);

  describe("removing a worker", () => {
    let a: Recording;
    let b: Recording;
    let all: Node[];
    before(async () => {
      const sample = sampleStackConfig();
      // The sample's only worker goes: its addons' pods then need the control planes (a stack
      // without workers and without this is refused, see tests/config/core-refusals.test.ts).
      const cp = JSON.parse(sample["proxmox-talos:controlPlane"]!) as Record<string, unknown>;
      const base: Record<string, string> = {
        ...sample,
        "proxmox-talos:controlPlane": JSON.stringify({ ...cp, allowSchedulingOnControlPlanes: true }),
      };
      all = JSON.parse(base[NODES_KEY]) as Node[];
      assert.ok(all.some((n) => n.name === "worker-1" && n.role === "worker"));
      const state = comparableState();
      a = await runProgram(base, undefined, { newResource: state });
      b = await runProgram(
        { ...base, [NODES_KEY]: JSON.stringify(all.filter((n) => n.name !== "worker-1")) },
        undefined,
        { newResource: state },
      );
    });

    it("removes exactly the worker's own resources (its VM and its config apply) and adds none", () => {
      const { onlyA, onlyB } = pair(a, b);
      assert.deepEqual(onlyB, []);
      assert.deepEqual(onlyA, [`${TALOS_TYPES.apply}::talos-apply-worker-1`, `${VM}::worker-1`].sort());
      // Nothing else in the first run is named after the worker: no per-node resource escaped.
      const perWorker = a.resources
        .filter((r) => r.name.includes("worker-1"))
        .map(key)
        .sort();
      assert.deepEqual(perWorker, onlyA);
      // Its Proxmox host (pve2) still carries cp-2, so the host's image stays.
      assert.ok(b.tryFind(IMAGE, "talos-image-pve2-local"));
    });

    it("leaves every other resource's inputs identical, except the cluster-wide node lists", () => {
      // The resources that legitimately name every node: ClusterReady waits for each node (and
      // hashes their configs into `generation`); ClusterMembership (when the Talos layer has it)
      // holds the node set it takes removed nodes out of.
      const allowed: Record<string, readonly string[]> = {
        [`${TALOS_TYPES.ready}::talos-ready`]: ["generation", "nodes"],
        [`${MEMBERSHIP}::talos-membership`]: ["nodes"],
      };
      const changed = pair(a, b).both.filter(([x, y]) => changedKeys(x, y).length > 0);
      assert.ok(changed.length > 0);
      for (const [x, y] of changed) {
        const keys = changedKeys(x, y);
        assert.ok(
          allowed[key(x)] && keys.every((k) => allowed[key(x)]!.includes(k)),
          `${key(x)} changed in ${keys.join(", ")}`,
        );
        if (keys.includes("nodes")) {
          const names = (r: RecordedResource) =>
            (r.inputs.nodes as Array<{ name: string }>).map((n) => n.name);
          assert.deepEqual(
            names(y),
            names(x).filter((n) => n !== "worker-1"),
            `${key(x)}: nodes`,
          );
        }
      }
      const membership = a.tryFind(MEMBERSHIP, "talos-membership");
      if (membership) {
        assert.deepEqual(changedKeys(membership, b.find(MEMBERSHIP, "talos-membership")), ["nodes"]);
      }
      const ready = b.find(TALOS_TYPES.ready, "talos-ready");
      assert.deepEqual(changedKeys(a.find(TALOS_TYPES.ready, "talos-ready"), ready), ["generation", "nodes"]);
      assert.deepEqual(
        (ready.inputs.nodes as Array<{ name: string; address: string }>).map((n) => `${n.name}@${n.address}`),
        all.filter((n) => n.name !== "worker-1").map((n) => `${n.name}@${n.ip}`),
      );
    });

    it("changes dependencies only by dropping the worker's resources (TalosCluster its VM, ready its apply)", () => {
      const removed = new Set(pair(a, b).onlyA.map((k) => k.split("::").pop()!));
      const changed: string[] = [];
      for (const [x, y] of pair(a, b).both) {
        if (json(shortDeps(x)) === json(shortDeps(y))) continue;
        changed.push(key(x));
        assert.deepEqual(
          shortDeps(y),
          shortDeps(x).filter((d) => !removed.has(d)),
          `${key(x)}: only the worker's resources leave its dependencies`,
        );
      }
      for (const k of [`${TALOS_TYPES.ready}::talos-ready`, "proxmox-talos:index:TalosCluster::talos"])
        assert.ok(changed.includes(k), `${k} no longer waits for the worker`);
    });

    it("drops the worker from the cluster-wide outputs that list nodes", () => {
      const names = (r: Recording) => (r.stackOutputs.nodes as Node[]).map((n) => n.name);
      assert.deepEqual(names(a), ["cp-1", "cp-2", "cp-3", "worker-1"]);
      assert.deepEqual(names(b), ["cp-1", "cp-2", "cp-3"]);
    });
  });

  // The sample stack's Talos release and the next patch release of it.
  const FROM = DEFAULT_TALOS_VERSION;
  const from = mustParseVersion(FROM, "default Talos version");
  const TO = `${from.major}.${from.minor}.${from.patch + 1}`;
  describe(`changing talosVersion (${FROM} → ${TO})`, () => {
    let a: Recording;
    let b: Recording;
    before(async () => {
      const base = sampleStackConfig();
      assert.equal(base["proxmox-talos:talosVersion"], FROM);
      const state = comparableState();
      a = await runProgram(base, undefined, { newResource: state });
      b = await runProgram({ ...base, "proxmox-talos:talosVersion": TO }, undefined, { newResource: state });
    });

    it("registers the same resources", () => {
      const { onlyA, onlyB } = pair(a, b);
      assert.deepEqual([onlyA, onlyB], [[], []]);
    });

    it("changes each VM's inputs only in the boot image reference, which the VM ignores", () => {
      const vms = pair(a, b).both.filter(([x]) => x.type === VM);
      assert.equal(vms.length, 4);
      for (const [x, y] of vms) {
        assert.deepEqual(changedKeys(x, y), ["disks"], x.name);
        const dx = x.inputs.disks as Array<Record<string, unknown>>;
        const dy = y.inputs.disks as Array<Record<string, unknown>>;
        assert.equal(dx.length, dy.length);
        assert.deepEqual(
          { ...dy[0], fileId: dx[0]!.fileId },
          dx[0],
          `${x.name}: only disks[0].fileId differs`,
        );
        assert.deepEqual(dy.slice(1), dx.slice(1));
        assert.match(String(dx[0]!.fileId), new RegExp(`^local:iso/talos-.*-v${FROM}-nocloud-amd64\\.img$`));
        assert.match(String(dy[0]!.fileId), new RegExp(`^local:iso/talos-.*-v${TO}-nocloud-amd64\\.img$`));
        // So Proxmox does not recreate the VM (the disk was only seeded from the image).
        assert.ok(y.ignoreChanges.includes("disks[0].fileId"), `${x.name} ignores disks[0].fileId`);
      }
    });

    it("downloads the new image on every host (url and file name)", () => {
      const images = pair(a, b).both.filter(([x]) => x.type === IMAGE);
      assert.equal(images.length, 2);
      for (const [x, y] of images) {
        assert.deepEqual(changedKeys(x, y), ["fileName", "url"], x.name);
        assert.match(String(y.inputs.url), new RegExp(`/v${TO}/nocloud-amd64\\.`));
        assert.match(String(y.inputs.fileName), new RegExp(`-v${TO}-`));
      }
    });

    it("gives every Talos config apply the new install image and version", () => {
      const applies = pair(a, b).both.filter(([x]) => x.type === TALOS_TYPES.apply);
      assert.equal(applies.length, 4);
      for (const [x, y] of applies) {
        const keys = changedKeys(x, y);
        for (const k of ["config", "configHash", "talosVersion"])
          assert.ok(keys.includes(k), `${x.name}: ${k}`);
        // Beside those, only the image as an input of its own and the config's redacted view.
        const expected = ["config", "configHash", "talosVersion", "installImage", "configView"];
        assert.deepEqual(
          keys.filter((k) => !expected.includes(k)),
          [],
          `${x.name} changed in ${keys.join(", ")}`,
        );
        assert.match(
          installImage(x),
          new RegExp(`^factory\\.talos\\.dev/nocloud-installer/[0-9a-f]{64}:v${FROM}$`),
        );
        const image = installImage(x).replace(`:v${FROM}`, `:v${TO}`);
        assert.equal(installImage(y), image);
        if ("installImage" in y.inputs) assert.equal(y.inputs.installImage, image);
        assert.equal(y.inputs.talosVersion, `v${TO}`);
      }
    });

    it("changes nothing else but ClusterReady's generation and the pre-upgrade etcd snapshot's image", () => {
      const changed = pair(a, b)
        .both.filter(([x]) => ![VM, IMAGE, TALOS_TYPES.apply].includes(x.type))
        .filter(([x, y]) => changedKeys(x, y).length > 0)
        .map(([x, y]) => `${key(x)}: ${changedKeys(x, y).join(",")}`);
      assert.deepEqual(changed.sort(), [
        `${TALOS_TYPES.ready}::talos-ready: generation`,
        `${TALOS_TYPES.snapshotStep}::talos-etcd-snapshot: installImage`,
      ]);
    });
  });

  describe("an existing-machines stack with every addon off", () => {
    it("registers the Talos layer only: no Proxmox resources, no ClusterAddons, no Kubernetes provider", async () => {
      const base = sampleStackConfig();
      const nodes = (JSON.parse(base[NODES_KEY]) as Array<Node & { vmId?: number }>).map(
        ({ name, role, ip }) => ({ name, role, ip }),
      );
      const config: Record<string, string> = {
        ...Object.fromEntries(
          Object.entries(base).filter(
            ([k]) => k !== "proxmox-talos:proxmox" && k !== "proxmox-talos:proxmoxApiToken",
          ),
        ),
        [NODES_KEY]: JSON.stringify(nodes),
        "proxmox-talos:network": JSON.stringify({
          cidr: "192.168.50.0/24",
          gateway: "192.168.50.1",
          dnsServers: ["192.168.50.1"],
          cni: "flannel",
        }),
        "proxmox-talos:addons": JSON.stringify({
          cilium: { enabled: false },
          metallb: { enabled: false },
          openebs: { enabled: false },
          flux: { enabled: false },
        }),
      };
      const rec = await runProgram(config, []);
      const types = rec.resources.map((r) => r.type);
      assert.deepEqual(
        types.filter((t) => /^(proxmoxve:|kubernetes:|pulumi:providers:(proxmoxve|kubernetes))/.test(t)),
        [],
        "no third-party provider is needed",
      );
      assert.equal(rec.tryFind("proxmox-talos:index:ClusterAddons", "addons"), undefined);
      assert.equal(rec.byType(TALOS_TYPES.apply).length, 4);
      assert.equal(rec.byType(TALOS_TYPES.ready).length, 1);
      assert.ok(!("sopsRecipient" in rec.stackOutputs) && !("sopsConfig" in rec.stackOutputs));
    });
  });

  describe("protect", () => {
    it("a production stack protects every VM and the cluster identity, and nothing else", async () => {
      const rec = await runProgram({ ...sampleStackConfig(), "proxmox-talos:production": "true" });
      const vms = rec.byType(VM);
      assert.equal(vms.length, 4);
      for (const vm of vms) assert.equal(vm.protect, true, `${vm.name} is protected`);
      // Issue #19: the bundle, the admin client configs and the age identity (tests/program/safety.test.ts).
      const identity = [TALOS_TYPES.secrets, TALOS_TYPES.clientConfigs, "pulumi-nodejs:dynamic:AgeIdentity"];
      assert.deepEqual(
        rec.resources
          .filter((r) => r.protect && r.type !== VM)
          .map((r) => r.type)
          .sort(),
        [...identity].sort(),
        "only the VMs and the cluster identity are protected",
      );
    });

    it("a non-production stack (the sample) protects nothing", async () => {
      const rec = await runProgram(sampleStackConfig());
      assert.equal(sampleStackConfig()["proxmox-talos:production"], "false");
      assert.equal(rec.byType(VM).length, 4);
      assert.deepEqual(rec.resources.filter((r) => r.protect).map(key), []);
    });
  });
});
