/**
 * Smoke checks of a fresh cluster through the Kubernetes API: all nodes Ready, addon pods
 * Running, a PVC on the default StorageClass binds, a LoadBalancer Service gets an IP from MetalLB.
 */
import { items, KubeClient, parseKubeconfig } from "./kube";
import { isRecord } from "./stack-config";

export interface SmokeExpectations {
  /** Nodes the cluster must have, all Ready. */
  readonly nodes: number;
  /** Run the PVC check (a default StorageClass, e.g. OpenEBS LocalPV). */
  readonly storage: boolean;
  /** Run the LoadBalancer check (MetalLB). */
  readonly loadBalancer: boolean;
}

export interface SmokeResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export type SmokeRunner = (
  kubeconfig: string,
  expect: SmokeExpectations,
  log: (line: string) => void,
) => Promise<SmokeResult[]>;

export interface SmokeTiming {
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

const DEFAULT_TIMING: SmokeTiming = { timeoutMs: 10 * 60_000, intervalMs: 5_000 };

const get = (o: unknown, ...path: string[]): unknown => {
  let cur: unknown = o;
  for (const p of path) cur = isRecord(cur) ? cur[p] : undefined;
  return cur;
};
const name = (o: unknown): string => String(get(o, "metadata", "name") ?? "?");

/** Polls `probe` until it returns ok or the deadline passes; returns the last answer. */
async function poll(
  probe: () => Promise<{ ok: boolean; detail: string }>,
  timing: SmokeTiming,
): Promise<{ ok: boolean; detail: string }> {
  const deadline = Date.now() + timing.timeoutMs;
  let last = { ok: false, detail: "not checked" };
  for (;;) {
    try {
      last = await probe();
    } catch (err) {
      last = { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
    if (last.ok || Date.now() >= deadline) return last;
    await new Promise((r) => setTimeout(r, timing.intervalMs));
  }
}

export async function nodesReady(
  kube: KubeClient,
  expected: number,
): Promise<{ ok: boolean; detail: string }> {
  const nodes = items(await kube.get("/api/v1/nodes"));
  const notReady = nodes.filter((n) => {
    const conds = get(n, "status", "conditions");
    return !(
      Array.isArray(conds) && conds.some((c) => get(c, "type") === "Ready" && get(c, "status") === "True")
    );
  });
  const ok = nodes.length >= expected && notReady.length === 0;
  return {
    ok,
    detail: `${nodes.length - notReady.length}/${expected} nodes Ready${notReady.length ? ` (not ready: ${notReady.map(name).join(", ")})` : ""}`,
  };
}

export async function podsRunning(kube: KubeClient): Promise<{ ok: boolean; detail: string }> {
  const pods = items(await kube.get("/api/v1/pods"));
  const bad = pods.filter((p) => {
    const phase = get(p, "status", "phase");
    if (phase === "Succeeded") return false;
    if (phase !== "Running") return true;
    const statuses = get(p, "status", "containerStatuses");
    return Array.isArray(statuses) && statuses.some((s) => get(s, "ready") !== true);
  });
  return {
    ok: pods.length > 0 && bad.length === 0,
    detail: `${pods.length - bad.length}/${pods.length} pods Running${bad.length ? ` (not: ${bad.map((p) => `${String(get(p, "metadata", "namespace"))}/${name(p)}`).join(", ")})` : ""}`,
  };
}

const SMOKE_NS = "proxmox-talos-smoke";
const RESTRICTED = {
  runAsNonRoot: true,
  runAsUser: 65532,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

async function ensureWorkload(kube: KubeClient): Promise<void> {
  await kube.create("/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: SMOKE_NS },
  });
  await kube.create(`/api/v1/namespaces/${SMOKE_NS}/persistentvolumeclaims`, {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "smoke" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "64Mi" } } },
  });
  await kube.create(`/api/v1/namespaces/${SMOKE_NS}/pods`, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "smoke", labels: { app: "proxmox-talos-smoke" } },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "pause",
          image: "registry.k8s.io/pause:3.10",
          ports: [{ containerPort: 8080 }],
          securityContext: RESTRICTED,
          volumeMounts: [{ name: "data", mountPath: "/data" }],
        },
      ],
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: "smoke" } }],
    },
  });
}

export async function pvcBound(kube: KubeClient): Promise<{ ok: boolean; detail: string }> {
  const classes = items(await kube.get("/apis/storage.k8s.io/v1/storageclasses"));
  const def = classes.find(
    (c) => get(c, "metadata", "annotations", "storageclass.kubernetes.io/is-default-class") === "true",
  );
  if (!def) return { ok: false, detail: "no default StorageClass" };
  const pvc = await kube.get(`/api/v1/namespaces/${SMOKE_NS}/persistentvolumeclaims/smoke`);
  const phase = String(get(pvc, "status", "phase") ?? "Pending");
  return { ok: phase === "Bound", detail: `PVC on StorageClass ${name(def)}: ${phase}` };
}

export async function loadBalancerIp(kube: KubeClient): Promise<{ ok: boolean; detail: string }> {
  await kube.create(`/api/v1/namespaces/${SMOKE_NS}/services`, {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "smoke" },
    spec: {
      type: "LoadBalancer",
      selector: { app: "proxmox-talos-smoke" },
      ports: [{ port: 80, targetPort: 8080 }],
    },
  });
  const svc = await kube.get(`/api/v1/namespaces/${SMOKE_NS}/services/smoke`);
  const ingress = get(svc, "status", "loadBalancer", "ingress");
  const ip = Array.isArray(ingress) ? get(ingress[0], "ip") : undefined;
  return typeof ip === "string"
    ? { ok: true, detail: `LoadBalancer IP ${ip}` }
    : { ok: false, detail: "LoadBalancer Service has no IP yet" };
}

/** Runs every check against the cluster in `kubeconfig`, each polled until its timeout. */
export function kubeSmoke(timing: SmokeTiming = DEFAULT_TIMING): SmokeRunner {
  return async (kubeconfig, expect, log) => {
    const kube = new KubeClient(parseKubeconfig(kubeconfig));
    const results: SmokeResult[] = [];
    const run = async (check: string, probe: () => Promise<{ ok: boolean; detail: string }>) => {
      log(`smoke: ${check}...`);
      const r = await poll(probe, timing);
      results.push({ name: check, ...r });
      log(`smoke: ${check}: ${r.ok ? "ok" : "FAILED"} — ${r.detail}`);
      return r.ok;
    };
    await run("nodes Ready", () => nodesReady(kube, expect.nodes));
    await run("addon pods Running", () => podsRunning(kube));
    if (expect.storage || expect.loadBalancer) {
      try {
        await ensureWorkload(kube);
      } catch (err) {
        results.push({
          name: "smoke workload",
          ok: false,
          detail: err instanceof Error ? err.message : String(err),
        });
        return results;
      }
    }
    if (expect.storage) await run("PVC binds on the default StorageClass", () => pvcBound(kube));
    if (expect.loadBalancer) await run("LoadBalancer Service gets a MetalLB IP", () => loadBalancerIp(kube));
    // The cluster is destroyed next; removing the namespace is a courtesy.
    await kube.request("DELETE", `/api/v1/namespaces/${SMOKE_NS}`).catch(() => undefined);
    return results;
  };
}
