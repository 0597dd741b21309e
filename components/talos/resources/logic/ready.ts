/**
 * Logic of the `ClusterReady` dynamic resource: waits, within one bounded timeout, until apid
 * answers Version over mutual TLS on every node and then (unless `checkKubernetes` is false) the
 * Kubernetes API answers `GET /readyz` with 200 through the control-plane endpoint, authenticated
 * with the admin kubeconfig's client certificate. Reports progress while it waits.
 */
import { TIMEOUT_DEFAULTS } from "../../../defaults";
import { KubeClient, kubeCredentials } from "../../../kube/client";
import {
  type DiffResult,
  defaultLog,
  errorText,
  type LogFn,
  type MtlsCredentials,
  Props,
  type ReadMode,
  sha256Hex,
  sleep,
  talosVersionTag,
} from "./common";

// The kubeconfig parsing lives with the Kubernetes client; re-exported for existing callers.
export { type KubeCredentials, kubeCredentials } from "../../../kube/client";

export interface ReadyNode {
  readonly name: string;
  readonly address: string;
}

export interface ReadyInputs extends MtlsCredentials {
  readonly nodes: readonly ReadyNode[];
  /** Admin kubeconfig YAML (secret); its server URL, CA and client cert are used for /readyz. */
  readonly kubeconfig: string;
  readonly checkKubernetes: boolean;
  readonly timeoutSeconds: number;
  /** Non-secret: what the cluster looks like (config hashes, bootstrap); a change re-runs the wait. */
  readonly generation: string;
}

export interface ReadyOutputs extends ReadyInputs {
  readonly readyAt: string;
  /** Talos version tag reported per node name. */
  readonly versions: Record<string, string>;
}

export interface ReadyDeps {
  readonly log?: LogFn;
  /** Pause between polls (ms). Default 1000. */
  readonly pollMs?: number;
  /** Replaces the /readyz check (tests). Resolves true when ready. */
  readonly readyz?: (kubeconfig: string, timeoutMs: number) => Promise<boolean>;
}

/** Parses new inputs, or (mode `state`) a stored state with the same defaults. */
export function parseReadyInputs(raw: unknown, mode: ReadMode = "inputs"): ReadyInputs {
  const p = new Props("ClusterReady", raw, mode);
  const nodes = p.nodes("nodes");
  if (nodes.length === 0) p.fail("no nodes");
  const checkKubernetes = p.bool("checkKubernetes", true);
  return {
    nodes,
    kubeconfig: checkKubernetes ? p.str("kubeconfig") : p.optStr("kubeconfig"),
    checkKubernetes,
    timeoutSeconds: p.num("timeoutSeconds", TIMEOUT_DEFAULTS.readySeconds),
    generation: p.optStr("generation"),
    ...p.mtls(),
  };
}

/**
 * GET <server>/readyz with the kubeconfig's credentials; true when kube-apiserver answers 200 with
 * its body "ok" (k8s.io/apiserver healthz handler), so a proxy's 200 page is not taken for ready.
 * The request is bounded as a whole (KubeClient.request), not only while idle: a server trickling
 * bytes cannot hold the wait past its deadline.
 */
export async function checkReadyz(kubeconfig: string, timeoutMs: number): Promise<boolean> {
  const r = await KubeClient.fromKubeconfig(kubeconfig, { timeoutMs }).request("GET", "/readyz");
  return r.status === 200 && typeof r.body === "string" && r.body.trim() === "ok";
}

