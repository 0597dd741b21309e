/**
 * A non-secret, redacted view of a rendered Talos machine config, so `pulumi preview --diff` can show
 * which keys of a node's config change while the config itself stays a Pulumi secret (issue #15,
 * "Readable diffs"). The view keeps the documents, their order, key order and scalar styles; every
 * secret value becomes `<redacted hmac:XXXXXXXX>` (first 8 hex digits of an HMAC-SHA256 keyed with
 * a secret the caller passes; `<redacted sha256:…>`, a plain hash, without one), so the view
 * changes exactly when a secret changes without revealing it. Comments are dropped (a
 * comment may hold a commented-out secret; rendered configs carry none). Empty values stay empty.
 *
 * The view is an ALLOWLIST: a string value stays readable only at a known non-secret path
 * (READABLE_PATHS: the settings the renderer writes and common patch settings, certificates,
 * images, addresses); every other string becomes its marker, so a setting nobody anticipated
 * (a new Talos field, a patch's free-form value) never shows in plain text. Numbers and booleans
 * stay readable outside opaque subtrees. Opaque subtrees (OPAQUE_KEYS: `env`, `extraKernelArgs`,
 * `*.extraArgs`, `pods`, `extraManifests`, `extraManifestHeaders`) keep their keys, but every value
 * in them is a marker (a `NAME=value` entry keeps its NAME). A readable URL loses its userinfo
 * (a lone user part too: it may be a token) and its query values (flags and numbers excepted).
 *
 * What counts as secret even at a readable path (a denylist kept on top of the allowlist):
 * - the fields Talos' own `RedactSecrets` replaces (pkg/machinery/config: v1alpha1 `Config.Redact` and
 *   every `SecretDocument.Redact`), listed in TALOS_SECRET_FIELDS, plus the cluster id (part of the
 *   secrets bundle);
 * - anywhere, in any document: a scalar whose key names a secret (`…key`, `…token`, `…secret`,
 *   `…password`, `…passphrase`, `…credentials`, `…authorization`, `auth`; not `public…`), or a scalar
 *   item of a list so named (`tokens: [...]`);
 * - inside any URL: a userinfo password and query parameters named like a secret (SideroLink's
 *   `jointoken`);
 * - free-form file contents as a whole (`machine.files[].content`, inline manifests, extension
 *   service `configFiles[].content`), and `NAME=value` entries (extension `environment`) whose NAME
 *   names a secret (`TS_AUTHKEY=…`).
 * Certificates (`crt`, `cert`, `ca` of registry TLS) and public keys stay readable.
 *
 * Pure: no network, no Pulumi.
 */
import { createHash, createHmac } from "node:crypto";
import YAML, { type Document, isAlias, isCollection, isMap, isScalar, isSeq, Scalar } from "yaml";
import { isPlainObject, type PlainValue, parseYamlDocuments } from "./patch-yaml";

/** A key (string) or list index (number) on the way from a document's root to a value. */
type Segment = string | number;

/**
 * The fields Talos redacts, per document kind (`v1alpha1` = the legacy document without `kind`), as
 * paths of YAML keys: `*` any map key, `[]` any list index, `**` any depth. Taken from
 * siderolabs/talos pkg/machinery/config/types: v1alpha1/v1alpha1_provider.go (`Config.Redact`),
 * cri/registry_auth.go, cri/registry_tls.go, k8s/{apiserver_ca,aggregator_ca,service_account,
 * etcd_encryption}.go, cluster/discovery_identity.go, network/{hcloud_vip,wireguard}.go,
 * siderolink/siderolink.go and block/encryption.go (Volume/UserVolume/RawVolume/SwapVolume configs).
 */
