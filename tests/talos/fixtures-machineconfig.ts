/**
 * Test helpers for the machine-config and patch tests: secrets bundles (from the talos-oracle or a
 * fake one), a baseline render input, JSON-schema validation against ../shared and a YAML
 * comparison that ignores Go's encoding of empty values.
 */

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import {
  isPlainObject,
  type PlainObject,
  type PlainValue,
  parseYamlDocuments,
} from "../../components/talos/machineconfig/patch-yaml";
import type { MachineConfigInput } from "../../components/talos/machineconfig/render";
import { parseSecretsYaml } from "../../components/talos/pki/secrets";
import type { MachineRole, SecretsBundle } from "../../components/talos/types";
import {
  type ConfigLayout,
  NEWEST_TALOS_MINOR,
  SUPPORTED_TALOS_MINORS,
  TALOS_MINORS,
  type TalosMinor,
} from "../../components/talos-minors";
import { runOracle, sharedPath, tempDir } from "../helpers/shared";
import { image } from "../helpers/talos-image";

/** The documents of a multi-document config, each asserted to be a mapping. */
export function docs(yaml: string): PlainObject[] {
  return parseYamlDocuments(yaml).map((d) => {
    assert.ok(isPlainObject(d));
    return d;
  });
}

/** The value at a dotted path (`machine.kubelet.extraArgs`), undefined where it is absent. */
export function at(v: PlainValue | undefined, path: string): PlainValue | undefined {
  let cur = v;
  for (const k of path.split(".")) cur = isPlainObject(cur) ? cur[k] : undefined;
  return cur;
}

/** Every supported minor (the rows of components/talos-minors.ts). */
export const MINORS: readonly TalosMinor[] = SUPPORTED_TALOS_MINORS;
export const ROLES: readonly MachineRole[] = ["controlplane", "worker"];

/** The row's example release (the oracle's machinery) and that release's default Kubernetes. */
export const VERSIONS: Readonly<Record<string, { talos: string; k8s: string }>> = Object.fromEntries(
  TALOS_MINORS.map((r) => [r.minor, { talos: r.machineryRelease, k8s: r.defaultKubernetes }]),
);

/** The supported minors whose row's config layout satisfies `pred` (tests pick minors by fact, never by name). */
export function minorsWhere(pred: (layout: ConfigLayout) => boolean): TalosMinor[] {
  return TALOS_MINORS.filter((r) => pred(r.config)).map((r) => r.minor);
}

/** The newest supported minor: its oracle makes the secrets bundles. */
export const NEWEST: TalosMinor = NEWEST_TALOS_MINOR.minor as TalosMinor;

/** A bundle made by the oracle's `gen-secrets` (Talos' own generator); needs the newest minor's oracle. */
export function oracleBundle(): { readonly bundle: SecretsBundle; readonly file: string } {
  const dir = tempDir("pt-talos-secrets-");
  const file = path.join(dir, "secrets.yaml");
  const r = runOracle(NEWEST, ["gen-secrets", file]);
  if (r.status !== 0) throw new Error(`gen-secrets failed: ${r.stdout}${r.stderr}`);
  return { bundle: parseSecretsYaml(fs.readFileSync(file, "utf8")), file };
}

