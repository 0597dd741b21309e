import * as assert from "node:assert/strict";
import type { StackValidationPolicy } from "@pulumi/policy";
import {
  controlPlaneCountIssues,
  controlPlaneSpreadIssues,
  poolIssues,
  versionIssues,
  vipIssues,
} from "../../components/config/rules";
import { DEFAULT_KUBERNETES_VERSION, DEFAULT_TALOS_VERSION } from "../../components/versions";
import { controlPlaneCount, controlPlaneSpread, metallbPools, versions, vip } from "../../policy/cluster";
import { clusterFacts } from "../../policy/lib/facts";
import { issueMessage } from "../../policy/lib/report";
import { cloneConfig, type RawConfig, type StackOptions, sampleConfig, stackResources } from "./fixtures";
import {
  linkParents,
  type Outcome,
  policyResource,
  type ResourceSpec,
  runStackPolicy,
  stackArgs,
} from "./harness";

interface RawNode {
  name: string;
  role: string;
  ip: string;
  proxmoxNode?: string;
  vmId?: number;
}

function withConfig(edit: (c: RawConfig & { nodes: RawNode[] }) => void): RawConfig {
  const c = cloneConfig(sampleConfig()) as RawConfig & { nodes: RawNode[] };
  edit(c);
  return c;
}

/** The sample stack on existing machines: no proxmox section, so no provider and no VMs. */
function existingMachines(edit: (c: RawConfig & { nodes: RawNode[] }) => void = () => {}): RawConfig {
  return withConfig((c) => {
    delete c.proxmox;
    c.nodes = c.nodes.map(({ proxmoxNode: _h, vmId: _v, ...rest }) => rest);
    edit(c);
  });
}

function resources(c: RawConfig, opts?: StackOptions): ResourceSpec[] {
  return stackResources(c, opts);
}

function run(policy: StackValidationPolicy, specs: ResourceSpec[], config: object = {}): Promise<Outcome> {
  return runStackPolicy(policy, stackArgs(linkParents(specs.map(policyResource)), config));
}

const CLUSTER_URN_SUFFIX = "proxmox-talos:index:HomelabCluster::homelab";

