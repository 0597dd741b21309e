/**
 * A seeded random generator of Talos config patches in the shapes careless users write: strategic
 * merges on the v1alpha1 document and on every document kind the minor registers, `$patch: delete`
 * on maps, list items and documents, RFC 6902 with every op (indices, `-`, negative indices, `~1`),
 * empty and comment-only patches, misspelt keys, wrong value types, several patches in sequence.
 * Used by tests/talos/patch-differential.test.ts against Sidero's own patcher.
 */
import YAML from "yaml";
import { registeredKinds } from "../../components/talos/machineconfig/fields/table";
import type { PlainObject, PlainValue } from "../../components/talos/machineconfig/patch-yaml";
import { documentExample, v1alpha1Examples } from "./conflict-examples";
import { fakeBundle } from "./fixtures-machineconfig";

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  readonly rnd: () => number;
  constructor(seed: number) {
    this.rnd = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
}

/**
 * Valid documents of each kind (what Talos' Validate accepts), by kind; the generator merges them
 * in, twice (a second time with other values), deletes them, and misspells their keys.
 */
const DOCUMENTS: Record<string, (g: Gen) => PlainObject> = {
  HostnameConfig: (g) => ({ hostname: g.pick(["node-a", "node-b"]) }),
  ResolverConfig: (g) => ({ nameservers: [{ address: g.pick(["9.9.9.9", "8.8.8.8"]) }] }),
  StaticHostConfig: (g) => ({
    name: g.pick(["10.0.0.50", "10.0.0.51"]),
    hostnames: [g.pick(["nas", "nas.home.arpa"])],
  }),
  TimeSyncConfig: (g) => ({ ntp: { servers: [g.pick(["time.cloudflare.com", "pool.ntp.org"])] } }),
  Layer2VIPConfig: (g) => ({ name: g.pick(["10.0.0.10", "10.0.0.99"]), link: g.pick(["vip0", "eth0"]) }),
  LinkAliasConfig: (g) => ({
    name: g.pick(["vip0", "net1"]),
    selector: {
      match: g.pick(['link.type == 1 && link.kind == ""', 'mac(link.permanent_addr) == "bc:24:11:00:00:01"']),
    },
  }),
  DummyLinkConfig: (g) => ({
    name: g.pick(["dummy0", "dummy1"]),
    ...(g.chance(0.5) ? { mtu: g.pick([0, 1400]) } : {}),
  }),
  BondConfig: (g) => ({
    name: "bond0",
    links: ["eth1", "eth2"],
    bondMode: "active-backup",
    ...(g.chance(0.7) ? { miimon: g.pick([0, 100, 200]) } : {}),
    ...(g.chance(0.5) ? { updelay: g.pick([0, 200]) } : {}),
  }),
  VLANConfig: (g) => ({
    name: "eth0.5",
    vlanID: 5,
    parent: "eth0",
    ...(g.chance(0.5) ? { mtu: g.pick([0, 1400]) } : {}),
  }),
  UserVolumeConfig: (g) => ({
    name: g.pick(["data", "logs"]),
    provisioning: {
      ...(g.chance(0.85)
        ? { diskSelector: { match: g.pick(["disk.size > 10u * GB", "!system_disk"]) } }
        : {}),
      ...(g.chance(0.5) ? { minSize: g.pick(["1GB", "2GiB"]) } : {}),
      ...(g.chance(0.5) ? { maxSize: g.pick(["10GB", "20GiB"]) } : {}),
      ...(g.chance(0.4) ? { grow: g.chance(0.5) } : {}),
    },
    ...(g.chance(0.3) ? { filesystem: { type: g.pick(["xfs", "ext4"]) } } : {}),
  }),
  VolumeConfig: (g) => ({
    name: "EPHEMERAL",
    provisioning: {
      ...(g.chance(0.6) ? { diskSelector: { match: g.pick(["disk.size > 10u * GB", "system_disk"]) } } : {}),
      ...(g.chance(0.5) ? { minSize: g.pick(["1GB", "2GiB"]) } : {}),
      ...(g.chance(0.5) ? { maxSize: g.pick(["10GB", "20GiB"]) } : {}),
      ...(g.chance(0.4) ? { grow: g.chance(0.5) } : {}),
    },
  }),
  RawVolumeConfig: (g) => ({
    name: g.pick(["raw1", "raw2"]),
    provisioning: {
      diskSelector: { match: g.pick(["disk.size > 10u * GB", "!system_disk"]) },
      ...(g.chance(0.5) ? { maxSize: g.pick(["10GB", "20GiB"]) } : {}),
    },
  }),
  SwapVolumeConfig: (g) => ({
    name: "swap1",
    provisioning: {
      diskSelector: { match: g.pick(["disk.size > 10u * GB", "!system_disk"]) },
      ...(g.chance(0.5) ? { minSize: "1GB" } : {}),
      maxSize: g.pick(["2GB", "4GiB"]),
    },
  }),
  ExtensionServiceConfig: (g) => ({
    name: g.pick(["nut-client", "tailscale"]),
    configFiles: [
      {
        content: g.pick(["a=1", "b=2"]),
        mountPath: g.pick(["/usr/local/etc/a.conf", "/usr/local/etc/b.conf"]),
      },
    ],
    ...(g.chance(0.5) ? { environment: [g.pick(["A=1", "B=2"])] } : {}),
  }),
  KmsgLogConfig: (g) => ({
    name: g.pick(["remote", "other"]),
    url: g.pick(["tcp://10.0.0.5:3000/", "udp://10.0.0.5:3001/"]),
  }),
  EventSinkConfig: (g) => ({ endpoint: g.pick(["10.0.0.5:4000", "10.0.0.6:4000"]) }),
  WatchdogTimerConfig: (g) => ({
    device: "/dev/watchdog0",
    ...(g.chance(0.5) ? { timeout: g.pick(["2m", "3m0s"]) } : {}),
  }),
  NetworkDefaultActionConfig: (g) => ({ ingress: g.pick(["accept", "block"]) }),
  NetworkRuleConfig: (g) => ({
    name: g.pick(["kubelet", "apid"]),
    portSelector: { ports: [g.pick([10250, 50000])], protocol: "tcp" },
    ingress: [{ subnet: g.pick(["10.0.0.0/24", "192.168.0.0/16"]) }],
  }),
  SideroLinkConfig: (g) => ({
    apiUrl: g.pick([
      "https://siderolink.example:8099?jointoken=abc",
      "https://omni.example:8090?jointoken=x",
    ]),
  }),
  KubeSpanEndpointsConfig: (g) => ({
    extraAnnouncedEndpoints: [g.pick(["192.0.2.1:51820", "192.0.2.2:51820"])],
  }),
  ZswapConfig: (g) => ({ maxPoolPercent: g.pick([20, 25]) }),
  DHCPv4Config: (g) => ({
    name: g.pick(["eth1", "eth2"]),
    ...(g.chance(0.5) ? { routeMetric: g.pick([0, 1024]) } : {}),
  }),
  LinkConfig: (g) => ({
    name: g.pick(["eth1", "eth2"]),
    ...(g.chance(0.6) ? { mtu: g.pick([0, 1500, 9000]) } : {}),
  }),
  RegistryMirrorConfig: (g) => ({
    name: g.pick(["docker.io", "ghcr.io"]),
    endpoints: [{ url: g.pick(["https://mirror.a", "https://mirror.b"]) }],
  }),
  RegistryAuthConfig: (g) => ({ name: g.pick(["registry.a", "registry.b"]), username: "u", password: "p" }),
  RegistryTLSConfig: (g) => ({
    name: g.pick(["registry.a", "registry.b"]),
    insecureSkipVerify: g.chance(0.5),
  }),
  EnvironmentConfig: (g) => ({
    variables: { [g.pick(["HTTP_PROXY", "NO_PROXY"])]: g.pick(["http://proxy:3128", "10.0.0.0/8"]) },
  }),
  TCPProbeConfig: (g) => ({ name: g.pick(["p1", "p2"]), endpoint: g.pick(["10.0.0.1:80", "10.0.0.2:443"]) }),
  TrustedRootsConfig: () => ({
    name: "corp",
    certificates: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  }),
};