export const TALOS_SECRET_FIELDS: Readonly<Record<string, readonly string[]>> = {
  v1alpha1: [
    "machine.token",
    "machine.ca.key",
    "machine.registries.config.*.auth.password",
    "machine.registries.config.*.auth.auth",
    "machine.registries.config.*.auth.identityToken",
    "machine.registries.config.*.tls.clientIdentity.key",
    "machine.network.interfaces[].wireguard.privateKey",
    "machine.network.interfaces[].vip.equinixMetal.apiToken",
    "machine.network.interfaces[].vip.hcloud.apiToken",
    "machine.network.interfaces[].vlans[].vip.equinixMetal.apiToken",
    "machine.network.interfaces[].vlans[].vip.hcloud.apiToken",
    "machine.systemDiskEncryption.state.keys[].static.passphrase",
    "machine.systemDiskEncryption.ephemeral.keys[].static.passphrase",
    "cluster.secret",
    "cluster.token",
    "cluster.aescbcEncryptionSecret",
    "cluster.secretboxEncryptionSecret",
    "cluster.serviceAccount.key",
    "cluster.ca.key",
    "cluster.aggregatorCA.key",
    "cluster.etcd.ca.key",
    // Not redacted by Talos, but it is part of the secrets bundle.
    "cluster.id",
  ],
  RegistryAuthConfig: ["password", "auth", "identityToken"],
  RegistryTLSConfig: ["clientIdentity.key"],
  KubeAPIServerCAConfig: ["issuingCA.key"],
  KubeAggregatorCAConfig: ["issuingCA.key"],
  KubeServiceAccountConfig: ["issuer.privateKey"],
  KubeEtcdEncryptionConfig: ["config.**.secret"],
  // clusterID: as cluster.id above.
  DiscoveryIdentityConfig: ["clusterSecret", "clusterID"],
  HCloudVIPConfig: ["apiToken"],
  WireguardConfig: ["privateKey", "peers[].presharedKey"],
  // apiUrl's `jointoken` query parameter is covered by the URL rule.
  SideroLinkConfig: ["uniqueToken"],
  VolumeConfig: ["encryption.keys[].static.passphrase"],
  UserVolumeConfig: ["encryption.keys[].static.passphrase"],
  RawVolumeConfig: ["encryption.keys[].static.passphrase"],
  SwapVolumeConfig: ["encryption.keys[].static.passphrase"],
};

const FIELD_PATTERNS: ReadonlyMap<string, readonly (readonly string[])[]> = new Map(
  Object.entries(TALOS_SECRET_FIELDS).map(([kind, paths]) => [
    kind,
    paths.map((p) => p.replace(/\[\]/g, ".[]").split(".")),
  ]),
);

/**
 * The marker that replaces a secret value. With a `key` (the program passes the cluster secret)
 * it is an HMAC, so even a weak password from a patch cannot be confirmed by hashing guesses;
 * without one, a plain SHA-256 prefix.
 */
export function redactionMarker(value: string, key?: string): string {
  const digest = key
    ? createHmac("sha256", key).update(value, "utf8").digest("hex")
    : createHash("sha256").update(value, "utf8").digest("hex");
  return `<redacted ${key ? "hmac" : "sha256"}:${digest.slice(0, 8)}>`;
}

/** A value that already is a marker stays as it is: redacting a view returns the same view. */
const MARKER_RE = /^<redacted (sha256|hmac):[0-9a-f]{8}>$/;

type Marker = (value: string) => string;

function marker(key: string | undefined): Marker {
  return (value) => (MARKER_RE.test(value) ? value : redactionMarker(value, key));
}

const SECRET_SUFFIXES = [
  "key",
  "token",
  "secret",
  "password",
  "passwd",
  "passphrase",
  "credential",
  "credentials",
  "authorization",
];

/** Whether a key name (a map key, or the key holding a list) names a secret. */
function secretName(name: string): boolean {
  const n = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  if (n === "" || n.startsWith("public")) return false;
  return n === "auth" || SECRET_SUFFIXES.some((s) => n.endsWith(s));
}

function matchPattern(pattern: readonly string[], path: readonly Segment[], pi = 0, si = 0): boolean {
  if (pi === pattern.length) return si === path.length;
  const p = pattern[pi]!;
  if (p === "**") {
    return (
      matchPattern(pattern, path, pi + 1, si) || (si < path.length && matchPattern(pattern, path, pi, si + 1))
    );
  }
  if (si === path.length) return false;
  const s = path[si]!;
  const ok = p === "[]" ? typeof s === "number" : p === "*" ? typeof s === "string" : s === p;
  return ok && matchPattern(pattern, path, pi + 1, si + 1);
}

