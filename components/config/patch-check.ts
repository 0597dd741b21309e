/**
 * Patches are config: every node's machine config is rendered and its patches applied (Talos'
 * semantics for the stack's Talos minor, strict decoding included) during config validation, so a
 * patch Talos would refuse fails `preview`/`render` before anything is written or registered. Each
 * problem names the stack key of the patch (`patches.worker[0]`, `nodes[2].patches[1]`).
 */

import type { ClusterPlan } from "../plan";
import { ConfigPatchError, patchConfigDocuments } from "../talos/machineconfig/patch";
import { isPlainObject, type PlainValue } from "../talos/machineconfig/patch-yaml";
import {
  buildMachineConfigDocuments,
  type MachineConfigInput,
  talosMinorOf,
} from "../talos/machineconfig/render";
import { nodeConfigInput } from "../talos/talos-cluster";
import type { SecretsBundle } from "../talos/types";
import type { ConfigIssue } from "./errors";
import type { ConfigPatch } from "./schema";

/** Stand-in key material: patches never see the real bundle while validating. */
const pem = (label: string) => `-----BEGIN ${label}-----\nUExBQ0VIT0xERVI=\n-----END ${label}-----\n`;
const PLACEHOLDER_BUNDLE: SecretsBundle = {
  cluster: { id: "placeholder-cluster-id", secret: "placeholder-cluster-secret" },
  secrets: { bootstrapToken: "aaaaaa.aaaaaaaaaaaaaaaa", secretboxEncryptionSecret: "placeholder" },
  trustdInfo: { token: "bbbbbb.bbbbbbbbbbbbbbbb" },
  certs: {
    etcd: { crt: pem("CERTIFICATE"), key: pem("EC PRIVATE KEY") },
    k8s: { crt: pem("CERTIFICATE"), key: pem("EC PRIVATE KEY") },
    k8sAggregator: { crt: pem("CERTIFICATE"), key: pem("EC PRIVATE KEY") },
    k8sServiceAccount: { key: pem("RSA PRIVATE KEY") },
    os: { crt: pem("CERTIFICATE"), key: pem("ED25519 PRIVATE KEY") },
  },
};

export interface PatchCheckNode {
  readonly name: string;
  readonly role: "controlplane" | "worker";
  readonly ip: string;
  readonly installDisk?: string;
  readonly patches: readonly ConfigPatch[];
}

export interface PatchCheckInput {
  readonly clusterName: string;
  readonly talosVersion: string;
  readonly kubernetesVersion: string;
  readonly endpoint: string;
  readonly vip: string;
  readonly allowSchedulingOnControlPlanes: boolean;
  readonly openebsHostpath: boolean;
  readonly network: {
    readonly dnsServers: readonly string[];
    readonly cni: "cilium" | "flannel";
    readonly kubeProxy: boolean;
    readonly podSubnets: readonly string[];
    readonly serviceSubnets: readonly string[];
  };
  readonly patches: {
    readonly all: readonly ConfigPatch[];
    readonly controlplane: readonly ConfigPatch[];
    readonly worker: readonly ConfigPatch[];
  };
  /** The stack's nodes by index; a node that did not parse is undefined (its own fault is reported). */
  readonly nodes: readonly (PatchCheckNode | undefined)[];
}

/** Every string of the stand-in bundle, as written into a config (plain and base64). */
function bundleStrings(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    out.add(value);
    out.add(Buffer.from(value).toString("base64"));
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) bundleStrings(v, out);
  }
  return out;
}
const PLACEHOLDER_STRINGS = bundleStrings(PLACEHOLDER_BUNDLE);

/**
 * Where the config carries the cluster's secrets bundle (tokens, CAs, keys, the cluster id and
 * secret, the encryption secrets): `path` → value, `machine.ca.crt` in the v1alpha1 document and
 * `Kind(name).field` in the others. A patch must leave every one of them as it found it.
 */
