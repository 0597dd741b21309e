import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { ConfigError, type ConfigIssue } from "../../components/config/errors";
import { configFromEntries, validateSource } from "../../components/config/source";
import { parseStackFile, readStackFile } from "../../components/config/stack-file";
import type { StackConfig } from "../../components/config/validate";
import { clusterPlan } from "../../components/plan";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import { generateSecretsBundle } from "../../components/talos/pki/secrets";
import { nodeConfigInput } from "../../components/talos/talos-cluster";
import type { SecretsBundle } from "../../components/talos/types";
import { PROJECT_ROOT, requireOracle, runOracle, tempDir } from "../helpers/shared";

/**
 * Bad stack files in the core areas (versions, control plane, network, nodes, Proxmox placement,
 * the stack file itself), each run through the program's own path (stack file → loader → validation,
 * as `npm run render` does): refused before anything is written, naming the key, the value and the
 * fix, with every other fault, never printing a secret and never failing with anything but a
 * ConfigError. Values the program accepts near each refusal render configs Talos' own machinery
 * (talos-oracle) accepts.
 */

const SAMPLE = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.homelab.yaml"), "utf8");
const OFFLINE = { proxmoxApiToken: "render@pve!offline=00000000-0000-0000-0000-000000000000" };
type Rec = Record<string, unknown>;
/** The sample config as the edits below reach into it. */
interface Sample {
  [key: string]: unknown;
  controlPlane: Rec;
  network: Rec;
  proxmox: Rec;
  nodes: Rec[];
  addons: Rec & { metallb: Rec & { pools: Array<Rec & { addresses: string[] }> } };
}
const node = (c: Sample, i: number): Rec => c.nodes[i]!;

/** The sample stack file with its config edited as data (keys without the namespace). */
function edited(edit: (c: Sample) => void): string {
  const doc = YAML.parse(SAMPLE) as { config: Rec };
  const c: Rec = {};
  for (const [k, v] of Object.entries(doc.config)) c[k.replace("proxmox-talos:", "")] = v;
  edit(c as Sample);
  const out: Rec = {};
  for (const [k, v] of Object.entries(c)) out[k.includes(":") ? k : `proxmox-talos:${k}`] = v;
  return YAML.stringify({ config: out });
}

/** The program's verdict on a stack file's text: the config, or the ConfigError's issues. */
function verdict(text: string): { config?: StackConfig; issues: readonly ConfigIssue[]; message: string } {
  try {
    const file = parseStackFile(text);
    const source = configFromEntries(file.entries);
    return { config: validateSource(source, file.issues, OFFLINE), issues: [], message: "" };
  } catch (err) {
    // Anything but a ConfigError is a crash of the validation: the test fails with it.
    if (!(err instanceof ConfigError)) throw err;
    return { issues: err.issues, message: err.message };
  }
}

interface Case {
  readonly name: string;
  readonly text: string;
  /** The key the refusal names, and what its message (with the fix) says. */
  readonly key: string;
  readonly says: RegExp;
}

function assertRefused(c: Case): void {
  const v = verdict(c.text);
  assert.equal(v.config, undefined, `${c.name}: accepted`);
  const issue = v.issues.find((i) => i.path === c.key);
  assert.ok(issue, `${c.name}: no fault names ${c.key}; got:\n${v.message}`);
  assert.ok(issue.fix && issue.fix.length > 0, `${c.name}: ${c.key} has no fix`);
  assert.match(`${issue.message} — ${issue.fix}`, c.says, c.name);
}