const fakePem = (label: string, body: string): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(body).toString("base64")}\n-----END ${label}-----\n`;

/** A structurally complete bundle with fake PEMs, for tests that do not need real keys. */
export function fakeBundle(): SecretsBundle {
  return {
    cluster: {
      id: "b-opZWWCzcH9V4LRomQDCeMB6Y843mEhYGtW8n9f2vg=",
      secret: "ibPi+zU+cU7BI+R8P+Y1egcxhH35wZBRspQCZvRsBes=",
    },
    secrets: {
      bootstrapToken: "tpd9w8.k9df9vogvmiyb6gv",
      secretboxEncryptionSecret: "TtkqS3nSFb1ZKqzITTBEgwn1+bNj99BOnUTCFAvx/3c=",
    },
    trustdInfo: { token: "47zzg5.e86a7shvrl57uu5e" },
    certs: {
      etcd: { crt: fakePem("CERTIFICATE", "etcd-ca"), key: fakePem("EC PRIVATE KEY", "etcd-key") },
      k8s: { crt: fakePem("CERTIFICATE", "k8s-ca"), key: fakePem("EC PRIVATE KEY", "k8s-key") },
      k8sAggregator: { crt: fakePem("CERTIFICATE", "agg-ca"), key: fakePem("EC PRIVATE KEY", "agg-key") },
      k8sServiceAccount: { key: fakePem("RSA PRIVATE KEY", "sa-key") },
      os: { crt: fakePem("CERTIFICATE", "os-ca"), key: fakePem("ED25519 PRIVATE KEY", "os-key") },
    },
  };
}

/** A typical render input: VIP 10.0.0.10, Cilium (no CNI, no kube-proxy), OpenEBS on. */
export function baseInput(
  minor: TalosMinor,
  role: MachineRole,
  bundle: SecretsBundle,
  over: Partial<MachineConfigInput> = {},
): MachineConfigInput {
  const v = VERSIONS[minor]!;
  return {
    talosVersion: v.talos,
    kubernetesVersion: v.k8s,
    clusterName: "homelab",
    endpoint: "https://10.0.0.10:6443",
    role,
    hostname: role === "controlplane" ? "cp-1" : "worker-1",
    nodeIp: role === "controlplane" ? "10.0.0.11" : "10.0.0.21",
    vip: "10.0.0.10",
    nameservers: ["10.0.0.1", "1.1.1.1"],
    installImage: image(v.talos),
    certSANs: ["k8s.home.arpa"],
    cni: "none",
    kubeProxyDisabled: true,
    openebsHostpath: true,
    allowSchedulingOnControlPlanes: false,
    discovery: true,
    podSubnets: ["10.244.0.0/16"],
    serviceSubnets: ["10.96.0.0/12"],
    bundle,
    ...over,
  };
}

const validators = new Map<TalosMinor, ValidateFunction>();

/** The published JSON schema of a Talos minor, compiled (draft 2020-12). */
export function schemaValidator(minor: TalosMinor): ValidateFunction {
  let v = validators.get(minor);
  if (!v) {
    const schema = JSON.parse(
      fs.readFileSync(sharedPath("reference", "talos", `v${minor}`, "config.schema.json"), "utf8"),
    ) as Record<string, unknown>;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    v = ajv.compile(schema);
    validators.set(minor, v);
  }
  return v;
}

/**
 * Schema errors of every document of a config. The one documented schema gap (facts.md §3): the
 * v1alpha1 Config def lacks `persist`, so that key alone is removed from the v1alpha1 document.
 */
export function schemaErrors(minor: TalosMinor, configYaml: string): string[] {
  const validate = schemaValidator(minor);
  const errors: string[] = [];
  parseYamlDocuments(configYaml).forEach((doc, i) => {
    let checked: PlainValue = doc;
    if (isPlainObject(doc) && doc.kind === undefined && "persist" in doc) {
      const { persist: _persist, ...rest } = doc;
      checked = rest;
    }
    if (!validate(checked)) {
      const kind = isPlainObject(doc) ? String(doc.kind ?? "v1alpha1") : "?";
      // oneOf reports every branch; keep the ones about the document's own kind.
      const own = (validate.errors ?? []).filter((e) => e.schemaPath.includes(kind) || kind === "v1alpha1");
      const shown = (own.length > 0 ? own : (validate.errors ?? [])).slice(0, 8);
      errors.push(
        `doc #${i + 1} (${kind}): ${shown.map((e) => `${e.instancePath} ${e.message}`).join("; ")}`,
      );
    }
  });
  return errors;
}

/**
 * Kinds of the documents in `configYaml` that `minor`'s published schema does not describe: none
 * for a schema made from the release, some for one made from a pre-release (1.14's, from rc.1).
 */
export function kindsMissingFromSchema(minor: TalosMinor, configYaml: string): string[] {
  const text = fs.readFileSync(sharedPath("reference", "talos", `v${minor}`, "config.schema.json"), "utf8");
  const known = new Set(
    Array.from(text.matchAll(/"kind":\s*\{[^}]*?"enum":\s*\[\s*"([A-Za-z0-9]+)"/g), (m) => m[1]!),
  );
  const kinds = parseYamlDocuments(configYaml).flatMap((d) =>
    isPlainObject(d) && typeof d.kind === "string" ? [d.kind] : [],
  );
  return [...new Set(kinds)].filter((k) => !known.has(k));
}

/** Drops null, empty maps and empty lists (Go's encoder emits or omits them depending on the field type). */
export function dropEmpty(v: PlainValue): PlainValue | undefined {
  if (v === null) return undefined;
  if (Array.isArray(v)) {
    const out = v.map(dropEmpty).filter((x): x is PlainValue => x !== undefined);
    return out.length === 0 ? undefined : out;
  }
  if (isPlainObject(v)) {
    const out: Record<string, PlainValue> = {};
    for (const [k, x] of Object.entries(v)) {
      const d = dropEmpty(x);
      if (d !== undefined) out[k] = d;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v;
}

/** Parsed documents of a config, normalised with dropEmpty, sorted by document identity. */
export function normalisedDocuments(yaml: string): PlainValue[] {
  // Empty documents (Talos encodes a delete of a missing document as `{}`) are dropped too.
  const docs = parseYamlDocuments(yaml)
    .map((d) => dropEmpty(d))
    .filter((d): d is PlainValue => d !== undefined);
  const key = (d: PlainValue): string =>
    isPlainObject(d) ? `${String(d.kind ?? "")}/${String(d.name ?? "")}` : JSON.stringify(d);
  return docs.sort((a, b) => key(a).localeCompare(key(b)));
}

export function writeTemp(dir: string, name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}
