/**
 * Fault injection against the Kubernetes client (components/kube/client.ts): a purpose-built HTTPS
 * server on loopback answers each request as the test scripts it, imitating what sits between the
 * program and kube-apiserver when things go wrong: a proxy's HTML error page (with 200 or 503 and
 * Retry-After), a body cut into invalid JSON, a list without `items`, 429/410 Status objects as
 * kube-apiserver 1.34 sends them (k8s.io/apimachinery metav1.Status), a redirect to another
 * host, an answer whose body never ends or never stops, and server certificates for another
 * address or expired. Each must fail fast naming the request and server (or be waited through
 * when transient, bounded), never read as an empty success, never follow a redirect with the
 * credentials, and never print the bearer token or key material.
 */
import * as assert from "node:assert/strict";
import type * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { KubeApiError, KubeClient, kubeCredentials, MAX_RESPONSE_BYTES } from "../../components/kube/client";
import { credentialsFromTalosconfig } from "../../components/talos/resources/credentials";
import { checkReadyz } from "../../components/talos/resources/logic/ready";
import { issueCert, newCa, type PemPair, standardKeyPem } from "../fakes/certs";
import { tokenKubeconfigYaml } from "../fakes/kube-api";

const TOKEN = "abcdef.0123456789abcdef";
const quiet = { pollMs: 20, log: (_m: string) => undefined };

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface Scripted {
  readonly url: string;
  readonly seen: { method: string; path: string; auth: string | undefined }[];
  close(): Promise<void>;
}

const status = (code: number, reason: string, message: string) => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message,
  reason,
  code,
});

