/**
 * A real Kubernetes API server on loopback for tests, the way controller-runtime's envtest runs
 * one: `etcd` and `kube-apiserver` (built from Go modules by scripts/build-peers.sh) as child
 * processes, serving cert and client CA from the cluster's Kubernetes CA, RBAC on, the admin
 * kubeconfig (O=system:masters) from the same CA. No controller-manager, scheduler or kubelet runs:
 * tests create Node and Pod objects and set their status themselves, and `kubeletStandIn` finishes
 * the deletion of evicted pods as a kubelet does once their containers stopped.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { generateAdminKubeconfig } from "../../components/talos/pki/kubeconfig";
import type { SecretsBundle } from "../../components/talos/types";
import { issueServerCert } from "../fakes/kube-api";
import { peerPath } from "./peers";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface KubeRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
}

export class EnvTest {
  private readonly procs: ChildProcess[] = [];
  private readonly logs: string[] = [];
  private kubelet: NodeJS.Timeout | undefined;
  /** When the kubelet stand-in first saw each terminating pod. */
  private readonly terminating = new Map<string, number>();
  url = "";
  kubeconfig = "";
  private client!: { ca: string; cert: string; key: string };

  private constructor(
    readonly dir: string,
    readonly bundle: SecretsBundle,
  ) {}

  /** Starts etcd and kube-apiserver; resolves when /readyz answers ok. */
  static async start(bundle: SecretsBundle, o: { timeoutMs?: number } = {}): Promise<EnvTest> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "envtest-"));
    const t = new EnvTest(dir, bundle);
    try {
      await t.boot(o.timeoutMs ?? 120_000);
    } catch (e) {
      await t.stop();
      throw e;
    }
    return t;
  }

  private write(name: string, text: string): string {
    const p = path.join(this.dir, name);
    fs.writeFileSync(p, text, { mode: 0o600 });
    return p;
  }

  private run(bin: string, args: string[]): ChildProcess {
    const p = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const keep = (b: Buffer) => {
      this.logs.push(b.toString());
      if (this.logs.length > 200) this.logs.shift();
    };
    p.stdout?.on("data", keep);
    p.stderr?.on("data", keep);
    this.procs.push(p);
    return p;
  }

  private async boot(timeoutMs: number): Promise<void> {
    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    this.run(peerPath("etcd"), [
      "--name=envtest",
      `--data-dir=${path.join(this.dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=envtest=${peerUrl}`,
      "--unsafe-no-fsync",
    ]);
    const k8s = this.bundle.certs.k8s;
    const serving = await issueServerCert(k8s, "127.0.0.1");
    const saKey = crypto.createPrivateKey(this.bundle.certs.k8sServiceAccount.key);
    const saPub = crypto.createPublicKey(saKey).export({ type: "spki", format: "pem" }).toString();
    this.run(peerPath("kube-apiserver"), [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${path.join(this.dir, "certs")}`,
      `--tls-cert-file=${this.write("serving.crt", serving.crt)}`,
      `--tls-private-key-file=${this.write("serving.key", serving.key)}`,
      `--client-ca-file=${this.write("ca.crt", k8s.crt)}`,
      "--service-account-issuer=https://kubernetes.default.svc",
      `--service-account-key-file=${this.write("sa.pub", saPub)}`,
      `--service-account-signing-key-file=${this.write("sa.key", saKey.export({ type: "pkcs8", format: "pem" }).toString())}`,
      "--authorization-mode=RBAC",
      "--service-cluster-ip-range=10.96.0.0/12",
    ]);
    this.url = `https://127.0.0.1:${apiPort}`;
    const admin = await generateAdminKubeconfig({
      clusterName: "envtest",
      endpoint: this.url,
      bundle: this.bundle,
    });
    this.kubeconfig = admin.yaml;
    this.client = { ca: k8s.crt, cert: admin.clientCert.crt, key: admin.clientCert.key };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const exited = this.procs.find((p) => p.exitCode !== null);
      if (exited) throw new Error(`envtest: ${exited.spawnfile} exited (${exited.exitCode}): ${this.log()}`);
      const r = await this.request({ method: "GET", path: "/readyz" }).catch(() => undefined);
      if (r?.status === 200) return;
      if (Date.now() > deadline)
        throw new Error(`envtest: /readyz not ok after ${timeoutMs} ms: ${this.log()}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  log(): string {
    return this.logs.join("").slice(-3000);
  }

  /** One request as the cluster admin; resolves with the status and parsed JSON (or text). */
  request(r: KubeRequest): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
      const req = https.request(
        `${this.url}${r.path}`,
        {
          method: r.method,
          ca: this.client.ca,
          cert: this.client.cert,
          key: this.client.key,
          headers: {
            accept: "application/json",
            ...(payload ? { "content-type": r.contentType ?? "application/json" } : {}),
          },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {
              // not JSON (e.g. /readyz's "ok")
            }
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on("error", reject);
      req.on("timeout", () => req.destroy(new Error("envtest request timed out")));
      req.end(payload);
    });
  }

  /** A request that must succeed (2xx); returns the body. */
  async must(r: KubeRequest): Promise<Record<string, unknown>> {
    const res = await this.request(r);
    if (res.status < 200 || res.status > 299) {
      throw new Error(`envtest: ${r.method} ${r.path} → ${res.status}: ${JSON.stringify(res.body)}`);
    }
    return res.body as Record<string, unknown>;
  }

  /** Creates a Node and sets its status as a kubelet would (Ready, kubelet version, boot id). */
  async addNode(name: string, s: { ready: boolean; kubeletVersion: string; bootId?: string }): Promise<void> {
    await this.must({
      method: "POST",
      path: "/api/v1/nodes",
      body: { apiVersion: "v1", kind: "Node", metadata: { name } },
    });
    await this.setNodeStatus(name, s);
  }

  async setNodeStatus(
    name: string,
    s: { ready: boolean; kubeletVersion: string; bootId?: string },
  ): Promise<void> {
    const now = new Date().toISOString();
    await this.must({
      method: "PATCH",
      path: `/api/v1/nodes/${name}/status`,
      contentType: "application/merge-patch+json",
      body: {
        status: {
          conditions: [
            {
              type: "Ready",
              status: s.ready ? "True" : "False",
              reason: s.ready ? "KubeletReady" : "KubeletNotReady",
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
          nodeInfo: {
            kubeletVersion: s.kubeletVersion,
            bootID: s.bootId ?? crypto.randomUUID(),
            machineID: "",
            systemUUID: "",
            kernelVersion: "",
            osImage: "Talos",
            containerRuntimeVersion: "containerd://2.0.0",
            kubeProxyVersion: "",
            operatingSystem: "linux",
            architecture: "amd64",
          },
        },
      },
    });
  }

  /** Creates a Pod bound to `node` (as the scheduler would) and marks it Running. */
  async addPod(
    ns: string,
    name: string,
    node: string,
    o: { labels?: Record<string, string>; ownerKind?: string; annotations?: Record<string, string> } = {},
  ): Promise<void> {
    const ownerReferences = o.ownerKind
      ? [
          {
            apiVersion: "apps/v1",
            kind: o.ownerKind,
            name: `${name}-owner`,
            uid: crypto.randomUUID(),
            controller: true,
          },
        ]
      : undefined;
    await this.must({
      method: "POST",
      path: `/api/v1/namespaces/${ns}/pods`,
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, labels: o.labels, annotations: o.annotations, ownerReferences },
        spec: {
          nodeName: node,
          automountServiceAccountToken: false,
          containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }],
        },
      },
    });
    await this.must({
      method: "PATCH",
      path: `/api/v1/namespaces/${ns}/pods/${name}/status`,
      contentType: "application/merge-patch+json",
      body: { status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] } },
    });
  }

  /** Creates a namespace with its `default` ServiceAccount (the controller-manager would). */
  async addNamespace(ns: string): Promise<void> {
    await this.must({
      method: "POST",
      path: "/api/v1/namespaces",
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
    });
    await this.must({
      method: "POST",
      path: `/api/v1/namespaces/${ns}/serviceaccounts`,
      body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } },
    });
  }

  /**
   * Plays the kubelet's last part of a pod deletion: a pod with a deletionTimestamp (evicted) is
   * removed for good (grace period 0) once `afterMs` passed, as after its containers stopped.
   */
  kubeletStandIn(afterMs = 100): void {
    this.kubelet = setInterval(() => {
      void (async () => {
        const r = await this.request({ method: "GET", path: "/api/v1/pods" }).catch(() => undefined);
        const items = ((r?.body as { items?: unknown[] } | undefined)?.items ?? []) as {
          metadata: { name: string; namespace: string; deletionTimestamp?: string };
        }[];
        for (const p of items) {
          if (!p.metadata.deletionTimestamp) continue;
          const key = `${p.metadata.namespace}/${p.metadata.name}`;
          const seen = this.terminating.get(key) ?? Date.now();
          this.terminating.set(key, seen);
          if (Date.now() - seen < afterMs) continue;
          const r = await this.request({
            method: "DELETE",
            path: `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}?gracePeriodSeconds=0`,
          }).catch((e: unknown) => ({ status: 0, body: String(e) }));
          if (r.status !== 200 && r.status !== 404) {
            this.logs.push(`kubelet stand-in: delete ${key}: ${r.status} ${JSON.stringify(r.body)}\n`);
          }
        }
      })();
    }, 100);
  }

  async stop(): Promise<void> {
    if (this.kubelet) clearInterval(this.kubelet);
    for (const p of [...this.procs].reverse()) {
      if (p.exitCode !== null) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          p.kill("SIGKILL");
          resolve();
        }, 5000);
        p.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
        p.kill("SIGTERM");
      });
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
