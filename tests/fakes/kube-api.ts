/**
 * A fake Kubernetes API server for tests (never shipped): HTTPS on a loopback address with a server
 * cert issued by the given Kubernetes CA (the bundle's `certs.k8s`, ECDSA; an Ed25519 CA works too)
 * with the listen IP in its SANs. Like kube-apiserver it asks for a client cert during the handshake
 * and answers 401 (a Status object) to a request without one signed by that CA.
 *
 * Serves, with real-shaped JSON (kind, apiVersion, metadata, Status objects on errors):
 * - GET /readyz (200 "ok", or 503 after `setReadyz(false)`);
 * - GET /api/v1/nodes, GET|PATCH|DELETE /api/v1/nodes/{name} (PATCH: merge or strategic merge
 *   patch, applies spec.unschedulable; other content types 415);
 * - GET /api/v1/pods?fieldSelector=spec.nodeName=X, GET /api/v1/namespaces/{ns}/pods[/{name}];
 * - POST /api/v1/namespaces/{ns}/pods/{name}/eviction (policy/v1): 201 then the pod terminates
 *   after `evictionDelayMs`; per pod, `pdbRefusals` 429 answers first (a PodDisruptionBudget), or
 *   `stuck` (accepted, never terminates); DaemonSet/mirror pods are evictable here, the client has
 *   to leave them alone.
 *
 * Test-facing: `addNode`/`setNode` (a Talos fake flips a node NotReady during a simulated reboot and
 * Ready with the new kubelet version after), `addPod`, `node()`/`pod()` snapshots, `calls`, `close()`.
 *
 * Why a fake at all: the client's gates (Ready, cordon, drain through the Eviction API, Node
 * deletion) are proven against a REAL kube-apiserver + etcd in tests/kube/real-apiserver.test.ts.
 * This fake stays for what a bare API server cannot do: stand in for the kubelets of fake Talos
 * nodes — flip Ready and the kubelet version/boot id in step with their simulated reboots and
 * upgrades (tests/day2, the engine suites) — and inject faults per request (outages, stuck
 * evictions, PDB refusals on demand) that a real server gives only through controllers. It imitates
 * kube-apiserver 1.34's answers: Status objects, 201/429 of policy/v1 Eviction, 401 without a
 * client cert from the cluster CA, merge/strategic-merge patches of spec.unschedulable.
 */
import * as crypto from "node:crypto";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import * as YAML from "yaml";
import { x509 } from "../../components/talos/pki/x509";
import { standardKeyPem } from "./certs";

export interface FakeKubeApiOptions {
  /** The Kubernetes CA (PEM cert + key): issues the server cert, verifies client certs. */
  readonly ca: { readonly crt: string; readonly key: string };
  /** Loopback address to listen on (any of 127.0.0.0/8). Default 127.0.0.1. */
  readonly listenHost?: string;
  /** Port. Default: an ephemeral port. */
  readonly port?: number;
  /** Time from an accepted eviction to the pod's disappearance (ms). Default 20. */
  readonly evictionDelayMs?: number;
}

export type ReadyState = boolean | "Unknown";

export interface FakeNodeSpec {
  /** Ready condition: true, false or "Unknown" (kubelet stopped posting status). Default true. */
  readonly ready?: ReadyState;
  /** `status.nodeInfo.kubeletVersion`. Default v1.33.1. */
  readonly kubeletVersion?: string;
  /** `status.nodeInfo.bootID`. Default: a random id. */
  readonly bootId?: string;
  readonly unschedulable?: boolean;
  /** InternalIP. Default 127.0.0.1. */
  readonly address?: string;
}

export interface FakeNode {
  readonly name: string;
  readonly uid: string;
  readonly ready: ReadyState;
  readonly kubeletVersion: string;
  readonly bootId: string;
  readonly unschedulable: boolean;
  readonly address: string;
}

export interface FakePodOptions {
  /** Controlled by a DaemonSet. */
  readonly daemonSet?: boolean;
  /** A static pod's mirror (annotation kubernetes.io/config.mirror, owned by the Node). */
  readonly mirror?: boolean;
  /** Controller owner reference (e.g. ReplicaSet) for ordinary pods. */
  readonly owner?: { readonly kind: string; readonly name: string };
  /** Answer this many evictions with 429 (PodDisruptionBudget) before accepting. Infinity: never. */
  readonly pdbRefusals?: number;
  /** Accept the eviction but never terminate (a finalizer / endless grace period). */
  readonly stuck?: boolean;
}

