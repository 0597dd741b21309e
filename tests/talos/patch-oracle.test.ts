import * as assert from "node:assert/strict";
import { applyPatches } from "../../components/talos/machineconfig/patch";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import type { MachineRole } from "../../components/talos/types";
import { TALOS_MINORS, type TalosMinorFacts, talosMinorFacts } from "../../components/talos-minors";
import type { TalosMinor } from "../../components/versions";
import { requireOracle, runOracle, tempDir } from "../helpers/shared";
import {
  baseInput,
  fakeBundle,
  MINORS,
  normalisedDocuments,
  ROLES,
  writeTemp,
} from "./fixtures-machineconfig";

/**
 * Differential test: each case goes through `applyPatches` and through Talos' own configpatcher
 * (`talos-oracle-<minor> patch`); results are compared as parsed YAML (ignoring empty lists/maps,
 * which Go's typed encoder emits or omits per field), refusals must be refusals on both sides.
 */
interface Case {
  readonly name: string;
  readonly minor: TalosMinor;
  readonly role: MachineRole;
  readonly patches: readonly string[];
  /** Talos refuses: the oracle's message must match this, and applyPatches must throw too. */
  readonly refused?: RegExp;
}

/** The first row whose Kubernetes settings are documents of their own (1.14). */
const KUBE_DOCS_MINOR = TALOS_MINORS.find((r) => r.config.multiDocKubernetes)!.minor as TalosMinor;