function isSecretPath(kind: string, path: readonly Segment[]): boolean {
  if ((FIELD_PATTERNS.get(kind) ?? []).some((p) => matchPattern(p, path))) return true;
  const last = path[path.length - 1];
  if (typeof last === "string") return secretName(last);
  // A scalar list item: judged by the key holding the list (`tokens`, `apiKeys` …).
  const holder = [...path].reverse().find((s): s is string => typeof s === "string");
  return holder !== undefined && secretName(holder.replace(/s$/i, ""));
}

const URL_RE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * A readable URL: its userinfo (a token may be the user part alone) and every query value replaced
 * by markers. A password-only userinfo keeps the user name readable.
 */
function redactUrl(url: string, mark: Marker): string {
  let out = url.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)(@)/i,
    (all, scheme: string, userinfo: string, at: string) => {
      if (userinfo === "") return all;
      const colon = userinfo.indexOf(":");
      if (colon < 0) return `${scheme}${mark(userinfo)}${at}`;
      const password = userinfo.slice(colon + 1);
      return `${scheme}${userinfo.slice(0, colon)}:${password === "" ? "" : mark(password)}${at}`;
    },
  );
  // Flags and numbers (`grpc_tunnel=true`, `port=443`) carry no secret; any other value may.
  out = out.replace(/([?&])([^=&#]+)=([^&#]*)/g, (all, sep: string, name: string, value: string) =>
    value === "" || /^(true|false|\d{1,6})$/i.test(value) ? all : `${sep}${name}=${mark(value)}`,
  );
  return out;
}

/**
 * Free-form file contents: whatever a user writes there (a token file, a config with passwords, a
 * manifest) cannot be judged by key names, so a view shows a marker for the whole text.
 */
const OPAQUE_CONTENTS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  v1alpha1: [
    ["machine", "files", "[]", "content"],
    ["cluster", "inlineManifests", "[]", "contents"],
  ],
  ExtensionServiceConfig: [["configFiles", "[]", "content"]],
};

function isOpaqueContents(kind: string, path: readonly Segment[]): boolean {
  return (OPAQUE_CONTENTS[kind] ?? []).some((p) => matchPattern(p, path));
}

/**
 * Keys whose whole subtree is opaque: their values are free-form command lines, environments,
 * manifests or headers, where a secret has no recognizable key (`--password=…`, `Cookie: …`,
 * `siderolink.api=…?jointoken=…`, a static pod's `env[].value`).
 */
export const OPAQUE_KEYS: ReadonlySet<string> = new Set([
  "env",
  "environment",
  "extraKernelArgs",
  "extraArgs",
  "pods",
  "extraManifests",
  "extraManifestHeaders",
]);

function inOpaqueSubtree(path: readonly Segment[]): boolean {
  return path.some((s) => typeof s === "string" && OPAQUE_KEYS.has(s));
}

/**
 * Paths whose string values stay readable, per document kind (`*` any key, `[]` any index, `**` any
 * depth); `any` applies to every kind. The v1alpha1 part covers every string the renderer writes
 * (tests/talos/redact.test.ts checks it) and the usual patch settings.
 */