export interface FakePod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string;
  /** Set once an eviction was accepted. */
  readonly terminating: boolean;
}

export interface FakeKubeCall {
  readonly method: string;
  /** Path with query, as sent. */
  readonly path: string;
  /** Date.now() on arrival. */
  readonly at: number;
  readonly contentType?: string;
  /** Parsed JSON body, if any. */
  readonly body?: unknown;
  /** Whether the client cert chained to the CA. */
  readonly authorized: boolean;
  /** Client cert CN ("" without one). */
  readonly clientCn: string;
  /** HTTP status answered. */
  status: number;
}

interface PodState {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string;
  readonly created: string;
  readonly opts: FakePodOptions;
  refusalsLeft: number;
  deletedAt?: string;
  resourceVersion: number;
}

interface NodeState extends FakeNode {
  readonly created: string;
  transitionAt: string;
  resourceVersion: number;
}

type Json = Record<string, unknown>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: Json,
  ) {
    super(message);
  }
}

const notFound = (kind: string, name: string) =>
  new HttpError(404, "NotFound", `${kind} "${name}" not found`, { name, kind });

const isoNow = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

/** A kubeconfig (user and context `admin@<clusterName>`) for `server`, trusting `ca`, with a client cert. */
export function kubeconfigYaml(o: {
  readonly server: string;
  readonly ca: string;
  readonly client: { readonly crt: string; readonly key: string };
  readonly clusterName: string;
}): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const user = `admin@${o.clusterName}`;
  return YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: o.clusterName, cluster: { server: o.server, "certificate-authority-data": b64(o.ca) } },
    ],
    users: [
      {
        name: user,
        user: { "client-certificate-data": b64(o.client.crt), "client-key-data": b64(o.client.key) },
      },
    ],
    contexts: [{ name: user, context: { cluster: o.clusterName, user } }],
    "current-context": user,
  });
}

/** A kubeconfig whose user has a bearer `token`; trusts `ca` when given, or skips verification when `insecure`. */
export function tokenKubeconfigYaml(o: {
  readonly server: string;
  readonly token: string;
  readonly ca?: string;
  readonly insecure?: boolean;
}): string {
  return YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "c",
        cluster: {
          server: o.server,
          ...(o.ca !== undefined
            ? { "certificate-authority-data": Buffer.from(o.ca).toString("base64") }
            : {}),
          ...(o.insecure ? { "insecure-skip-tls-verify": true } : {}),
        },
      },
    ],
    users: [{ name: "u", user: { token: o.token } }],
    contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
    "current-context": "x",
  });
}

export class FakeKubeApi {
  readonly calls: FakeKubeCall[] = [];
  private readonly nodes = new Map<string, NodeState>();
  private readonly pods = new Map<string, PodState>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readyzOk = true;
  private version = 1000;

  private constructor(
    private readonly server: https.Server,
    readonly host: string,
    readonly port: number,
    private readonly ca: string,
    private readonly evictionDelayMs: number,
  ) {}