const CASES: readonly Case[] = [
  {
    name: "Kubernetes documents: a KubeProxyConfig field merges into the generated document",
    minor: KUBE_DOCS_MINOR,
    role: "controlplane",
    patches: ["apiVersion: v1alpha1\nkind: KubeProxyConfig\nmode: ipvs\nextraArgs:\n  v: '2'\n"],
  },
  {
    name: "Kubernetes documents: KubeNodeConfig labels merge, a taint is deleted",
    minor: KUBE_DOCS_MINOR,
    role: "controlplane",
    patches: [
      "apiVersion: v1alpha1\nkind: KubeNodeConfig\nlabels:\n  zone: a\ntaints:\n  node-role.kubernetes.io/control-plane:\n    $patch: delete\n",
    ],
  },
  {
    name: "Kubernetes documents: deleting the CoreDNS document",
    minor: KUBE_DOCS_MINOR,
    role: "controlplane",
    patches: ["apiVersion: v1alpha1\nkind: KubeCoreDNSConfig\n$patch: delete\n"],
  },
  {
    name: "Kubernetes documents: a worker's KubeletConfig-less config gets kubelet extraArgs in machine.kubelet",
    minor: KUBE_DOCS_MINOR,
    role: "worker",
    patches: ["machine:\n  kubelet:\n    extraArgs:\n      max-pods: '150'\n"],
  },
  {
    name: "Kubernetes documents: JSON 6902 refused on the multi-document config",
    minor: KUBE_DOCS_MINOR,
    role: "worker",
    patches: ["- op: add\n  path: /machine/certSANs/-\n  value: x\n"],
    refused: /JSON6902 patches are not supported for multi-document/,
  },
  {
    name: "maps merge, lists append (certSANs, nameservers, sysctls)",
    minor: "1.11",
    role: "controlplane",
    patches: [
      "machine:\n  certSANs: [a.example, b.example]\n  network:\n    nameservers: [9.9.9.9]\n  sysctls:\n    kernel.pid_max: '65536'\n",
    ],
  },
  {
    name: "podSubnets are replaced, not appended",
    minor: "1.11",
    role: "worker",
    patches: ["cluster:\n  network:\n    podSubnets: [10.1.0.0/16]\n"],
  },
  {
    name: "serviceSubnets are replaced on a multi-document config",
    minor: "1.13",
    role: "controlplane",
    patches: ["cluster:\n  network:\n    serviceSubnets: [10.9.0.0/16]\n"],
  },
  {
    name: "auditPolicy is replaced as a whole",
    minor: "1.11",
    role: "controlplane",
    patches: ["cluster:\n  apiServer:\n    auditPolicy:\n      rules:\n        - level: None\n"],
  },
  {
    name: "admissionControl merges by name, configuration merged deeply",
    minor: "1.12",
    role: "controlplane",
    patches: [
      "cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        configuration:\n          defaults: {enforce: privileged}\n          exemptions: {namespaces: [openebs]}\n      - name: Other\n        configuration: {foo: bar}\n",
    ],
  },
  {
    name: "interfaces merge by name (also within one patch); a physical selector never matches",
    minor: "1.11",
    role: "controlplane",
    patches: [
      "machine:\n  network:\n    interfaces:\n      - interface: eth1\n        dhcp: true\n      - interface: eth1\n        mtu: 1400\n      - deviceSelector: {physical: true}\n        mtu: 9000\n",
    ],
  },
  {
    name: "interfaces merge by an identical hardwareAddr selector; vlans by vlanId",
    minor: "1.10",
    role: "worker",
    patches: [
      "machine:\n  network:\n    interfaces:\n      - deviceSelector: {hardwareAddr: 'bc:24:11:*'}\n        mtu: 1500\n        vlans: [{vlanId: 5, mtu: 1400}]\n",
      "machine:\n  network:\n    interfaces:\n      - deviceSelector: {hardwareAddr: 'bc:24:11:*'}\n        dhcp: true\n        vlans: [{vlanId: 5, dhcp: true}, {vlanId: 6, dhcp: true}]\n",
    ],
  },
  {
    name: "extraArgs merge key by key with replacement",
    minor: "1.13",
    role: "worker",
    patches: [
      "machine:\n  kubelet:\n    extraArgs:\n      max-pods: '150'\n      rotate-server-certificates: 'true'\n",
      "machine:\n  kubelet:\n    extraArgs:\n      max-pods: '200'\n",
    ],
  },
  {
    name: "scalars: false replaces, empty string does not",
    minor: "1.11",
    role: "controlplane",
    patches: [
      "machine:\n  install:\n    wipe: true\n    image: ''\n  features:\n    kubePrism:\n      enabled: false\n",
    ],
  },
  {
    name: "$patch: delete of a map key",
    minor: "1.11",
    role: "controlplane",
    patches: [
      "machine:\n  features:\n    hostDNS:\n      $patch: delete\n  nodeLabels:\n    $patch: delete\n",
    ],
  },
  {
    name: "$patch: delete of a whole section on 1.13",
    minor: "1.13",
    role: "controlplane",
    patches: ["cluster:\n  apiServer:\n    $patch: delete\n  proxy:\n    disabled: false\n"],
  },
  {
    name: "$patch: delete of a list item selected by a string field",
    minor: "1.13",
    role: "controlplane",
    patches: [
      "cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        $patch: delete\n",
    ],
  },
  {
    name: "add interfaces then delete one by name",
    minor: "1.11",
    role: "worker",
    patches: [
      "machine:\n  network:\n    interfaces:\n      - interface: eth9\n        dhcp: true\n      - interface: eth8\n        dhcp: true\n",
      "machine:\n  network:\n    interfaces:\n      - interface: eth9\n        $patch: delete\n",
    ],
  },
  {
    name: "document-level delete of Layer2VIPConfig (by name)",
    minor: "1.13",
    role: "controlplane",
    patches: ["apiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: 10.0.0.10\n$patch: delete\n"],
  },
  {
    name: "multi-document patch: v1alpha1 + HostnameConfig + ResolverConfig + a new document",
    minor: "1.12",
    role: "controlplane",
    patches: [
      "machine:\n  nodeLabels:\n    zone: a\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nhostname: cp-renamed\n---\napiVersion: v1alpha1\nkind: ResolverConfig\nnameservers:\n  - address: 9.9.9.9\n---\napiVersion: v1alpha1\nkind: StaticHostConfig\nname: 10.0.0.50\nhostnames: [nas.home.arpa]\n",
    ],
  },
  {
    name: "delete HostnameConfig and use another one (replace a document)",
    minor: "1.13",
    role: "worker",
    patches: [
      "apiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n",
      "apiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable\n",
    ],
  },
  {
    name: "JSON 6902 add/replace/remove/test on a single-document config",
    minor: "1.11",
    role: "controlplane",
    patches: [
      "- op: test\n  path: /machine/type\n  value: controlplane\n- op: add\n  path: /machine/certSANs/-\n  value: extra.example\n- op: add\n  path: /machine/certSANs/0\n  value: first.example\n- op: replace\n  path: /cluster/clusterName\n  value: renamed\n- op: remove\n  path: /machine/nodeLabels\n- op: add\n  path: /machine/sysctls\n  value: {vm.swappiness: '10'}\n",
    ],
  },
  {
    name: "JSON 6902 move/copy (as JSON text)",
    minor: "1.10",
    role: "worker",
    patches: [
      '[{"op":"copy","from":"/machine/install/disk","path":"/machine/install/diskCopy"},{"op":"move","from":"/machine/install/diskCopy","path":"/machine/install/legacyDisk"},{"op":"remove","path":"/machine/install/legacyDisk"},{"op":"copy","from":"/cluster/network/podSubnets/0","path":"/cluster/network/podSubnets/-"}]',
    ],
  },
  {
    name: "JSON 6902 then a strategic patch, in order",
    minor: "1.11",
    role: "worker",
    patches: [
      "- op: replace\n  path: /cluster/network/podSubnets\n  value: [10.50.0.0/16]\n",
      "machine:\n  certSANs: [after-json.example]\n",
    ],
  },
  {
    name: "JSON 6902 refused on a 1.12 multi-document config",
    minor: "1.12",
    role: "controlplane",
    patches: ["- op: add\n  path: /machine/certSANs/-\n  value: x\n"],
    refused: /JSON6902 patches are not supported for multi-document machine configuration/,
  },
  {
    name: "JSON 6902 refused on a 1.13 multi-document worker config",
    minor: "1.13",
    role: "worker",
    patches: ["- op: remove\n  path: /machine/kubelet\n"],
    refused: /JSON6902 patches are not supported for multi-document/,
  },
  {
    name: "JSON 6902 failing test op refused",
    minor: "1.11",
    role: "controlplane",
    patches: ["- op: test\n  path: /machine/type\n  value: worker\n"],
    refused: /testing value \/machine\/type failed: test failed/,
  },
  {
    name: "JSON 6902 remove of a missing key refused",
    minor: "1.10",
    role: "controlplane",
    patches: ["- op: remove\n  path: /machine/nope\n"],
    refused: /Unable to remove nonexistent key: nope/,
  },
  {
    name: "list-item delete without a selecting key refused",
    minor: "1.11",
    role: "controlplane",
    patches: ["machine:\n  certSANs:\n    - $patch: delete\n"],
    refused: /no key:val found in sequence node for path machine\.certSANs/,
  },
  {
    name: "delete of an inner key of a list item refused",
    minor: "1.13",
    role: "controlplane",
    patches: [
      "cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        configuration:\n          $patch: delete\n",
    ],
    refused: /cannot delete an inner key in 'cluster\.apiServer\.admissionControl\.\[0\]\.configuration'/,
  },
  {
    name: "unknown top-level key refused",
    minor: "1.11",
    role: "worker",
    patches: ["machine:\n  certSANs: [x]\nbogus: 1\n"],
    refused: /unknown keys found during decoding/,
  },
  {
    name: "unknown document kind refused",
    minor: "1.13",
    role: "controlplane",
    patches: ["apiVersion: v1alpha1\nkind: NopeConfig\nname: x\n"],
    refused: /"NopeConfig" "v1alpha1": not registered/,
  },
  {
    name: "duplicate documents in one patch refused",
    minor: "1.12",
    role: "worker",
    patches: ["machine:\n  certSANs: [x]\n---\nmachine:\n  certSANs: [y]\n"],
    refused: /duplicate document \/v1alpha1\/ is not allowed/,
  },
  {
    name: "free-form kubelet.extraConfig merges deeply (lists append)",
    minor: "1.12",
    role: "worker",
    patches: [
      "machine:\n  kubelet:\n    extraConfig:\n      serializeImagePulls: false\n      featureGates: {A: true}\n      allowedUnsafeSysctls: [net.a]\n",
      "machine:\n  kubelet:\n    extraConfig:\n      featureGates: {B: true}\n      allowedUnsafeSysctls: [net.b]\n",
    ],
  },
  {
    name: "a scalar of another type inside a free-form map is refused",
    minor: "1.11",
    role: "controlplane",
    patches: [
      "cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        configuration:\n          defaults: {enforce: 1}\n",
    ],
    refused: /merge type mismatch left string right int/,
  },
  {
    name: "≤ 1.11: $patch: delete inside a free-form map is refused",
    minor: "1.11",
    role: "controlplane",
    patches: ["cluster:\n  apiServer:\n    auditPolicy:\n      rules:\n        $patch: delete\n"],
    refused: /failed to delete path 'cluster.apiServer.auditPolicy.rules': lookup failed/,
  },
  {
    name: "1.12+: $patch: delete inside a free-form map works",
    minor: "1.13",
    role: "controlplane",
    patches: ["cluster:\n  apiServer:\n    auditPolicy:\n      rules:\n        $patch: delete\n"],
  },
  {
    name: "1.12+: $patch: delete of a missing key inside a free-form map is refused",
    minor: "1.12",
    role: "controlplane",
    patches: ["cluster:\n  apiServer:\n    auditPolicy:\n      nope:\n        $patch: delete\n"],
    refused: /failed to delete path 'cluster.apiServer.auditPolicy.nope': lookup failed/,
  },
  {
    name: "$patch: delete of a missing node label is refused",
    minor: "1.11",
    role: "controlplane",
    patches: ["machine:\n  nodeLabels:\n    zzz:\n      $patch: delete\n"],
    refused:
      /path 'machine.nodeLabels.zzz' in document '\/v1alpha1': failed to delete path 'machine.nodeLabels.zzz': lookup failed/,
  },
  {
    name: "$patch: delete of a label on a worker without labels is refused",
    minor: "1.12",
    role: "worker",
    patches: ["machine:\n  nodeLabels:\n    a:\n      $patch: delete\n"],
    refused: /lookup failed/,
  },
  {
    name: "$patch: delete of an unset struct field is fine; other keys of the document still merge",
    minor: "1.10",
    role: "worker",
    patches: ["machine:\n  sysctls:\n    $patch: delete\n  certSANs: [x.example]\n"],
  },
  {
    name: "$patch other than delete is an ordinary key (kept inside a map-typed field)",
    minor: "1.11",
    role: "worker",
    patches: ["machine:\n  nodeLabels:\n    $patch: replace\n    a: b\n"],
  },
  {
    name: "$patch other than delete at document level is an unknown key",
    minor: "1.13",
    role: "worker",
    patches: ["$patch: replace\nmachine:\n  certSANs: [x]\n"],
    refused: /unknown keys found during decoding/,
  },
  {
    name: "delete of a nested list item (vlan inside an interface) is refused",
    minor: "1.10",
    role: "controlplane",
    patches: [
      "machine:\n  network:\n    interfaces:\n      - interface: eth3\n        vlans: [{vlanId: 5, dhcp: true}]\n",
      "machine:\n  network:\n    interfaces:\n      - interface: eth3\n        vlans:\n          - vlanId: 5\n            $patch: delete\n",
    ],
    refused: /searching for complex paths in slices is not supported/,
  },
  {
    name: "ExtensionServiceConfig configFiles merge by mountPath",
    minor: "1.13",
    role: "worker",
    patches: [
      "apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: nut-client\nconfigFiles:\n  - content: a\n    mountPath: /usr/local/etc/nut/upsmon.conf\nenvironment: [A=1]\n",
      "apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: nut-client\nconfigFiles:\n  - content: b\n    mountPath: /usr/local/etc/nut/upsmon.conf\n  - content: c\n    mountPath: /usr/local/etc/nut/other.conf\nenvironment: [B=2]\n",
    ],
  },
  {
    name: "deleting a document the config lacks leaves a placeholder: a later JSON 6902 patch is refused",
    minor: "1.11",
    role: "worker",
    patches: [
      "apiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n",
      "- op: add\n  path: /machine/certSANs/-\n  value: x\n",
    ],
    refused: /JSON6902 patches are not supported for multi-document/,
  },
  {
    name: "deleting a document the config lacks: merging that kind afterwards is refused",
    minor: "1.12",
    role: "worker",
    patches: [
      "machine:\n  certSANs: [x]\n---\napiVersion: v1alpha1\nkind: StaticHostConfig\nname: 10.0.0.9\n$patch: delete\n",
      "apiVersion: v1alpha1\nkind: StaticHostConfig\nname: 10.0.0.9\nhostnames: [a]\n",
    ],
    refused: /merge type mismatch/,
  },
  {
    name: "an explicit !!binary scalar in a string field is its decoded text (yaml.v3)",
    minor: "1.14",
    role: "worker",
    patches: ["machine:\n  sysctls:\n    net.core.somaxconn: !!binary NDA5Ng==\n"],
  },
  {
    name: "an explicit !!float on a whole number decodes into an integer field (yaml.v3)",
    minor: "1.12",
    role: "worker",
    patches: ["apiVersion: v1alpha1\nkind: ZswapConfig\nmaxPoolPercent: !!float 25\n"],
  },
  {
    name: "an explicit tag the text does not fit is refused (yaml.v3: cannot decode … as a …)",
    minor: "1.11",
    role: "worker",
    patches: ["machine:\n  env:\n    NO_PROXY: !!null http://proxy:3128\n"],
    refused: /cannot decode !!str `http:\/\/proxy:3128` as a !!null/,
  },
  {
    name: "an explicit !!set is a map of nulls, which a string-valued map refuses",
    minor: "1.12",
    role: "worker",
    patches: ["machine:\n  nodeLabels:\n    zone: !!set {a}\n"],
    refused: /cannot unmarshal/,
  },
  {
    name: "an explicit !!timestamp where a string goes keeps its text up to 1.13",
    minor: "1.13",
    role: "worker",
    patches: ["machine:\n  nodeLabels:\n    zone: !!timestamp 2001-12-14\n"],
  },
  {
    name: "an explicit !!timestamp where a string goes is refused from 1.14",
    minor: "1.14",
    role: "worker",
    patches: ["machine:\n  sysctls:\n    a: !!timestamp 2001-12-14\n"],
    refused: /cannot construct !!timestamp/,
  },
  {
    name: "deleting a document the config lacks, twice, changes nothing else",
    minor: "1.13",
    role: "controlplane",
    patches: [
      "apiVersion: v1alpha1\nkind: TimeSyncConfig\n$patch: delete\n",
      "apiVersion: v1alpha1\nkind: TimeSyncConfig\n$patch: delete\n",
      "machine:\n  certSANs: [x]\n",
    ],
  },
];

