/**
 * The fake Talos node's event stream and files held to the real client: talosctl 1.11.5 watches
 * `events`, `read`s files, and waits for `reboot`, `upgrade` and `reset` with its action tracker
 * (cmd/talosctl/pkg/talos/action/tracker.go, node.go: Events until the expected event, the
 * sequence's events under the call's actor ID, a reconnect with the whole history once the node is
 * back, then /proc/sys/kernel/random/boot_id must have changed). Each case names the Talos 1.11.5
 * source its expectation comes from. Skipped where talosctl was not built.
 */
import * as assert from "node:assert/strict";
import { issueCert } from "../fakes/certs";
import { machineConfig, newTestPki, type TestPki } from "../fakes/machine-config";
import { FakeTalosNode } from "../fakes/talos-node";
import { requirePeer } from "../helpers/peers";
import { refused, Talosctl } from "./talosctl-cli";

/** Event rows of `talosctl events` output (each event's first line holds its type URL). */
function eventRows(out: string): string[] {
  return out.split("\n").filter((l) => l.includes("talos/runtime/machine."));
}

describe("talosctl 1.11.5 events, read and --wait against the fake Talos node (conformance)", function () {
  this.timeout(120_000);
  let cli: Talosctl | undefined;
  let pki: TestPki;
  let cp: FakeTalosNode | undefined;
  let admin = "";
  let reader = "";
  let operator = "";

  const node = (): FakeTalosNode => {
    if (!cp) throw new Error("node not started");
    return cp;
  };
  const run = (args: readonly string[]) => cli!.run(args);
  const cpConfig = () => machineConfig({ pki, hostname: "cp-e" });

  before(async function () {
    const talosctl = requirePeer(this, "talosctl");
    this.timeout(180_000);
    pki = await newTestPki();
    cli = new Talosctl(talosctl, "talosctl-observe-");
    // A reboot longer than the tracker's 1 s retry interval: after the stopAllServices task it
    // reconnects without history and must find the node down (as a real reboot always is) to
    // switch to the whole history of the next boot (action/node.go trackEventsWithRetry).
    cp = await FakeTalosNode.start({ hostname: "cp-e", rebootDelayMs: 2500, config: cpConfig() });
    const role = async (o: string) => issueCert(pki.osCa, { subject: `O=${o}`, usage: "client" });
    admin = cli.talosconfig("admin", cp.address, pki.osCa.crt, pki.admin);
    reader = cli.talosconfig("reader", cp.address, pki.osCa.crt, await role("os:reader"));
    operator = cli.talosconfig("operator", cp.address, pki.osCa.crt, await role("os:operator"));
    // the boot is over once the machine status turns ready (the fake's Node Ready, 1 s after boot)
    while (!cp.events.ready) await new Promise((r) => setTimeout(r, 50));
  });
  after(async () => {
    await cp?.close();
    cli?.cleanup();
  });

  describe("events (v1alpha1_server.go Events, runtime/v1alpha1/v1alpha1_events.go, machine_status.go)", () => {
    it("events --tail 5: the last five events of the boot, ending with RUNNING, then ready once the Node is", async () => {
      const watch = cli!.start(["--talosconfig", admin, "events", "--tail", "5"]);
      try {
        const out = await watch.until((o) => eventRows(o).length >= 5);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(eventRows(watch.output()).length, 5, watch.output());
        assert.match(out, /NODE\s+ID\s+EVENT\s+ACTOR\s+SOURCE\s+MESSAGE/);
        const rows = eventRows(out);
        assert.match(rows[2]!, /talos\/runtime\/machine\.SequenceEvent/);
        assert.match(rows[3]!, /talos\/runtime\/machine\.MachineStatusEvent/);
        assert.match(rows[4]!, /talos\/runtime\/machine\.MachineStatusEvent/);
        assert.match(out, /boot\s+STOP/);
        assert.match(
          out,
          /RUNNING\s+ready: false, unmet conditions: \[nodeReady\][\s\S]*RUNNING\s+ready: true, unmet conditions: \[\]/,
        );
        // IDs are xids: 20 characters of base32hex
        assert.match(rows[0]!, /\s[0-9a-v]{20}\s/);
      } finally {
        watch.stop();
      }
    });

    it("events --tail -1: the whole boot from the initialize sequence, services reaching Running", async () => {
      const watch = cli!.start(["--talosconfig", admin, "events", "--tail", "-1"]);
      try {
        const out = await watch.until((o) => /RUNNING\s+ready: true/.test(o));
        assert.match(out, /initialize\s+START/);
        assert.match(out, /BOOTING\s+ready: false, unmet conditions: \[services nodeReady\]/);
        assert.match(out, /startAllServices\s+START/);
        assert.match(out, /apid\s+RUNNING: Health check successful/);
        assert.ok(out.indexOf("initialize") < out.indexOf("startAllServices"), out);
      } finally {
        watch.stop();
      }
    });

    it("events --since <id>: only the events after it; --since of a non-xid and --since with --tail: Unknown", async () => {
      const ids = node().events.published.map((e) => e.id);
      const watch = cli!.start(["--talosconfig", admin, "events", "--since", ids[ids.length - 3]!]);
      try {
        await watch.until((o) => eventRows(o).length >= 2);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(eventRows(watch.output()).length, 2, watch.output());
      } finally {
        watch.stop();
      }
      refused(
        await run(["--talosconfig", admin, "events", "--since", "not-an-xid"]),
        "Unknown",
        /error parsing tail_id: xid: invalid ID/,
      );
      refused(
        await run(["--talosconfig", admin, "events", "--tail", "3", "--since", ids[0]!]),
        "Unknown",
        /WithTailID can't be specified at the same time with WithTailEvents or WithTailDuration/,
      );
    });

    it("os:reader may watch events (machined.go rules: Events admin/operator/reader)", async () => {
      const watch = cli!.start(["--talosconfig", reader, "events", "--tail", "1"]);
      try {
        await watch.until((o) => eventRows(o).length >= 1);
      } finally {
        watch.stop();
      }
    });
  });

  describe("read (v1alpha1_server.go Read; machined.go rules: Read admin only)", () => {
    it("read /etc/os-release and the boot ID: the node's files", async () => {
      const r = await run(["--talosconfig", admin, "read", "/etc/os-release"]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /^NAME="Talos"\nID=talos\nVERSION_ID=v1\.11\.5\nPRETTY_NAME="Talos \(v1\.11\.5\)"/);
      const boot = await run(["--talosconfig", admin, "read", "/proc/sys/kernel/random/boot_id"]);
      assert.equal(boot.out.trim(), node().bootId);
    });

    it("read /system/state/config.yaml: the persisted machine config", async () => {
      const r = await run(["--talosconfig", admin, "cat", "/system/state/config.yaml"]);
      assert.equal(r.ok, true, r.out);
      assert.equal(r.out, node().appliedConfig?.yaml);
    });

    it("read of a missing file: NotFound 'stat <path>: no such file or directory'", async () => {
      refused(
        await run(["--talosconfig", admin, "read", "/etc/nonexistent"]),
        "NotFound",
        /stat \/etc\/nonexistent: no such file or directory/,
      );
    });

    it("read of a directory or a device: Unknown 'path must be a regular file'; through a file: 'not a directory'", async () => {
      for (const p of ["/proc", "/dev/null"]) {
        refused(await run(["--talosconfig", admin, "read", p]), "Unknown", /path must be a regular file/);
      }
      refused(
        await run(["--talosconfig", admin, "read", "/etc/os-release/x"]),
        "Unknown",
        /stat \/etc\/os-release\/x: not a directory/,
      );
    });

    it("os:reader may not read: PermissionDenied 'not authorized'", async () => {
      refused(
        await run(["--talosconfig", reader, "read", "/etc/os-release"]),
        "PermissionDenied",
        /not authorized/,
      );
    });
  });

  describe("waiting for actions (action/tracker.go, node.go; v1alpha1_sequencer.go)", () => {
    it("reboot (waits by default): the reboot sequence under the actor ID, the node back, a new boot ID", async () => {
      const n = node();
      const [boots, bootId] = [n.boots, n.bootId];
      const r = await run(["--talosconfig", admin, "reboot"]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /actor ID: [0-9a-f-]{36}/);
      assert.match(r.out, /sequence: reboot action: START/);
      assert.match(r.out, /task: stopAllServices action: START/);
      assert.match(r.out, /events check condition met/);
      assert.match(r.out, /post check passed/);
      assert.equal(n.boots, boots + 1);
      assert.notEqual(n.bootId, bootId);
    });

    it("reboot as os:operator: allowed; the boot ID may not be read, so the tracker skips that check", async () => {
      const n = node();
      const boots = n.boots;
      const reads = n.callsOf("Read").length;
      const r = await run(["--talosconfig", operator, "reboot"]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /post check passed/);
      assert.equal(n.boots, boots + 1);
      const denied = n.callsOf("Read").slice(reads);
      assert.ok(denied.length >= 1 && denied.every((c) => c.code === 7), "Read PermissionDenied");
    });

    it("upgrade (waits by default): the upgrade sequence, the node back on the new version", async () => {
      const n = node();
      const bootId = n.bootId;
      const r = await run([
        "--talosconfig",
        admin,
        "upgrade",
        "--image",
        "factory.talos.dev/installer/abc:v1.11.6",
      ]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /sequence: upgrade action: START/);
      assert.match(r.out, /phase: kexec action: START/);
      assert.match(r.out, /post check passed/);
      assert.equal(n.runningVersion, "v1.11.6");
      assert.notEqual(n.bootId, bootId);
    });

    it("apply-config --mode=auto of machine.env, then waiting: the reboot sequence without an actor, the stream ends, the node comes back RUNNING", async () => {
      const n = node();
      const watch = cli!.start(["--talosconfig", admin, "events"]);
      await new Promise((r) => setTimeout(r, 1000));
      const withEnv = cpConfig().replace(
        /^machine:\n/m,
        "machine:\n    env:\n        HTTPS_PROXY: http://127.0.0.1:3128\n",
      );
      const r = await run([
        "--talosconfig",
        admin,
        "apply-config",
        "--mode=auto",
        "-f",
        cli!.file("env.yaml", withEnv),
      ]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /Applied configuration with a reboot/);
      // machined's event stream ends when the node goes down: talosctl events exits cleanly
      const ended = await watch.exit();
      assert.equal(ended.ok, true, ended.out);
      assert.match(ended.out, /reboot\s+START/);
      assert.match(ended.out, /REBOOTING\s+ready: true/);
      assert.match(ended.out, /stopAllServices\s+START/);
      // the actor column is empty: the rows after the type URL line start with the SOURCE
      assert.doesNotMatch(ended.out, /[0-9a-f-]{36}\s+reboot\s+START/);
      await n.waitForMode("normal", 20_000);
      const after = cli!.start(["--talosconfig", admin, "events", "--tail", "-1"]);
      try {
        await after.until((o) => /RUNNING\s+ready: true/.test(o));
      } finally {
        after.stop();
      }
      assert.match(n.appliedConfig?.yaml ?? "", /HTTPS_PROXY/);
    });

    it("reset --graceful=false --reboot (waits by default): done at stopAllServices, then the node answers in maintenance mode", async () => {
      // reset.go: the post check reaches the node over the insecure maintenance API at its `--nodes`
      // address (a real node's is <ip>:50000; the fake's port is given with -n), else compares boot IDs
      const n = node();
      const r = await run(["--talosconfig", admin, "-n", n.address, "reset", "--graceful=false", "--reboot"]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /sequence: reset action: START/);
      // the stopAllServices task is the expected event (StopAllServicesEventFn), then the node is down
      assert.match(r.out, /phase: stopEverything action: START\n.*events check condition met/);
      assert.match(r.out, /post check passed/);
      assert.equal(n.mode, "maintenance");
      assert.ok(n.callsOf("Disks").some((c) => c.mode === "maintenance" && c.code === 0));
      // back to a configured node for the next case
      const applied = await run([
        "apply-config",
        "--insecure",
        "-n",
        n.address,
        "-f",
        cli!.file("cp.yaml", cpConfig()),
      ]);
      assert.equal(applied.ok, true, applied.out);
      await n.waitForMode("normal", 20_000);
    });

    it("reset --graceful=false (waits by default): done at the stopAllServices task, the node halts", async () => {
      const n = node();
      const r = await run(["--talosconfig", admin, "reset", "--graceful=false"]);
      assert.equal(r.ok, true, r.out);
      assert.match(r.out, /sequence: reset action: START/);
      assert.match(r.out, /events check condition met/);
      await n.waitForMode("halted", 20_000);
    });
  });
});