export const READABLE_PATHS: Readonly<Record<string, readonly string[]>> = {
  any: ["apiVersion", "kind", "name"],
  v1alpha1: [
    "version",
    "debug",
    "persist",
    "machine.type",
    "machine.ca.crt",
    "machine.acceptedCAs[].crt",
    "machine.certSANs[]",
    "machine.install.disk",
    "machine.install.image",
    "machine.install.diskSelector.**",
    "machine.kubelet.image",
    "machine.kubelet.clusterDNS[]",
    "machine.kubelet.nodeIP.validSubnets[]",
    "machine.kubelet.extraMounts[].**",
    "machine.network.hostname",
    "machine.network.nameservers[]",
    "machine.network.searchDomains[]",
    "machine.network.extraHostEntries[].**",
    "machine.network.interfaces[].interface",
    "machine.network.interfaces[].addresses[]",
    "machine.network.interfaces[].routes[].**",
    "machine.network.interfaces[].deviceSelector.**",
    "machine.network.interfaces[].vip.ip",
    "machine.network.interfaces[].vlans[].addresses[]",
    "machine.network.interfaces[].vlans[].routes[].**",
    "machine.network.interfaces[].vlans[].vip.ip",
    "machine.network.interfaces[].wireguard.peers[].publicKey",
    "machine.network.interfaces[].wireguard.peers[].endpoint",
    "machine.network.interfaces[].wireguard.peers[].allowedIPs[]",
    "machine.systemDiskEncryption.*.provider",
    "machine.nodeLabels.*",
    "machine.nodeAnnotations.*",
    "machine.nodeTaints.*",
    "machine.sysctls.*",
    "machine.sysfs.*",
    "machine.kernel.modules[].name",
    "machine.time.servers[]",
    "machine.features.**",
    "machine.files[].path",
    "machine.files[].permissions",
    "machine.files[].op",
    "machine.registries.mirrors.*.endpoints[]",
    "machine.registries.mirrors.*.overridePath",
    "machine.registries.config.*.auth.username",
    "machine.registries.config.*.tls.ca",
    "machine.registries.config.*.tls.clientIdentity.crt",
    "machine.disks[].device",
    "machine.disks[].partitions[].mountpoint",
    "machine.logging.destinations[].endpoint",
    "machine.logging.destinations[].format",
    "cluster.clusterName",
    "cluster.controlPlane.endpoint",
    "cluster.ca.crt",
    "cluster.acceptedCAs[].crt",
    "cluster.aggregatorCA.crt",
    "cluster.etcd.ca.crt",
    "cluster.etcd.image",
    "cluster.etcd.advertisedSubnets[]",
    "cluster.etcd.listenSubnets[]",
    "cluster.network.**",
    "cluster.apiServer.image",
    "cluster.apiServer.certSANs[]",
    "cluster.apiServer.admissionControl[].name",
    "cluster.apiServer.admissionControl[].configuration.apiVersion",
    "cluster.apiServer.admissionControl[].configuration.kind",
    "cluster.apiServer.admissionControl[].configuration.defaults.*",
    "cluster.apiServer.admissionControl[].configuration.exemptions.**",
    "cluster.apiServer.auditPolicy.**",
    "cluster.controllerManager.image",
    "cluster.scheduler.image",
    "cluster.proxy.image",
    "cluster.proxy.mode",
    "cluster.coreDNS.image",
    "cluster.discovery.**",
    "cluster.inlineManifests[].name",
  ],
  HostnameConfig: ["hostname"],
  Layer2VIPConfig: ["link"],
  LinkAliasConfig: ["selector.**"],
  ResolverConfig: ["nameservers[].address", "searchDomains.**"],
  TimeSyncConfig: ["ntp.servers[]"],
  LinkConfig: ["addresses[].address", "routes[].**"],
  ExtensionServiceConfig: ["configFiles[].mountPath"],
  RegistryAuthConfig: ["username"],
  RegistryTLSConfig: ["clientIdentity.cert", "ca"],
  KubeServiceAccountConfig: ["accepted.publicKeys[]", "issuer.issuerURL"],
  KubeEtcdEncryptionConfig: [
    "config.apiVersion",
    "config.kind",
    "config.resources[].resources[]",
    "config.resources[].providers[].*.keys[].name",
  ],
  WireguardConfig: ["peers[].publicKey", "peers[].endpoint", "peers[].allowedIPs[]"],
  // Talos 1.14's multi-document Kubernetes configs (what the renderer writes for 1.14).
  DiscoveryServiceConfig: ["endpoint"],
  FilesystemTrimConfig: ["interval"],
  KubeAPIServerCAConfig: ["acceptedCAs[]", "issuingCA.cert"],
  KubeAggregatorCAConfig: ["acceptedCAs[]", "issuingCA.cert"],
  KubeAPIServerConfig: ["image", "certSANs[]"],
  KubeAdmissionControlConfig: [
    "configuration.apiVersion",
    "configuration.kind",
    "configuration.defaults.*",
    "configuration.exemptions.**",
  ],
  KubeAuditPolicyConfig: ["configuration.**"],
  KubeAuthenticationConfig: ["configuration.anonymous.conditions[].path"],
  KubeAuthorizerConfig: ["type"],
  KubeClusterConfig: ["clusterName", "endpoint"],
  KubeControllerManagerConfig: ["image"],
  KubeSchedulerConfig: ["image"],
  KubeProxyConfig: ["image", "mode"],
  KubeCoreDNSConfig: ["image"],
  KubeNetworkConfig: ["dnsDomain", "podSubnets[]", "serviceSubnets[]", "cni.**"],
  KubeNodeConfig: ["labels.*", "taints.*", "annotations.*"],
  UnattendedInstallConfig: ["installer.image", "provisioning.**"],
  // apiUrl loses its `jointoken` query value (readable URLs keep no query values).
  SideroLinkConfig: ["apiUrl"],
  VolumeConfig: ["provisioning.**", "encryption.provider"],
  UserVolumeConfig: ["provisioning.**", "filesystem.**", "encryption.provider"],
  // 1.14's documents for what v1alpha1 kept in machine.sysctls / machine.kernel.modules.
  SysctlConfig: ["params.*"],
  KernelModuleConfig: ["name"],
};