/** Waits for the cluster; throws an error naming the nodes (or the API) that never answered. */
export async function waitReady(raw: unknown, deps: ReadyDeps = {}): Promise<ReadyOutputs> {
  const i = parseReadyInputs(raw);
  const log = deps.log ?? defaultLog;
  // Short: a node that came back is seen within a second (each poll is one Version call per node).
  const pollMs = deps.pollMs ?? 1000;
  const start = Date.now();
  const deadline = start + i.timeoutSeconds * 1000;
  const elapsed = () => `${Math.round((Date.now() - start) / 1000)} s`;
  const versions: Record<string, string> = {};
  const lastError = new Map<string, string>();
  let pending = [...i.nodes];
  let round = 0;

  log(`ClusterReady: waiting for the Talos API on ${pending.map((n) => n.name).join(", ")}`);
  while (pending.length > 0) {
    const left = deadline - Date.now();
    if (left <= 0) {
      const detail = pending.map((n) => `${n.name} (${n.address}): ${lastError.get(n.name) ?? "no answer"}`);
      throw new Error(
        `ClusterReady: timed out after ${elapsed()} waiting for the Talos API (mutual TLS) on ` +
          `${pending.length === 1 ? "node" : "nodes"} ${pending.map((n) => n.name).join(", ")} — ${detail.join("; ")}`,
      );
    }
    const results = await Promise.all(
      pending.map(async (n) => {
        try {
          versions[n.name] = await talosVersionTag(n.address, i, Math.max(1, Math.min(10_000, left)));
          return true;
        } catch (e) {
          lastError.set(n.name, errorText(e));
          return false;
        }
      }),
    );
    const answered = pending.filter((_, k) => results[k]);
    pending = pending.filter((_, k) => !results[k]);
    round++;
    if (answered.length > 0)
      log(`ClusterReady: Talos API answers on ${answered.map((n) => n.name).join(", ")}`);
    if (pending.length > 0) {
      if (round % 5 === 1)
        log(`ClusterReady: still waiting for ${pending.map((n) => n.name).join(", ")} (${elapsed()})`);
      await sleep(Math.max(0, Math.min(pollMs, deadline - Date.now())));
    }
  }

  if (i.checkKubernetes) {
    const readyz = deps.readyz ?? checkReadyz;
    let server = "the Kubernetes API";
    try {
      server = kubeCredentials(i.kubeconfig).server;
    } catch {
      // reported by readyz below
    }
    log(`ClusterReady: waiting for ${server}/readyz`);
    let last = "no answer";
    for (round = 0; ; round++) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`ClusterReady: timed out after ${elapsed()} waiting for ${server}/readyz — ${last}`);
      }
      try {
        if (await readyz(i.kubeconfig, Math.max(1, Math.min(10_000, left)))) break;
        last = "not ready (HTTP status other than 200)";
      } catch (e) {
        last = errorText(e);
      }
      if (round % 5 === 0) log(`ClusterReady: Kubernetes API not ready yet (${last}; ${elapsed()})`);
      await sleep(Math.max(0, Math.min(pollMs, deadline - Date.now())));
    }
    log(`ClusterReady: Kubernetes API ready at ${server}`);
  }
  log(`ClusterReady: cluster ready after ${elapsed()}`);
  return { ...i, readyAt: new Date().toISOString(), versions };
}

export async function create(
  raw: unknown,
  deps: ReadyDeps = {},
): Promise<{ id: string; outs: ReadyOutputs }> {
  const outs = await waitReady(raw, deps);
  return { id: `ready-${sha256Hex(outs.nodes.map((n) => n.name).join(",")).slice(0, 12)}`, outs };
}

/** Re-waits only when the cluster changed (generation, node set, checks); never replaces. */
export function diff(olds: unknown, news: unknown): DiffResult {
  const o = parseReadyInputs(olds, "state");
  const n = parseReadyInputs(news);
  // Canonical node list: the engine hands state back with object keys sorted.
  const key = (list: ReadyInputs["nodes"]): string => list.map((x) => `${x.name}@${x.address}`).join(",");
  const changes =
    o.generation !== n.generation ||
    key(o.nodes) !== key(n.nodes) ||
    o.checkKubernetes !== n.checkKubernetes ||
    o.timeoutSeconds !== n.timeoutSeconds;
  return { changes, replaces: [] };
}

export async function update(
  _olds: unknown,
  news: unknown,
  deps: ReadyDeps = {},
): Promise<{ outs: ReadyOutputs }> {
  return { outs: await waitReady(news, deps) };
}
