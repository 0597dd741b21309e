/**
 * The fake Talos node held to the real client: Sidero's `talosctl` 1.11.5 (built from Go modules
 * by scripts/build-peers.sh) drives it as a user would, and each case asserts what a real Talos
 * 1.11.5 node answers — gRPC code and the gist of the message — naming the Talos source file the
 * answer comes from. Skipped where talosctl was not built.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { issueCert, newCa, type PemPair } from "../fakes/certs";
import { machineConfig, newTestPki, type TestPki } from "../fakes/machine-config";
import { FakeTalosNode } from "../fakes/talos-node";
import { requirePeer } from "../helpers/peers";
import { refused, Talosctl } from "./talosctl-cli";

describe("talosctl 1.11.5 against the fake Talos node (conformance)", function () {
  this.timeout(120_000);
  let cli: Talosctl | undefined;
  let pki: TestPki;
  let dir = "";
  const nodes: FakeTalosNode[] = [];
  let cp: FakeTalosNode;
  let worker: FakeTalosNode;

  const run = (args: readonly string[]) => cli!.run(args);
  const file = (name: string, text: string) => cli!.file(name, text);
  const talosconfig = (name: string, node: FakeTalosNode, ca: string, client: PemPair) =>
    cli!.talosconfig(name, node.address, ca, client);

  let admin = "";
  let reader = "";
  let stranger = "";
  let workerAdmin = "";
  const cpConfig = () => machineConfig({ pki, hostname: "cp-c" });

  before(async function () {
    const talosctl = requirePeer(this, "talosctl");
    this.timeout(180_000);
    pki = await newTestPki();
    cli = new Talosctl(talosctl, "talosctl-conformance-");
    dir = cli.dir;
    cp = await FakeTalosNode.start({ hostname: "cp-c", rebootDelayMs: 50 });
    worker = await FakeTalosNode.start({
      hostname: "w-c",
      osCa: pki.osCa,
      config: machineConfig({ pki, type: "worker", hostname: "w-c" }),
    });
    nodes.push(cp, worker);
    admin = talosconfig("admin", cp, pki.osCa.crt, pki.admin);
    reader = talosconfig(
      "reader",
      cp,
      pki.osCa.crt,
      await issueCert(pki.osCa, { subject: "O=os:reader", usage: "client" }),
    );
    const other = await newCa("talos");
    stranger = talosconfig(
      "stranger",
      cp,
      other.crt,
      await issueCert(other, { subject: "O=os:admin", usage: "client" }),
    );
    workerAdmin = talosconfig("worker", worker, pki.osCa.crt, pki.admin);
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    cli?.cleanup();
  });

  describe("maintenance mode (internal/app/maintenance/server.go)", () => {
    it("version --insecure: Unimplemented, Version is for SideroLink peers only (assertAdminRole)", async () => {
      refused(
        await run(["version", "--insecure", "-n", cp.address]),
        "Unimplemented",
        /API is not implemented in maintenance mode/,
      );
    });

    it("apply-config --insecure --mode=staged: Unimplemented", async () => {
      const r = await run([
        "apply-config",
        "--insecure",
        "-n",
        cp.address,
        "--mode=staged",
        "-f",
        file("cp.yaml", cpConfig()),
      ]);
      refused(r, "Unimplemented", /apply configuration --mode='staged' is not supported in maintenance mode/);
      assert.equal(cp.mode, "maintenance");
    });

    it("apply-config --insecure of a config that does not load: Unknown 'failed to parse config'", async () => {
      const r = await run([
        "apply-config",
        "--insecure",
        "-n",
        cp.address,
        "-f",
        file("broken.yaml", "machine: [unclosed\n"),
      ]);
      refused(r, "Unknown", /failed to parse config/);
    });

    it("apply-config --insecure of a valid config: accepted, the node reboots into mutual TLS", async () => {
      const r = await run([
        "apply-config",
        "--insecure",
        "-n",
        cp.address,
        "-f",
        file("cp.yaml", cpConfig()),
      ]);
      assert.equal(r.ok, true, r.out);
      await cp.waitForMode("normal", 20_000);
      assert.equal(cp.appliedConfig?.type, "controlplane");
    });

    it("--insecure after mutual TLS: the handshake fails (apid asks for a client certificate)", async () => {
      const r = await run([
        "apply-config",
        "--insecure",
        "-n",
        cp.address,
        "-f",
        file("cp.yaml", cpConfig()),
      ]);
      assert.equal(r.ok, false, r.out);
      assert.match(r.out, /certificate required|handshake|connection|Unavailable/i);
    });
  });

  describe("authentication and RBAC (pkg/grpc/middleware/authz, machined.go rules)", () => {
    it("version with the admin talosconfig: the node's tag", async () => {
      const r = await run(["--talosconfig", admin, "version"]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /Server:[\s\S]*Tag:\s+v1\.11\.5/);
    });

    it("a talosconfig from another bundle: refused at TLS (unknown authority)", async () => {
      const r = await run(["--talosconfig", stranger, "version"]);
      assert.equal(r.ok, false, r.out);
      assert.match(r.out, /certificate signed by unknown authority|certificate|handshake/i);
    });

    it("os:reader may read (version) but not apply, bootstrap, upgrade or reset: PermissionDenied", async () => {
      assert.equal((await run(["--talosconfig", reader, "version"])).ok, true);
      const denied = [
        ["apply-config", "-f", file("cp.yaml", cpConfig())],
        ["bootstrap"],
        ["upgrade", "--wait=false", "--image", "factory.talos.dev/installer/abc:v1.11.6"],
        ["reset", "--wait=false", "--graceful=false"],
      ];
      for (const args of denied)
        refused(await run(["--talosconfig", reader, ...args]), "PermissionDenied", /not authorized/);
      assert.equal(cp.bootstrapped, false);
    });
  });

  describe("apid's one-to-many proxying of unary calls (apid/pkg/director, pkg/backend/apid.go)", () => {
    // talosctl sends `nodes` metadata; apid proxies even one node one-to-many, appends
    // metadata.hostname = the target to the reply (AppendInfo) and turns the node's failure into a
    // reply whose metadata carries error and status (BuildError). talosctl's client turns that back
    // into `<target>: rpc error: …` and collects it (machinery client/reply.go FilterMessages,
    // NodeError; go-multierror's "1 error occurred:\n\t* …").
    it("a node's failure comes back as a reply: talosctl names the target, '1 error occurred: * 127.0.0.1: rpc error: …'", async () => {
      const members = await run(["--talosconfig", workerAdmin, "-n", "127.0.0.1", "etcd", "members"]);
      assert.equal(members.ok, false, members.out);
      assert.match(
        members.out,
        /error getting members: 1 error occurred:\n\t\* 127\.0\.0\.1: rpc error: code = Unimplemented desc = member list is only available on control plane nodes\n/,
      );
      assert.equal(worker.callsOf("EtcdMemberList").at(-1)?.code, 12);
      const bootstrap = await run(["--talosconfig", workerAdmin, "-n", "127.0.0.1", "bootstrap"]);
      assert.equal(bootstrap.ok, false, bootstrap.out);
      assert.match(
        bootstrap.out,
        /error executing bootstrap: 1 error occurred:\n\t\* 127\.0\.0\.1: rpc error: code = FailedPrecondition desc = bootstrap can only be performed on a control plane node\n/,
      );
    });

    it("a reply names the target as given to -n (AppendInfo), not the node's hostname", async () => {
      const r = await run(["--talosconfig", workerAdmin, "-n", "127.0.0.1", "version"]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /Server:\n\tNODE:\s+127\.0\.0\.1\n/);
      assert.doesNotMatch(r.out, /w-c/);
    });

    it("apid's own refusal (RBAC, before the director) stays a gRPC status", async () => {
      const workerReader = talosconfig(
        "worker-reader",
        worker,
        pki.osCa.crt,
        await issueCert(pki.osCa, { subject: "O=os:reader", usage: "client" }),
      );
      const r = await run(["--talosconfig", workerReader, "-n", "127.0.0.1", "bootstrap"]);
      refused(r, "PermissionDenied", /not authorized/);
      assert.doesNotMatch(r.out, /error occurred/);
    });
  });

  describe("etcd (v1alpha1_server.go, internal/pkg/etcd, etcd's mayRemoveMember)", () => {
    it("etcd members before bootstrap: Unknown, no control-plane endpoint yet (internal/pkg/etcd/endpoints.go)", async () => {
      refused(
        await run(["--talosconfig", admin, "etcd", "members"]),
        "Unknown",
        /no controlplane endpoints discovered yet/,
      );
    });

    it("bootstrap twice: the second is AlreadyExists 'etcd data directory is not empty'", async () => {
      assert.equal((await run(["--talosconfig", admin, "bootstrap"])).ok, true);
      refused(
        await run(["--talosconfig", admin, "bootstrap"]),
        "AlreadyExists",
        /etcd data directory is not empty/,
      );
    });

    it("etcd members: the one member, by hostname", async () => {
      const r = await run(["--talosconfig", admin, "etcd", "members"]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /cp-c\s+https:\/\/127\.0\.0\.1:2380/);
    });

    it("etcd status and services: the local member's status, etcd Running among the services", async () => {
      const status = await run(["--talosconfig", admin, "etcd", "status"]);
      assert.equal(status.ok, true, status.out);
      assert.match(status.out, /MEMBER[\s\S]*3\.6\.4/);
      const services = await run(["--talosconfig", admin, "services"]);
      assert.equal(services.ok, true, services.out);
      assert.match(services.out, /etcd\s+Running\s+OK/);
      assert.match(services.out, /trustd\s+Running/);
    });

    it("etcd remove-member of an unknown id: NotFound 'member not found'", async () => {
      refused(
        await run(["--talosconfig", admin, "etcd", "remove-member", "00000000000000ff"]),
        "NotFound",
        /failed to remove member 255: etcdserver: member not found/,
      );
    });

    it("etcd leave on the last member: etcd refuses (not enough started members)", async () => {
      refused(
        await run(["--talosconfig", admin, "etcd", "leave"]),
        "Unknown",
        /failed to leave cluster: .*re-configuration failed due to not enough started members/,
      );
      assert.equal((await run(["--talosconfig", admin, "etcd", "members"])).ok, true);
    });

    it("on a worker: etcd members and kubeconfig are Unimplemented, bootstrap FailedPrecondition", async () => {
      refused(
        await run(["--talosconfig", workerAdmin, "etcd", "members"]),
        "Unimplemented",
        /member list is only available on control plane nodes/,
      );
      refused(
        await run(["--talosconfig", workerAdmin, "etcd", "status"]),
        "Unimplemented",
        /etcd status is only available on control plane nodes/,
      );
      refused(
        await run(["--talosconfig", workerAdmin, "kubeconfig", path.join(dir, "w-kubeconfig")]),
        "Unimplemented",
        /kubeconfig is only available on control plane nodes/,
      );
      refused(
        await run(["--talosconfig", workerAdmin, "bootstrap"]),
        "FailedPrecondition",
        /bootstrap can only be performed on a control plane node/,
      );
    });

    it("kubeconfig on a control plane: an admin kubeconfig (CN=admin, O=system:masters) for the cluster", async () => {
      const out = path.join(dir, "kubeconfig");
      const r = await run(["--talosconfig", admin, "kubeconfig", "--force", out]);
      assert.equal(r.ok, true, r.out);
      const kc = YAML.parse(fs.readFileSync(out, "utf8")) as {
        users: { user: { "client-certificate-data": string } }[];
        clusters: { cluster: { server: string } }[];
      };
      assert.equal(kc.clusters[0]?.cluster.server, "https://10.0.0.10:6443");
      const crt = Buffer.from(kc.users[0]!.user["client-certificate-data"], "base64").toString();
      const { X509Certificate } = await import("node:crypto");
      assert.match(
        new X509Certificate(crt).subject,
        /O=system:masters[\s\S]*CN=admin|CN=admin[\s\S]*O=system:masters/,
      );
    });
  });

  describe("apply modes in normal mode (v1alpha1_server.go, v1alpha1_runtime.go CanApplyImmediate)", () => {
    const withEnv = () =>
      `${cpConfig()}`.replace(
        /^machine:\n/m,
        "machine:\n    env:\n        HTTPS_PROXY: http://127.0.0.1:3128\n",
      );
    const withKubeletArg = () =>
      cpConfig().replace(/^( +)kubelet:\n/m, '$1kubelet:\n$1    extraArgs:\n$1        max-pods: "150"\n');

    it("--mode=no-reboot of an immediate change (kubelet): applied without a reboot", async () => {
      const boots = cp.boots;
      const r = await run([
        "--talosconfig",
        admin,
        "apply-config",
        "--mode=no-reboot",
        "-f",
        file("k.yaml", withKubeletArg()),
      ]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /Applied configuration without a reboot/);
      assert.match(cp.appliedConfig?.yaml ?? "", /max-pods/);
      assert.equal(cp.boots, boots);
    });

    it("--mode=no-reboot of machine.env: InvalidArgument 'can't be applied in immediate mode'", async () => {
      refused(
        await run([
          "--talosconfig",
          admin,
          "apply-config",
          "--mode=no-reboot",
          "-f",
          file("env.yaml", withEnv()),
        ]),
        "InvalidArgument",
        /this config change can't be applied in immediate mode/,
      );
      assert.doesNotMatch(cp.appliedConfig?.yaml ?? "", /HTTPS_PROXY/);
    });

    it("--mode=staged: staged, the running config untouched until the next reboot", async () => {
      const r = await run([
        "--talosconfig",
        admin,
        "apply-config",
        "--mode=staged",
        "-f",
        file("env.yaml", withEnv()),
      ]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /Staged configuration to be applied after the next reboot/);
      assert.doesNotMatch(cp.appliedConfig?.yaml ?? "", /HTTPS_PROXY/);
      assert.match(cp.stagedConfig?.yaml ?? "", /HTTPS_PROXY/);
    });

    it("--mode=auto of machine.env: applied with a reboot", async () => {
      const boots = cp.boots;
      const r = await run([
        "--talosconfig",
        admin,
        "apply-config",
        "--mode=auto",
        "-f",
        file("env.yaml", withEnv()),
      ]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /Applied configuration with a reboot/);
      await cp.waitForMode("rebooting", 10_000);
      await cp.waitForMode("normal", 20_000);
      assert.equal(cp.boots, boots + 1);
      assert.match(cp.appliedConfig?.yaml ?? "", /HTTPS_PROXY/);
    });
  });

  describe("upgrade and reset (v1alpha1_server.go Upgrade/Reset)", () => {
    it("upgrade --wait=false: acknowledged, the node comes back on the new version", async () => {
      const r = await run([
        "--talosconfig",
        admin,
        "upgrade",
        "--wait=false",
        "--image",
        "factory.talos.dev/installer/abc:v1.11.6",
      ]);
      assert.equal(r.ok, true, r.out);
      await cp.waitForMode("rebooting", 10_000);
      await cp.waitForMode("normal", 20_000);
      assert.equal(cp.runningVersion, "v1.11.6");
    });

    it("reset --graceful=false --reboot --wait=false: the node is back in maintenance mode", async () => {
      const r = await run(["--talosconfig", admin, "reset", "--graceful=false", "--reboot", "--wait=false"]);
      assert.equal(r.ok, true, r.out);
      await cp.waitForMode("maintenance", 20_000);
      assert.equal(cp.appliedConfig, undefined);
    });
  });
});
