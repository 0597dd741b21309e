import * as assert from "node:assert/strict";
import type { MachineHardware } from "../../components/talos/machineconfig/hardware";
import { applyPatches } from "../../components/talos/machineconfig/patch";
import { type PlainObject, parseYamlDocuments } from "../../components/talos/machineconfig/patch-yaml";
import { type MachineConfigInput, renderMachineConfig } from "../../components/talos/machineconfig/render";
import type { MachineRole } from "../../components/talos/types";
import { SUPPORTED_TALOS_MINORS, talosMinorFacts } from "../../components/talos-minors";
import { requireOracle, runOracle, tempDir } from "../helpers/shared";
import { baseInput, fakeBundle, oracleBundle, writeTemp } from "../talos/fixtures-machineconfig";

/**
 * Node hardware in the machine config, judged by Sidero's machinery (talos-oracle validate, strict
 * metal mode) on every supported Talos minor: user volumes per data disk, STATE/EPHEMERAL
 * encryption in the form each minor uses, NVIDIA kernel modules and sysctl.
 */
const layout = (m: string) => talosMinorFacts(m)!.config;
function input(
  minor: string,
  role: MachineRole,
  hw: MachineHardware,
  over: Partial<MachineConfigInput> = {},
) {
  const base = baseInput("1.13", role, over.bundle ?? fakeBundle());
  return {
    ...base,
    talosVersion: `${minor}.0`,
    kubernetesVersion: `${talosMinorFacts(minor)!.kubernetes.maxMinor}.0`,
    hardware: hw,
    ...over,
  };
}

const GPU_WORKER: MachineHardware = {
  userVolumes: [
    { name: "data", selector: 'disk.serial == "data"', sizeGiB: 100 },
    { name: "models", selector: 'disk.serial == "models"', sizeGiB: 500 },
  ],
  diskEncryption: "tpm",
  nvidia: true,
};

describe("node hardware in the machine config (pure)", () => {
  for (const minor of SUPPORTED_TALOS_MINORS) {
    it(`Talos ${minor}: user volumes, encryption and NVIDIA modules in the form the minor uses`, () => {
      const docs = parseYamlDocuments(
        renderMachineConfig(input(minor, "worker", GPU_WORKER)),
      ) as PlainObject[];
      const machine = docs[0].machine as PlainObject;
      const kinds = docs.slice(1).map((d) => `${d.kind}/${d.name ?? ""}`);
      assert.ok(kinds.includes("UserVolumeConfig/data") && kinds.includes("UserVolumeConfig/models"));
      const data = docs.find((d) => d.kind === "UserVolumeConfig" && d.name === "data")!;
      assert.deepEqual(data.provisioning, {
        diskSelector: { match: 'disk.serial == "data"' },
        minSize: "99GiB",
      });
      const tpmKey = { slot: 0, tpm: { checkSecurebootStatusOnEnroll: true } };
      if (!layout(minor).volumeConfigEncryption) {
        assert.deepEqual(machine.systemDiskEncryption, {
          state: { provider: "luks2", keys: [tpmKey] },
          ephemeral: { provider: "luks2", keys: [tpmKey] },
        });
        assert.ok(!kinds.some((k) => k.startsWith("VolumeConfig/")));
      } else {
        assert.equal(machine.systemDiskEncryption, undefined);
        for (const name of ["STATE", "EPHEMERAL"]) {
          const v = docs.find((d) => d.kind === "VolumeConfig" && d.name === name);
          assert.deepEqual(v?.encryption, { provider: "luks2", keys: [tpmKey] }, name);
        }
      }
      const modules = ["nvidia", "nvidia_uvm", "nvidia_drm", "nvidia_modeset"];
      if (!layout(minor).kernelDocuments) {
        assert.deepEqual(machine.kernel, { modules: modules.map((name) => ({ name })) });
        assert.deepEqual(machine.sysctls, { "net.core.bpf_jit_harden": "1" });
      } else {
        assert.deepEqual(
          docs.filter((d) => d.kind === "KernelModuleConfig").map((d) => d.name),
          modules,
        );
        assert.deepEqual(docs.find((d) => d.kind === "SysctlConfig")?.params, {
          "net.core.bpf_jit_harden": "1",
        });
      }
    });
  }

  it("nodeID keys instead of the TPM, and nothing at all without hardware", () => {
    const y = renderMachineConfig(input("1.13", "worker", { diskEncryption: "nodeID" }));
    const state = (parseYamlDocuments(y) as PlainObject[]).find((d) => d.name === "STATE")!;
    assert.deepEqual(state.encryption, { provider: "luks2", keys: [{ slot: 0, nodeID: {} }] });
    const plain = renderMachineConfig(input("1.13", "worker", {}));
    assert.doesNotMatch(plain, /UserVolumeConfig|VolumeConfig|systemDiskEncryption|nvidia/);
  });

  it("mounts OpenEBS' data-disk base path into the kubelet", () => {
    const y = renderMachineConfig(input("1.13", "worker", GPU_WORKER, { openebsBasePath: "/var/mnt/data" }));
    const kubelet = ((parseYamlDocuments(y)[0] as PlainObject).machine as PlainObject).kubelet as PlainObject;
    assert.deepEqual(kubelet.extraMounts, [
      {
        destination: "/var/mnt/data",
        type: "bind",
        source: "/var/mnt/data",
        options: ["bind", "rshared", "rw"],
      },
    ]);
  });
});