/**
 * v1alpha1 fields Talos refuses beside the document that replaced them (every conflict of every
 * minor), with valid values. Left out: `machine.baseRuntimeSpecOverrides`, which the oracle's strict
 * validation refuses alone for its deprecation warning (a node takes it with the warning).
 */
const CONFLICT_FIELDS: readonly PlainObject[] = Object.entries(v1alpha1Examples(fakeBundle()))
  .filter(([path]) => path !== "machine.baseRuntimeSpecOverrides")
  .map(([, fragment]) => fragment);

/** Documents that replaced v1alpha1 fields, as the conflict table test adds them. */
for (const kind of [
  "KubeSpanConfig",
  "KubeletConfig",
  "KubeCredentialProviderConfig",
  "KubeFlannelCNIConfig",
  "KubeTalosAPIAccessConfig",
  "ImageCacheConfig",
]) {
  const doc = documentExample({ kind, paths: [], set: "present" });
  if (!doc) throw new Error(`no example document of ${kind}`);
  const { apiVersion: _a, kind: _k, ...body } = doc;
  DOCUMENTS[kind] = () => structuredClone(body);
}
{
  // VolumeConfig STATE/EPHEMERAL with encryption: conflicts with machine.systemDiskEncryption (1.11+).
  const plain = DOCUMENTS.VolumeConfig!;
  DOCUMENTS.VolumeConfig = (g) => {
    if (g.chance(0.6)) return plain(g);
    const name = g.pick(["STATE", "EPHEMERAL"]);
    const {
      apiVersion: _a,
      kind: _k,
      ...body
    } = documentExample({
      kind: "VolumeConfig",
      paths: [],
      set: "present",
      documentName: name,
    })!;
    return structuredClone(body);
  };
}