  static async start(opts: FakeKubeApiOptions): Promise<FakeKubeApi> {
    const host = opts.listenHost ?? "127.0.0.1";
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host))
      throw new Error(`fake kube-api: ${host} is not loopback`);
    const serverCert = await issueServerCert(opts.ca, host);
    let self: FakeKubeApi | undefined;
    const server = https.createServer(
      {
        key: serverCert.key,
        cert: serverCert.crt,
        ca: opts.ca.crt,
        // Ask for a client cert but decide per request (401), as kube-apiserver's authn does.
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => self?.handle(req, res),
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    self = new FakeKubeApi(server, host, port, opts.ca.crt, opts.evictionDelayMs ?? 20);
    return self;
  }

  /** `https://host:port`, the kubeconfig's server. */
  get url(): string {
    return `https://${this.host}:${this.port}`;
  }

  /** A kubeconfig for this server with the given client cert (PEM). */
  kubeconfig(client: { readonly crt: string; readonly key: string }, clusterName = "fake"): string {
    return kubeconfigYaml({ server: this.url, ca: this.ca, client, clusterName });
  }

  setReadyz(ok: boolean): void {
    this.readyzOk = ok;
  }

  addNode(name: string, spec: FakeNodeSpec = {}): void {
    if (this.nodes.has(name)) throw new Error(`fake kube-api: node ${name} exists`);
    const now = isoNow();
    this.nodes.set(name, {
      name,
      uid: crypto.randomUUID(),
      ready: spec.ready ?? true,
      kubeletVersion: spec.kubeletVersion ?? "v1.33.1",
      bootId: spec.bootId ?? crypto.randomUUID(),
      unschedulable: spec.unschedulable ?? false,
      address: spec.address ?? "127.0.0.1",
      created: now,
      transitionAt: now,
      resourceVersion: this.version++,
    });
  }

  /** Changes a node's state (e.g. NotReady while it reboots, Ready with a new kubelet after). */
  setNode(name: string, spec: FakeNodeSpec): void {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`fake kube-api: no node ${name}`);
    const ready = spec.ready ?? n.ready;
    this.nodes.set(name, {
      ...n,
      ...spec,
      ready,
      transitionAt: ready === n.ready ? n.transitionAt : isoNow(),
      resourceVersion: this.version++,
    });
  }

  node(name: string): FakeNode | undefined {
    const n = this.nodes.get(name);
    return n && { ...n };
  }

  addPod(namespace: string, name: string, nodeName: string, opts: FakePodOptions = {}): void {
    const key = `${namespace}/${name}`;
    if (this.pods.has(key)) throw new Error(`fake kube-api: pod ${key} exists`);
    this.pods.set(key, {
      namespace,
      name,
      nodeName,
      uid: crypto.randomUUID(),
      created: isoNow(),
      opts,
      refusalsLeft: opts.pdbRefusals ?? 0,
      resourceVersion: this.version++,
    });
  }

  pod(namespace: string, name: string): FakePod | undefined {
    const p = this.pods.get(`${namespace}/${name}`);
    return p && { namespace, name, uid: p.uid, nodeName: p.nodeName, terminating: p.deletedAt !== undefined };
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private handle(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      let badBody = false;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        badBody = true;
      }
      const call: FakeKubeCall = {
        method: req.method ?? "",
        path: req.url ?? "",
        at: Date.now(),
        contentType: req.headers["content-type"],
        body,
        authorized: socket.authorized,
        clientCn: typeof peer?.subject?.CN === "string" ? peer.subject.CN : "",
        status: 0,
      };
      this.calls.push(call);
      let answer: { status: number; body: unknown; type?: string };
      try {
        if (!socket.authorized) throw new HttpError(401, "Unauthorized", "Unauthorized");
        if (badBody) throw new HttpError(400, "BadRequest", "the request body is not JSON");
        answer = this.route(call);
      } catch (e) {
        const h = e instanceof HttpError ? e : new HttpError(500, "InternalError", String(e));
        answer = { status: h.status, body: status(h) };
      }
      call.status = answer.status;
      const payload = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, { "content-type": answer.type ?? "application/json" }).end(payload);
    });
  }

  private route(call: FakeKubeCall): { status: number; body: unknown; type?: string } {
    const url = new URL(call.path, "https://fake");
    const seg = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const m = call.method;
    const at = (...parts: string[]) =>
      parts.length === seg.length && parts.every((p, i) => p === "*" || p === seg[i]);

    if (url.pathname === "/readyz" && m === "GET") {
      return this.readyzOk
        ? { status: 200, body: "ok", type: "text/plain" }
        : { status: 503, body: "[-]etcd failed: reason withheld\nreadyz check failed", type: "text/plain" };
    }
    if (at("api", "v1", "nodes") && m === "GET") {
      return {
        status: 200,
        body: this.list(
          "NodeList",
          [...this.nodes.values()].map((n) => this.nodeJson(n)),
        ),
      };
    }
    if (at("api", "v1", "nodes", "*")) {
      const name = seg[3]!;
      const n = this.nodes.get(name);
      if (!n) throw notFound("nodes", name);
      if (m === "GET") return { status: 200, body: this.nodeJson(n) };
      if (m === "PATCH") return { status: 200, body: this.nodeJson(this.patchNode(n, call)) };
      if (m === "DELETE") {
        this.nodes.delete(name);
        return {
          status: 200,
          body: { ...status(new HttpError(200, "", "")), details: { name, kind: "nodes", uid: n.uid } },
        };
      }
    }
    if (at("api", "v1", "pods") && m === "GET") {
      const sel = url.searchParams.get("fieldSelector");
      const match = sel === null ? undefined : /^spec\.nodeName==?(.*)$/.exec(sel);
      if (sel !== null && !match)
        throw new HttpError(
          400,
          "BadRequest",
          `fake supports only fieldSelector=spec.nodeName=X, got "${sel}"`,
        );
      const pods = [...this.pods.values()].filter((p) => !match || p.nodeName === match[1]);
      return {
        status: 200,
        body: this.list(
          "PodList",
          pods.map((p) => this.podJson(p)),
        ),
      };
    }
    if (at("api", "v1", "namespaces", "*", "pods") && m === "GET") {
      const pods = [...this.pods.values()].filter((p) => p.namespace === seg[3]);
      return {
        status: 200,
        body: this.list(
          "PodList",
          pods.map((p) => this.podJson(p)),
        ),
      };
    }
    if (at("api", "v1", "namespaces", "*", "pods", "*") && m === "GET") {
      const p = this.pods.get(`${seg[3]}/${seg[5]}`);
      if (!p) throw notFound("pods", seg[5]!);
      return { status: 200, body: this.podJson(p) };
    }
    if (at("api", "v1", "namespaces", "*", "pods", "*", "eviction") && m === "POST") {
      return this.evict(seg[3]!, seg[5]!, call.body);
    }
    if (seg[0] === "api" || seg[0] === "apis") {
      throw new HttpError(
        405,
        "MethodNotAllowed",
        `the server does not allow this method on the requested resource`,
      );
    }
    throw new HttpError(404, "NotFound", "the server could not find the requested resource");
  }

  private patchNode(n: NodeState, call: FakeKubeCall): NodeState {
    const type = (call.contentType ?? "").split(";")[0]!.trim();
    if (type !== "application/merge-patch+json" && type !== "application/strategic-merge-patch+json") {
      throw new HttpError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json`,
      );
    }
    const spec = isJson(call.body) && isJson(call.body.spec) ? call.body.spec : {};
    if ("unschedulable" in spec) {
      const v = spec.unschedulable;
      if (v !== true && v !== false && v !== null) {
        throw new HttpError(
          400,
          "BadRequest",
          `spec.unschedulable: expected a boolean, got ${JSON.stringify(v)}`,
        );
      }
      this.setNode(n.name, { unschedulable: v === true });
    }
    return this.nodes.get(n.name)!;
  }

  private evict(namespace: string, name: string, body: unknown): { status: number; body: unknown } {
    const p = this.pods.get(`${namespace}/${name}`);
    if (!p) throw notFound("pods", name);
    const meta = isJson(body) && isJson(body.metadata) ? body.metadata : {};
    if (!isJson(body) || body.kind !== "Eviction" || body.apiVersion !== "policy/v1" || meta.name !== name) {
      throw new HttpError(400, "BadRequest", `expected a policy/v1 Eviction for pod "${name}"`);
    }
    if (p.refusalsLeft > 0) {
      p.refusalsLeft--;
      throw new HttpError(
        429,
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
        {
          causes: [
            {
              reason: "DisruptionBudget",
              message: `The disruption budget ${name}-pdb needs 1 healthy pods and has 1 currently`,
            },
          ],
        },
      );
    }
    if (p.deletedAt === undefined) {
      p.deletedAt = isoNow();
      p.resourceVersion = this.version++;
      if (!p.opts.stuck) {
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (this.pods.get(`${namespace}/${name}`)?.uid === p.uid) this.pods.delete(`${namespace}/${name}`);
        }, this.evictionDelayMs);
        this.timers.add(t);
      }
    }
    return { status: 201, body: { ...status(new HttpError(201, "", "")) } };
  }

  // -------------------------------------------------------------------------------------------
  // JSON shapes

  private list(kind: string, items: Json[]): Json {
    return { kind, apiVersion: "v1", metadata: { resourceVersion: String(this.version) }, items };
  }

  private nodeJson(n: NodeState): Json {
    const ready = n.ready === true ? "True" : n.ready === false ? "False" : "Unknown";
    const [reason, message] =
      n.ready === true
        ? ["KubeletReady", "kubelet is posting ready status"]
        : n.ready === false
          ? ["KubeletNotReady", "container runtime network not ready: NetworkReady=false"]
          : ["NodeStatusUnknown", "Kubelet stopped posting node status."];
    const now = isoNow();
    return {
      kind: "Node",
      apiVersion: "v1",
      metadata: {
        name: n.name,
        uid: n.uid,
        resourceVersion: String(n.resourceVersion),
        creationTimestamp: n.created,
        labels: { "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux" },
      },
      spec: n.unschedulable
        ? {
            unschedulable: true,
            taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule", timeAdded: now }],
          }
        : {},
      status: {
        conditions: [
          {
            type: "MemoryPressure",
            status: "False",
            reason: "KubeletHasSufficientMemory",
            lastHeartbeatTime: now,
            lastTransitionTime: n.created,
          },
          {
            type: "Ready",
            status: ready,
            reason,
            message,
            lastHeartbeatTime: now,
            lastTransitionTime: n.transitionAt,
          },
        ],
        addresses: [
          { type: "InternalIP", address: n.address },
          { type: "Hostname", address: n.name },
        ],
        nodeInfo: {
          kubeletVersion: n.kubeletVersion,
          kubeProxyVersion: n.kubeletVersion,
          bootID: n.bootId,
          osImage: "Talos (v1.11.5)",
          containerRuntimeVersion: "containerd://2.1.4",
          operatingSystem: "linux",
          architecture: "amd64",
        },
      },
    };
  }

  private podJson(p: PodState): Json {
    const owner = p.opts.mirror
      ? { apiVersion: "v1", kind: "Node", name: p.nodeName }
      : p.opts.daemonSet
        ? { apiVersion: "apps/v1", kind: "DaemonSet", name: p.name.replace(/-[a-z0-9]+$/, "") }
        : p.opts.owner && { apiVersion: "apps/v1", ...p.opts.owner };
    return {
      kind: "Pod",
      apiVersion: "v1",
      metadata: {
        name: p.name,
        namespace: p.namespace,
        uid: p.uid,
        resourceVersion: String(p.resourceVersion),
        creationTimestamp: p.created,
        ...(p.opts.mirror
          ? {
              annotations: {
                "kubernetes.io/config.mirror": crypto.createHash("md5").update(p.uid).digest("hex"),
              },
            }
          : {}),
        ...(owner
          ? {
              ownerReferences: [
                { ...owner, uid: crypto.randomUUID(), controller: true, blockOwnerDeletion: true },
              ],
            }
          : {}),
        ...(p.deletedAt ? { deletionTimestamp: p.deletedAt, deletionGracePeriodSeconds: 30 } : {}),
      },
      spec: { nodeName: p.nodeName, containers: [{ name: "main", image: "registry.k8s.io/pause:3.10" }] },
      status: { phase: "Running", conditions: [{ type: "Ready", status: p.deletedAt ? "False" : "True" }] },
    };
  }
}

const isJson = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A meta/v1 Status object. */
function status(e: HttpError): Json {
  const ok = e.status < 400;
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: ok ? "Success" : "Failure",
    ...(ok ? {} : { message: e.message, reason: e.reason }),
    ...(e.details ? { details: e.details } : {}),
    code: e.status,
  };
}

// ---------------------------------------------------------------------------------------------
// Server certificate

/** A kube-apiserver serving cert (ECDSA P-256) from the CA, with the listen IP in its SANs. */
export async function issueServerCert(
  ca: { crt: string; key: string },
  ip: string,
): Promise<{ crt: string; key: string }> {
  const subtle = crypto.webcrypto.subtle;
  const caKey = crypto.createPrivateKey(standardKeyPem(ca.key));
  const alg =
    caKey.asymmetricKeyType === "ed25519"
      ? { importAlg: { name: "Ed25519" }, signAlg: { name: "Ed25519" } }
      : caKey.asymmetricKeyType === "ec"
        ? { importAlg: { name: "ECDSA", namedCurve: "P-256" }, signAlg: { name: "ECDSA", hash: "SHA-256" } }
        : undefined;
  if (!alg) throw new Error(`fake kube-api: unsupported CA key type ${String(caKey.asymmetricKeyType)}`);
  const signingKey = await subtle.importKey(
    "pkcs8",
    caKey.export({ type: "pkcs8", format: "der" }),
    alg.importAlg,
    false,
    ["sign"],
  );
  const leaf = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as crypto.webcrypto.CryptoKeyPair;
  const caCert = new x509.X509Certificate(ca.crt);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: crypto
      .randomBytes(16)
      .toString("hex")
      .replace(/^[89a-f]/, "1"),
    subject: "CN=kube-apiserver",
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    publicKey: leaf.publicKey,
    signingKey,
    signingAlgorithm: alg.signAlg,
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      new x509.SubjectAlternativeNameExtension([
        { type: "ip", value: ip },
        { type: "dns", value: "localhost" },
        { type: "dns", value: "kubernetes.default.svc" },
      ]),
    ],
  });
  const key = crypto.KeyObject.from(leaf.privateKey).export({ type: "pkcs8", format: "pem" }).toString();
  return { crt: cert.toString("pem"), key };
}