function bundlePaths(documents: readonly unknown[]): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (value: unknown, at: string) => {
    if (typeof value === "string") {
      if (PLACEHOLDER_STRINGS.has(value)) found.set(at, value);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => {
        walk(v, `${at}[${i}]`);
      });
    } else if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, at ? `${at}.${k}` : k);
    }
  };
  for (const doc of documents) {
    if (!isPlainObject(doc)) continue;
    const kind = typeof doc.kind === "string" ? doc.kind : undefined;
    const name = typeof doc.name === "string" ? `(${doc.name})` : "";
    walk(doc, kind ? `${kind}${name}` : "");
  }
  return found;
}

/** The first bundle-held path a patch changed or removed; undefined when it left them all. */
function changedBundlePath(before: Map<string, string>, after: Map<string, string>): string | undefined {
  for (const [at, value] of before) if (after.get(at) !== value) return at;
  return undefined;
}

/** One node to check: what the program renders for it (patches left out) and its patches, keyed. */
interface PatchTarget {
  readonly node: string;
  readonly role: "controlplane" | "worker";
  readonly input: MachineConfigInput;
  readonly keyed: ReadonlyArray<{ readonly key: string; readonly patch: ConfigPatch }>;
}

/** Every patch problem of the targets, one per stack key (a role patch failing on several nodes once). */
function targetIssues(targets: readonly PatchTarget[], talosVersion: string, vip: string): ConfigIssue[] {
  try {
    talosMinorOf(talosVersion);
  } catch {
    return []; // the version rule reports it
  }
  const found = new Map<string, { issue: ConfigIssue; nodes: string[] }>();
  const add = (path: string, message: string, fix: string, node: string) => {
    const id = `${path}\u0000${message}`;
    const seen = found.get(id);
    if (seen) seen.nodes.push(node);
    else found.set(id, { issue: { path, message, fix }, nodes: [node] });
  };
  for (const target of targets) {
    if (target.keyed.length === 0) continue;
    let rendered: PlainValue[];
    try {
      rendered = buildMachineConfigDocuments(target.input);
    } catch {
      continue; // other rules report what keeps the node from rendering
    }
    checkNode(rendered, target, talosVersion, vip, (path, message, fix) =>
      add(path, message, fix, target.node),
    );
  }
  return [...found.values()].map(({ issue, nodes }) => ({
    ...issue,
    message: `${issue.message} (node${nodes.length > 1 ? "s" : ""} ${nodes.join(", ")})`,
  }));
}

/** One node's patches, step by step and then all together; each fault goes to `add` under its key. */
function checkNode(
  rendered: PlainValue[],
  { node, role, keyed }: PatchTarget,
  talosVersion: string,
  vip: string,
  add: (path: string, message: string, fix: string) => void,
): void {
  const talos = `Talos ${talosVersion.replace(/^v/, "")}`;
  let bundleBefore = bundlePaths(rendered);
  // Each patch goes onto the documents the previous step left, in memory, as the program's own
  // render applies them; the bundle is compared after every step to name the patch that changed it.
  let documents = rendered;
  for (const { key, patch } of keyed) {
    const opts = { node, validate: false, talosVersion };
    try {
      documents = patchConfigDocuments(documents, [patch], opts);
    } catch (e) {
      const detail = e instanceof ConfigPatchError ? e.detail : (e as Error).message;
      add(
        key,
        `is refused by ${talos}: ${detail}`,
        "correct the patch (see Talos' machine config reference for this version)",
      );
      return;
    }
    const bundleAfter = bundlePaths(documents);
    const changed = changedBundlePath(bundleBefore, bundleAfter);
    bundleBefore = bundleAfter;
    if (changed === "machine.token") {
      add(
        key,
        "sets machine.token: this node would carry a token the control planes do not know and could never join",
        "remove machine.token from the patch; the token comes from the cluster's secrets bundle",
      );
      return;
    }
    if (changed !== undefined) {
      add(
        key,
        `changes ${changed}, which comes from the cluster's secrets bundle: this node would no longer share the cluster's identity`,
        `remove ${changed} from the patch; to adopt an existing cluster's PKI set the secret talosSecrets instead`,
      );
      return;
    }
  }
  try {
    // All patches at once from the rendered documents, exactly as the program's render applies them
    // (a placeholder an earlier delete left stays for the later patches, as in Talos).
    patchConfigDocuments(
      rendered,
      keyed.map((k) => k.patch),
      {
        node,
        talosVersion,
        expect: { role: role, vip: role === "controlplane" ? vip : undefined },
      },
    );
  } catch (e) {
    const detail = e instanceof ConfigPatchError ? e.detail : (e as Error).message;
    const index = e instanceof ConfigPatchError ? e.patchIndex : undefined;
    const refusedBy = index === undefined ? undefined : keyed[index];
    if (refusedBy) {
      // Refused only after what an earlier patch left (e.g. the placeholder of a delete that found nothing).
      add(
        refusedBy.key,
        `is refused by ${talos} after the patches before it (${keyed
          .slice(0, index)
          .map((k) => k.key)
          .join(", ")}): ${detail}`,
        "correct the patches (see Talos' machine config reference for this version)",
      );
      return;
    }
    add(
      keyed[keyed.length - 1]!.key,
      `leaves an invalid machine config (patches ${keyed.map((k) => k.key).join(", ")}): ${detail}`,
      "correct the patches so the config stays valid for this node",
    );
  }
}