/** Document kinds the generator has valid examples of, for the minor (and registered there). */
export function documentKinds(minor: string): string[] {
  const registered = registeredKinds(minor);
  return Object.keys(DOCUMENTS).filter((k) => registered.has(k));
}

function header(kind: string): PlainObject {
  return { apiVersion: "v1alpha1", kind };
}

/** A v1alpha1 strategic-merge fragment with valid values. */
function v1alpha1Fragment(g: Gen, minor: number): PlainObject {
  const choices: Array<() => PlainObject> = [
    () => ({ machine: { certSANs: [g.pick(["a.example", "b.example", "10.0.0.77"])] } }),
    () => ({
      machine: {
        nodeLabels: { [g.pick(["zone", "topology.kubernetes.io/zone", "rack"])]: g.pick(["a", "b", "1"]) },
      },
    }),
    () => ({ machine: { nodeAnnotations: { [g.pick(["note", "owner"])]: g.pick(["x", "y"]) } } }),
    () => ({
      machine: { sysctls: { [g.pick(["vm.swappiness", "net.core.somaxconn"])]: g.pick(["10", "4096"]) } },
    }),
    () => ({
      machine: {
        kubelet: {
          extraArgs: { [g.pick(["max-pods", "rotate-server-certificates"])]: g.pick(["150", "true"]) },
        },
      },
    }),
    () => ({
      machine: {
        kubelet: {
          extraConfig: { serializeImagePulls: g.chance(0.5), featureGates: { [g.pick(["A", "B"])]: true } },
        },
      },
    }),
    () => ({ machine: { install: { wipe: g.chance(0.5), ...(g.chance(0.3) ? { image: "" } : {}) } } }),
    () => ({ machine: { features: { kubePrism: { enabled: g.chance(0.5) } } } }),
    () => ({ machine: { features: { hostDNS: { forwardKubeDNSToHost: g.chance(0.5) } } } }),
    () => ({
      machine: { env: { [g.pick(["HTTP_PROXY", "NO_PROXY"])]: g.pick(["http://proxy:3128", "localhost"]) } },
    }),
    () => ({ machine: { time: { servers: [g.pick(["time.cloudflare.com", "pool.ntp.org"])] } } }),
    () => ({
      machine: {
        registries: {
          mirrors: {
            [g.pick(["docker.io", "ghcr.io"])]: { endpoints: [g.pick(["https://m.a", "https://m.b"])] },
          },
        },
      },
    }),
    () => ({
      machine: {
        nodeTaints: { [g.pick(["dedicated", "gpu"])]: g.pick(["infra:NoSchedule", "true:NoSchedule"]) },
      },
    }),
    () => ({ cluster: { network: { podSubnets: [g.pick(["10.1.0.0/16", "10.244.0.0/16"])] } } }),
    () => ({ cluster: { network: { serviceSubnets: [g.pick(["10.97.0.0/16", "10.96.0.0/12"])] } } }),
    () => ({ cluster: { allowSchedulingOnControlPlanes: g.chance(0.5) } }),
    () => ({ cluster: { discovery: { enabled: g.chance(0.5) } } }),
    () => ({ cluster: { proxy: { disabled: g.chance(0.5) } } }),
    () => ({
      cluster: {
        apiServer: {
          admissionControl: [
            {
              name: g.pick(["PodSecurity", "Other"]),
              configuration: { defaults: { enforce: g.pick(["privileged", "baseline"]) } },
            },
          ],
        },
      },
    }),
    () => ({
      cluster: {
        apiServer: {
          extraArgs: { [g.pick(["audit-log-maxage", "feature-gates"])]: g.pick(["30", "A=true"]) },
        },
      },
    }),
    () => ({ cluster: { apiServer: { certSANs: [g.pick(["api.example", "10.0.0.88"])] } } }),
    // A field some minor refuses beside the document that replaced it (about one fragment in five).
    ...Array.from({ length: 6 }, () => () => structuredClone(g.pick(CONFLICT_FIELDS))),
  ];
  if (minor <= 1012) {
    choices.push(() => ({
      machine: {
        network: {
          interfaces: [
            {
              interface: g.pick(["eth1", "eth2"]),
              dhcp: g.chance(0.5),
              ...(g.chance(0.4) ? { mtu: g.pick([0, 1400]) } : {}),
            },
          ],
        },
      },
    }));
  }
  if (minor >= 1013) {
    choices.push(() => ({ machine: { kubelet: { extraArgs: { "feature-gates": ["A=true", "B=false"] } } } }));
  }
  return g.pick(choices)();
}

