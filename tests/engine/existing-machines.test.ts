/**
 * The WHOLE program (`clusterProgram` from program.ts, run inline by the stacks/ runner's workspace
 * helpers) under the REAL engine (built by `npm run engine`) for an "existing machines" stack —
 * no `proxmox` section, addons off — against fake Talos nodes sitting where the program dials apid
 * (`<node ip>:50000`, loopback addresses) and a fake Kubernetes API on the VIP (`https://<vip>:6443`,
 * server cert from the bundle's Kubernetes CA) for ClusterReady's /readyz. The secrets bundle is
 * adopted through the secret config key `talosSecrets`, so the worker's fake gets the OS CA.
 *
 * up creates the Talos resources → the state holds none of the secret values → a second preview
 * changes nothing → a patch change plans an update of that node only → `--policy-pack policy`
 * passes on the good layout and fails with the rule's message on a violating one → destroy empties
 * the stack. Prints the up's wall time against the critical path of the fakes' simulated delays.
 * Skipped with a message when the engine is not built.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type EngineEvent, PulumiCommand } from "@pulumi/pulumi/automation";
import * as YAML from "yaml";
import { generateSecretsBundle, serializeSecretsYaml } from "../../components/talos/pki/secrets";
import type { SecretsBundle } from "../../components/talos/types";
import { clusterProgram } from "../../program";
import { runOperation } from "../../stacks/commands/operation";
import type { Context } from "../../stacks/context";
import { type OpenedStack, openStack } from "../../stacks/workspace";
import { FakeKubeApi } from "../fakes/kube-api";
import { FakeTalosNode } from "../fakes/talos-node";
import { changes, ENGINE_BIN, requireEngine, writeProject } from "../helpers/engine";
import { PROJECT_ROOT } from "../helpers/shared";
import { type Capture, capture } from "../stacks/harness";

const POLICY_DIR = path.join(PROJECT_ROOT, "policy");
const STACK = "edge";
const NS = "proxmox-talos";

/**
 * Loopback addresses only: a /24 of 127.0.0.0/8 picked at random per run, so two runs of the suite
 * on one machine (the fixed ports 50000 and 6443 are where the program dials) do not collide.
 */
const NET = `127.${77 + crypto.randomInt(100)}.${1 + crypto.randomInt(250)}`;
const VIP = `${NET}.10`;
/**
 * Simulated reboot after the maintenance-mode apply. Large enough that the engine's fixed costs
 * (CLI start, provider plugin start, program run, checkpoints) are amortized against it, small
 * enough to keep the file well under two minutes.
 */
const REBOOT_MS = 45_000;
const NODES = [
  { name: "cp-1", role: "controlplane", ip: `${NET}.11`, proxmoxNode: "pve1" },
  { name: "cp-2", role: "controlplane", ip: `${NET}.12`, proxmoxNode: "pve2" },
  { name: "cp-3", role: "controlplane", ip: `${NET}.13`, proxmoxNode: "pve1" },
  { name: "worker-1", role: "worker", ip: `${NET}.21`, proxmoxNode: "pve2" },
] as const;
/** Upper bound asserted for wall / critical path (the goal is ≤ 1.15; this catches regressions). */
const RATIO_BOUND = 1.35;

type Node = { name: string; role: string; ip: string; proxmoxNode?: string; patches?: unknown[] };

/** The stack file: existing machines (no proxmox section), addons off, flannel as CNI. */
function stackFile(nodes: readonly Node[]): string {
  return YAML.stringify({
    config: {
      [`${NS}:clusterName`]: "edge",
      [`${NS}:controlPlane`]: { vip: VIP },
      [`${NS}:network`]: {
        cidr: `${NET}.0/24`,
        gateway: `${NET}.1`,
        dnsServers: [`${NET}.1`],
        cni: "flannel",
      },
      // Freshly booted machines: their first apply may use the maintenance API.
      [`${NS}:nodes`]: nodes.map((n) => ({ ...n, newMachine: true })),
      [`${NS}:addons`]: { cilium: { enabled: false } },
      [`${NS}:rollout`]: { nodeTimeoutSeconds: 120 },
    },
  });
}

/** The policy pack config of the test: the spread rule made mandatory (advisory by default). */
const POLICY_CONFIG = { "cluster-control-plane-spread": { enforcementLevel: "mandatory" } };