/**
 * The patch check on a stack that did not fully parse (its other faults are reported with these):
 * each node as far as its settings parsed, without the node hardware and addon patches a parsed
 * stack adds (`planPatchIssues` checks those).
 */
export function patchIssues(input: PatchCheckInput): ConfigIssue[] {
  const args = {
    clusterName: input.clusterName,
    endpoint: input.endpoint,
    vip: input.vip,
    talosVersion: input.talosVersion,
    kubernetesVersion: input.kubernetesVersion,
    installImage: `factory.talos.dev/nocloud-installer/placeholder:v${input.talosVersion.replace(/^v/, "")}`,
    network: {
      ...input.network,
      dnsServers: [...input.network.dnsServers],
      podSubnets: [...input.network.podSubnets],
      serviceSubnets: [...input.network.serviceSubnets],
    },
    allowSchedulingOnControlPlanes: input.allowSchedulingOnControlPlanes,
    openebsHostpath: input.openebsHostpath,
  };
  const targets = input.nodes.flatMap((node, n): PatchTarget[] =>
    node === undefined
      ? []
      : [
          {
            node: node.name,
            role: node.role,
            input: nodeConfigInput(args, { ...node, patches: [] }, PLACEHOLDER_BUNDLE),
            keyed: [
              ...keyedList(input.patches.all, "patches.all"),
              ...keyedList(input.patches[node.role], `patches.${node.role}`),
              ...keyedList(node.patches, `nodes[${n}].patches`),
            ],
          },
        ],
  );
  return targetIssues(targets, input.talosVersion, input.vip);
}

/**
 * `patches` keyed by their stack key; when a plan's list has more than the stack's `stackCount`,
 * the extra ones first are the patches enabled addons put before the stack's.
 */
function keyedList(
  patches: readonly ConfigPatch[],
  key: string,
  stackCount = patches.length,
): Array<{ key: string; patch: ConfigPatch }> {
  const added = patches.length - stackCount;
  return patches.map((patch, i) => ({
    key: i < added ? "addons (the Talos settings an enabled addon adds)" : `${key}[${i - added}]`,
    patch,
  }));
}

/**
 * The patch check on a parsed stack: every node exactly as the program renders it (the cluster plan:
 * node hardware, per-node installer, the Talos patches enabled addons put before the stack's own).
 */
export function planPatchIssues(
  talos: ClusterPlan["talos"],
  stackPatches: PatchCheckInput["patches"],
): ConfigIssue[] {
  const planned = talos.patches ?? { all: [], controlplane: [], worker: [] };
  const { patches: _ignored, ...args } = talos;
  const targets = talos.nodes.map(
    (node, n): PatchTarget => ({
      node: node.name,
      role: node.role,
      input: nodeConfigInput(args, { ...node, patches: [] }, PLACEHOLDER_BUNDLE),
      keyed: [
        ...keyedList(planned.all ?? [], "patches.all", stackPatches.all.length),
        ...keyedList(planned[node.role] ?? [], `patches.${node.role}`, stackPatches[node.role].length),
        ...keyedList(node.patches ?? [], `nodes[${n}].patches`),
      ],
    }),
  );
  return targetIssues(targets, talos.talosVersion, talos.vip);
}