/** Deep-merges b into a (plain maps only), for combining fragments into one document. */
function combine(a: PlainObject, b: PlainObject): PlainObject {
  const out: PlainObject = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      cur && typeof cur === "object" && !Array.isArray(cur) && v && typeof v === "object" && !Array.isArray(v)
        ? combine(cur, v)
        : v;
  }
  return out;
}

/** Leaf paths of a value (maps only), for typos and wrong types. */
function mapPaths(v: PlainValue, prefix: string[] = []): string[][] {
  if (!v || typeof v !== "object" || Array.isArray(v)) return [prefix];
  const out: string[][] = [];
  for (const [k, x] of Object.entries(v)) out.push(...mapPaths(x, [...prefix, k]));
  return out;
}

/** Misspells one key on a random path (not inside free-form or map-typed fields: they take any key). */
function typo(g: Gen, doc: PlainObject): PlainObject {
  const free =
    /^(nodeLabels|nodeAnnotations|sysctls|extraArgs|extraConfig|env|mirrors|nodeTaints|configuration|variables)$/;
  const paths = mapPaths(doc).filter(
    (p) =>
      p.length > 0 &&
      !p.some((k) => free.test(k)) &&
      !["apiVersion", "kind", "name"].includes(p[p.length - 1]!),
  );
  if (paths.length === 0) return { ...doc, bogusKey: 1 };
  const path = g.pick(paths);
  const depth = g.int(path.length);
  const copy = structuredClone(doc);
  let cur: PlainObject = copy;
  for (let i = 0; i < depth; i++) cur = cur[path[i]!] as PlainObject;
  const key = path[depth]!;
  const bad = g.pick([
    `${key}s`,
    key.slice(0, -1),
    key.toLowerCase() === key ? `${key}X` : key.toLowerCase(),
  ]);
  cur[bad] = cur[key]!;
  delete cur[key];
  return copy;
}

/** Replaces one leaf with a value of another type (list for a scalar, "true" for a bool …). */
function wrongType(g: Gen, doc: PlainObject): PlainObject {
  const paths = mapPaths(doc).filter(
    (p) => p.length > 0 && !["apiVersion", "kind", "name"].includes(p[p.length - 1]!),
  );
  if (paths.length === 0) return doc;
  const path = g.pick(paths);
  const copy = structuredClone(doc);
  let cur: PlainObject = copy;
  for (let i = 0; i < path.length - 1; i++) cur = cur[path[i]!] as PlainObject;
  const key = path[path.length - 1]!;
  const old = cur[key];
  cur[key] =
    typeof old === "boolean"
      ? String(old)
      : typeof old === "number"
        ? g.pick([[old], `${old}x`])
        : Array.isArray(old)
          ? g.pick([{ a: 1 }, "scalar"])
          : g.pick([["a", "b"], { nested: "map" }]);
  return copy;
}

