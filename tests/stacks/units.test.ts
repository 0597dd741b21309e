import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { TLSSocket } from "node:tls";
import { ConfigError } from "../../components/config/errors";
import { parseArgs } from "../../stacks/cli";
import { runOperation } from "../../stacks/commands/operation";
import type { Context } from "../../stacks/context";
import { clusterNameFor, ephemeralConfig, shiftIp, shiftIps } from "../../stacks/ephemeral-config";
import { parseKubeconfig } from "../../stacks/kube";
import { formatDuration, Progress, plainText, shortUrn } from "../../stacks/progress";
import { kubeSmoke } from "../../stacks/smoke";
import { engineBinDir, openStack, workspaceEnv } from "../../stacks/workspace";
import { issueCert, newCa, standardKeyPem } from "../fakes/certs";
import { kubeconfigYaml } from "../fakes/kube-api";
import { ALL_PLUGINS, capture, cfg, homelabConfig, Sandbox } from "./harness";

describe("stacks units", () => {
  it("shifts IPv4 addresses, ranges and URLs", () => {
    assert.equal(shiftIp("192.168.50.250", 10), "192.168.51.4");
    assert.equal(shiftIps("192.168.50.200-192.168.50.220", 100), "192.168.51.44-192.168.51.64");
    assert.equal(shiftIps("https://10.0.0.1:6443", 5), "https://10.0.0.6:6443");
    assert.equal(clusterNameFor("Homelab_eph.2026"), "homelab-eph-2026");
  });

  it("ephemeral config: host-name endpoints dropped, CIDR pools refused, secrets kept", () => {
    const base = homelabConfig({
      "proxmox-talos:controlPlane": cfg({ vip: "192.168.50.10", endpoint: "https://k8s.example.lan:6443" }),
    });
    const out = ephemeralConfig(base, "x", { vmidOffset: 1, ipOffset: 1 });
    assert.deepEqual(JSON.parse(out["proxmox-talos:controlPlane"].value), { vip: "192.168.50.11" });
    assert.equal(out["proxmox-talos:proxmoxApiToken"].secret, true);
    const cidr = homelabConfig({
      "proxmox-talos:addons": cfg({
        metallb: { enabled: true, pools: [{ name: "p", addresses: ["10.0.0.0/28"] }] },
      }),
    });
    assert.throws(() => ephemeralConfig(cidr, "x", { vmidOffset: 1, ipOffset: 1 }), /is a CIDR/);
  });

  it("ephemeral config: Cilium pools, the Gateway address and UI ip:port shift with the nodes", () => {
    const addons = {
      cilium: {
        enabled: true,
        loadBalancer: "l2",
        pools: [{ name: "d", addresses: ["192.168.50.200-192.168.50.220"] }],
      },
      gateway: { enabled: true, domain: "home.example.com", address: "192.168.50.200" },
      headlamp: { enabled: true, expose: { loadBalancer: "192.168.50.202:8080" } },
      monitoring: { enabled: true, grafana: { expose: { hostname: "grafana.home.example.com" } } },
    };
    const out = ephemeralConfig(homelabConfig({ "proxmox-talos:addons": cfg(addons) }), "x", {
      vmidOffset: 1,
      ipOffset: 5,
    });
    const shifted = JSON.parse(out["proxmox-talos:addons"].value);
    assert.deepEqual(shifted.cilium.pools, [{ name: "d", addresses: ["192.168.50.205-192.168.50.225"] }]);
    assert.equal(shifted.gateway.address, "192.168.50.205");
    assert.equal(shifted.headlamp.expose.loadBalancer, "192.168.50.207:8080");
    assert.deepEqual(shifted.monitoring, addons.monitoring);
    const cidr = homelabConfig({
      "proxmox-talos:addons": cfg({
        cilium: { loadBalancer: "l2", pools: [{ name: "p", addresses: ["10.0.0.0/28"] }] },
      }),
    });
    assert.throws(
      () => ephemeralConfig(cidr, "x", { vmidOffset: 1, ipOffset: 1 }),
      /Cilium pool address 10\.0\.0\.0\/28 is a CIDR/,
    );
  });

  it("parses flags", () => {
    assert.deepEqual(parseArgs(["ephemeral", "lab", "--ip-offset=3", "--vmid-offset", "7", "--json"]), {
      command: "ephemeral",
      stack: "lab",
      flags: { "ip-offset": "3", "vmid-offset": "7", json: true },
    });
  });

  it("progress helpers", () => {
    assert.equal(plainText("<{%fg 1%}>boom<{%reset%}>\u001b[31m!\u001b[0m"), "boom!");
    assert.equal(
      shortUrn("urn:pulumi:dev::proxmox-talos::proxmox-talos:index:Cluster$talos:Node::cp-1"),
      "talos:Node cp-1",
    );
    assert.equal(formatDuration(65_000), "1m05s");
  });

  it("workspace env: file backend in the project, env overrides, engine dir on PATH", () => {
    const root = path.resolve(__dirname, "../..");
    const def = workspaceEnv(root, { PATH: "/usr/bin", HOME: "/nonexistent-home" });
    assert.equal(def.PULUMI_BACKEND_URL, `file://${root}/.pulumi`);
    assert.equal(def.PULUMI_CONFIG_PASSPHRASE, "");
    assert.equal(def.PULUMI_SKIP_UPDATE_CHECK, "true");
    assert.equal(def.PATH, "/usr/bin");
    const bin = fs.mkdtempSync("/tmp/engine-bin-");
    const own = workspaceEnv(root, {
      PATH: "/usr/bin",
      PULUMI_BACKEND_URL: "s3://bucket",
      PULUMI_CONFIG_PASSPHRASE_FILE: "/run/pass",
      PULUMI_ENGINE_DIR: bin,
    });
    assert.equal(own.PULUMI_BACKEND_URL, "s3://bucket");
    assert.equal(own.PULUMI_CONFIG_PASSPHRASE_FILE, "/run/pass");
    assert.equal(own.PULUMI_CONFIG_PASSPHRASE, undefined);
    assert.equal(own.PATH, `${bin}:/usr/bin`);
    fs.rmSync(bin, { recursive: true });
    assert.match(
      engineBinDir({ HOME: "/h" }, "3.250.0"),
      /^\/h\/\.cache\/proxmox-talos\/pulumi-3\.250\.0\/bin$/,
    );
  });

  it("an invalid config is reported with the program's own message, no stack", async function () {
    this.timeout(20_000);
    const sb = new Sandbox({ stacks: { dev: { config: {} } }, plugins: ALL_PLUGINS });
    try {
      const configError = new ConfigError("proxmox-talos", [
        { path: "nodes[0].ip", message: "is outside network.cidr", fix: "use an address in 192.168.50.0/24" },
        { path: "clusterName", message: "is not a DNS label" },
      ]);
      const opened = await openStack("dev", "select", {
        ...(await sb.workspace()),
        program: async () => {
          throw configError;
        },
      });
      const program = opened.workspace.program;
      assert.ok(program);
      // Stand in for the engine: run the inline program, then fail as the CLI would.
      opened.stack.up = async () => {
        await program();
        throw new Error("engine: update failed");
      };
      const out = capture();
      const ctx: Context = { out, err: capture(), mode: "plain", workspace: {} };
      const r = await runOperation(ctx, opened, "up");
      assert.equal(r.ok, false);
      assert.equal(r.error, configError.message);
      assert.ok(
        out.text.includes(
          `[up dev] error: invalid stack config (2 problems):\n  - proxmox-talos:nodes[0].ip`,
        ),
      );
      assert.ok(!out.text.includes("    at "), "stack trace printed");
    } finally {
      sb.dispose();
    }
  });
});

