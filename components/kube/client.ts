/**
 * A small Kubernetes API client over node:https for the day-2 operations (rolling upgrades, safe
 * scale-down): node status, cordon/uncordon, drain through the Eviction API, node deletion and a
 * bounded wait for a node to be Ready (with a given kubelet version). Authenticates with the admin
 * kubeconfig's client certificate and verifies the API server against the kubeconfig's CA.
 *
 * Loaded inside Pulumi dynamic providers: relative imports and node_modules packages only.
 */
import * as https from "node:https";
import { parseSecretYaml } from "../secret-yaml";
import { normalizeKeyPem } from "../talos/api/client";
import { sameVersion } from "../version";

// ---------------------------------------------------------------------------------------------
// kubeconfig

export interface KubeCredentials {
  readonly server: string;
  /** PEM of the cluster CA ("" when the kubeconfig has none: the system roots are used). */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** Bearer token of the user, when it has one instead of (or besides) a client cert. */
  readonly token?: string;
  /** `insecure-skip-tls-verify: true` in the kubeconfig: the server cert is not verified. */
  readonly insecure?: boolean;
}

const fromB64 = (v: unknown): string =>
  typeof v === "string" ? Buffer.from(v, "base64").toString("utf8") : "";

/** Server URL, CA and admin client cert/key of the kubeconfig's current context. */
export function kubeCredentials(kubeconfig: string): KubeCredentials {
  const doc = parseSecretYaml(kubeconfig, "kubeconfig") as {
    "current-context"?: string;
    contexts?: { name: string; context: { cluster: string; user: string } }[];
    clusters?: { name: string; cluster: Record<string, unknown> }[];
    users?: { name: string; user: Record<string, unknown> }[];
  } | null;
  if (
    doc !== null &&
    (typeof doc !== "object" ||
      [doc.contexts, doc.clusters, doc.users].some((v) => v !== undefined && !Array.isArray(v)))
  )
    throw new Error("kubeconfig is not a Config document (contexts, clusters and users must be lists)");
  const ctx = doc?.contexts?.find((c) => c.name === doc["current-context"]) ?? doc?.contexts?.[0];
  const cluster = doc?.clusters?.find((c) => c.name === ctx?.context.cluster) ?? doc?.clusters?.[0];
  const user = doc?.users?.find((u) => u.name === ctx?.context.user) ?? doc?.users?.[0];
  const server = cluster?.cluster.server;
  if (typeof server !== "string" || !cluster || !user)
    throw new Error("kubeconfig has no cluster server or user");
  return {
    server,
    ca: fromB64(cluster.cluster["certificate-authority-data"]),
    cert: fromB64(user.user["client-certificate-data"]),
    key: normalizeKeyPem(fromB64(user.user["client-key-data"])),
    ...(typeof user.user.token === "string" ? { token: user.user.token } : {}),
    ...(cluster.cluster["insecure-skip-tls-verify"] === true ? { insecure: true } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// JSON readers (API answers are untrusted shapes)

/** A Kubernetes object as JSON. */
export type KubeObject = Record<string, unknown>;

const isRecord = (v: unknown): v is KubeObject => typeof v === "object" && v !== null && !Array.isArray(v);
const rec = (v: unknown): KubeObject => (isRecord(v) ? v : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const list = (v: unknown): KubeObject[] => (Array.isArray(v) ? v.filter(isRecord) : []);

// ---------------------------------------------------------------------------------------------
// Errors

/** The API answered with an unexpected HTTP status. */
export class KubeApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** `reason` of the API's Status object (NotFound, TooManyRequests, ...), else "". */
    readonly reason: string,
    /** `message` of the API's Status object, else the start of the body. */
    readonly apiMessage: string,
  ) {
    super(`Kubernetes API ${method} ${path}: HTTP ${status}${reason ? ` ${reason}` : ""}: ${apiMessage}`);
    this.name = "KubeApiError";
  }
}

function apiErrorFrom(method: string, path: string, status: number, body: unknown): KubeApiError {
  if (isRecord(body) && typeof body.message === "string") {
    return new KubeApiError(method, path, status, str(body.reason), body.message);
  }
  const text = typeof body === "string" ? body : JSON.stringify(body ?? "");
  return new KubeApiError(method, path, status, "", text.trim().slice(0, 200) || "(empty body)");
}

/**
 * A 2xx answer that is not the JSON object the API sends (a proxy's HTML page, a cut body):
 * never read as an empty result.
 */
function invalidAnswer(
  method: string,
  path: string,
  status: number,
  body: unknown,
  why: string,
): KubeApiError {
  const text = typeof body === "string" ? body : JSON.stringify(body ?? "");
  return new KubeApiError(
    method,
    path,
    status,
    "InvalidResponse",
    `${why} (body starts: ${text.trim().slice(0, 80) || "(empty)"})`,
  );
}

/** `items` of a list answer; the API always sends it (an empty list is `[]`). */
function itemsOf(method: string, path: string, r: KubeResponse): KubeObject[] {
  const items = rec(r.body).items;
  if (!Array.isArray(items)) throw invalidAnswer(method, path, r.status, r.body, "list answer without items");
  return list(items);
}

/** Worth polling through: no HTTP answer (API server restarting, VIP moving), 429 or 5xx. */
function isTransient(e: unknown): boolean {
  return !(e instanceof KubeApiError) || e.status === 429 || e.status >= 500;
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ---------------------------------------------------------------------------------------------
// Parsed views

export interface NodeStatus {
  readonly exists: boolean;
  /** The Ready condition is "True". */
  readonly ready: boolean;
  /** `status.nodeInfo.kubeletVersion`, e.g. "v1.33.1" ("" when unknown). */
  readonly kubeletVersion: string;
  readonly unschedulable: boolean;
  /** `status.nodeInfo.bootID`: changes on every boot ("" when unknown). */
  readonly bootId: string;
  /** Human text of the Ready condition, e.g. `Ready=False (KubeletNotReady: ...)`. */
  readonly readyDetail: string;
}

/** The status of a Node object (undefined: not registered). */
export function parseNodeStatus(node: KubeObject | undefined): NodeStatus {
  if (!node) {
    return {
      exists: false,
      ready: false,
      kubeletVersion: "",
      unschedulable: false,
      bootId: "",
      readyDetail: "absent",
    };
  }
  const status = rec(node.status);
  const cond = list(status.conditions).find((c) => c.type === "Ready");
  const why = [str(cond?.reason), str(cond?.message)].filter(Boolean).join(": ");
  return {
    exists: true,
    ready: cond?.status === "True",
    kubeletVersion: str(rec(status.nodeInfo).kubeletVersion),
    unschedulable: rec(node.spec).unschedulable === true,
    bootId: str(rec(status.nodeInfo).bootID),
    readyDetail: cond ? `Ready=${str(cond.status) || "?"}${why ? ` (${why})` : ""}` : "no Ready condition",
  };
}

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** Controlled by a DaemonSet: its controller would recreate it at once, drain leaves it. */
  readonly daemonSet: boolean;
  /** Mirror of a static pod (kubelet manifest): the API cannot evict it. */
  readonly mirror: boolean;
}

export const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

export function parsePod(pod: KubeObject): PodRef {
  const meta = rec(pod.metadata);
  const controller = list(meta.ownerReferences).find((o) => o.controller === true);
  return {
    namespace: str(meta.namespace),
    name: str(meta.name),
    uid: str(meta.uid),
    daemonSet: controller?.kind === "DaemonSet",
    mirror: MIRROR_ANNOTATION in rec(meta.annotations),
  };
}

const podKey = (p: PodRef): string => `${p.namespace}/${p.name}`;

// ---------------------------------------------------------------------------------------------
// Waiting

export interface WaitOptions {
  /** Upper bound of the whole operation (ms). */
  readonly timeoutMs: number;
  /** Pause between polls (ms). Default 2000. */
  readonly pollMs?: number;
  /** Progress messages. */
  readonly log?: (message: string) => void;
}

export interface WaitNodeReadyOptions extends WaitOptions {
  /** Also wait for this kubelet version ("v1.33.1" or "1.33.1"). */
  readonly kubeletVersion?: string;
  /**
   * The node rebooted and had this boot id before: wait for another one. A Ready=True condition
   * outlives a reboot by the node-monitor grace period (~40 s); a new boot id cannot be stale.
   */
  readonly rebootedFrom?: string;
  /** Also wait until the node is schedulable again (Talos uncordons it after an upgrade). */
  readonly schedulable?: boolean;
}

export interface DrainOptions extends WaitOptions {
  /**
   * Wait for the evicted pods to terminate. Default true; false for a dead node, whose pods never
   * confirm (like kubectl's --skip-wait-for-delete-timeout): deleting the Node cleans them up.
   */
  readonly waitForDeletion?: boolean;
}

export interface DrainResult {
  /** False when the node is not registered in Kubernetes (nothing was done). */
  readonly found: boolean;
  /** `namespace/name` of the evicted pods (all gone when drain returns). */
  readonly evicted: readonly string[];
  /** `namespace/name` of the DaemonSet and mirror pods left on the node. */
  readonly skipped: readonly string[];
}

/** Floor of a request's timeout inside a bounded wait (ms). */
const MIN_REQUEST_MS = 2_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One bounded wait: remaining time, elapsed text, progress lines without repeating themselves. */
class Deadline {
  private readonly start = Date.now();
  private lastLine = "";
  private lastLogAt = 0;

  constructor(
    private readonly opts: WaitOptions,
    private readonly requestTimeoutMs: number,
  ) {
    if (!(opts.timeoutMs > 0)) throw new Error("timeoutMs must be positive");
  }

  get expired(): boolean {
    return Date.now() - this.start >= this.opts.timeoutMs;
  }

  /**
   * Per-request timeout: what is left of the deadline, but never below a floor (nor above the
   * client's own timeout), so the last poll gets a real answer instead of a timeout that would hide
   * what the wait actually saw. The whole operation may overrun by at most that floor.
   */
  get requestMs(): number {
    const left = this.opts.timeoutMs - (Date.now() - this.start);
    return Math.min(this.requestTimeoutMs, Math.max(MIN_REQUEST_MS, left));
  }

  elapsed(): string {
    return `${((Date.now() - this.start) / 1000).toFixed(1)} s`;
  }

  /** Logs a line when it differs from the last one, or every 30 s while it stays the same. */
  progress(line: string): void {
    const now = Date.now();
    if (line === this.lastLine && now - this.lastLogAt < 30_000) return;
    this.lastLine = line;
    this.lastLogAt = now;
    this.opts.log?.(`${line} (${this.elapsed()})`);
  }

  pause(): Promise<void> {
    const left = this.opts.timeoutMs - (Date.now() - this.start);
    return sleep(Math.max(0, Math.min(this.opts.pollMs ?? 2000, left)));
  }
}

// ---------------------------------------------------------------------------------------------
// The client

export interface KubeClientOptions {
  /** Per-request timeout (ms). Default 15000. */
  readonly timeoutMs?: number;
}

/** Bound of one answer's body: far above any list this client reads, far below a memory problem. */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export interface KubeResponse {
  readonly status: number;
  /** Parsed JSON, or the text when the body is not JSON. */
  readonly body: unknown;
}

interface RequestOptions {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

const STRATEGIC_MERGE = "application/strategic-merge-patch+json";

export class KubeClient {
  private readonly server: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly creds: KubeCredentials,
    opts: KubeClientOptions = {},
  ) {
    this.server = creds.server.replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  static fromKubeconfig(kubeconfig: string, opts: KubeClientOptions = {}): KubeClient {
    return new KubeClient(kubeCredentials(kubeconfig), opts);
  }

  /** One HTTPS request; resolves with any HTTP status, rejects only when no answer came. */
  request(method: string, path: string, opts: RequestOptions = {}): Promise<KubeResponse> {
    const url = new URL(this.server + path);
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new Error(`Kubernetes API ${method} ${path} (${this.server}): ${e.message}`, { cause: e }));
      };
      const req = https.request(url, {
        method,
        ca: this.creds.ca || undefined,
        cert: this.creds.cert || undefined,
        key: this.creds.key || undefined,
        rejectUnauthorized: this.creds.insecure !== true,
        agent: false,
        headers: {
          accept: "application/json",
          ...(this.creds.token ? { authorization: `Bearer ${this.creds.token}` } : {}),
          ...(payload
            ? { "content-type": opts.contentType ?? "application/json", "content-length": payload.length }
            : {}),
        },
      });
      // A hard bound on the whole exchange (the socket `timeout` option only bounds idle time).
      const timer = setTimeout(() => {
        const e = new Error(`no answer within ${timeoutMs} ms`);
        req.destroy(e);
        fail(e);
      }, timeoutMs);
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            const e = new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes, refused`);
            req.destroy(e);
            fail(e);
            return;
          }
          chunks.push(c);
        });
        res.on("error", fail);
        res.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          // A proxy's debug or error page may echo the request headers: the bearer token never
          // goes further than this (into an error message, a log) from an answer.
          const raw = Buffer.concat(chunks).toString("utf8");
          const token = this.creds.token;
          const text = token ? raw.split(token).join("[redacted token]") : raw;
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON (e.g. /readyz or a proxy's error page): keep the text
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.on("error", fail);
      req.end(payload);
    });
  }

  /** A request that must answer one of `ok` (else KubeApiError); returns the body. */
  private async expect(method: string, path: string, ok: readonly number[], opts: RequestOptions = {}) {
    const r = await this.request(method, path, opts);
    if (!ok.includes(r.status)) throw apiErrorFrom(method, path, r.status, r.body);
    if (r.status >= 200 && r.status < 300 && !isRecord(r.body))
      throw invalidAnswer(method, path, r.status, r.body, "answer is not a JSON object");
    return r;
  }

  /** The Node object, undefined when it does not exist. */
  async getNode(name: string, timeoutMs?: number): Promise<KubeObject | undefined> {
    const r = await this.expect("GET", nodePath(name), [200, 404], { timeoutMs });
    return r.status === 404 ? undefined : rec(r.body);
  }

  async listNodes(): Promise<KubeObject[]> {
    return itemsOf("GET", "/api/v1/nodes", await this.expect("GET", "/api/v1/nodes", [200]));
  }

  async nodeStatus(name: string, timeoutMs?: number): Promise<NodeStatus> {
    return parseNodeStatus(await this.getNode(name, timeoutMs));
  }

  /** Marks the node unschedulable (what `kubectl cordon` patches). */
  async cordon(name: string): Promise<void> {
    await this.setUnschedulable(name, true);
  }

  async uncordon(name: string): Promise<void> {
    await this.setUnschedulable(name, false);
  }

  private async setUnschedulable(name: string, on: boolean, timeoutMs?: number): Promise<void> {
    // null removes the field, as kubectl's uncordon patch does.
    const body = { spec: { unschedulable: on ? true : null } };
    await this.expect("PATCH", nodePath(name), [200], { body, contentType: STRATEGIC_MERGE, timeoutMs });
  }

  /** Deletes the Node object; false when it was already gone. */
  async deleteNode(name: string): Promise<boolean> {
    const r = await this.expect("DELETE", nodePath(name), [200, 202, 404]);
    return r.status !== 404;
  }

  /** Pods scheduled on the node, all namespaces. */
  async listNodePods(nodeName: string, timeoutMs?: number): Promise<PodRef[]> {
    const selector = encodeURIComponent(`spec.nodeName=${nodeName}`);
    const path = `/api/v1/pods?fieldSelector=${selector}`;
    return itemsOf("GET", path, await this.expect("GET", path, [200], { timeoutMs })).map(parsePod);
  }

  /**
   * Asks the Eviction API to evict a pod: "evicted" (accepted), "gone" (404) or, when a
   * PodDisruptionBudget refuses it for now (429), "blocked" with the API's message.
   */
  async evictPod(
    namespace: string,
    name: string,
    timeoutMs?: number,
  ): Promise<{ outcome: "evicted" | "gone" | "blocked"; message: string }> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/eviction`;
    const body = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } };
    const r = await this.expect("POST", path, [200, 201, 404, 429], { body, timeoutMs });
    if (r.status === 404) return { outcome: "gone", message: "" };
    if (r.status === 429)
      return { outcome: "blocked", message: apiErrorFrom("POST", path, 429, r.body).apiMessage };
    return { outcome: "evicted", message: "" };
  }

  /**
   * `kubectl drain` without kubectl: cordon, evict every pod on the node except DaemonSet and
   * mirror pods (retrying PodDisruptionBudget refusals), then wait until the evicted pods are gone.
   * Throws, naming the pods, when that does not happen within `timeoutMs`.
   */
  async drain(name: string, opts: DrainOptions): Promise<DrainResult> {
    const d = new Deadline(opts, this.timeoutMs);
    const log = opts.log ?? (() => undefined);
    if (!(await this.getNode(name, d.requestMs))) {
      log(`drain ${name}: node is not registered in Kubernetes, nothing to drain`);
      return { found: false, evicted: [], skipped: [] };
    }
    await this.setUnschedulable(name, true, d.requestMs);
    const pods = await this.listNodePods(name, d.requestMs);
    const skipped = pods.filter((p) => p.daemonSet || p.mirror);
    const targets = pods.filter((p) => !p.daemonSet && !p.mirror);
    log(
      `drain ${name}: cordoned; evicting ${targets.length} pod(s)` +
        (skipped.length > 0 ? `, leaving ${skipped.length} DaemonSet/mirror pod(s)` : ""),
    );

    let pending = targets;
    // Why each pending pod is not evicted yet: a PodDisruptionBudget (429), or a transient API
    // failure (no answer, 5xx), both retried until the deadline.
    const refusals = new Map<string, { pdb: boolean; message: string }>();
    while (pending.length > 0) {
      const still: PodRef[] = [];
      for (const p of pending) {
        try {
          const r = await this.evictPod(p.namespace, p.name, d.requestMs);
          if (r.outcome === "blocked") {
            still.push(p);
            refusals.set(podKey(p), { pdb: true, message: r.message });
          }
        } catch (e) {
          if (!isTransient(e)) throw e;
          still.push(p);
          refusals.set(podKey(p), { pdb: false, message: errText(e) });
        }
      }
      pending = still;
      if (pending.length === 0) break;
      const names = pending.map(podKey);
      const allPdb = names.every((n) => refusals.get(n)?.pdb);
      if (d.expired) {
        const why = names.map((n) => `${n}: ${refusals.get(n)?.message}`).join("; ");
        throw new Error(
          `drain ${name}: timed out after ${d.elapsed()} — ${allPdb ? "a PodDisruptionBudget still refuses to evict" : "eviction still refused or failing for"} ${names.join(", ")} (${why})`,
        );
      }
      d.progress(
        `drain ${name}: eviction ${allPdb ? "refused by a PodDisruptionBudget" : "refused or failing"} for ${names.join(", ")}, retrying`,
      );
      await d.pause();
    }

    // Evicted pods terminate gracefully; a pod counts as gone once no pod with its uid is on the node.
    let left = opts.waitForDeletion === false ? [] : targets;
    while (left.length > 0) {
      let listed: PodRef[] | undefined;
      try {
        listed = await this.listNodePods(name, d.requestMs);
      } catch (e) {
        // An API blip while waiting: poll again (the deadline still bounds the wait).
        if (!isTransient(e)) throw e;
        d.progress(`drain ${name}: pod list failed (${errText(e)}), retrying`);
      }
      if (listed) {
        const now = new Set(listed.map((p) => `${podKey(p)}@${p.uid}`));
        left = left.filter((p) => now.has(`${podKey(p)}@${p.uid}`));
      }
      if (left.length === 0) break;
      if (d.expired) {
        throw new Error(
          `drain ${name}: timed out after ${d.elapsed()} waiting for evicted pods to terminate: ${left.map(podKey).join(", ")}`,
        );
      }
      d.progress(
        `drain ${name}: waiting for ${left.length} pod(s) to terminate: ${left.map(podKey).join(", ")}`,
      );
      await d.pause();
    }
    log(`drain ${name}: drained after ${d.elapsed()}`);
    return { found: true, evicted: targets.map(podKey), skipped: skipped.map(podKey) };
  }

  /**
   * Polls until the node is Ready (and its kubelet reports `kubeletVersion`). API outages are
   * waited through (the API server may be the node that is rebooting); auth errors are not.
   */
  async waitNodeReady(name: string, opts: WaitNodeReadyOptions): Promise<NodeStatus> {
    const d = new Deadline(opts, this.timeoutMs);
    const want = opts.kubeletVersion || undefined;
    const goal =
      `node ${name} to be Ready${opts.kubeletVersion ? ` with kubelet ${opts.kubeletVersion}` : ""}` +
      `${opts.rebootedFrom ? " after its reboot (new boot id)" : ""}${opts.schedulable ? " and schedulable" : ""}`;
    opts.log?.(`waiting for ${goal}`);
    for (;;) {
      let seen: string;
      try {
        const s = await this.nodeStatus(name, d.requestMs);
        const rebooted = !opts.rebootedFrom || (s.bootId !== "" && s.bootId !== opts.rebootedFrom);
        if (
          s.ready &&
          rebooted &&
          (!opts.schedulable || !s.unschedulable) &&
          (want === undefined || sameVersion(s.kubeletVersion, want))
        ) {
          opts.log?.(`node ${name} is Ready (kubelet ${s.kubeletVersion}) after ${d.elapsed()}`);
          return s;
        }
        seen = s.exists
          ? `${s.readyDetail}, kubelet ${s.kubeletVersion || "unknown"}` +
            `${opts.rebootedFrom && !rebooted ? ", same boot id as before the reboot" : ""}` +
            `${opts.schedulable && s.unschedulable ? ", cordoned" : ""}`
          : "not registered in Kubernetes";
      } catch (e) {
        if (!isTransient(e)) throw e;
        seen = `no answer: ${errText(e)}`;
      }
      if (d.expired)
        throw new Error(`timed out after ${d.elapsed()} waiting for ${goal}; last seen: ${seen}`);
      d.progress(`node ${name}: ${seen}`);
      await d.pause();
    }
  }
}

const nodePath = (name: string): string => `/api/v1/nodes/${encodeURIComponent(name)}`;
