import * as assert from "node:assert/strict";
import { ConfigError } from "../../components/config/errors";
import { validateStackConfig } from "../../components/config/validate";
import { generateSecretsBundle, serializeSecretsYaml } from "../../components/talos/pki/secrets";
import { SAMPLE_SECRETS, sampleRaw } from "../helpers/sample-stack";

function clone<T>(v: T): T {
  return structuredClone(v);
}

type Mutation = (raw: Record<string, unknown>) => void;
interface Nodes {
  nodes: Array<Record<string, unknown>>;
}

function errorOf(
  raw: Record<string, unknown>,
  secrets: Record<string, string> = SAMPLE_SECRETS,
): ConfigError {
  try {
    validateStackConfig(raw, secrets);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail("expected the config to be rejected");
}

describe("stack config: the sample stack", () => {
  it("parses Pulumi.homelab.yaml and resolves defaults", () => {
    const cfg = validateStackConfig(sampleRaw(), SAMPLE_SECRETS);
    assert.equal(cfg.clusterName, "homelab");
    assert.equal(cfg.nodes.filter((n) => n.role === "controlplane").length, 3);
    assert.equal(cfg.nodes.filter((n) => n.role === "worker").length, 1);
    assert.equal(new Set(cfg.nodes.map((n) => n.proxmoxNode)).size, 2);
    assert.equal(cfg.controlPlane.endpoint, "https://192.168.50.10:6443");
    assert.equal(cfg.network.kubeProxy, false, "Cilium replaces kube-proxy by default");
    assert.equal(cfg.proxmox?.insecure, false);
    assert.equal(cfg.nodes[0].installDisk, "/dev/sda");
    assert.ok(cfg.addons.cilium.enabled && cfg.addons.metallb.enabled && cfg.addons.openebs.enabled);
    assert.ok(cfg.addons.flux.enabled && cfg.addons.sops.enabled);
  });

  it("needs the Proxmox API token when a Proxmox section is set", () => {
    const err = errorOf(sampleRaw(), {});
    assert.match(err.message, /proxmox-talos:proxmoxApiToken: is unset/);
    assert.match(err.message, /pulumi config set --secret proxmox-talos:proxmoxApiToken/);
  });

  it("accepts an existing-machines stack (no proxmox section, no VM ids)", () => {
    const raw = sampleRaw();
    delete raw.proxmox;
    for (const n of (raw as unknown as Nodes).nodes) {
      delete n.proxmoxNode;
      delete n.vmId;
    }
    const cfg = validateStackConfig(raw, {});
    assert.equal(cfg.proxmox, undefined);
    assert.equal(cfg.nodes.length, 4);
  });
});

/** Each case: a mutation of the sample, and the key path the error must name. */
const BAD_CASES: Array<{ name: string; mutate: Mutation; key: RegExp; secrets?: Record<string, string> }> = [
  {
    name: "cluster name not a DNS label",
    mutate: (r) => (r.clusterName = "Home_Lab"),
    key: /proxmox-talos:clusterName: "Home_Lab"/,
  },
  {
    name: "talos version malformed",
    mutate: (r) => (r.talosVersion = "latest"),
    key: /proxmox-talos:talosVersion: "latest"/,
  },
  {
    name: "talos minor unsupported",
    mutate: (r) => (r.talosVersion = "1.9.6"),
    key: /proxmox-talos:talosVersion: Talos 1\.9\.6 is not supported/,
  },
  {
    name: "kubernetes too new for talos",
    mutate: (r) => {
      r.talosVersion = "1.11.6";
      r.kubernetesVersion = "1.35.0";
    },
    key: /proxmox-talos:kubernetesVersion: Kubernetes 1\.35\.0 is too new for Talos 1\.11\.6/,
  },
  {
    name: "kubernetes too old",
    mutate: (r) => (r.kubernetesVersion = "1.30.4"),
    key: /proxmox-talos:kubernetesVersion: Kubernetes 1\.30\.4 is too old/,
  },
  {
    name: "node IP malformed",
    mutate: (r) => ((r as unknown as Nodes).nodes[1].ip = "192.168.50.300"),
    key: /proxmox-talos:nodes\[1\]\.ip: "192\.168\.50\.300"/,
  },
  {
    name: "node IP outside the network",
    mutate: (r) => ((r as unknown as Nodes).nodes[2].ip = "10.0.0.5"),
    key: /proxmox-talos:nodes\[2\]\.ip: "10\.0\.0\.5" is outside network\.cidr 192\.168\.50\.0\/24/,
  },
  {
    name: "node IP is the network's broadcast address",
    mutate: (r) => ((r as unknown as Nodes).nodes[2].ip = "192.168.50.255"),
    key: /nodes\[2\]\.ip: "192\.168\.50\.255" is the broadcast address of network\.cidr 192\.168\.50\.0\/24, not a host — pick a free address between 192\.168\.50\.1 and 192\.168\.50\.254/,
  },
  {
    name: "VIP is the network address (inside the CIDR, yet no host)",
    mutate: (r) => ((r.controlPlane as Record<string, unknown>).vip = "192.168.50.0"),
    key: /controlPlane\.vip: "192\.168\.50\.0" is the network address of network\.cidr 192\.168\.50\.0\/24, not a host — a layer-2 VIP/,
  },
  {
    name: "VIP is the broadcast address",
    mutate: (r) => ((r.controlPlane as Record<string, unknown>).vip = "192.168.50.255"),
    key: /controlPlane\.vip: "192\.168\.50\.255" is the broadcast address of network\.cidr/,
  },
  {
    name: "gateway outside the network",
    mutate: (r) => ((r.network as Record<string, unknown>).gateway = "10.1.1.1"),
    key: /network\.gateway: "10\.1\.1\.1" is outside network\.cidr 192\.168\.50\.0\/24 — use the router's address/,
  },
  {
    name: "node network written with host bits (a node's address typed for the network)",
    mutate: (r) => ((r.network as Record<string, unknown>).cidr = "192.168.50.7/24"),
    key: /network\.cidr: "192\.168\.50\.7\/24" has host bits set: it covers 192\.168\.50\.0-192\.168\.50\.255 — write the network address 192\.168\.50\.0\/24/,
  },
  {
    name: "pod subnet with host bits (Talos 1.14 refuses it: 'is not a valid CIDR')",
    mutate: (r) => ((r.network as Record<string, unknown>).podSubnets = ["10.244.5.0/16"]),
    key: /network\.podSubnets\[0\]: "10\.244\.5\.0\/16" has host bits set: it covers 10\.244\.0\.0-10\.244\.255\.255 — write the network address 10\.244\.0\.0\/16/,
  },
  {
    name: "service subnet with host bits",
    mutate: (r) => ((r.network as Record<string, unknown>).serviceSubnets = ["10.96.0.1/12"]),
    key: /network\.serviceSubnets\[0\]: "10\.96\.0\.1\/12" has host bits set: it covers 10\.96\.0\.0-10\.111\.255\.255 — write the network address 10\.96\.0\.0\/12/,
  },
  {
    name: "a list where a map belongs",
    mutate: (r) => (r.controlPlane = ["192.168.50.10"]),
    key: /proxmox-talos:controlPlane: \["192\.168\.50\.10"\] is not a map of settings — write a YAML map/,
  },
  {
    name: "a quoted word where a boolean belongs",
    mutate: (r) => (r.production = "yes"),
    key: /proxmox-talos:production: "yes" is not true or false — set it to true or false, unquoted/,
  },
  {
    name: "a fraction where a whole number belongs",
    mutate: (r) => ((r as unknown as Nodes).nodes[3].cores = 2.5),
    key: /nodes\[3\]\.cores: 2\.5 is not a whole number — write a whole number, unquoted/,
  },
  {
    name: "duplicate node name",
    mutate: (r) => ((r as unknown as Nodes).nodes[1].name = "cp-1"),
    key: /proxmox-talos:nodes\[1\]\.name: "cp-1" is already used by nodes\[0\]/,
  },
  {
    name: "duplicate VM id",
    mutate: (r) => ((r as unknown as Nodes).nodes[3].vmId = 8101),
    key: /proxmox-talos:nodes\[3\]\.vmId: 8101 is already used/,
  },
  {
    name: "duplicate IP",
    mutate: (r) => ((r as unknown as Nodes).nodes[3].ip = "192.168.50.11"),
    key: /proxmox-talos:nodes\[3\]\.ip: "192\.168\.50\.11" is already used/,
  },
  {
    name: "VIP is a node IP",
    mutate: (r) => ((r.controlPlane as Record<string, unknown>).vip = "192.168.50.12"),
    key: /proxmox-talos:controlPlane\.vip: "192\.168\.50\.12" is also nodes\[1\]\.ip/,
  },
  {
    name: "VIP outside the network",
    mutate: (r) => ((r.controlPlane as Record<string, unknown>).vip = "10.1.1.1"),
    key: /proxmox-talos:controlPlane\.vip: "10\.1\.1\.1" is outside network\.cidr/,
  },
  {
    name: "MetalLB pool overlaps a node",
    mutate: (r) => {
      const addons = r.addons as { metallb: { pools: Array<{ addresses: string[] }> } };
      addons.metallb.pools[0].addresses = ["192.168.50.20-192.168.50.30"];
    },
    key: /proxmox-talos:addons\.metallb\.pools\[0\]\.addresses\[0\]: "192\.168\.50\.20-192\.168\.50\.30" overlaps node worker-1/,
  },
  {
    name: "MetalLB pool holds the gateway",
    mutate: (r) => {
      const addons = r.addons as { metallb: { pools: Array<{ addresses: string[] }> } };
      addons.metallb.pools[0].addresses = ["192.168.50.0/30"];
    },
    key: /addresses\[0\]: "192\.168\.50\.0\/30" overlaps the gateway/,
  },
  {
    name: "MetalLB pool written with host bits (MetalLB would hand out addresses below the one written)",
    mutate: (r) => {
      const addons = r.addons as { metallb: { pools: Array<{ addresses: string[] }> } };
      addons.metallb.pools[0].addresses = ["192.168.50.201/28"];
    },
    key: /addresses\[0\]: "192\.168\.50\.201\/28" has host bits set: it covers 192\.168\.50\.192-192\.168\.50\.207 — write the network address 192\.168\.50\.192\/28, or the range you meant as "first-last"/,
  },
  {
    name: "MetalLB pool holds the node network's broadcast address",
    mutate: (r) => {
      const addons = r.addons as { metallb: { pools: Array<{ addresses: string[] }> } };
      addons.metallb.pools[0].addresses = ["192.168.50.250-192.168.50.255"];
    },
    key: /addresses\[0\]: "192\.168\.50\.250-192\.168\.50\.255" overlaps the broadcast address of network\.cidr 192\.168\.50\.0\/24 \(192\.168\.50\.255\)/,
  },
  {
    name: "MetalLB pool holds the node network's network address",
    mutate: (r) => {
      const addons = r.addons as { metallb: { pools: Array<{ addresses: string[] }> } };
      addons.metallb.pools[0].addresses = ["192.168.50.0/32"];
    },
    key: /addresses\[0\]: "192\.168\.50\.0\/32" overlaps the network address of network\.cidr/,
  },
  {
    name: "Flux branch Git refuses",
    mutate: (r) => {
      const addons = r.addons as { flux: { git: Record<string, unknown> } };
      addons.flux.git.branch = "release 1";
    },
    key: /addons\.flux\.git\.branch: "release 1" contains a space, which Git refuses in a ref name/,
  },
  {
    name: "Flux path climbing out of the repository",
    mutate: (r) => {
      const addons = r.addons as { flux: { git: Record<string, unknown> } };
      addons.flux.git.path = "./clusters/../../etc";
    },
    key: /addons\.flux\.git\.path: "\.\/clusters\/\.\.\/\.\.\/etc" climbs out with "\.\."/,
  },
  {
    name: "even control-plane count",
    mutate: (r) => ((r as unknown as Nodes).nodes[3].role = "controlplane"),
    key: /proxmox-talos:nodes: has 4 control planes.*allowEvenCount/,
  },
  {
    name: "no control plane",
    mutate: (r) => (r.nodes = (r as unknown as Nodes).nodes.map((n) => ({ ...n, role: "worker" }))),
    key: /proxmox-talos:nodes: has no node with role controlplane/,
  },
  {
    name: "bad role",
    mutate: (r) => ((r as unknown as Nodes).nodes[0].role = "master"),
    key: /proxmox-talos:nodes\[0\]\.role: "master" must be "controlplane" or "worker"/,
  },
  {
    name: "misspelt node key",
    mutate: (r) => ((r as unknown as Nodes).nodes[0].memroyMiB = 4096),
    key: /proxmox-talos:nodes\[0\]\.memroyMiB: is not a known setting/,
  },
  {
    name: "unknown top-level key",
    mutate: (r) => (r.clustername = "x"),
    key: /proxmox-talos:clustername: is not a known setting/,
  },
  {
    name: "memory too small",
    mutate: (r) => ((r as unknown as Nodes).nodes[3].memoryMiB = 512),
    key: /proxmox-talos:nodes\[3\]\.memoryMiB: 512 must be at least 1024 MiB/,
  },
  {
    name: "disk too small",
    mutate: (r) => ((r as unknown as Nodes).nodes[0].diskGiB = 4),
    key: /proxmox-talos:nodes\[0\]\.diskGiB: 4 must be at least 10 GiB/,
  },
  {
    name: "VM id missing with Proxmox",
    mutate: (r) => delete (r as unknown as Nodes).nodes[2].vmId,
    key: /proxmox-talos:nodes\[2\]\.vmId: is unset/,
  },
  {
    name: "Proxmox endpoint not https",
    mutate: (r) => ((r.proxmox as Record<string, unknown>).endpoint = "http://pve:8006"),
    key: /proxmox-talos:proxmox\.endpoint: "http:\/\/pve:8006" is not an https:\/\/ URL — write it like https:\/\/pve\.lan:8006\//,
  },
  {
    name: "Proxmox endpoint carrying credentials (masked in the message)",
    mutate: (r) => ((r.proxmox as Record<string, unknown>).endpoint = "https://root:pw@pve:8006/"),
    key: /proxmox\.endpoint: "https:\/\/\(credentials\)@pve:8006\/" has credentials in it — remove them: the API token goes in the secret proxmoxApiToken/,
  },
  {
    name: "Proxmox endpoint with a query",
    mutate: (r) => ((r.proxmox as Record<string, unknown>).endpoint = "https://pve:8006?x=1"),
    key: /proxmox\.endpoint: "https:\/\/pve:8006\?x=1" has a query or fragment — write it without one, like https:\/\/pve\.lan:8006\//,
  },
  {
    name: "Kubernetes endpoint carrying a user name",
    mutate: (r) =>
      ((r.controlPlane as Record<string, unknown>).endpoint = "https://admin@192.168.50.10:6443"),
    key: /controlPlane\.endpoint: "https:\/\/\(credentials\)@192\.168\.50\.10:6443" has credentials in it — remove them: the API is reached with the cluster's client certificates/,
  },
  {
    name: "install disk climbing out of /dev",
    mutate: (r) => ((r as unknown as Nodes).nodes[3].installDisk = "/dev/../etc/passwd"),
    key: /nodes\[3\]\.installDisk: "\/dev\/\.\.\/etc\/passwd" is not a plain device path/,
  },
  {
    name: "install disk with shell characters",
    mutate: (r) => ((r as unknown as Nodes).nodes[3].installDisk = "/dev/$(reboot)"),
    key: /nodes\[3\]\.installDisk: "\/dev\/\$\(reboot\)" is not a plain device path/,
  },
  {
    name: "CPU type kvm64",
    mutate: (r) => ((r.proxmox as Record<string, unknown>).cpuType = "kvm64"),
    key: /proxmox-talos:proxmox\.cpuType: "kvm64" must be "host" or an x86-64-v2\+ model/,
  },
  {
    name: "cilium off while cni is cilium",
    mutate: (r) => ((r.addons as { cilium: { enabled: boolean } }).cilium.enabled = false),
    key: /proxmox-talos:addons\.cilium\.enabled: is false while network\.cni is cilium/,
  },
  {
    name: "kube-proxy on with cilium",
    mutate: (r) => ((r.network as Record<string, unknown>).kubeProxy = true),
    key: /proxmox-talos:network\.kubeProxy: is true while Cilium replaces kube-proxy/,
  },
  {
    name: "VLAN out of range",
    mutate: (r) => ((r.network as Record<string, unknown>).vlan = 5000),
    key: /proxmox-talos:network\.vlan: 5000 must be a VLAN id from 1 to 4094/,
  },
  {
    name: "bad API token",
    mutate: () => undefined,
    secrets: { proxmoxApiToken: "hunter2" },
    key: /proxmox-talos:proxmoxApiToken: \(secret value\) is not a Proxmox API token/,
  },
  {
    name: "DNS server malformed",
    mutate: (r) => ((r.network as Record<string, unknown>).dnsServers = ["dns.google"]),
    key: /proxmox-talos:network\.dnsServers\[0\]: "dns\.google" is not an IPv4 address/,
  },
];

describe("stack config: rejected configs name their key, value and fix", () => {
  it("has at least 15 distinct bad cases", () => assert.ok(BAD_CASES.length >= 15));

  for (const c of BAD_CASES) {
    it(c.name, () => {
      const raw = clone(sampleRaw());
      c.mutate(raw);
      const err = errorOf(raw, c.secrets ?? SAMPLE_SECRETS);
      assert.match(err.message, c.key);
      // Every reported problem says how to fix it.
      for (const issue of err.issues)
        assert.ok(issue.fix || / — |must |needs /.test(issue.message), `no fix in: ${issue.message}`);
    });
  }

  it("reports every fault of a config at once", () => {
    const raw = clone(sampleRaw());
    raw.clusterName = "Bad Name";
    (raw as unknown as Nodes).nodes[0].ip = "10.9.9.9";
    (raw as unknown as Nodes).nodes[1].name = "cp-1";
    (raw.controlPlane as Record<string, unknown>).vip = "192.168.50.13";
    (raw.proxmox as Record<string, unknown>).bios = "uefi";
    const err = errorOf(raw);
    const paths = err.issues.map((i) => i.path).sort();
    assert.deepEqual(paths, [
      "clusterName",
      "controlPlane.vip",
      "nodes[0].ip",
      "nodes[1].name",
      "proxmox.bios",
    ]);
    assert.match(err.message, /^invalid stack config \(5 problems\):/);
  });

  it("the secret value never appears in an error", () => {
    const err = errorOf(clone(sampleRaw()), { proxmoxApiToken: "not-a-token-SUPERSECRET" });
    assert.doesNotMatch(err.message, /SUPERSECRET/);
  });

  it("secrets are checked as what they are before anything runs, their values never shown", () => {
    const cases: Array<{ secrets: Record<string, string>; key: string; message: RegExp; leak: string }> = [
      {
        secrets: { proxmoxApiToken: "root@pam!pulumi=SUPERSECRETabc" },
        key: "proxmoxApiToken",
        message: /has a secret that is not a UUID — copy the whole user@realm!tokenid=<uuid>/,
        leak: "SUPERSECRET",
      },
      {
        secrets: { ...SAMPLE_SECRETS, talosSecrets: "SUPERSECRET-not-yaml: [" },
        key: "talosSecrets",
        message: /is not a Talos secrets bundle \(secrets\.yaml: invalid YAML/,
        leak: "SUPERSECRET",
      },
      {
        // A bundle cut short: the first missing field is named.
        secrets: {
          ...SAMPLE_SECRETS,
          talosSecrets: "cluster:\n  id: U1VQRVJTRUNSRVQ=\n  secret: U1VQRVJTRUNSRVQ=\n",
        },
        key: "talosSecrets",
        message: /is not a Talos secrets bundle \(secrets: missing\)/,
        leak: "U1VQRVJTRUNSRVQ",
      },
      {
        // One character off: bech32's checksum catches it.
        secrets: {
          ...SAMPLE_SECRETS,
          sopsAgeKey: "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZ9K4CM",
        },
        key: "sopsAgeKey",
        message: /fails its checksum: it is not a whole age identity/,
        leak: "QYQSZQGP",
      },
    ];
    for (const c of cases) {
      const err = errorOf(clone(sampleRaw()), c.secrets);
      const issue = err.issues.find((i) => i.path === c.key);
      assert.ok(issue, `${c.key}: ${err.message}`);
      assert.match(`${issue.message} — ${issue.fix ?? ""}`, c.message);
      assert.match(issue.message, /^\(secret value\) /);
      assert.ok(!err.message.includes(c.leak), `${c.key}: the value leaked`);
    }
  });

  it("a real Talos secrets bundle passes the check", async () => {
    const bundle = serializeSecretsYaml(await generateSecretsBundle());
    const cfg = validateStackConfig(sampleRaw(), { ...SAMPLE_SECRETS, talosSecrets: bundle });
    assert.equal(cfg.clusterName, "homelab");
  });
});