/** `$patch: delete` in its forms: map keys, list items, whole documents (present or not). */
function deletePatch(g: Gen, minor: number, role: string): string {
  const forms: Array<() => string> = [
    () => "machine:\n  nodeLabels:\n    $patch: delete\n",
    () =>
      `machine:\n  nodeLabels:\n    ${g.pick(["zone", "node.kubernetes.io/exclude-from-external-load-balancers"])}:\n      $patch: delete\n`,
    () => "machine:\n  features:\n    hostDNS:\n      $patch: delete\n",
    () => "machine:\n  kubelet:\n    extraArgs:\n      $patch: delete\n",
    () => "machine:\n  sysctls:\n    vm.swappiness:\n      $patch: delete\n",
    () => "cluster:\n  apiServer:\n    $patch: delete\n",
    () => "cluster:\n  apiServer:\n    extraArgs:\n      $patch: delete\n",
    () =>
      `cluster:\n  apiServer:\n    admissionControl:\n      - name: ${g.pick(["PodSecurity", "Missing"])}\n        $patch: delete\n`,
    () =>
      "cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        configuration:\n          exemptions:\n            $patch: delete\n",
    () => "cluster:\n  proxy:\n    $patch: delete\n",
    () =>
      `machine:\n  network:\n    interfaces:\n      - interface: ${g.pick(["eth0", "eth1", "eth9"])}\n        $patch: delete\n`,
    () => "machine:\n  network:\n    kubespan:\n      $patch: delete\n",
    () => "machine:\n  certSANs:\n    - $patch: delete\n",
    () => "machine:\n  kubelet:\n    extraConfig:\n      featureGates:\n        $patch: delete\n",
  ];
  if (minor >= 1012) {
    forms.push(
      () => `apiVersion: v1alpha1\nkind: ${g.pick(["HostnameConfig", "ResolverConfig"])}\n$patch: delete\n`,
      () =>
        `apiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: ${g.pick(["10.0.0.10", "10.0.0.99"])}\n$patch: delete\n`,
      () => `apiVersion: v1alpha1\nkind: LinkAliasConfig\nname: vip0\n$patch: delete\n`,
    );
  }
  if (minor >= 1014) {
    forms.push(
      () =>
        `apiVersion: v1alpha1\nkind: ${g.pick(["KubeCoreDNSConfig", "KubeNodeConfig", "KubeNetworkConfig", "KubeProxyConfig", "DiscoveryIdentityConfig", "DiscoveryServiceConfig", "UnattendedInstallConfig", "KubePrismConfig"])}\n$patch: delete\n`,
    );
  }
  void role;
  return g.pick(forms)();
}

/** RFC 6902 operation lists over paths that exist, may exist, or do not. */
function jsonPatch(g: Gen): string {
  const value = (): PlainValue =>
    g.pick<PlainValue>(["x.example", "10.0.0.99", 1, true, null, ["a"], { k: "v" }]);
  const paths = [
    "/machine/certSANs/-",
    "/machine/certSANs/0",
    "/machine/certSANs/1",
    "/machine/certSANs/-1",
    "/machine/certSANs/9",
    "/machine/nodeLabels/zone",
    "/machine/nodeLabels/topology.kubernetes.io~1zone",
    "/machine/nodeLabels/node.kubernetes.io~1exclude-from-external-load-balancers",
    "/machine/sysctls",
    "/machine/sysctls/vm.swappiness",
    "/machine/install/wipe",
    "/machine/kubelet/extraArgs",
    "/machine/kubelet/extraArgs/max-pods",
    "/machine/nothere",
    "/machine/nothere/deeper",
    "/cluster/network/podSubnets/0",
    "/cluster/network/podSubnets/-",
    "/cluster/clusterName",
  ];
  const ops: PlainObject[] = [];
  const count = 1 + g.int(3);
  for (let i = 0; i < count; i++) {
    const op = g.pick(["add", "remove", "replace", "move", "copy", "test"]);
    const path = g.pick(paths);
    const o: PlainObject = { op, path };
    if (op === "add" || op === "replace" || op === "test") {
      o.value =
        path.includes("nodeLabels") || path.includes("sysctls/") || path.includes("extraArgs/")
          ? g.pick(["a", "1", "true"])
          : path.endsWith("wipe")
            ? g.chance(0.5)
            : path.endsWith("sysctls") || path.endsWith("extraArgs")
              ? { a: "b" }
              : path.endsWith("clusterName")
                ? g.pick(["homelab", "renamed"])
                : path.includes("podSubnets")
                  ? g.pick(["10.1.0.0/16", "10.244.0.0/16"])
                  : path.includes("certSANs")
                    ? g.pick(["x.example", "10.0.0.99", "k8s.home.arpa"])
                    : value();
      if (op === "test" && g.chance(0.2)) o.value = null;
    }
    if (op === "move" || op === "copy") o.from = g.pick(paths.filter((p) => !p.endsWith("-")));
    ops.push(o);
  }
  return g.chance(0.3) ? JSON.stringify(ops) : YAML.stringify(ops);
}

