import * as assert from "node:assert/strict";
import { ConfigError } from "../../components/config/errors";
import { validateStackConfig } from "../../components/config/validate";
import { SAMPLE_SECRETS, sampleRaw } from "../helpers/sample-stack";

/** Bad stack files as a careless user writes them: each fault named by key, all reported together. */

function faults(raw: Record<string, unknown>): Map<string, string> {
  try {
    validateStackConfig(raw, SAMPLE_SECRETS);
  } catch (err) {
    if (err instanceof ConfigError)
      return new Map(err.issues.map((i) => [i.path, `${i.message} — ${i.fix ?? ""}`]));
    throw err;
  }
  return new Map();
}

type Rec = Record<string, unknown>;

describe("stack config: a careless user's faults", () => {
  it("cross-checks pod and service subnets (node network, each other, /12), all at once", () => {
    const raw = sampleRaw();
    const net = raw.network as Rec;
    net.podSubnets = [net.cidr];
    net.serviceSubnets = ["10.0.0.0/8"];
    const f = faults(raw);
    assert.match(f.get("network.podSubnets[0]") ?? "", /overlaps the node network/);
    assert.match(f.get("network.serviceSubnets[0]") ?? "", /larger than \/12|overlaps network\.podSubnets/);
    const raw2 = sampleRaw();
    (raw2.network as Rec).podSubnets = ["10.96.0.0/12"];
    (raw2.network as Rec).serviceSubnets = ["10.96.0.0/16"];
    assert.match(faults(raw2).get("network.serviceSubnets[0]") ?? "", /overlaps network\.podSubnets\[0\]/);
    const raw3 = sampleRaw();
    (raw3.network as Rec).serviceSubnets = ["10.64.0.0/10"];
    assert.match(faults(raw3).get("network.serviceSubnets[0]") ?? "", /larger than \/12/);
  });

  it("normalises surrounding spaces once: a duplicate IP and a VIP equal to a node IP are caught", () => {
    const raw = sampleRaw();
    const nodes = raw.nodes as Rec[];
    nodes[1]!.ip = ` ${String(nodes[0]!.ip)} `;
    (raw.controlPlane as Rec).vip = `${String(nodes[2]!.ip)}  `;
    const f = faults(raw);
    assert.match(f.get("nodes[1].ip") ?? "", /already used by nodes\[0\]/);
    assert.match(f.get("controlPlane.vip") ?? "", /is also nodes\[2\]\.ip/);
  });

  it("applies per-role minimums: a control plane needs 2 GiB and 2 cores, a worker 1 GiB", () => {
    const raw = sampleRaw();
    const nodes = raw.nodes as Rec[];
    const cp = nodes.findIndex((n) => n.role === "controlplane");
    const worker = nodes.findIndex((n) => n.role === "worker");
    nodes[cp]!.memoryMiB = 1536;
    nodes[cp]!.cores = 1;
    nodes[worker]!.memoryMiB = 1536;
    nodes[worker]!.cores = 1;
    const f = faults(raw);
    assert.match(
      f.get(`nodes[${cp}].memoryMiB`) ?? "",
      /below Talos' minimum for a controlplane \(2048 MiB\)/,
    );
    assert.match(f.get(`nodes[${cp}].cores`) ?? "", /minimum for a controlplane \(2 cores\)/);
    assert.equal(f.has(`nodes[${worker}].memoryMiB`), false);
    assert.equal(f.has(`nodes[${worker}].cores`), false);
  });

  it("refuses versions with leading zeros, a Proxmox endpoint with a path or a bad port, stack tags with spaces", () => {
    const raw = sampleRaw();
    raw.kubernetesVersion = "1.36.03";
    raw.talosVersion = "1.013.9";
    (raw.proxmox as Rec).endpoint = "https://pve.lan:8006/api2/json";
    (raw.proxmox as Rec).tags = ["talos", "my cluster"];
    (raw.controlPlane as Rec).endpoint = "https://10.0.0.5:70000";
    const f = faults(raw);
    assert.match(f.get("kubernetesVersion") ?? "", /leading zeros/);
    assert.match(f.get("talosVersion") ?? "", /leading zeros/);
    assert.match(f.get("proxmox.endpoint") ?? "", /has a path — .*the provider adds \/api2\/json/);
    assert.match(f.get("proxmox.tags[1]") ?? "", /no spaces/);
    assert.match(
      f.get("controlPlane.endpoint") ?? "",
      /port outside 1-65535 — write it like https:\/\/10\.0\.0\.5:6443/,
    );
    const raw2 = sampleRaw();
    (raw2.proxmox as Rec).endpoint = "https://pve.lan:99999/";
    assert.match(
      faults(raw2).get("proxmox.endpoint") ?? "",
      /port outside 1-65535 — write it like https:\/\/pve\.lan:8006/,
    );
  });
});
