/**
 * The Kubernetes client (components/kube/client.ts) against the fake Kubernetes API over real
 * TLS on loopback: the server cert comes from a generated secrets bundle's Kubernetes CA, the
 * client uses the admin kubeconfig the project generates from it.
 */
import * as assert from "node:assert/strict";
import * as https from "node:https";
import * as net from "node:net";
import { KubeApiError, KubeClient, kubeCredentials } from "../../components/kube/client";
import { generateAdminKubeconfig } from "../../components/talos/pki/kubeconfig";
import { generateSecretsBundle } from "../../components/talos/pki/secrets";
import * as readyLogic from "../../components/talos/resources/logic/ready";
import type { SecretsBundle } from "../../components/talos/types";
import { issueCert, newCa, selfSignedServerCert, standardKeyPem } from "../fakes/certs";
import { FakeKubeApi, type FakeKubeApiOptions, tokenKubeconfigYaml } from "../fakes/kube-api";

const quiet = { pollMs: 25, log: (_m: string) => undefined };

describe("Kubernetes client against a fake API server (TLS on loopback)", function () {
  this.timeout(30_000);
  let bundle: SecretsBundle;
  let api: FakeKubeApi;
  let kubeconfig: string;
  let kube: KubeClient;

  before(async () => {
    bundle = await generateSecretsBundle();
  });

  async function start(opts: Partial<FakeKubeApiOptions> = {}): Promise<void> {
    api = await FakeKubeApi.start({ ca: bundle.certs.k8s, ...opts });
    kubeconfig = (await generateAdminKubeconfig({ clusterName: "homelab", endpoint: api.url, bundle })).yaml;
    kube = KubeClient.fromKubeconfig(kubeconfig, { timeoutMs: 5_000 });
  }

  beforeEach(() => start());
  afterEach(() => api.close());

  const evictions = (ns: string, pod: string) =>
    api.calls.filter(
      (c) => c.method === "POST" && c.path === `/api/v1/namespaces/${ns}/pods/${pod}/eviction`,
    );

  it("parses the admin kubeconfig; ready.ts re-exports the same parser and its /readyz check works", async () => {
    assert.equal(readyLogic.kubeCredentials, kubeCredentials);
    const creds = kubeCredentials(kubeconfig);
    assert.equal(creds.server, api.url);
    assert.equal(creds.ca, bundle.certs.k8s.crt);
    assert.match(creds.cert, /BEGIN CERTIFICATE/);
    assert.equal(await readyLogic.checkReadyz(kubeconfig, 5_000), true);
    api.setReadyz(false);
    assert.equal(await readyLogic.checkReadyz(kubeconfig, 5_000), false);
    const readyz = api.calls.filter((c) => c.path === "/readyz");
    assert.deepEqual(
      readyz.map((c) => [c.status, c.authorized, c.clientCn]),
      [
        [200, true, "admin"],
        [503, true, "admin"],
      ],
    );
  });

  it("reads node status: Ready condition, kubelet version, unschedulable; absent nodes", async () => {
    api.addNode("cp-1", { ready: true, kubeletVersion: "v1.33.1" });
    api.addNode("w-1", { ready: false, kubeletVersion: "v1.32.3", unschedulable: true });
    api.addNode("w-2", { ready: "Unknown" });

    const node = await kube.getNode("cp-1");
    assert.equal(node?.kind, "Node");
    assert.equal(node?.apiVersion, "v1");
    assert.equal(await kube.getNode("nope"), undefined);

    const cp = await kube.nodeStatus("cp-1");
    assert.deepEqual(
      { exists: cp.exists, ready: cp.ready, v: cp.kubeletVersion, u: cp.unschedulable },
      { exists: true, ready: true, v: "v1.33.1", u: false },
    );
    const w1 = await kube.nodeStatus("w-1");
    assert.deepEqual([w1.ready, w1.kubeletVersion, w1.unschedulable], [false, "v1.32.3", true]);
    assert.match(w1.readyDetail, /^Ready=False \(KubeletNotReady/);
    const w2 = await kube.nodeStatus("w-2");
    assert.equal(w2.ready, false);
    assert.match(w2.readyDetail, /Ready=Unknown \(NodeStatusUnknown/);
    const gone = await kube.nodeStatus("nope");
    assert.deepEqual([gone.exists, gone.ready], [false, false]);
    assert.deepEqual((await kube.listNodes()).map((n) => (n.metadata as { name: string }).name).sort(), [
      "cp-1",
      "w-1",
      "w-2",
    ]);
  });

  it("cordon and uncordon patch spec.unschedulable on the server", async () => {
    api.addNode("w-1");
    await kube.cordon("w-1");
    assert.equal(api.node("w-1")?.unschedulable, true);
    assert.equal((await kube.nodeStatus("w-1")).unschedulable, true);
    await kube.uncordon("w-1");
    assert.equal(api.node("w-1")?.unschedulable, false);
    const patches = api.calls.filter((c) => c.method === "PATCH");
    assert.equal(patches.length, 2);
    for (const p of patches) {
      assert.equal(p.path, "/api/v1/nodes/w-1");
      assert.equal(p.contentType, "application/strategic-merge-patch+json");
      assert.equal(p.status, 200);
    }
    assert.deepEqual(
      patches.map((p) => p.body),
      [{ spec: { unschedulable: true } }, { spec: { unschedulable: null } }],
    );
  });

  it("errors carry method, path, HTTP status, reason and the API's message", async () => {
    await assert.rejects(
      () => kube.cordon("ghost"),
      (e: unknown) => {
        assert.ok(e instanceof KubeApiError);
        assert.equal(e.method, "PATCH");
        assert.equal(e.path, "/api/v1/nodes/ghost");
        assert.equal(e.status, 404);
        assert.equal(e.reason, "NotFound");
        assert.equal(e.apiMessage, 'nodes "ghost" not found');
        assert.equal(
          e.message,
          'Kubernetes API PATCH /api/v1/nodes/ghost: HTTP 404 NotFound: nodes "ghost" not found',
        );
        return true;
      },
    );
  });

  it("drain cordons, evicts only non-DaemonSet non-mirror pods of that node and waits until they are gone", async () => {
    await api.close();
    await start({ evictionDelayMs: 250 });
    api.addNode("w-1");
    api.addNode("w-2");
    api.addPod("default", "web-7d9f-abcde", "w-1", { owner: { kind: "ReplicaSet", name: "web-7d9f" } });
    api.addPod("default", "job-x", "w-1");
    api.addPod("kube-system", "cilium-q8z2k", "w-1", { daemonSet: true });
    api.addPod("kube-system", "kube-apiserver-w-1", "w-1", { mirror: true });
    api.addPod("default", "web-7d9f-fghij", "w-2", { owner: { kind: "ReplicaSet", name: "web-7d9f" } });
    const lines: string[] = [];

    const started = Date.now();
    const r = await kube.drain("w-1", { timeoutMs: 10_000, pollMs: 25, log: (m) => lines.push(m) });

    assert.ok(Date.now() - started >= 250, "drain returned before the evicted pods terminated");
    assert.deepEqual(r, {
      found: true,
      evicted: ["default/web-7d9f-abcde", "default/job-x"],
      skipped: ["kube-system/cilium-q8z2k", "kube-system/kube-apiserver-w-1"],
    });
    assert.equal(api.node("w-1")?.unschedulable, true);
    assert.equal(api.node("w-2")?.unschedulable, false);
    assert.equal(api.pod("default", "web-7d9f-abcde"), undefined);
    assert.equal(api.pod("default", "job-x"), undefined);
    assert.ok(api.pod("kube-system", "cilium-q8z2k"));
    assert.ok(api.pod("kube-system", "kube-apiserver-w-1"));
    assert.ok(api.pod("default", "web-7d9f-fghij"));
    const evicted = api.calls.filter((c) => c.path.endsWith("/eviction")).map((c) => [c.path, c.status]);
    assert.deepEqual(evicted, [
      ["/api/v1/namespaces/default/pods/web-7d9f-abcde/eviction", 201],
      ["/api/v1/namespaces/default/pods/job-x/eviction", 201],
    ]);
    assert.ok(api.calls.some((c) => c.path === "/api/v1/pods?fieldSelector=spec.nodeName%3Dw-1"));
    // Cordon precedes the first eviction.
    const firstPatch = api.calls.findIndex((c) => c.method === "PATCH");
    const firstEviction = api.calls.findIndex((c) => c.path.endsWith("/eviction"));
    assert.ok(firstPatch >= 0 && firstPatch < firstEviction);
    assert.ok(
      lines.some((l) => /drain w-1: cordoned; evicting 2 pod\(s\), leaving 2 DaemonSet\/mirror/.test(l)),
    );
    assert.ok(lines.some((l) => /waiting for 2 pod\(s\) to terminate/.test(l)));
  });

  it("drain retries evictions a PodDisruptionBudget refuses (429)", async () => {
    api.addNode("w-1");
    api.addPod("db", "pg-0", "w-1", { pdbRefusals: 3 });
    const lines: string[] = [];
    const r = await kube.drain("w-1", { timeoutMs: 10_000, pollMs: 25, log: (m) => lines.push(m) });
    assert.deepEqual(r.evicted, ["db/pg-0"]);
    assert.deepEqual(
      evictions("db", "pg-0").map((c) => c.status),
      [429, 429, 429, 201],
    );
    assert.equal(api.pod("db", "pg-0"), undefined);
    // Repeated refusals are logged once, not once per poll.
    assert.equal(lines.filter((l) => /PodDisruptionBudget for db\/pg-0/.test(l)).length, 1);
  });

  it("drain times out naming the pods a PodDisruptionBudget keeps refusing", async () => {
    api.addNode("w-1");
    api.addPod("db", "pg-0", "w-1", { pdbRefusals: Number.POSITIVE_INFINITY });
    api.addPod("default", "ok", "w-1");
    const started = Date.now();
    await assert.rejects(
      () => kube.drain("w-1", { timeoutMs: 400, ...quiet }),
      /drain w-1: timed out after 0\.\d s — a PodDisruptionBudget still refuses to evict db\/pg-0 \(db\/pg-0: Cannot evict pod as it would violate the pod's disruption budget\.\)$/,
    );
    assert.ok(Date.now() - started < 2_000);
    assert.ok(evictions("db", "pg-0").length > 2);
    assert.equal(evictions("default", "ok").length, 1);
  });

  it("drain times out naming the evicted pod that never terminates, not the ones that did", async () => {
    api.addNode("w-1");
    api.addPod("default", "stuck-1", "w-1", { stuck: true });
    api.addPod("default", "quick", "w-1");
    const started = Date.now();
    await assert.rejects(
      () => kube.drain("w-1", { timeoutMs: 400, ...quiet }),
      (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.match(
          e.message,
          /^drain w-1: timed out after 0\.\d s waiting for evicted pods to terminate: default\/stuck-1$/,
        );
        return true;
      },
    );
    assert.ok(Date.now() - started < 2_000);
    assert.equal(api.pod("default", "stuck-1")?.terminating, true);
    assert.equal(api.pod("default", "quick"), undefined);
  });

  it("drain of a node Kubernetes does not know does nothing", async () => {
    const r = await kube.drain("ghost", { timeoutMs: 1_000, ...quiet });
    assert.deepEqual(r, { found: false, evicted: [], skipped: [] });
    assert.deepEqual(
      api.calls.map((c) => `${c.method} ${c.path}`),
      ["GET /api/v1/nodes/ghost"],
    );
  });

  it("deleteNode removes the Node; deleting it again is fine", async () => {
    api.addNode("w-1");
    assert.equal(await kube.deleteNode("w-1"), true);
    assert.equal(api.node("w-1"), undefined);
    assert.equal(await kube.deleteNode("w-1"), false);
    assert.deepEqual(
      api.calls.map((c) => [c.method, c.status]),
      [
        ["DELETE", 200],
        ["DELETE", 404],
      ],
    );
  });

  it("waitNodeReady waits for Ready AND the wanted kubelet version (with or without the v)", async () => {
    api.addNode("cp-1", { ready: false, kubeletVersion: "v1.32.3" });
    // A simulated upgrade reboot: Ready again on the old kubelet first, then the new kubelet.
    const fake = api;
    setTimeout(() => fake.setNode("cp-1", { ready: true }), 100);
    setTimeout(() => fake.setNode("cp-1", { kubeletVersion: "v1.33.1" }), 300);
    const lines: string[] = [];
    const started = Date.now();
    const s = await kube.waitNodeReady("cp-1", {
      kubeletVersion: "1.33.1",
      timeoutMs: 5_000,
      pollMs: 25,
      log: (m) => lines.push(m),
    });
    assert.ok(Date.now() - started >= 300, "returned before the kubelet version changed");
    assert.deepEqual([s.ready, s.kubeletVersion], [true, "v1.33.1"]);
    assert.equal(lines[0], "waiting for node cp-1 to be Ready with kubelet 1.33.1");
    assert.ok(lines.some((l) => /^node cp-1: Ready=False \(KubeletNotReady.*kubelet v1\.32\.3/.test(l)));
    assert.ok(lines.some((l) => /^node cp-1: Ready=True \(KubeletReady.*kubelet v1\.32\.3/.test(l)));
    assert.match(lines.at(-1) ?? "", /^node cp-1 is Ready \(kubelet v1\.33\.1\) after \d+\.\d s$/);
    // Without a wanted version, Ready is enough.
    assert.equal((await kube.waitNodeReady("cp-1", { timeoutMs: 1_000, ...quiet })).ready, true);
  });

  it("waitNodeReady times out naming the node, what it last saw and how long it waited", async () => {
    api.addNode("w-1", { ready: true, kubeletVersion: "v1.32.3" });
    const started = Date.now();
    await assert.rejects(
      () => kube.waitNodeReady("w-1", { kubeletVersion: "v1.33.1", timeoutMs: 300, ...quiet }),
      /^Error: timed out after 0\.\d s waiting for node w-1 to be Ready with kubelet v1\.33\.1; last seen: Ready=True \(KubeletReady: kubelet is posting ready status\), kubelet v1\.32\.3$/,
    );
    assert.ok(Date.now() - started < 1_500);
    await assert.rejects(
      () => kube.waitNodeReady("w-9", { timeoutMs: 200, ...quiet }),
      /waiting for node w-9 to be Ready; last seen: not registered in Kubernetes$/,
    );
  });

  it("waitNodeReady waits through an API server outage (the API comes back on the same port)", async () => {
    const port = api.port;
    await api.close();
    const back = new Promise<FakeKubeApi>((resolve, reject) =>
      setTimeout(() => {
        FakeKubeApi.start({ ca: bundle.certs.k8s, port }).then((a) => {
          a.addNode("cp-1", { kubeletVersion: "v1.33.1" });
          resolve(a);
        }, reject);
      }, 300),
    );
    const lines: string[] = [];
    const waiting = kube.waitNodeReady("cp-1", { timeoutMs: 5_000, pollMs: 25, log: (m) => lines.push(m) });
    api = await back; // closed by afterEach
    assert.equal((await waiting).ready, true);
    assert.ok(
      lines.some((l) =>
        /node cp-1: no answer: Kubernetes API GET \/api\/v1\/nodes\/cp-1 .*ECONNREFUSED/.test(l),
      ),
    );
  });

  it("waitNodeReady does not wait through an authentication failure", async () => {
    const otherCa = await newCa("kubernetes");
    const stranger = await issueCert(otherCa, { subject: "O=system:masters, CN=admin", usage: "client" });
    const client = KubeClient.fromKubeconfig(api.kubeconfig(stranger));
    api.addNode("cp-1");
    const started = Date.now();
    await assert.rejects(() => client.waitNodeReady("cp-1", { timeoutMs: 5_000, ...quiet }), /HTTP 401/);
    assert.ok(Date.now() - started < 1_000);
  });

  it("a client cert from a different CA is refused with 401", async () => {
    const otherCa = await newCa("kubernetes");
    const stranger = await issueCert(otherCa, { subject: "O=system:masters, CN=admin", usage: "client" });
    const client = KubeClient.fromKubeconfig(api.kubeconfig(stranger));
    api.addNode("cp-1");
    await assert.rejects(
      () => client.getNode("cp-1"),
      (e: unknown) => {
        assert.ok(e instanceof KubeApiError);
        assert.deepEqual(
          [e.method, e.path, e.status, e.reason, e.apiMessage],
          ["GET", "/api/v1/nodes/cp-1", 401, "Unauthorized", "Unauthorized"],
        );
        return true;
      },
    );
    await assert.rejects(() => client.cordon("cp-1"), /HTTP 401/);
    assert.equal(api.node("cp-1")?.unschedulable, false);
    assert.ok(api.calls.every((c) => !c.authorized && c.status === 401));
    // The real admin client on the same server is accepted.
    assert.equal((await kube.nodeStatus("cp-1")).exists, true);
  });

  it("the client refuses a server whose cert does not chain to the kubeconfig's CA", async () => {
    const otherCa = await newCa("kubernetes");
    const impostor = await FakeKubeApi.start({ ca: otherCa });
    try {
      const creds = { ...kubeCredentials(kubeconfig), server: impostor.url };
      await assert.rejects(
        () => new KubeClient(creds).nodeStatus("cp-1"),
        (e: unknown) => {
          assert.ok(e instanceof Error && !(e instanceof KubeApiError));
          assert.match(
            e.message,
            new RegExp(`^Kubernetes API GET /api/v1/nodes/cp-1 \\(${impostor.url}\\): `),
          );
          assert.match(
            String((e.cause as NodeJS.ErrnoException).code),
            /UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT/,
          );
          return true;
        },
      );
      assert.equal(impostor.calls.length, 0);
    } finally {
      await impostor.close();
    }
  });

  it("serves on another loopback address with that IP in the server cert", async () => {
    await api.close();
    await start({ listenHost: "127.0.0.3" });
    assert.match(api.url, /^https:\/\/127\.0\.0\.3:\d+$/);
    api.addNode("cp-1");
    assert.equal((await kube.nodeStatus("cp-1")).ready, true);
  });

  it("each request is bounded by the per-request timeout", async () => {
    // Accepts TCP and never speaks: TLS never completes.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const creds = { ...kubeCredentials(kubeconfig), server: `https://127.0.0.1:${port}` };
      const started = Date.now();
      await assert.rejects(
        () => new KubeClient(creds, { timeoutMs: 200 }).getNode("cp-1"),
        /^Error: Kubernetes API GET \/api\/v1\/nodes\/cp-1 \(https:\/\/127\.0\.0\.1:\d+\): no answer within 200 ms$/,
      );
      assert.ok(Date.now() - started < 1_000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});

describe("Kubernetes client: bearer-token kubeconfigs and insecure-skip-tls-verify", function () {
  this.timeout(20_000);

  it("sends the user's token and skips server verification only when the kubeconfig says so", async () => {
    const server = await selfSignedServerCert(["127.0.0.1"]);
    const seen: (string | undefined)[] = [];
    const srv = https.createServer({ cert: server.crt, key: standardKeyPem(server.key) }, (req, res) => {
      seen.push(req.headers.authorization);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ kind: "NodeList", items: [] }));
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (srv.address() as net.AddressInfo).port;
      const kc = (insecure: boolean) =>
        tokenKubeconfigYaml({ server: `https://127.0.0.1:${port}`, token: "abc.def-token", insecure });
      const creds = kubeCredentials(kc(true));
      assert.equal(creds.token, "abc.def-token");
      assert.equal(creds.insecure, true);
      const r = await KubeClient.fromKubeconfig(kc(true)).request("GET", "/api/v1/nodes");
      assert.equal(r.status, 200);
      assert.deepEqual(seen, ["Bearer abc.def-token"]);
      // Without the flag the self-signed server cert is refused.
      await assert.rejects(
        KubeClient.fromKubeconfig(kc(false)).request("GET", "/api/v1/nodes"),
        /certificate/,
      );
      assert.equal(seen.length, 1);
    } finally {
      srv.close();
    }
  });
});