const CLASSES: Record<string, readonly Case[]> = {
  "the stack file read as the Pulumi CLI reads it": [
    {
      name: "a top-level key written twice",
      text: SAMPLE.replace(
        "proxmox-talos:production: false\n",
        "proxmox-talos:production: false\n  proxmox-talos:production: true\n",
      ),
      key: "production",
      says: /written twice in the stack file \(lines \d+ and \d+\).*keep one/,
    },
    {
      name: "a node field written twice",
      text: SAMPLE.replace("    - name: cp-1\n", "    - name: cp-1\n      name: cp-9\n"),
      key: "nodes[0].name",
      says: /written twice/,
    },
    {
      name: "a null value is empty text to the CLI, not the word null",
      text: SAMPLE.replace("clusterName: homelab", "clusterName:"),
      key: "clusterName",
      says: /^"" is not a DNS label/,
    },
    {
      name: "an unquoted 1.10 is the text 1.10 to the CLI (not the float 1.1)",
      text: SAMPLE.replace("talosVersion: 1.14.1", "talosVersion: 1.10"),
      key: "talosVersion",
      says: /^"1\.10" is not a release version/,
    },
    {
      name: "an encrypted non-secret key cannot be read offline (not silently defaulted)",
      text: SAMPLE.replace("talosVersion: 1.14.1", "talosVersion:\n    secure: AAABAKxyz"),
      key: "talosVersion",
      says: /encrypted \(secure:\) and cannot be read offline.*pulumi config set proxmox-talos:talosVersion/,
    },
    {
      name: "an encrypted value nested in a section",
      text: SAMPLE.replace("bridge: vmbr0", "bridge:\n      secure: AAABAKxyz"),
      key: "network",
      says: /encrypted/,
    },
    {
      name: "a secure: map with a second key is a plain object to the CLI",
      text: SAMPLE.replace(
        "proxmox-talos:production: false",
        "proxmox-talos:production: false\n  proxmox-talos:fluxGitPassword:\n    secure: AAABAKxyz\n    note: hunter2pw",
      ),
      key: "fluxGitPassword",
      says: /stored in plain text.*pulumi config set --secret/,
    },
    {
      name: "a secret in plain text under a misspelled namespace",
      text: SAMPLE.replace(
        "proxmox-talos:production: false",
        "proxmox-talos:production: false\n  proxmoxtalos:fluxGitPassword: hunter2pw",
      ),
      key: "fluxGitPassword",
      says: /plain text under the namespace "proxmoxtalos".*--secret proxmox-talos:fluxGitPassword/,
    },
  ],
  "pod and service subnets Talos and Kubernetes accept": [
    ...[
      ["10.244.0.0/25", /smaller than the \/24 pod range every node gets/],
      ["10.0.0.0/7", /larger than \/8/],
      ["10.244.0.0/24", /holds 1 node pod range of \/24, but the cluster has 4 nodes.*\/22/],
      ["10.244.0.0/23", /holds 2 node pod ranges/],
    ].map(([subnet, says]) => ({
      name: `podSubnets ${String(subnet)}`,
      text: edited((c) => {
        c.network.podSubnets = [subnet];
        c.network.serviceSubnets = ["172.16.0.0/12"];
      }),
      key: "network.podSubnets[0]",
      says: says as RegExp,
    })),
    ...["10.96.0.0/29", "10.96.0.0/32"].map((subnet) => ({
      name: `serviceSubnets ${subnet}`,
      text: edited((c) => (c.network.serviceSubnets = [subnet])),
      key: "network.serviceSubnets[0]",
      says: /smaller than \/28: Talos gives the cluster DNS the 10th address/,
    })),
    {
      name: "no pod subnet",
      text: edited((c) => (c.network.podSubnets = [])),
      key: "network.podSubnets",
      says: /is empty: Talos needs one subnet/,
    },
    {
      name: "no service subnet",
      text: edited((c) => (c.network.serviceSubnets = [])),
      key: "network.serviceSubnets",
      says: /is empty/,
    },
    {
      name: "two IPv4 pod subnets",
      text: edited((c) => (c.network.podSubnets = ["10.244.0.0/16", "10.245.0.0/16"])),
      key: "network.podSubnets[1]",
      says: /second IPv4 pod subnet: Kubernetes takes at most one per address family/,
    },
    {
      name: "two IPv4 service subnets",
      text: edited((c) => (c.network.serviceSubnets = ["10.96.0.0/16", "10.97.0.0/16"])),
      key: "network.serviceSubnets[1]",
      says: /second IPv4 service subnet/,
    },
    {
      name: "300 workers on a /16 (256 node ranges)",
      text: edited((c) => {
        c.network.cidr = "192.168.48.0/22";
        c.network.gateway = "192.168.48.1";
        for (let i = 0; i < 300; i++)
          c.nodes.push({
            name: `w-${i}`,
            role: "worker",
            proxmoxNode: "pve1",
            vmId: 9000 + i,
            ip: `192.168.${49 + Math.floor(i / 200)}.${(i % 200) + 30}`,
          });
      }),
      key: "network.podSubnets[0]",
      says: /holds 256 node pod ranges of \/24, but the cluster has 304 nodes/,
    },
  ],
  "special-purpose IPv4 blocks": [
    ...[
      ["224.0.0.0/24", "224.0.0", /multicast/],
      ["169.254.10.0/24", "169.254.10", /link-local/],
    ].map(([cidr, prefix, says]) => ({
      name: `node network ${String(cidr)}`,
      text: edited((c) => {
        c.network.cidr = cidr;
        c.network.gateway = `${String(prefix)}.1`;
        c.network.dnsServers = ["1.1.1.1"];
        c.controlPlane.vip = `${String(prefix)}.10`;
        c.nodes.forEach((n, i) => {
          n.ip = `${String(prefix)}.${11 + i}`;
        });
        c.addons.metallb.pools[0].addresses = [`${String(prefix)}.200-${String(prefix)}.220`];
      }),
      key: "network.cidr",
      says: says as RegExp,
    })),
    {
      name: "pods on loopback",
      text: edited((c) => (c.network.podSubnets = ["127.0.0.0/16"])),
      key: "network.podSubnets[0]",
      says: /loopback/,
    },
    {
      name: "services on link-local",
      text: edited((c) => (c.network.serviceSubnets = ["169.254.0.0/16"])),
      key: "network.serviceSubnets[0]",
      says: /link-local/,
    },
    ...["0.0.0.0", "0.1.2.3", "224.0.0.251", "255.255.255.255"].map((dns) => ({
      name: `DNS server ${dns}`,
      text: edited((c) => (c.network.dnsServers = [dns])),
      key: "network.dnsServers[0]",
      says: /no DNS server answers there/,
    })),
  ],
  "LAN addresses clear of the pod and service ranges": [
    {
      name: "the cluster DNS address as the nodes' DNS server",
      text: edited((c) => (c.network.dnsServers = ["1.1.1.1", "10.96.0.10"])),
      key: "network.dnsServers[1]",
      says: /inside network\.serviceSubnets\[0\] 10\.96\.0\.0\/12: a node needs DNS before the cluster network exists/,
    },
    {
      name: "a DNS server inside the pod range",
      text: edited((c) => (c.network.dnsServers = ["10.244.0.53"])),
      key: "network.dnsServers[0]",
      says: /inside network\.podSubnets\[0\]/,
    },
    {
      name: "a MetalLB pool inside the pod range",
      text: edited((c) => (c.addons.metallb.pools[0].addresses = ["10.244.1.0/24"])),
      key: "addons.metallb.pools[0].addresses[0]",
      says: /overlaps network\.podSubnets\[0\] 10\.244\.0\.0\/16/,
    },
    {
      name: "a MetalLB pool inside the service range",
      text: edited((c) => (c.addons.metallb.pools[0].addresses = ["10.96.0.0-10.96.0.20"])),
      key: "addons.metallb.pools[0].addresses[0]",
      says: /overlaps network\.serviceSubnets\[0\]/,
    },
    {
      name: "a Cilium LB pool inside the pod range",
      text: edited((c) => {
        c.addons.metallb = { enabled: false, pools: [] };
        c.addons.cilium = {
          enabled: true,
          loadBalancer: "l2",
          pools: [{ name: "lb", addresses: ["10.244.9.0-10.244.9.9"] }],
        };
      }),
      key: "addons.cilium.pools[0].addresses[0]",
      says: /overlaps network\.podSubnets\[0\]/,
    },
  ],
  "the Kubernetes API endpoint's host": [
    ...[
      "https://999.1.1.1:6443",
      "https://-api.lan:6443",
      "https://k8s_api.lan:6443",
      "https://api..lan:6443",
    ].map((endpoint) => ({
      name: `endpoint ${endpoint}`,
      text: edited((c) => (c.controlPlane.endpoint = endpoint)),
      key: "controlPlane.endpoint",
      says: /neither an IP address nor a DNS name|is not a URL with a host/,
    })),
  ],
  "names Proxmox and Linux accept": [
    ...["pve 1", "PVE1.lan", "-pve", ""].map((host) => ({
      name: `proxmoxNode ${JSON.stringify(host)}`,
      text: edited((c) => (node(c, 0).proxmoxNode = host)),
      key: "nodes[0].proxmoxNode",
      says: /is not a Proxmox node name/,
    })),
    ...["vmbr 0", "vmbr0123456789ab", "vmbr0/1", ""].map((bridge) => ({
      name: `bridge ${JSON.stringify(bridge)}`,
      text: edited((c) => (c.network.bridge = bridge)),
      key: "network.bridge",
      says: /is not a Linux bridge name/,
    })),
    ...["-prod", ".prod", "+x"].map((tag) => ({
      name: `tag ${tag}`,
      text: edited((c) => (node(c, 0).tags = [tag])),
      key: "nodes[0].tags[0]",
      says: /is not a Proxmox tag/,
    })),
  ],
  "URLs whose host and port a registry or resolver can use": [
    ...["https://factory.talos.dev:99999", "https://-factory", "https://factory..dev"].map((url) => ({
      name: `imageFactory.url ${url}`,
      text: edited((c) => (c.imageFactory = { url })),
      key: "imageFactory.url",
      says: /port outside 1-65535|neither an IP address nor a DNS name/,
    })),
    ...["https://pve_1..lan:8006/", "https://999.1.1.1:8006/"].map((endpoint) => ({
      name: `proxmox.endpoint ${endpoint}`,
      text: edited((c) => (c.proxmox.endpoint = endpoint)),
      key: "proxmox.endpoint",
      says: /(neither an IP address nor a DNS name|is not a URL with a host) — write it like https:\/\/pve\.lan/,
    })),
    {
      name: "the API endpoint on the kubernetes Service address",
      text: edited((c) => (c.controlPlane.endpoint = "https://10.96.0.1:6443")),
      key: "controlPlane.endpoint",
      says: /inside network\.serviceSubnets\[0\].*they need it to join — point it at the VIP/,
    },
    {
      name: "the API endpoint inside the pod range",
      text: edited((c) => (c.controlPlane.endpoint = "https://10.244.0.1:6443")),
      key: "controlPlane.endpoint",
      says: /inside network\.podSubnets\[0\]/,
    },
  ],
  "a cluster its own network and nodes can hold": [
    ...[
      ["192.168.50.10/31", /has 0 host addresses, but 4 nodes, the VIP and the gateway need 6/],
      ["192.168.50.8/30", /has 2 host addresses/],
      ["192.168.50.12/32", /has 0 host addresses/],
    ].map(([cidr, says]) => ({
      name: `node network ${String(cidr)}`,
      text: edited((c) => {
        c.network.cidr = cidr;
        c.addons.metallb.enabled = false;
        c.network.dnsServers = ["1.1.1.1"];
      }),
      key: "network.cidr",
      says: says as RegExp,
    })),
    {
      name: "three control planes, no worker, addons with pods, no scheduling on control planes",
      text: edited((c) => (c.nodes = c.nodes.slice(0, 3))),
      key: "controlPlane.allowSchedulingOnControlPlanes",
      says: /no node is a worker: the pods of addons\.metallb, addons\.openebs, addons\.flux could run nowhere/,
    },
    {
      name: "one control plane, MetalLB only",
      text: edited((c) => {
        c.nodes = c.nodes.slice(0, 1);
        c.addons = { cilium: { enabled: true }, metallb: c.addons.metallb };
      }),
      key: "controlPlane.allowSchedulingOnControlPlanes",
      says: /addons\.metallb could run nowhere/,
    },
  ],
  "snapshot folders inside the project": [
    ...["/tmp/snaps", "~/snaps", "C:\\snaps", "../x"].map((dir) => ({
      name: `backup.dir ${dir}`,
      text: edited((c) => (c.backup = { dir })),
      key: "backup.dir",
      says: /must stay inside the project \(a relative path, no ".."\)/,
    })),
  ],
  "every schema fault carries its fix": [
    ...(
      [
        ["clusterName", (c: Sample) => (c.clusterName = "Home_Lab"), /is not a DNS label — use lowercase/],
        ["network.vlan", (c: Sample) => (c.network.vlan = 4095), /is not a VLAN id — use 1 to 4094/],
        ["network.cni", (c: Sample) => (c.network.cni = "weave"), /use "cilium" or "flannel"/],
        ["nodes[0].vmId", (c: Sample) => (node(c, 0).vmId = 99), /below 100.*use a VM id from 100/],
        ["nodes[0].vmId", (c: Sample) => (node(c, 0).vmId = 1e9), /above Proxmox' largest VM id/],
        [
          "nodes[0].vmId",
          (c: Sample) => (node(c, 0).vmId = "8101"),
          /is not a Proxmox VM id — use a whole number/,
        ],
        ["nodes[0].role", (c: Sample) => (node(c, 0).role = "master"), /use "controlplane" or "worker"/],
        ["nodes", (c: Sample) => (c.nodes = []), /is empty — add at least one node/],
        [
          "network.dnsServers",
          (c: Sample) => (c.network.dnsServers = []),
          /is empty — give at least one DNS server/,
        ],
        ["proxmox.bios", (c: Sample) => (c.proxmox.bios = "uefi"), /use "ovmf" \(UEFI\) or "seabios"/],
        ["proxmox.cpuType", (c: Sample) => (c.proxmox.cpuType = "kvm64"), /needs x86-64-v2/],
        [
          "imageFactory.url",
          (c: Sample) => (c.imageFactory = { url: "http://f.lan" }),
          /write it like https:\/\/factory/,
        ],
        ["rollout.workerBatchSize", (c: Sample) => (c.rollout = { workerBatchSize: 0 }), /use 1 or more/],
        ["clientCerts.validityDays", (c: Sample) => (c.clientCerts = { validityDays: 1 }), /use 2 or more/],
        [
          "ephemeral.copy[0]",
          (c: Sample) => (c.ephemeral = { copy: ["proxmoxApiToken"] }),
          /use "talosSecrets"/,
        ],
        [
          "controlPlane.endpoint",
          (c: Sample) => (c.controlPlane.endpoint = "http://1.2.3.4:6443"),
          /write it like https/,
        ],
      ] as const
    ).map(([key, edit, says]) => ({ name: `${key} schema fault`, text: edited(edit), key, says })),
  ],
};

describe("core config refusals: bad stack files, each fault named with its value and fix", () => {
  for (const [cls, cases] of Object.entries(CLASSES)) {
    it(`${cls} (${cases.length} files)`, () => {
      assert.ok(cases.length >= 3, "a class is tested with several members");
      for (const c of cases) assertRefused(c);
    });
  }

  it("a file the YAML reader cannot take is one ConfigError naming the place and the fix", () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        `${SAMPLE}---\nconfig:\n  proxmox-talos:production: true\n`,
        "config",
        /holds 2 YAML documents.*reads only the first and ignores the rest — merge them/,
      ],
      [
        SAMPLE.replace("    vip: 192.168.50.10", "\tvip: 192.168.50.10"),
        "controlPlane",
        /not valid YAML at line 13.*— indent with spaces/,
      ],
      ["config:\n  - a\n", "config", /"config" is not a map — write config as a map/],
      [
        SAMPLE.replace("cidr: 192.168.50.0/24", "cidr: [192.168.50.0/24"),
        "network",
        /not valid YAML at line \d+/,
      ],
    ];
    for (const [text, key, says] of cases) {
      const v = verdict(text);
      assert.equal(v.issues.length, 1, v.message);
      assert.equal(v.issues[0]!.path, key);
      assert.match(`${v.issues[0]!.message} — ${v.issues[0]!.fix}`, says);
    }
  });

  it("accepts the hosts next to those refusals: Proxmox on IPv6 or a DNS name, a factory with a port", () => {
    for (const endpoint of [
      "https://[fd00::5]:8006/",
      "https://pve1.example.lan:8006/",
      "https://10.0.0.5:8006",
    ]) {
      const v = verdict(edited((c) => (c.proxmox.endpoint = endpoint)));
      assert.ok(v.config, `${endpoint}: ${v.message}`);
    }
  });

  it("aliases without an anchor, or expanding past the YAML reader's limit, are refused, not thrown", () => {
    const bomb = [1, 2, 3, 4]
      .map(
        (i) =>
          `  proxmox-talos:x${i}: &a${i} [${Array(9)
            .fill(i === 1 ? "1" : `*a${i - 1}`)
            .join(",")}]`,
      )
      .join("\n");
    for (const [text, says] of [
      [SAMPLE.replace("clusterName: homelab", "clusterName: *nope"), /Unresolved alias/],
      [
        SAMPLE.replace(
          "config:\n",
          `config:\n${bomb}\n  proxmox-talos:x5: [*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4]\n`,
        ),
        /Excessive alias count/,
      ],
    ] as const) {
      const v = verdict(text);
      assert.equal(v.issues.length, 1, v.message);
      assert.match(`${v.issues[0]!.message} — ${v.issues[0]!.fix}`, says);
    }
  });

  it("a huge value is refused at once and shown cut", () => {
    const started = Date.now();
    const v = verdict(edited((c) => (c.clusterName = "a".repeat(1_000_000))));
    assert.ok(Date.now() - started < 5_000, "validation stays linear in the value's size");
    const issue = v.issues.find((i) => i.path === "clusterName");
    assert.ok(issue && issue.message.length < 300, v.message.slice(0, 300));
  });

  it("a file with bytes that are not UTF-8 is refused, as the CLI's YAML reader refuses it", () => {
    const dir = tempDir();
    const file = path.join(dir, "Pulumi.latin1.yaml");
    fs.writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(SAMPLE.replace("clusterName: homelab", "clusterName: homel")),
        Buffer.from([0xe4]),
      ]),
    );
    assert.throws(
      () => readStackFile(file),
      (e: unknown) =>
        e instanceof ConfigError &&
        /is not UTF-8 text \(an invalid byte at line \d+\) — save the file as UTF-8/.test(e.message),
    );
    fs.writeFileSync(file, `\uFEFF${SAMPLE}`);
    assert.equal(readStackFile(file).entries["proxmox-talos:clusterName"]?.value, "homelab", "a BOM is fine");
    fs.rmSync(dir, { recursive: true });
  });

  it("reads merge keys, anchors and !!binary as the CLI's yaml.v3 does", () => {
    const merged = SAMPLE.replace("    - name: cp-1\n", "    - &cp\n      name: cp-1\n").replace(
      / {4}- name: cp-2\n {6}role: controlplane\n/,
      "    - <<: *cp\n      name: cp-2\n",
    );
    const v = verdict(merged);
    assert.ok(v.config, v.message);
    assert.equal(v.config.nodes[1]!.role, "controlplane");
    assert.equal(v.config.nodes[1]!.name, "cp-2");
    const binary = verdict(SAMPLE.replace("clusterName: homelab", "clusterName: !!binary aG9tZWxhYg=="));
    assert.equal(binary.config?.clusterName, "homelab");
  });

  it("three or more faults in one file are all reported: a bad field hides no fault of its siblings", () => {
    const files: Array<[string, string[]]> = [
      [
        edited((c) => {
          c.controlPlane.vip = "10.0.0.1";
          node(c, 0).vmId = 5;
          c.network.cni = "weave";
        }),
        ["controlPlane.vip", "nodes[0].vmId", "network.cni"],
      ],
      [
        edited((c) => {
          node(c, 0).vmId = 5;
          node(c, 2).ip = node(c, 1).ip;
          c.proxmox.bios = "uefi";
          delete node(c, 3).proxmoxNode;
        }),
        ["nodes[0].vmId", "nodes[2].ip", "proxmox.bios", "nodes[3].proxmoxNode"],
      ],
      [
        edited((c) => {
          c.network.vlan = 9999;
          c.network.podSubnets = ["192.168.0.0/16"];
          node(c, 3).ip = "192.168.51.21";
          node(c, 3).role = "boss";
        }),
        ["network.vlan", "network.podSubnets[0]", "nodes[3].role"],
      ],
      [
        edited((c) => {
          node(c, 1).name = "CP 2";
          node(c, 3).ip = "192.168.50.11";
          c.network.dnsServers = ["10.96.0.10"];
          c.network.bridge = "vmbr 0";
        }),
        ["nodes[1].name", "network.dnsServers[0]", "network.bridge"],
      ],
    ];
    for (const [text, keys] of files) {
      const v = verdict(text);
      for (const key of keys)
        assert.ok(
          v.issues.some((i) => i.path === key),
          `${key} missing from:\n${v.message}`,
        );
    }
    // Numbering survives the nodes that failed to parse: the duplicate is nodes[3], of nodes[0].
    const dup = verdict(
      edited((c) => {
        node(c, 1).vmId = "x";
        node(c, 3).ip = node(c, 0).ip;
      }),
    );
    assert.ok(
      dup.issues.some((i) => i.path === "nodes[3].ip" && /already used by nodes\[0\]/.test(i.message)),
      dup.message,
    );
    assert.equal(dup.issues.filter((i) => i.path.endsWith(".proxmoxNode")).length, 0, "no invented faults");
  });

  it("never prints a secret: credentials in an endpoint, plain secrets with bad formats", () => {
    const token = "root@pam!pulumi=0f0f0f0f-1111-2222-3333-444455556666";
    const text = edited((c) => {
      c.proxmox.endpoint = `https://${token}@pve1:8006/`;
      c.proxmoxApiToken = `${token}x`;
      c.sopsAgeKey = "AGE-SECRET-KEY-1NOTAKEY";
      c.talosSecrets = "not: a bundle";
    });
    const v = verdict(text);
    assert.ok(v.issues.length >= 4, v.message);
    for (const secret of ["0f0f0f0f-1111", "NOTAKEY", "not: a bundle", "pulumi="]) {
      assert.ok(!v.message.includes(secret), `${secret} shown in:\n${v.message}`);
    }
  });
});