describe("policy: cluster", () => {
  describe("cluster facts", () => {
    it("come from clusterSpec when HomelabCluster registers it", () => {
      const facts = clusterFacts(resources(sampleConfig()).map(policyResource));
      assert.equal(facts?.source, "clusterSpec");
      assert.equal(facts?.nodes.length, 4);
      assert.deepEqual(facts?.network, { cidr: "192.168.50.0/24", gateway: "192.168.50.1" });
      assert.deepEqual(facts?.pools, [{ name: "default", addresses: ["192.168.50.200-192.168.50.220"] }]);
      assert.equal(facts?.nodes[1].proxmoxNode, "pve2");
    });
    it("fall back to the stack outputs plus the VMs' placement", () => {
      const facts = clusterFacts(resources(sampleConfig(), { withClusterSpec: false }).map(policyResource));
      assert.equal(facts?.source, "stack outputs");
      assert.deepEqual(
        facts?.nodes.map((n) => [n.name, n.role, n.ip, n.proxmoxNode, n.vmId]),
        [
          ["cp-1", "controlplane", "192.168.50.11", "pve1", 8101],
          ["cp-2", "controlplane", "192.168.50.12", "pve2", 8102],
          ["cp-3", "controlplane", "192.168.50.13", "pve1", 8103],
          ["worker-1", "worker", "192.168.50.21", "pve2", 8201],
        ],
      );
      assert.equal(facts?.vip, "192.168.50.10");
      assert.equal(facts?.talosVersion, DEFAULT_TALOS_VERSION);
    });
    it("fall back to the VMs alone (role tag, cloud-init IP)", () => {
      const vms = resources(sampleConfig()).filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy");
      const facts = clusterFacts(vms.map(policyResource));
      assert.equal(facts?.source, "VMs");
      assert.deepEqual(
        facts?.nodes.map((n) => `${n.name}/${n.role}/${n.ip}`),
        [
          "cp-1/controlplane/192.168.50.11",
          "cp-2/controlplane/192.168.50.12",
          "cp-3/controlplane/192.168.50.13",
          "worker-1/worker/192.168.50.21",
        ],
      );
    });
    it("cover stacks on existing machines (no VMs)", () => {
      const specs = resources(existingMachines());
      assert.equal(specs.filter((r) => r.type.startsWith("proxmoxve:")).length, 0);
      const facts = clusterFacts(specs.map(policyResource));
      assert.equal(facts?.nodes.length, 4);
      assert.equal(facts?.nodes[0].proxmoxNode, undefined);
    });
  });

  describe("cluster-odd-control-planes (mandatory)", () => {
    it("passes three control planes", async () => {
      assert.deepEqual((await run(controlPlaneCount, resources(sampleConfig()))).violations, []);
    });
    it("flags two control planes, with the message of the config rule", async () => {
      const c = withConfig((c) => {
        c.nodes[2].role = "worker";
      });
      const outcome = await run(controlPlaneCount, resources(c));
      assert.equal(outcome.violations.length, 1);
      const facts = clusterFacts(resources(c).map(policyResource));
      assert.ok(facts);
      // One implementation, two callers: the policy reports exactly what the config rule finds.
      assert.deepEqual(
        outcome.violations.map((v) => v.message),
        controlPlaneCountIssues(facts.nodes, false).map((i) => issueMessage(i, "clusterSpec")),
      );
      assert.match(outcome.violations[0].message, /^proxmox-talos:nodes: has 2 control planes/);
      assert.ok(outcome.violations[0].urn?.endsWith(CLUSTER_URN_SUFFIX));
    });
    it("flags a cluster without control planes", async () => {
      const c = withConfig((c) => {
        for (const n of c.nodes) n.role = "worker";
      });
      assert.match(
        (await run(controlPlaneCount, resources(c))).violations[0].message,
        /no node with role controlplane/,
      );
    });
    it("accepts an even count allowed by the stack config or the policy config", async () => {
      const even = (allow: boolean) =>
        withConfig((c) => {
          c.nodes[2].role = "worker";
          c.controlPlane = { ...(c.controlPlane as object), allowEvenCount: allow };
        });
      assert.deepEqual((await run(controlPlaneCount, resources(even(true)))).violations, []);
      assert.deepEqual(
        (await run(controlPlaneCount, resources(even(false)), { allowEvenCount: true })).violations,
        [],
      );
    });
    it("checks stacks on existing machines", async () => {
      const c = existingMachines((c) => {
        c.nodes[2].role = "worker";
      });
      assert.equal((await run(controlPlaneCount, resources(c))).violations.length, 1);
    });
    it("is not applicable to a stack without nodes", async () => {
      const outcome = await run(controlPlaneCount, [{ type: "pulumi:pulumi:Stack", name: "s", props: {} }]);
      assert.match(outcome.notApplicable ?? "", /no cluster nodes/);
    });
  });

  describe("cluster-control-plane-spread (advisory)", () => {
    it("passes control planes on pve1 and pve2", async () => {
      assert.deepEqual((await run(controlPlaneSpread, resources(sampleConfig()))).violations, []);
    });
    it("flags three control planes on one host, judged by where the VMs really are", async () => {
      const c = withConfig((c) => {
        c.nodes[1].proxmoxNode = "pve1";
      });
      const outcome = await run(controlPlaneSpread, resources(c, { withClusterSpec: false }));
      assert.equal(outcome.violations.length, 1);
      assert.match(outcome.violations[0].message, /all 3 control planes run on Proxmox node "pve1"/);
      const facts = clusterFacts(resources(c).map(policyResource));
      assert.equal(controlPlaneSpreadIssues(facts?.nodes ?? []).length, 1);
    });
    it("says nothing about existing machines (no hosts known)", async () => {
      assert.deepEqual((await run(controlPlaneSpread, resources(existingMachines()))).violations, []);
    });
    it("is advisory", () => assert.equal(controlPlaneSpread.enforcementLevel, "advisory"));
  });

  describe("cluster-vip-free (mandatory)", () => {
    it("passes a free VIP", async () =>
      assert.deepEqual((await run(vip, resources(sampleConfig()))).violations, []));
    it("flags a VIP that is a node's IP", async () => {
      const c = withConfig((c) => {
        c.controlPlane = { vip: "192.168.50.12" };
      });
      const outcome = await run(vip, resources(c));
      assert.equal(outcome.violations.length, 1);
      assert.match(
        outcome.violations[0].message,
        /controlPlane\.vip: "192\.168\.50\.12" is also nodes\[1\]\.ip \(cp-2\)/,
      );
      const facts = clusterFacts(resources(c).map(policyResource));
      assert.ok(facts);
      assert.equal(vipIssues("192.168.50.12", facts.nodes, facts.network).length, 1);
    });
    it("flags the gateway and an address outside the node network (with clusterSpec)", async () => {
      const gw = withConfig((c) => {
        c.controlPlane = { vip: "192.168.50.1" };
      });
      assert.match((await run(vip, resources(gw))).violations[0].message, /gateway's address/);
      const outside = withConfig((c) => {
        c.controlPlane = { vip: "10.9.9.9" };
      });
      assert.match((await run(vip, resources(outside))).violations[0].message, /outside network\.cidr/);
    });
    it("checks stacks on existing machines", async () => {
      const c = existingMachines((c) => {
        c.controlPlane = { vip: "192.168.50.21" };
      });
      assert.equal((await run(vip, resources(c))).violations.length, 1);
    });
  });

  describe("cluster-metallb-pools-disjoint (mandatory)", () => {
    it("passes the sample pool", async () => {
      assert.deepEqual((await run(metallbPools, resources(sampleConfig()))).violations, []);
    });
    function withPools(addresses: string[]): RawConfig {
      return withConfig((c) => {
        const addons = c.addons as {
          metallb: { enabled: boolean; pools: Array<{ name: string; addresses: string[] }> };
        };
        addons.metallb.pools = [{ name: "default", addresses }];
      });
    }
    it("flags a pool over a node IP", async () => {
      const outcome = await run(metallbPools, resources(withPools(["192.168.50.20-192.168.50.30"])));
      assert.equal(outcome.violations.length, 1);
      assert.match(outcome.violations[0].message, /overlaps node worker-1 \(192\.168\.50\.21\)/);
    });
    it("flags a pool over the VIP and one over the gateway", async () => {
      const outcome = await run(metallbPools, resources(withPools(["192.168.50.10", "192.168.50.1"])));
      assert.deepEqual(
        outcome.violations.map((v) => /overlaps (the \w+)/.exec(v.message)?.[1]),
        ["the VIP", "the gateway"],
      );
    });
    it("flags a pool over the node network's broadcast address and one written with host bits", async () => {
      const outcome = await run(
        metallbPools,
        resources(withPools(["192.168.50.250-192.168.50.255", "192.168.50.201/28"])),
      );
      assert.deepEqual(
        outcome.violations.map(
          (v) => /(overlaps the broadcast address|has host bits set)/.exec(v.message)?.[1],
        ),
        ["overlaps the broadcast address", "has host bits set"],
      );
    });
    it("flags a pool inside the pod or service range the clusterSpec carries", async () => {
      const c = withPools(["10.244.3.0-10.244.3.9", "10.96.0.100-10.96.0.110"]);
      (c.network as Record<string, unknown>).podSubnets = ["10.244.0.0/16"];
      (c.network as Record<string, unknown>).serviceSubnets = ["10.96.0.0/12"];
      const outcome = await run(metallbPools, resources(c));
      assert.deepEqual(
        outcome.violations.map((v) => /overlaps (network\.\w+\[0\])/.exec(v.message)?.[1]),
        ["network.podSubnets[0]", "network.serviceSubnets[0]"],
      );
    });
    it("reports what the config rule reports", async () => {
      const c = withPools(["192.168.50.11", "bogus"]);
      const facts = clusterFacts(resources(c).map(policyResource));
      assert.ok(facts);
      const expected = poolIssues(facts.pools, {
        nodes: facts.nodes,
        vip: facts.vip,
        gateway: facts.network?.gateway,
        cidr: facts.network?.cidr,
      });
      assert.equal(expected.length, 2);
      assert.deepEqual(
        (await run(metallbPools, resources(c))).violations.map((v) => v.message),
        expected.map((i) => issueMessage(i, "clusterSpec")),
      );
    });
    it("without clusterSpec, reads the pools from IPAddressPool resources", async () => {
      const pool: ResourceSpec = {
        type: "kubernetes:metallb.io/v1beta1:IPAddressPool",
        name: "default-pool",
        props: { metadata: { name: "default" }, spec: { addresses: ["192.168.50.10/32"] } },
      };
      const outcome = await run(metallbPools, [
        ...resources(sampleConfig(), { withClusterSpec: false }),
        pool,
      ]);
      assert.equal(outcome.violations.length, 1);
      assert.match(outcome.violations[0].message, /overlaps the VIP/);
    });
  });

  describe("cluster-talos-kubernetes-supported (mandatory)", () => {
    it("passes the sample stack's (default) Talos and Kubernetes", async () => {
      assert.deepEqual((await run(versions, resources(sampleConfig()))).violations, []);
    });
    it("flags Kubernetes too new for Talos 1.11", async () => {
      const c = withConfig((c) => {
        c.talosVersion = "1.11.6";
      });
      const outcome = await run(versions, resources(c));
      assert.deepEqual(
        outcome.violations.map((v) => v.message),
        versionIssues("1.11.6", DEFAULT_KUBERNETES_VERSION).map((i) => issueMessage(i, "clusterSpec")),
      );
      assert.match(outcome.violations[0].message, /too new for Talos 1\.11\.6/);
    });
    it("flags an unsupported Talos release", async () => {
      const c = withConfig((c) => {
        c.talosVersion = "1.7.0";
      });
      assert.match(
        (await run(versions, resources(c))).violations[0].message,
        /talosVersion: Talos 1\.7\.0 is not supported/,
      );
    });
    it("reads the versions from the stack outputs without clusterSpec", async () => {
      const c = withConfig((c) => {
        c.kubernetesVersion = "1.27.0";
      });
      const outcome = await run(versions, resources(c, { withClusterSpec: false }));
      assert.match(outcome.violations[0].message, /too old/);
      assert.match(outcome.violations[0].message, /from the stack outputs/);
    });
    it("is not applicable when no versions are known", async () => {
      const vms = resources(sampleConfig()).filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy");
      assert.match((await run(versions, vms)).notApplicable ?? "", /no Talos and Kubernetes versions/);
    });
  });
});