const READABLE_PATTERNS: ReadonlyMap<string, readonly (readonly string[])[]> = new Map(
  Object.entries(READABLE_PATHS).map(([kind, paths]) => [
    kind,
    paths.map((p) => p.replace(/\[\]/g, ".[]").split(".")),
  ]),
);

function isReadablePath(kind: string, path: readonly Segment[]): boolean {
  return [...(READABLE_PATTERNS.get("any") ?? []), ...(READABLE_PATTERNS.get(kind) ?? [])].some((p) =>
    matchPattern(p, path),
  );
}

/** `NAME=value` (an environment entry, e.g. an extension's `TS_AUTHKEY=…`) with a secret-named NAME. */
const ENV_ENTRY_RE = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.+)$/s;

/** The replacement of one scalar value, or undefined to keep it. */
function redactScalar(
  kind: string,
  path: readonly Segment[],
  value: unknown,
  mark: Marker,
): string | undefined {
  if (value === null || value === undefined || typeof value === "boolean" || value === "") return undefined;
  const text = typeof value === "string" ? value : String(value);
  if (isSecretPath(kind, path)) return mark(text);
  if (inOpaqueSubtree(path)) {
    // `NAME=value` keeps its NAME (`TS_EXTRA_ARGS=<redacted …>`, `siderolink.api=<redacted …>`).
    const entry = ENV_ENTRY_RE.exec(text);
    return entry ? `${entry[1]}=${mark(entry[2]!)}` : mark(text);
  }
  if (typeof value !== "string") return undefined;
  if (isOpaqueContents(kind, path) || !isReadablePath(kind, path)) return mark(value);
  const env = ENV_ENTRY_RE.exec(value);
  if (env && secretName(env[1]!)) return `${env[1]}=${mark(env[2]!)}`;
  if (URL_RE.test(value)) {
    const redacted = redactUrl(value, mark);
    return redacted === value ? undefined : redacted;
  }
  return undefined;
}

function keyName(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

function walk(node: unknown, path: Segment[], kind: string, mark: Marker): void {
  const visitChild = (child: unknown, childPath: Segment[], set: (v: Scalar) => void): void => {
    if (isScalar(child)) {
      const r = redactScalar(kind, childPath, child.value, mark);
      if (r !== undefined) set(new Scalar(r));
    } else if (isCollection(child)) {
      walk(child, childPath, kind, mark);
    }
  };
  if (isMap(node)) {
    for (const pair of node.items) {
      visitChild(pair.value, [...path, keyName(pair.key)], (v) => {
        pair.value = v;
      });
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      visitChild(item, [...path, i], (v) => {
        node.items[i] = v;
      });
    });
  }
}

function documentKind(doc: Document): string {
  const contents = doc.contents;
  if (!isMap(contents)) return "v1alpha1";
  const kind = contents.get("kind");
  return typeof kind === "string" && kind !== "" ? kind : "v1alpha1";
}

function hasAlias(doc: Document): boolean {
  let found = false;
  YAML.visit(doc, {
    Alias() {
      found = true;
      return YAML.visit.BREAK;
    },
  });
  return found;
}

function dropComments(doc: Document): void {
  doc.commentBefore = null;
  doc.comment = null;
  YAML.visit(doc, (_key, node) => {
    if (isScalar(node) || isCollection(node) || isAlias(node)) {
      node.commentBefore = null;
      node.comment = null;
    }
  });
}