function json(res: http.ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(code, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

const readyNode = (name: string) => ({
  kind: "Node",
  apiVersion: "v1",
  metadata: { name },
  spec: {},
  status: { conditions: [{ type: "Ready", status: "True" }], nodeInfo: { kubeletVersion: "v1.34.1" } },
});

describe("Kubernetes client: faults from a broken or hostile peer", function () {
  this.timeout(30_000);
  let ca: PemPair;
  let good: PemPair;
  const servers: Scripted[] = [];

  before(async () => {
    ca = await newCa("kubernetes");
    good = await issueCert(ca, {
      subject: "CN=kube-apiserver",
      usage: "server",
      ips: ["127.0.0.1", "127.0.0.2"],
    });
  });

  after(async () => {
    for (const s of servers) await s.close();
  });

  async function serve(handler: Handler, o: { cert?: PemPair; host?: string } = {}): Promise<Scripted> {
    const seen: Scripted["seen"] = [];
    const sockets = new Set<import("node:stream").Duplex>();
    const cert = o.cert ?? good;
    const server = https.createServer({ cert: cert.crt, key: standardKeyPem(cert.key) }, (req, res) => {
      seen.push({ method: req.method ?? "", path: req.url ?? "", auth: req.headers.authorization });
      handler(req, res);
    });
    server.on("connection", (s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    const host = o.host ?? "127.0.0.1";
    await new Promise<void>((r) => server.listen(0, host, () => r()));
    const s: Scripted = {
      url: `https://${host}:${(server.address() as AddressInfo).port}`,
      seen,
      close: () =>
        new Promise<void>((r) => {
          for (const sock of sockets) sock.destroy();
          server.close(() => r());
        }),
    };
    servers.push(s);
    return s;
  }

  const kubeconfig = (server: string) => tokenKubeconfigYaml({ server, token: TOKEN, ca: ca.crt });

  const client = (s: Scripted, timeoutMs = 2000) =>
    KubeClient.fromKubeconfig(kubeconfig(s.url), { timeoutMs });

  /** Rejects; the error names the request, carries no token; returns it. */
  async function failure(p: Promise<unknown>): Promise<Error> {
    const e = await p.then(
      (v) => assert.fail(`resolved with ${JSON.stringify(v)}`),
      (err: unknown) => err,
    );
    assert.ok(e instanceof Error);
    assert.ok(!e.message.includes(TOKEN), "token in the message");
    return e;
  }

  it("a 200 whose body is not JSON (cut short) is an error, not an empty Node", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"kind":"Node","metadata":{"name":"cp-1"},"status":{"condi');
    });
    const e = await failure(client(s).nodeStatus("cp-1"));
    assert.ok(e instanceof KubeApiError);
    assert.equal(e.reason, "InvalidResponse");
    assert.match(
      e.message,
      /^Kubernetes API GET \/api\/v1\/nodes\/cp-1: HTTP 200 InvalidResponse: answer is not a JSON object/,
    );
  });

  for (const [what, body, ctype] of [
    ["a proxy's HTML page", "<html><body>Welcome to nginx</body></html>", "text/html"],
    [
      "a list without items",
      JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: {} }),
      "application/json",
    ],
  ] as const) {
    it(`drain does not report success when the pod list is ${what}`, async () => {
      const s = await serve((req, res) => {
        if (req.url?.startsWith("/api/v1/nodes/cp-1")) return json(res, 200, readyNode("cp-1"));
        res.writeHead(200, { "content-type": ctype });
        res.end(body);
      });
      const e = await failure(client(s).drain("cp-1", { timeoutMs: 2000, ...quiet }));
      assert.ok(e instanceof KubeApiError, String(e));
      assert.match(
        e.message,
        /GET \/api\/v1\/pods\?fieldSelector=spec\.nodeName%3Dcp-1: HTTP 200 InvalidResponse/,
      );
      assert.ok(!s.seen.some((r) => r.path.endsWith("/eviction")), "nothing evicted on a made-up list");
    });
  }

  it("a 503 HTML page with Retry-After and a 429 are waited through, bounded, then Ready is seen", async () => {
    let n = 0;
    const s = await serve((_req, res) => {
      n++;
      if (n === 1) {
        res.writeHead(503, { "content-type": "text/html", "retry-after": "1" });
        return res.end("<html>502 Bad Gateway</html>");
      }
      if (n === 2)
        return json(res, 429, status(429, "TooManyRequests", "too many requests"), { "retry-after": "1" });
      json(res, 200, readyNode("cp-1"));
    });
    const st = await client(s).waitNodeReady("cp-1", { timeoutMs: 5000, ...quiet });
    assert.equal(st.ready, true);
    assert.equal(n, 3);
  });

  it("drain retries an eviction or a pod list that fails transiently (500, 503), within its deadline", async () => {
    let evictions = 0;
    let lists = 0;
    const pod = { metadata: { namespace: "default", name: "web-1", uid: "u1" }, spec: { nodeName: "cp-1" } };
    const s = await serve((req, res) => {
      if (req.url?.startsWith("/api/v1/nodes/cp-1")) return json(res, 200, readyNode("cp-1"));
      if (req.url?.endsWith("/eviction")) {
        evictions++;
        if (evictions === 1)
          return json(res, 500, status(500, "InternalError", "etcdserver: leader changed"));
        return json(res, 201, { kind: "Status", apiVersion: "v1", status: "Success", code: 201 });
      }
      lists++;
      if (lists === 2) {
        res.writeHead(503, { "content-type": "text/html", "retry-after": "1" });
        return res.end("<html>503 Service Unavailable</html>");
      }
      json(res, 200, { kind: "PodList", apiVersion: "v1", metadata: {}, items: lists === 1 ? [pod] : [] });
    });
    const r = await client(s).drain("cp-1", { timeoutMs: 3000, ...quiet });
    assert.deepEqual(r.evicted, ["default/web-1"]);
    assert.equal(evictions, 2);
    assert.equal(lists, 3);
  });

  it("drain does not retry an eviction the API refuses for good (403)", async () => {
    const pod = { metadata: { namespace: "default", name: "web-1", uid: "u1" }, spec: { nodeName: "cp-1" } };
    const s = await serve((req, res) => {
      if (req.url?.startsWith("/api/v1/nodes/cp-1")) return json(res, 200, readyNode("cp-1"));
      if (req.url?.endsWith("/eviction"))
        return json(res, 403, status(403, "Forbidden", "pods/eviction is forbidden"));
      json(res, 200, { kind: "PodList", apiVersion: "v1", metadata: {}, items: [pod] });
    });
    const e = await failure(client(s).drain("cp-1", { timeoutMs: 3000, ...quiet }));
    assert.ok(e instanceof KubeApiError && e.status === 403, String(e));
    assert.equal(s.seen.filter((r) => r.path.endsWith("/eviction")).length, 1);
  });

  it("a transient 500 that never ends fails at the wait's bound, saying what it last saw", async () => {
    const s = await serve((_req, res) =>
      json(res, 500, status(500, "InternalError", "etcdserver: leader changed")),
    );
    const started = Date.now();
    const e = await failure(client(s).waitNodeReady("cp-1", { timeoutMs: 300, ...quiet }));
    assert.match(
      e.message,
      /timed out after .* waiting for node cp-1 to be Ready; last seen: no answer: .*HTTP 500 InternalError: etcdserver: leader changed/,
    );
    assert.ok(Date.now() - started < 2500);
  });

  it("an error page that echoes the request headers does not bring the token into the error", async () => {
    const s = await serve((req, res) => {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end(`Bad Request\nAuthorization: ${req.headers.authorization}\n`);
    });
    const e = await failure(client(s).nodeStatus("cp-1"));
    assert.ok(e instanceof KubeApiError && e.status === 400);
    assert.match(e.message, /Authorization: Bearer \[redacted token\]/);
  });

  it("410 Gone is not waited through", async () => {
    const s = await serve((_req, res) => json(res, 410, status(410, "Gone", "too old resource version")));
    const e = await failure(client(s).waitNodeReady("cp-1", { timeoutMs: 10_000, ...quiet }));
    assert.ok(e instanceof KubeApiError && e.status === 410);
    assert.equal(s.seen.length, 1);
  });

  it("a redirect to another host is not followed, so the token never leaves for it", async () => {
    const other = await serve((_req, res) => json(res, 200, readyNode("cp-1")), { host: "127.0.0.2" });
    const s = await serve((req, res) => {
      res.writeHead(307, { location: `${other.url}${req.url}` });
      res.end();
    });
    const e = await failure(client(s).nodeStatus("cp-1"));
    assert.ok(e instanceof KubeApiError && e.status === 307, String(e));
    assert.equal(other.seen.length, 0);
    assert.equal(s.seen[0]?.auth, `Bearer ${TOKEN}`);
  });

  it("an answer whose body never ends is bounded by the per-request deadline", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"kind":"Node",');
    });
    const started = Date.now();
    const e = await failure(client(s, 300).nodeStatus("cp-1"));
    assert.match(
      e.message,
      /^Kubernetes API GET \/api\/v1\/nodes\/cp-1 \(https:\/\/127\.0\.0\.1:\d+\): no answer within 300 ms$/,
    );
    assert.ok(Date.now() - started < 1500);
  });

  it("an answer that never stops growing is cut at the size bound, not held in memory", async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const pump = () => {
        while (res.write(chunk)) {
          if (res.destroyed) return;
        }
        res.once("drain", pump);
      };
      res.on("close", () => res.removeAllListeners("drain"));
      pump();
    });
    const e = await failure(client(s, 20_000).nodeStatus("cp-1"));
    assert.match(e.message, new RegExp(`answer larger than ${MAX_RESPONSE_BYTES} bytes, refused$`));
  });

  for (const [what, cert] of [
    ["for another address", () => issueCert(ca, { subject: "CN=x", usage: "server", ips: ["127.0.0.2"] })],
    [
      "that has expired",
      () => issueCert(ca, { subject: "CN=x", usage: "server", ips: ["127.0.0.1"], validDays: -1 }),
    ],
  ] as const) {
    it(`a server certificate ${what} is refused before the token is sent`, async () => {
      const s = await serve((_req, res) => json(res, 200, readyNode("cp-1")), { cert: await cert() });
      const e = await failure(client(s).nodeStatus("cp-1"));
      assert.match(e.message, /^Kubernetes API GET \/api\/v1\/nodes\/cp-1 \(https:\/\/127\.0\.0\.1:\d+\): /);
      assert.match(
        String((e.cause as NodeJS.ErrnoException).code),
        /ERR_TLS_CERT_ALTNAME_INVALID|CERT_HAS_EXPIRED/,
      );
      assert.equal(s.seen.length, 0);
    });
  }

  it("/readyz: a proxy's 200 page is not ready; only kube-apiserver's 200 \"ok\" is", async () => {
    let page = "<html>Welcome</html>";
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(page);
    });
    assert.equal(await checkReadyz(kubeconfig(s.url), 2000), false);
    page = "ok";
    assert.equal(await checkReadyz(kubeconfig(s.url), 2000), true);
  });

  for (const [what, handler] of [
    [
      "headers then silence",
      (_req: http.IncomingMessage, res: http.ServerResponse) => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("o");
      },
    ],
    [
      "a byte every 100 ms, forever",
      (_req: http.IncomingMessage, res: http.ServerResponse) => {
        res.writeHead(200, { "content-type": "text/plain" });
        const t = setInterval(() => res.write(" "), 100);
        res.on("close", () => clearInterval(t));
      },
    ],
  ] as const) {
    it(`/readyz answering with ${what} ends within its bound`, async () => {
      const s = await serve(handler);
      const started = Date.now();
      const r = await Promise.race([
        checkReadyz(kubeconfig(s.url), 400).then(
          (v) => `resolved ${v}`,
          (e: unknown) => `rejected ${e instanceof Error ? e.message : String(e)}`,
        ),
        new Promise<string>((res) => setTimeout(() => res("still waiting after 3 s"), 3000)),
      ]);
      assert.match(
        r,
        /^rejected Kubernetes API GET \/readyz \(https:\/\/127\.0\.0\.1:\d+\): no answer within 400 ms$/,
      );
      assert.ok(Date.now() - started < 1500);
    });
  }

  it("a malformed kubeconfig or talosconfig is refused without quoting its key material", () => {
    const key = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tc2VjcmV0";
    const kc = `users:\n- name: u\n  user:\n    client-key-data: ${key}: [oops\n`;
    assert.throws(
      () => kubeCredentials(kc),
      (e: unknown) =>
        e instanceof Error &&
        /^kubeconfig is not valid YAML: .* at line 4, column \d+$/.test(e.message) &&
        !e.message.includes(key),
    );
    const tc = `context: x\ncontexts:\n  x:\n    key: ${key}: [oops\n`;
    assert.throws(
      () => credentialsFromTalosconfig(tc),
      (e: unknown) =>
        e instanceof Error && /^talosconfig is not valid YAML: /.test(e.message) && !e.message.includes(key),
    );
    assert.throws(() => kubeCredentials("clusters: {a: 1}\n"), /not a Config document/);
  });
});