describe("core config refusals: what is accepted next to each refusal renders configs Talos accepts", () => {
  let bundle: SecretsBundle;
  before(async function () {
    this.timeout(60_000);
    bundle = await generateSecretsBundle();
  });

  const accepted: Array<[string, string]> = [
    [
      "podSubnets /8 (16 bits above the node mask)",
      edited((c) => {
        c.network.podSubnets = ["10.0.0.0/8"];
        c.network.serviceSubnets = ["172.16.0.0/12"];
      }),
    ],
    ["podSubnets /22 for 4 nodes", edited((c) => (c.network.podSubnets = ["10.244.0.0/22"]))],
    ["serviceSubnets /28", edited((c) => (c.network.serviceSubnets = ["10.96.0.0/28"]))],
    ["endpoint with a DNS name", edited((c) => (c.controlPlane.endpoint = "https://k8s.example.lan:6443"))],
    [
      "upper-case Proxmox node, 15-character bridge, tag with '+'",
      edited((c) => {
        node(c, 0).proxmoxNode = "PVE1";
        c.network.bridge = "vmbr0123456789a";
        node(c, 0).tags = ["a+b"];
      }),
    ],
    ["link-local DNS server", edited((c) => (c.network.dnsServers = ["169.254.169.253"]))],
    [
      "three control planes and no worker, scheduling allowed",
      edited((c) => {
        c.nodes = c.nodes.slice(0, 3);
        c.controlPlane.allowSchedulingOnControlPlanes = true;
      }),
    ],
    [
      "an image factory on its own port",
      edited((c) => (c.imageFactory = { url: "https://factory.lan:8443" })),
    ],
    [
      "existing machines without VM keys",
      edited((c) => {
        delete (c as Rec).proxmox;
        for (const n of c.nodes)
          for (const k of ["vmId", "proxmoxNode", "cores", "memoryMiB", "diskGiB"]) delete n[k];
      }),
    ],
  ];

  for (const [minor, talos, k8s] of [
    ["1.10", "1.10.6", "1.33.4"],
    ["1.12", "1.12.6", "1.35.0"],
    ["1.14", "1.14.1", "1.37.2"],
  ] as const) {
    it(`Talos ${minor}: ${accepted.length} accepted files pass talos-oracle-${minor} validate`, function () {
      this.timeout(120_000);
      requireOracle(this, minor);
      const dir = tempDir();
      for (const [name, text] of accepted) {
        const v = verdict(
          text
            .replace("talosVersion: 1.14.1", `talosVersion: ${talos}`)
            .replace("kubernetesVersion: 1.37.2", `kubernetesVersion: ${k8s}`),
        );
        assert.ok(v.config, `${name}: ${v.message}`);
        const plan = clusterPlan(v.config);
        const files = plan.talos.nodes.map((node) => {
          const file = path.join(dir, `${node.name}.yaml`);
          fs.writeFileSync(file, renderMachineConfig(nodeConfigInput(plan.talos, node, bundle)));
          return file;
        });
        const r = runOracle(minor, ["validate", ...files]);
        assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
      }
      fs.rmSync(dir, { recursive: true });
    });
  }
});