describe("node hardware in the machine config: talos-oracle judge", function () {
  this.timeout(180_000);
  const dir = tempDir("pt-hw-mc-");
  let bundle: ReturnType<typeof oracleBundle>["bundle"] | undefined;

  before(function () {
    requireOracle(this, "1.13");
    bundle = oracleBundle().bundle;
  });

  for (const minor of SUPPORTED_TALOS_MINORS) {
    describe(`Talos ${minor}`, () => {
      before(function () {
        requireOracle(this, minor);
      });

      for (const [label, hw] of [
        ["GPU worker: 2 user volumes, TPM encryption, NVIDIA", GPU_WORKER],
        [
          "nodeID encryption, one user volume",
          { diskEncryption: "nodeID", userVolumes: [GPU_WORKER.userVolumes![0]] },
        ],
      ] as const) {
        for (const role of ["controlplane", "worker"] as const) {
          it(`${role}, ${label}: passes validate`, () => {
            const y = renderMachineConfig(input(minor, role, hw, { bundle }));
            const file = writeTemp(dir, `${minor}-${role}-${label.length}.yaml`, y);
            const v = runOracle(minor, ["validate", file]);
            assert.equal(v.status, 0, v.stdout + v.stderr);
          });
        }
      }

      // Talos replaces a volume's selector and sizes with the patch's (`replacedOnMerge` in patch-quirks.ts).
      for (const [label, patch, valid] of [
        [
          "restating the selector, adding maxSize",
          'provisioning:\n  diskSelector:\n    match: disk.serial == "data"\n  minSize: 10GiB\n  maxSize: 200GiB\n',
          true,
        ],
        ["only grow (selector and sizes dropped)", "provisioning:\n  grow: true\n", false],
        ["only a filesystem", "filesystem:\n  type: ext4\n", false],
      ] as const) {
        it(`a user volume patch merges as Talos merges it: ${label}`, () => {
          const y = renderMachineConfig(input(minor, "worker", GPU_WORKER, { bundle }));
          const text = `apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: data\n${patch}`;
          const theirs = runOracle(minor, [
            "patch",
            writeTemp(dir, `${minor}-uv.yaml`, y),
            writeTemp(dir, `${minor}-uv-patch.yaml`, text),
          ]);
          assert.equal(theirs.status, 0, theirs.stderr);
          const ours = applyPatches(y, [text], {
            node: "worker-1",
            talosVersion: `${minor}.0`,
            validate: false,
          });
          const docs = (t: string) =>
            (parseYamlDocuments(t) as PlainObject[]).filter((d) => d.kind !== undefined);
          assert.deepEqual(docs(ours), docs(theirs.stdout));
          const v = runOracle(minor, ["validate", writeTemp(dir, `${minor}-uv-merged.yaml`, ours)]);
          assert.equal(v.status === 0, valid, v.stdout + v.stderr);
        });
      }

      it("validate rejects a broken disk selector (the judge can say no)", () => {
        const y = renderMachineConfig(input(minor, "worker", GPU_WORKER, { bundle })).replace(
          'disk.serial == "data"',
          "disk.serial ==",
        );
        assert.notEqual(runOracle(minor, ["validate", writeTemp(dir, `${minor}-bad.yaml`, y)]).status, 0);
      });
    });
  }
});