/**
 * The redacted view of a (multi-document) machine config: same documents, order and keys, every
 * secret value replaced by a marker (`key`: an HMAC key, see redactionMarker). Deterministic and idempotent. Throws on
 * invalid YAML (without quoting it).
 */
export function redactMachineConfig(yaml: string, key?: string): string {
  const mark = marker(key);
  const out: string[] = [];
  for (const parsed of YAML.parseAllDocuments(yaml, { uniqueKeys: true })) {
    const error = parsed.errors[0];
    if (error) {
      // Not error.message: it quotes the offending line, which may hold a secret.
      const line = error.linePos?.[0].line;
      throw new Error(
        `machine config: invalid YAML (${error.code}${line === undefined ? "" : ` at line ${line}`})`,
      );
    }
    if (parsed.contents === null) continue;
    // Aliases would let a secret escape through another path: expand them first.
    const doc = hasAlias(parsed)
      ? new YAML.Document(parsed.toJS({ maxAliasCount: 100 }), { aliasDuplicateObjects: false })
      : parsed;
    dropComments(doc);
    walk(doc.contents, [], documentKind(doc), mark);
    if (doc.directives) doc.directives.docStart = null;
    out.push(doc.toString({ indent: 4, lineWidth: 0, minContentWidth: 0 }));
  }
  return out.join("---\n");
}

// ---------------------------------------------------------------------------------------------
// changedPaths

const SIMPLE_KEY_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function formatPath(prefix: string, path: readonly Segment[]): string {
  let s = prefix;
  for (const seg of path) {
    if (typeof seg === "number") s += `[${seg}]`;
    else if (SIMPLE_KEY_RE.test(seg)) s += s === "" ? seg : `.${seg}`;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s;
}

/** `""` for the v1alpha1 document, `Kind` or `Kind(name)` for the others. */
function documentPrefix(doc: PlainValue): string {
  if (!isPlainObject(doc) || typeof doc.kind !== "string" || doc.kind === "") return "";
  return typeof doc.name === "string" && doc.name !== "" ? `${doc.kind}(${doc.name})` : doc.kind;
}

function viewDocuments(view: string): Map<string, PlainValue> {
  const out = new Map<string, PlainValue>();
  for (const doc of parseYamlDocuments(view, "redacted view")) {
    if (isPlainObject(doc) && Object.keys(doc).length === 0) continue;
    const prefix = documentPrefix(doc);
    let id = prefix;
    for (let n = 2; out.has(id); n++) id = `${prefix}#${n}`;
    out.set(id, doc);
  }
  return out;
}

function diffValues(a: PlainValue, b: PlainValue, prefix: string, path: Segment[], out: string[]): void {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !Object.hasOwn(a, k))];
    for (const k of keys) {
      if (!Object.hasOwn(a, k) || !Object.hasOwn(b, k)) out.push(formatPath(prefix, [...path, k]));
      else diffValues(a[k]!, b[k]!, prefix, [...path, k], out);
    }
  } else if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) out.push(formatPath(prefix, [...path, i]));
      else diffValues(a[i]!, b[i]!, prefix, [...path, i], out);
    }
  } else if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) {
    out.push(path.length === 0 && prefix === "" ? "v1alpha1" : formatPath(prefix, path));
  }
}

/**
 * The key paths whose values differ between two views (or configs), in document and key order:
 * `machine.install.image`, `cluster.apiServer.extraArgs[0]`, `HostnameConfig.hostname`,
 * `Layer2VIPConfig(10.0.0.10).link`; keys that are not plain identifiers are quoted
 * (`machine.nodeLabels["node.kubernetes.io/x"]`). An added or removed key, list item or document is
 * reported once, at its own path (a whole v1alpha1 document as `v1alpha1`).
 */
export function changedPaths(oldView: string, newView: string): string[] {
  const a = viewDocuments(oldView);
  const b = viewDocuments(newView);
  const out: string[] = [];
  const ids = [...a.keys(), ...[...b.keys()].filter((k) => !a.has(k))];
  for (const id of ids) {
    const x = a.get(id);
    const y = b.get(id);
    if (x === undefined || y === undefined) out.push(id === "" ? "v1alpha1" : id);
    else diffValues(x, y, id, [], out);
  }
  return out;
}
