import * as assert from "node:assert/strict";
import { vmCpuType, vmDisk, vmMemory, vmProtected, vmQemuAgent, vmStaticIp } from "../../policy/vms";
import { sampleConfig, stackResources } from "./fixtures";
import {
  DELETE,
  edited,
  linkParents,
  policyResource,
  type ResourceSpec,
  resourceArgs,
  runResourcePolicy,
  runStackPolicy,
  stackArgs,
  UNKNOWN_STRING,
  urnOf,
  violations,
} from "./harness";

const VM = "proxmoxve:index/vmLegacy:VmLegacy";

/** The sample stack's VM `name`, exactly as the program registers it. */
function sampleVm(name = "cp-1"): ResourceSpec {
  const vm = stackResources(sampleConfig()).find((r) => r.type === VM && r.name === name);
  assert.ok(vm, `sample stack has VM ${name}`);
  return vm;
}

/** The VM with edits applied to a copy of its props (see `edited`). */
function vmWith(edits: ReadonlyArray<readonly [string, unknown]>, name = "cp-1"): ResourceSpec {
  const base = sampleVm(name);
  return { ...base, props: edited(base.props, edits) };
}

describe("policy: VMs", () => {
  describe("vm-qemu-agent-enabled (advisory)", () => {
    it("passes the program's VM", async () =>
      assert.deepEqual(await violations(vmQemuAgent, sampleVm()), []));
    it("flags agent.enabled false", async () => {
      const got = await violations(vmQemuAgent, vmWith([["agent.enabled", false]]));
      assert.equal(got.length, 1);
      assert.match(got[0], /cp-1 has the QEMU guest agent off/);
    });
    it("flags an unset agent (the provider's default is off)", async () => {
      assert.equal((await violations(vmQemuAgent, vmWith([["agent", DELETE]]))).length, 1);
    });
    it("ignores other resource types", async () => {
      assert.deepEqual(
        await violations(vmQemuAgent, { type: "proxmoxve:download/file:File", name: "img", props: {} }),
        [],
      );
    });
    it("is advisory", () => assert.equal(vmQemuAgent.enforcementLevel, "advisory"));
  });

  describe("vm-cpu-x86-64-v2 (mandatory)", () => {
    it("passes host and x86-64-v2-AES", async () => {
      assert.deepEqual(await violations(vmCpuType, sampleVm()), []);
      assert.deepEqual(await violations(vmCpuType, vmWith([["cpu.type", "x86-64-v2-AES"]])), []);
    });
    for (const type of ["kvm64", "qemu64", "KVM64"]) {
      it(`flags ${type}`, async () => {
        const got = await violations(vmCpuType, vmWith([["cpu.type", type]]));
        assert.equal(got.length, 1);
        assert.match(got[0], /lacks x86-64-v2/);
      });
    }
    it("flags an unset CPU type (the provider's default is qemu64)", async () => {
      const got = await violations(vmCpuType, vmWith([["cpu.type", DELETE]]));
      assert.match(got[0], /"qemu64"/);
    });
    it("takes the forbidden list from policy config", async () => {
      const spec = vmWith([["cpu.type", "x86-64-v2-AES"]]);
      assert.equal((await violations(vmCpuType, spec, { forbiddenCpuTypes: ["x86-64-v2-AES"] })).length, 1);
    });
  });

  describe("vm-minimum-memory (mandatory)", () => {
    it("passes 4 GiB control planes and 8 GiB workers", async () => {
      assert.deepEqual(await violations(vmMemory, sampleVm("cp-1")), []);
      assert.deepEqual(await violations(vmMemory, sampleVm("worker-1")), []);
    });
    it("flags a 1.5 GiB control plane", async () => {
      const got = await violations(vmMemory, vmWith([["memory.dedicated", 1536]]));
      assert.deepEqual(got.length, 1);
      assert.match(got[0], /1536 MiB of memory; a controlplane needs at least 2048 MiB/);
    });
    it("accepts a 1 GiB worker, flags a 768 MiB one", async () => {
      assert.deepEqual(await violations(vmMemory, vmWith([["memory.dedicated", 1024]], "worker-1")), []);
      const got = await violations(vmMemory, vmWith([["memory.dedicated", 768]], "worker-1"));
      assert.match(got[0], /a worker needs at least 1024 MiB/);
    });
    it("reads the role from the tags", async () => {
      const asWorker = vmWith([
        ["memory.dedicated", 1536],
        ["tags", ["homelab", "worker"]],
      ]);
      assert.deepEqual(await violations(vmMemory, asWorker), []);
    });
    it("flags unset memory (the provider's default is 512 MiB)", async () => {
      assert.match((await violations(vmMemory, vmWith([["memory", DELETE]])))[0], /512 MiB/);
    });
    it("takes the minimums from policy config", async () => {
      assert.equal((await violations(vmMemory, sampleVm(), { controlPlaneMinMiB: 8192 })).length, 1);
    });
  });

  describe("vm-minimum-disk (mandatory)", () => {
    it("passes 32 GiB", async () => assert.deepEqual(await violations(vmDisk, sampleVm()), []));
    it("flags 8 GiB", async () => {
      assert.match((await violations(vmDisk, vmWith([["disks.0.size", 8]])))[0], /8 GiB boot disk/);
    });
    it("flags a VM without disks", async () => {
      assert.match((await violations(vmDisk, vmWith([["disks", []]])))[0], /has no disk/);
    });
    it("flags an unset size (the provider's default is 8 GiB)", async () => {
      assert.equal((await violations(vmDisk, vmWith([["disks.0.size", DELETE]]))).length, 1);
    });
  });

  describe("vm-static-ip (mandatory)", () => {
    it("passes the program's cloud-init address", async () =>
      assert.deepEqual(await violations(vmStaticIp, sampleVm()), []));
    it("flags a missing initialization block", async () => {
      assert.match(
        (await violations(vmStaticIp, vmWith([["initialization", DELETE]])))[0],
        /no cloud-init IPv4/,
      );
    });
    it("flags dhcp", async () => {
      const got = await violations(vmStaticIp, vmWith([["initialization.ipConfigs.0.ipv4.address", "dhcp"]]));
      assert.match(got[0], /"dhcp"/);
    });
    it("reports the preview case where the address is unknown as not runnable, not as a violation", async () => {
      const spec = vmWith([["initialization.ipConfigs.0.ipv4.address", UNKNOWN_STRING]]);
      const outcome = await runResourcePolicy(vmStaticIp, resourceArgs(spec));
      assert.deepEqual(outcome.violations, []);
      assert.match(outcome.unknown ?? "", /can't be known during preview/);
    });
  });

  describe("vm-protected-in-production (mandatory, stack)", () => {
    const prodConfig = () => ({ ...sampleConfig(), production: true });
    async function run(resources: ResourceSpec[], config: object = {}) {
      return runStackPolicy(vmProtected, stackArgs(linkParents(resources.map(policyResource)), config));
    }
    it("passes a non-production stack with unprotected VMs", async () => {
      assert.deepEqual((await run(stackResources(sampleConfig()))).violations, []);
    });
    it("passes a production stack whose VMs are protected", async () => {
      assert.deepEqual((await run(stackResources(prodConfig()))).violations, []);
    });
    it("flags every unprotected VM when the stack config says production", async () => {
      const outcome = await run(stackResources(prodConfig(), { protect: false }));
      assert.equal(outcome.violations.length, 4);
      assert.match(
        outcome.violations[0].message,
        /cp-1 is not protected although proxmox-talos:production is true/,
      );
      assert.ok(outcome.violations[0].urn?.endsWith("::cp-1"));
    });
    it("flags unprotected VMs of a stack named as production in policy config", async () => {
      const outcome = await run(stackResources(sampleConfig(), { stack: "prod-eu" }));
      assert.equal(outcome.violations.length, 4);
      assert.match(outcome.violations[0].message, /stack "prod-eu" matches productionStacks/);
      const custom = await run(stackResources(sampleConfig()), { productionStacks: ["home*"] });
      assert.equal(custom.violations.length, 4);
    });
    it("works without a cluster description (VMs alone)", async () => {
      const vm = { ...sampleVm(), urn: urnOf(VM, "cp-1", "production") };
      assert.equal((await run([vm])).violations.length, 1);
    });
  });
});