/** Secret values of the bundle and of the client configs, as they could appear in a file. */
function secretValues(bundle: SecretsBundle, outputs: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  const pemBody = (pem: string) =>
    pem
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"))
      .join("")
      .slice(0, 48);
  const b64 = (s: string) => Buffer.from(s).toString("base64").slice(8, 72);
  const keys: Record<string, string> = {
    "os CA key": bundle.certs.os.key,
    "k8s CA key": bundle.certs.k8s.key,
    "etcd CA key": bundle.certs.etcd.key,
    "aggregator CA key": bundle.certs.k8sAggregator.key,
    "service account key": bundle.certs.k8sServiceAccount.key,
  };
  for (const [what, pem] of Object.entries(keys)) {
    out.set(`${what} (PEM body)`, pemBody(pem));
    out.set(`${what} (base64 PEM, as in machine configs)`, b64(pem));
  }
  out.set("cluster secret", bundle.cluster.secret);
  out.set("bootstrap token", bundle.secrets.bootstrapToken);
  out.set("trustd token", bundle.trustdInfo.token);
  if (bundle.secrets.secretboxEncryptionSecret)
    out.set("secretbox secret", bundle.secrets.secretboxEncryptionSecret);
  const kube = YAML.parse(outputs.kubeconfig ?? "") as { users?: { user: Record<string, string> }[] } | null;
  const kubeKey = kube?.users?.[0]?.user["client-key-data"];
  assert.ok(kubeKey, "the kubeconfig output has a client key");
  out.set("kubeconfig client key", kubeKey.slice(8, 72));
  const talos = YAML.parse(outputs.talosconfig ?? "") as {
    contexts?: Record<string, { key?: string }>;
  } | null;
  const talosKey = Object.values(talos?.contexts ?? {})[0]?.key;
  assert.ok(talosKey, "the talosconfig output has a client key");
  out.set("talosconfig client key", talosKey.slice(8, 72));
  return out;
}