describe("smoke checks against a fake Kubernetes API (loopback HTTPS, client cert)", function () {
  this.timeout(30_000);
  let server: https.Server | undefined;
  afterEach(() => server?.close());

  async function fakeApi(opts: { nodeReady: boolean }) {
    const ca = await newCa("kubernetes");
    const srv = await issueCert(ca, { subject: "CN=kube-apiserver", usage: "server", ips: ["127.0.0.1"] });
    const client = await issueCert(ca, { subject: "O=system:masters, CN=admin", usage: "client" });
    const seen: string[] = [];
    let pvcGets = 0;
    let svcGets = 0;
    server = https.createServer(
      {
        key: standardKeyPem(srv.key),
        cert: srv.crt,
        ca: ca.crt,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        seen.push(`${req.method} ${req.url} ${String(peer.subject?.CN)}`);
        req.resume();
        const json = (status: number, body: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        };
        const ready = (r: boolean) => ({
          status: { conditions: [{ type: "Ready", status: r ? "True" : "False" }] },
        });
        const url = req.url ?? "";
        if (req.method === "POST") return json(201, {});
        if (req.method === "DELETE") return json(200, {});
        if (url === "/api/v1/nodes") {
          return json(200, {
            items: [
              { metadata: { name: "cp-1" }, ...ready(true) },
              { metadata: { name: "worker-1" }, ...ready(opts.nodeReady) },
            ],
          });
        }
        if (url === "/api/v1/pods") {
          return json(200, {
            items: [
              {
                metadata: { namespace: "kube-system", name: "cilium-x" },
                status: { phase: "Running", containerStatuses: [{ ready: true }] },
              },
              { metadata: { namespace: "openebs", name: "job" }, status: { phase: "Succeeded" } },
            ],
          });
        }
        if (url === "/apis/storage.k8s.io/v1/storageclasses") {
          return json(200, {
            items: [
              {
                metadata: {
                  name: "openebs-hostpath",
                  annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
                },
              },
            ],
          });
        }
        if (url.endsWith("/persistentvolumeclaims/smoke")) {
          pvcGets++;
          return json(200, { status: { phase: pvcGets < 2 ? "Pending" : "Bound" } });
        }
        if (url.endsWith("/services/smoke")) {
          svcGets++;
          return json(200, {
            status: { loadBalancer: svcGets < 3 ? {} : { ingress: [{ ip: "192.168.50.201" }] } },
          });
        }
        return json(404, { message: `no ${url}` });
      },
    );
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const kubeconfig = kubeconfigYaml({
      server: `https://127.0.0.1:${port}`,
      ca: ca.crt,
      client: { crt: client.crt, key: standardKeyPem(client.key) },
      clusterName: "lab",
    });
    return { kubeconfig, seen };
  }

  it("parses the kubeconfig's current context", async () => {
    const { kubeconfig } = await fakeApi({ nodeReady: true });
    const t = parseKubeconfig(kubeconfig);
    assert.match(t.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(t.ca && t.cert && t.key);
  });

  it("passes on a healthy cluster, polling until PVC binds and the LB IP appears", async () => {
    const { kubeconfig, seen } = await fakeApi({ nodeReady: true });
    const logs: string[] = [];
    const results = await kubeSmoke({ timeoutMs: 5_000, intervalMs: 10 })(
      kubeconfig,
      { nodes: 2, storage: true, loadBalancer: true },
      (l) => logs.push(l),
    );
    assert.deepEqual(
      results.map((r) => [r.name, r.ok]),
      [
        ["nodes Ready", true],
        ["addon pods Running", true],
        ["PVC binds on the default StorageClass", true],
        ["LoadBalancer Service gets a MetalLB IP", true],
      ],
    );
    assert.match(results[3].detail, /192\.168\.50\.201/);
    assert.ok(
      seen.every((s) => s.endsWith(" admin")),
      "client certificate not presented",
    );
    assert.ok(
      seen.some((s) => s.startsWith("POST /api/v1/namespaces/proxmox-talos-smoke/persistentvolumeclaims")),
    );
    assert.ok(seen.some((s) => s.startsWith("DELETE /api/v1/namespaces/proxmox-talos-smoke")));
  });

  it("fails the node check when a node stays NotReady", async () => {
    const { kubeconfig } = await fakeApi({ nodeReady: false });
    const results = await kubeSmoke({ timeoutMs: 100, intervalMs: 20 })(
      kubeconfig,
      { nodes: 2, storage: false, loadBalancer: false },
      () => undefined,
    );
    assert.equal(results[0].ok, false);
    assert.match(results[0].detail, /1\/2 nodes Ready \(not ready: worker-1\)/);
  });
});

describe("stacks progress", () => {
  it("reports a program error once, in the summary, without its stack trace", () => {
    const out = capture();
    const p = new Progress({ mode: "plain", out, operation: "up", stack: "dev", now: () => 0 });
    const stackUrn = "urn:pulumi:dev::proxmox-talos::pulumi:pulumi:Stack::proxmox-talos-dev";
    p.onEvent({
      sequence: 1,
      timestamp: 0,
      diagnosticEvent: {
        urn: stackUrn,
        message: "Unhandled exception: Error: boom\n    at foo (/x.ts:1:1)\n    at bar (/y.ts:2:2)\n",
        color: "raw",
        severity: "error",
      },
    });
    p.onEvent({
      sequence: 2,
      timestamp: 0,
      diagnosticEvent: { urn: stackUrn, message: "update failed", color: "raw", severity: "error" },
    });
    assert.equal(p.mainError, "boom");
    p.finish({ ok: false, error: p.mainError });
    assert.equal(out.text, "[up dev] starting\n[up dev] failed in 0s — no changes\n[up dev] error: boom\n");
  });
});