/** `minor` and the newer rows whose patcher and network-layout facts equal its row's. */
function equivalentMinors(minor: TalosMinor): TalosMinor[] {
  const row = talosMinorFacts(minor)!;
  const same = (r: TalosMinorFacts): boolean =>
    JSON.stringify(r.patcher) === JSON.stringify(row.patcher) &&
    r.config.multiDocNetwork === row.config.multiDocNetwork &&
    r.config.multiDocKubernetes === row.config.multiDocKubernetes &&
    r.config.emptyNetworkSection === row.config.emptyNetworkSection;
  const rows: readonly TalosMinorFacts[] = TALOS_MINORS;
  return rows
    .slice(rows.indexOf(row))
    .filter(same)
    .map((r) => r.minor as TalosMinor);
}

/** Fragments for the seeded random combinations. */
const POOL: readonly string[] = [
  "machine:\n  certSANs: [x]\n",
  "machine:\n  nodeLabels: {a: b}\n",
  "machine:\n  nodeLabels:\n    a:\n      $patch: delete\n",
  "machine:\n  kubelet:\n    extraArgs: {a: '1'}\n",
  "machine:\n  kubelet:\n    extraArgs: {a: '2', b: '3'}\n",
  "machine:\n  kubelet:\n    extraMounts:\n      $patch: delete\n",
  "machine:\n  network:\n    interfaces:\n      - interface: eth1\n        mtu: 1400\n",
  "machine:\n  network:\n    interfaces:\n      - interface: eth1\n        $patch: delete\n",
  "machine:\n  network:\n    interfaces:\n      - interface: eth1\n        dhcp: true\n        vlans: [{vlanId: 3, mtu: 1000}]\n",
  "machine:\n  install:\n    wipe: true\n",
  "machine:\n  features:\n    kubePrism:\n      enabled: false\n      port: 0\n",
  "cluster:\n  network:\n    podSubnets: [10.1.0.0/16]\n",
  "cluster:\n  proxy:\n    disabled: false\n",
  "cluster:\n  discovery:\n    enabled: false\n",
  "cluster:\n  discovery:\n    registries:\n      kubernetes:\n        disabled: false\n",
  "cluster:\n  apiServer:\n    certSANs: [y]\n",
  "cluster:\n  apiServer:\n    extraArgs: {x: '1'}\n",
  "- op: add\n  path: /machine/certSANs/-\n  value: j\n",
  "- op: remove\n  path: /machine/kubelet/extraMounts\n",
  "- op: replace\n  path: /cluster/clusterName\n  value: zz\n",
  "machine:\n  sysctls: {a.b: '1'}\n",
  "machine:\n  sysctls:\n    a.b:\n      $patch: delete\n",
  "machine:\n  time:\n    servers: [a]\n",
  "machine:\n  time:\n    servers: [b]\n    disabled: true\n",
  "machine:\n  kubelet:\n    extraConfig:\n      a: {b: [1]}\n",
  "machine:\n  kubelet:\n    extraConfig:\n      a: {b: [2], c: x}\n",
  "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: other\n",
  "apiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n",
  "apiVersion: v1alpha1\nkind: StaticHostConfig\nname: 10.0.0.9\nhostnames: [a]\n",
  "apiVersion: v1alpha1\nkind: StaticHostConfig\nname: 10.0.0.9\nhostnames: [b]\n",
  "apiVersion: v1alpha1\nkind: ResolverConfig\nnameservers: [{address: 9.9.9.9}]\n",
];