describe("the whole program under the real engine: existing machines, fake Talos nodes on loopback", function () {
  this.timeout(240_000);
  let dir = "";
  let opened: OpenedStack | undefined;
  let fakes: FakeTalosNode[] = [];
  let kube: FakeKubeApi | undefined;
  let bundle: SecretsBundle;
  const timings: Record<string, number> = {};
  /** Date.now() when each fake came back from its reboot into normal mode. */
  const upAt = new Map<string, number>();

  before(async function () {
    requireEngine(this, "pulumi-resource-pulumi-nodejs", "pulumi-analyzer-policy-nodejs");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-existing-"));
    const project = path.join(dir, "project");
    writeProject(project);
    fs.writeFileSync(path.join(project, `Pulumi.${STACK}.yaml`), stackFile(NODES));
    fs.writeFileSync(path.join(dir, "policy-config.json"), JSON.stringify(POLICY_CONFIG));

    bundle = await generateSecretsBundle();
    fakes = await Promise.all(
      NODES.map((n) =>
        FakeTalosNode.start({
          hostname: n.name,
          ip: n.ip,
          listenHost: n.ip,
          port: 50000,
          osCa: bundle.certs.os,
          rebootDelayMs: REBOOT_MS,
          // This suite times the engine against the fakes' critical path: a Go process judging each
          // config would count as engine overhead. The same configs are judged by Sidero's machinery
          // in the other suites (tests/talos-cluster, tests/day2, tests/render).
          configJudge: "structure",
        }),
      ),
    );
    kube = await FakeKubeApi.start({ ca: bundle.certs.k8s, listenHost: VIP, port: 6443 });

    fs.mkdirSync(path.join(dir, "state"), { recursive: true });
    const t0 = Date.now();
    opened = await openStack(STACK, "create", {
      projectRoot: project,
      env: {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "engine-existing-machines",
      },
      pulumiCommand: await PulumiCommand.get({ root: path.dirname(ENGINE_BIN), skipVersionCheck: true }),
      program: clusterProgram,
    });
    // Never let the engine fetch a missing plugin from the internet: such a run must fail here.
    opened.workspace.envVars.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = "true";
    await opened.stack.setConfig(`${NS}:talosSecrets`, { value: serializeSecretsYaml(bundle), secret: true });
    timings.createStack = Date.now() - t0;
  });

  after(async () => {
    if (opened) await opened.workspace.removeStack(opened.stack.name, { force: true }).catch(() => undefined);
    await Promise.all(fakes.map((f) => f.close()));
    await kube?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (Object.keys(timings).length > 0) console.log(`      engine timings (ms): ${JSON.stringify(timings)}`);
  });

  const ctx = (out: Capture): Context => ({ out, err: capture(), mode: "plain", workspace: {} });
  const statePath = () => path.join(dir, "state", ".pulumi", "stacks", "proxmox-talos", `${STACK}.json`);

  async function run(op: "preview" | "destroy", label: string, out: Capture) {
    assert.ok(opened);
    const t0 = Date.now();
    const r = await runOperation(ctx(out), opened, op);
    timings[label] = Date.now() - t0;
    return r;
  }

  it("up creates the Talos resources through the real engine; wall time vs the fakes' critical path", async () => {
    assert.ok(opened);
    for (const [k, f] of fakes.entries()) {
      f.waitForMode("normal", 200_000).then(
        () => upAt.set(NODES[k]!.name, Date.now()),
        () => undefined,
      );
    }
    const creates: string[] = [];
    const onEvent = (e: EngineEvent) => {
      const m = e.resOutputsEvent?.metadata;
      if (m && m.op === "create") creates.push(m.type);
    };
    let log = "";
    const t0 = Date.now();
    const up = await opened.stack.up({ onEvent, onOutput: (s) => (log += s) });
    const wall = Date.now() - t0;
    timings.up = wall;
    assert.equal(up.summary.result, "succeeded", log);

    // Every node got its config once, in maintenance mode; etcd bootstrapped once, on cp-1.
    assert.deepEqual(
      fakes.map((f) => f.callsOf("ApplyConfiguration").map((c) => c.mode)),
      NODES.map(() => ["maintenance"]),
    );
    assert.deepEqual(
      fakes.map((f) => f.callsOf("Bootstrap").length),
      [1, 0, 0, 0],
    );
    for (const [k, f] of fakes.entries()) {
      assert.equal(f.mode, "normal", `${NODES[k]!.name} is back in normal mode`);
      assert.equal(f.appliedConfig?.type, NODES[k]!.role);
    }
    const readyz = kube!.calls.filter((c) => c.path === "/readyz");
    assert.ok(readyz.length > 0 && readyz.every((c) => c.authorized), "readyz with the admin client cert");
    assert.equal(readyz.at(-1)!.status, 200);

    const count = (t: string) => creates.filter((c) => c === `pulumi-nodejs:dynamic/talos:${t}`).length;
    assert.equal(count("MachineConfigApply"), NODES.length);
    for (const t of ["MachineSecrets", "ClientConfigs", "Bootstrap", "ClusterReady"])
      assert.equal(count(t), 1, t);
    assert.ok(!creates.some((t) => t.startsWith("proxmoxve:") || t.startsWith("kubernetes:")));
    assert.equal(up.outputs.kubeconfig?.secret, true);
    assert.equal(up.outputs.talosconfig?.secret, true);
    assert.equal(up.outputs.vip?.value, VIP);

    // Critical path of the simulated delays. The applies run in rollout order (components/talos/
    // cluster.ts chains cp-1 → cp-2 → cp-3 → worker-1 with dependsOn), but a create returns once the
    // node accepted its config, before its simulated reboot: the reboots overlap and the chain adds
    // RPC latency only (engine overhead here), no simulated delay. Bootstrap waits for cp-1's
    // reboot, ClusterReady for every node's. So the path is one reboot — unless the chain waited for
    // a node to come back before the next apply, which the call times below would show, and which
    // then adds that reboot to the path.
    let critical = 0;
    let carried = 0;
    for (const [k, f] of fakes.entries()) {
      const appliedAt = f.callsOf("ApplyConfiguration")[0]!.at;
      const prev = k > 0 ? upAt.get(NODES[k - 1]!.name) : undefined;
      if (prev !== undefined && appliedAt >= prev) carried += REBOOT_MS;
      critical = Math.max(critical, carried + REBOOT_MS);
    }
    const resources = up.summary.resourceChanges?.create ?? creates.length;
    const ratio = wall / critical;
    const perResource = (wall - critical) / resources;
    console.log(
      `      up: wall ${(wall / 1000).toFixed(1)} s, critical path ${(critical / 1000).toFixed(1)} s ` +
        `(reboot ${REBOOT_MS / 1000} s${carried > 0 ? ", chain waited for reboots" : ", reboots overlap"}), ` +
        `ratio ${ratio.toFixed(3)} (goal ≤ 1.15), engine overhead ${((wall - critical) / 1000).toFixed(1)} s over ` +
        `${resources} resources = ${perResource.toFixed(0)} ms/resource`,
    );
    assert.ok(wall >= critical, "the up cannot be faster than the fakes' reboots");
    assert.ok(ratio <= RATIO_BOUND, `wall/critical ${ratio.toFixed(3)} regressed past ${RATIO_BOUND}`);
  });

  it("the state file holds none of the secret values (bundle keys and tokens, client keys)", async () => {
    assert.ok(opened);
    const outputs = await opened.stack.outputs();
    const plain = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, String(v.value)]));
    const state = fs.readFileSync(statePath(), "utf8");
    const config = fs.readFileSync(path.join(opened.root, `Pulumi.${STACK}.yaml`), "utf8");
    for (const [what, value] of secretValues(bundle, plain)) {
      assert.ok(value.length >= 16, `${what}: a distinctive value`);
      assert.ok(!state.includes(value), `${what} is in the state file in plain text`);
      assert.ok(!config.includes(value), `${what} is in the stack file in plain text`);
    }
  });

  it("a second preview (through the stacks runner) reports no changes", async () => {
    const out = capture();
    const r = await run("preview", "preview2", out);
    assert.equal(r.ok, true, out.text);
    assert.match(out.text, /^\[preview edge\] succeeded in \d+s — same \d+$/m);
  });

  it("a change of one node's config patch plans an update of that node's apply (and the waits on it)", async () => {
    assert.ok(opened);
    const patched = NODES.map((n) =>
      // A v1alpha1 section every minor accepts (1.14 refuses nodeLabels beside KubeNodeConfig).
      n.name === "cp-2" ? { ...n, patches: [{ machine: { sysctls: { "net.core.somaxconn": "4096" } } }] } : n,
    );
    await opened.stack.setConfig(`${NS}:nodes`, { value: JSON.stringify(patched) });
    try {
      const steps: string[] = [];
      const t0 = Date.now();
      const p = await opened.stack.preview({
        onEvent: (e) => {
          const m = e.resourcePreEvent?.metadata;
          // The default dynamic provider carries the stack config as its inputs: it "updates" on
          // any config change, without touching a resource.
          if (m && m.op !== "same" && !m.type.startsWith("pulumi:providers:"))
            steps.push(`${m.op} ${m.urn.split("::").pop()}`);
        },
      });
      timings.previewPatch = Date.now() - t0;
      assert.deepEqual(steps.sort(), ["update talos-apply-cp-2", "update talos-ready"], p.stdout);
    } finally {
      await opened.stack.setConfig(`${NS}:nodes`, { value: JSON.stringify(NODES) });
    }
  });

  it("preview with --policy-pack policy passes on the good layout", async () => {
    assert.ok(opened);
    const t0 = Date.now();
    const p = await opened.stack.preview({
      policyPacks: [POLICY_DIR],
      policyPackConfigs: [path.join(dir, "policy-config.json")],
    });
    timings.previewPolicyPass = Date.now() - t0;
    assert.match(p.stdout, /^Policies:\n\s+✅ proxmox-talos@v[\d.]+ \(local: .*policy\)$/m, p.stdout);
    assert.ok(!/\[(mandatory|advisory)\]/.test(p.stdout), p.stdout);
    assert.deepEqual(changes(p.changeSummary), []);
  });

  it("preview with --policy-pack policy fails with the rule's message on a violating layout", async () => {
    assert.ok(opened);
    // All three control planes on one Proxmox host: the program accepts it (placement is not its
    // business without a proxmox section), the spread rule — mandatory in this pack config — not.
    const oneHost = NODES.map((n) => ({ ...n, proxmoxNode: "pve1" }));
    await opened.stack.setConfig(`${NS}:nodes`, { value: JSON.stringify(oneHost) });
    try {
      let text = "";
      const t0 = Date.now();
      const failed = await opened.stack
        .preview({
          policyPacks: [POLICY_DIR],
          policyPackConfigs: [path.join(dir, "policy-config.json")],
          onOutput: (s) => (text += s),
        })
        .then(
          () => false,
          (e: unknown) => {
            text += `\n${e instanceof Error ? e.message : String(e)}`;
            return true;
          },
        );
      timings.previewPolicyFail = Date.now() - t0;
      assert.ok(failed, `the preview passed:\n${text}`);
      assert.match(text, /❌ proxmox-talos@v[\d.]+/);
      assert.match(text, /\[mandatory\] \[severity: medium\]\s+cluster-control-plane-spread/);
      assert.match(
        text,
        /proxmox-talos:nodes: all 3 control planes run on Proxmox node "pve1" — spread control planes over at least two Proxmox nodes/,
      );
    } finally {
      await opened.stack.setConfig(`${NS}:nodes`, { value: JSON.stringify(NODES) });
    }
  });

  it("destroy leaves an empty stack", async () => {
    assert.ok(opened);
    const out = capture();
    const r = await run("destroy", "destroy", out);
    assert.equal(r.ok, true, out.text);
    assert.match(out.text, /^\[destroy edge\] succeeded in \d+s — delete \d+$/m);
    const exported = await opened.stack.exportStack();
    const left = (exported.deployment as { resources?: unknown[] }).resources ?? [];
    assert.deepEqual(left, []);
    assert.deepEqual(
      fakes.map((f) => f.callsOf("Reset").length),
      [0, 0, 0, 0],
    );
  });
});