function documentPatch(g: Gen, minor: string): string {
  const kinds = documentKinds(minor);
  if (kinds.length === 0) return "machine:\n  certSANs: [doc.example]\n";
  const kind = g.pick(kinds);
  let doc: PlainObject = { ...header(kind), ...DOCUMENTS[kind]!(g) };
  const r = g.rnd();
  if (r < 0.12) doc = typo(g, doc);
  else if (r < 0.2) doc = wrongType(g, doc);
  return YAML.stringify(doc);
}

/** A kind another minor registers (refused by this one) or that nobody does. */
function foreignKindPatch(g: Gen, minor: string): string {
  const mine = registeredKinds(minor);
  const others = [
    "BondConfig",
    "HostnameConfig",
    "VRFConfig",
    "KubeletConfig",
    "RawVolumeConfig",
    "NopeConfig",
    "KubeSpanEndpoints",
  ].filter((k) => !mine.has(k));
  if (others.length === 0) return "apiVersion: v1alpha1\nkind: NopeConfig\nname: x\n";
  return `apiVersion: v1alpha1\nkind: ${g.pick(others)}\nname: x\n`;
}

/**
 * An explicit YAML tag on one plain scalar of a patch's text (`!!str`, `!!int`, `!!binary` of its
 * text …): Talos' decoder (yaml.v3) reads some into a typed field and refuses others. `!!timestamp`
 * is left out: up to 1.13 Talos re-encodes one inside a free-form field as RFC 3339 and checks one in
 * a byte-size field as a size, which this project does not reproduce (patch-oracle.test.ts pins what
 * it does reproduce).
 */
function explicitTag(g: Gen, text: string): string {
  const lines = text.split("\n");
  const scalars = lines
    .map((line, i) => ({ i, m: /^(\s*(?:- )?[\w.-]+): ([^\s'"{}[\]&*!|>#][^#]*)$/.exec(line) }))
    .filter((x) => x.m && !/\b(apiVersion|kind|name)$/.test(x.m[1]!));
  if (scalars.length === 0) return text;
  const { i, m } = g.pick(scalars);
  const value = m![2]!;
  const tagged = g.pick([
    `!!str ${value}`,
    `!!int ${value}`,
    `!!float ${value}`,
    `!!bool ${value}`,
    `!!binary ${Buffer.from(value).toString("base64")}`,
    `!!null ${value}`,
  ]);
  lines[i] = `${m![1]}: ${tagged}`;
  return lines.join("\n");
}

/** One random patch for a minor (`1.12` …) and role. */
export function randomPatch(g: Gen, minor: string, role: string): string {
  const patch = randomUntaggedPatch(g, minor, role);
  return g.chance(0.08) ? explicitTag(g, patch) : patch;
}

function randomUntaggedPatch(g: Gen, minor: string, role: string): string {
  const m = Number(minor.split(".")[0]) * 1000 + Number(minor.split(".")[1]);
  const r = g.rnd();
  if (r < 0.3) {
    let doc = v1alpha1Fragment(g, m);
    if (g.chance(0.35)) doc = combine(doc, v1alpha1Fragment(g, m));
    const t = g.rnd();
    if (t < 0.12) doc = typo(g, doc);
    else if (t < 0.22) doc = wrongType(g, doc);
    return YAML.stringify(doc);
  }
  if (r < 0.5) return documentPatch(g, minor);
  if (r < 0.56) return `${YAML.stringify(v1alpha1Fragment(g, m))}---\n${documentPatch(g, minor)}`;
  if (r < 0.72) return deletePatch(g, m, role);
  if (r < 0.88) return jsonPatch(g);
  if (r < 0.93) return g.pick(["", "# only a comment\n", "---\n", "[]\n"]);
  return foreignKindPatch(g, minor);
}

/** One case: 1–3 patches in sequence. */
export function randomCase(g: Gen, minor: string, role: string): string[] {
  const n = 1 + (g.chance(0.35) ? 1 + g.int(2) : 0);
  return Array.from({ length: n }, () => randomPatch(g, minor, role));
}

/** One valid example document of `kind` (for the table tests). */
export function exampleDocument(g: Gen, kind: string): string {
  const make = DOCUMENTS[kind];
  if (!make) throw new Error(`no example of ${kind}`);
  return YAML.stringify({ ...header(kind), ...make(g) });
}