describe("talos patches: differential against Talos' configpatcher (talos-oracle patch)", function () {
  this.timeout(120_000);
  const bundle = fakeBundle();
  const dir = tempDir("pt-talos-patch-");

  it("has at least 20 cases covering strategic, JSON 6902, both roles, single- and multi-doc, refusals", () => {
    assert.ok(CASES.length >= 20);
    assert.ok(CASES.some((c) => c.refused) && CASES.some((c) => !c.refused));
    assert.ok(CASES.some((c) => c.role === "worker") && CASES.some((c) => c.role === "controlplane"));
    const multiDoc = (c: Case) => talosMinorFacts(c.minor)!.config.multiDocNetwork;
    assert.ok(CASES.some(multiDoc) && CASES.some((c) => !multiDoc(c)));
  });

  it("seeded random combinations of 1–3 patches agree (result or refusal) on every minor and role", function () {
    for (const m of MINORS) requireOracle(this, m);
    let seed = 20261122;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const mismatches: string[] = [];
    let accepted = 0;
    let refused = 0;
    for (let t = 0; t < 150; t++) {
      const minor = MINORS[rnd(MINORS.length)]!;
      const role = ROLES[rnd(ROLES.length)]!;
      const patches = Array.from({ length: 1 + rnd(3) }, () => POOL[rnd(POOL.length)]!);
      const config = renderMachineConfig(baseInput(minor, role, bundle));
      const cfgFile = writeTemp(dir, `rnd${t}-config.yaml`, config);
      const files = patches.map((p, i) => writeTemp(dir, `rnd${t}-patch${i}.yaml`, p));
      const oracle = runOracle(minor, ["patch", cfgFile, ...files]);
      let ours: string | undefined;
      let err = "";
      try {
        ours = applyPatches(config, patches, { node: "n1", validate: false, talosVersion: minor });
      } catch (e) {
        err = (e as Error).message;
      }
      const label = `${minor} ${role} ${JSON.stringify(patches)}`;
      if ((oracle.status === 0) !== (ours !== undefined)) {
        mismatches.push(
          `${label}: Talos ${oracle.status === 0 ? "accepts" : oracle.stdout.trim()}; ours ${ours ? "accepts" : err}`,
        );
      } else if (ours === undefined) {
        refused++;
      } else {
        accepted++;
        try {
          assert.deepEqual(normalisedDocuments(ours), normalisedDocuments(oracle.stdout));
        } catch {
          mismatches.push(`${label}: results differ`);
        }
      }
    }
    assert.deepEqual(mismatches, []);
    assert.ok(accepted > 50 && refused > 10, `accepted ${accepted}, refused ${refused}`);
  });

  // Each case runs on its own row and on every newer row with the same patcher and network-layout
  // facts (so 1.13's multi-document cases run on 1.14 too).
  CASES.flatMap((c) => equivalentMinors(c.minor).map((minor) => ({ ...c, minor }))).forEach((c, n) => {
    it(`${c.minor} ${c.role}: ${c.name}`, function () {
      requireOracle(this, c.minor);
      const config = renderMachineConfig(baseInput(c.minor, c.role, bundle));
      const cfgFile = writeTemp(dir, `case${n}-config.yaml`, config);
      const patchFiles = c.patches.map((p, i) => writeTemp(dir, `case${n}-patch${i}.yaml`, p));
      const oracle = runOracle(c.minor, ["patch", cfgFile, ...patchFiles]);

      let ours: string | Error;
      try {
        ours = applyPatches(config, c.patches, { node: "n1", validate: false, talosVersion: c.minor });
      } catch (e) {
        ours = e as Error;
      }

      if (c.refused) {
        assert.notEqual(oracle.status, 0, `Talos accepted it:\n${oracle.stdout}`);
        assert.match(oracle.stdout + oracle.stderr, c.refused, "Talos' refusal message changed");
        assert.ok(ours instanceof Error, "applyPatches accepted what Talos refuses");
        assert.match(ours.message, c.refused);
        assert.match(ours.message, /^node n1: patch #\d+: /);
        return;
      }
      assert.equal(oracle.status, 0, `Talos refused: ${oracle.stdout}${oracle.stderr}`);
      if (ours instanceof Error) assert.fail(`applyPatches refused what Talos accepts: ${ours.message}`);
      assert.deepEqual(normalisedDocuments(ours), normalisedDocuments(oracle.stdout));
      assert.notDeepEqual(
        normalisedDocuments(ours),
        normalisedDocuments(config),
        "the patch changed nothing",
      );
    });
  });
});
