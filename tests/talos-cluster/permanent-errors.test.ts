/**
 * The apply, bootstrap and reset logic stop at once on Talos' permanent answers — per mode, as the
 * stricter fake node answers like Talos 1.11.5 — instead of retrying until their timeout: a
 * maintenance node answers UNKNOWN "failed to parse config" to a config it cannot load (here a
 * Talos 1.12 document sent to a 1.11 ISO), Unimplemented to a staged apply, InvalidArgument to a
 * config its validation refuses, and a worker FAILED_PRECONDITION to a bootstrap.
 */
import * as assert from "node:assert/strict";
import { TalosApiError } from "../../components/talos/api/client";
import * as applyLogic from "../../components/talos/resources/logic/apply";
import * as bootstrapLogic from "../../components/talos/resources/logic/bootstrap";
import { isPermanentTalosError, sha256Hex } from "../../components/talos/resources/logic/common";
import { machineConfig, newTestPki, type TestPki } from "../fakes/machine-config";
import { FakeTalosNode } from "../fakes/talos-node";
import { requireOracle } from "../helpers/shared";

const quick = { pollMs: 50, log: (_m: string) => undefined };
/** Long enough that a retried refusal would blow the test's own timeout. */
const TIMEOUT_SECONDS = 120;

describe("Talos permanent errors end the retries at once (stricter fake node)", function () {
  this.timeout(60_000);
  let pki: TestPki;
  const nodes: FakeTalosNode[] = [];

  before(async function () {
    this.timeout(120_000); // the secrets bundle's RSA-4096 key takes a while on a loaded machine
    pki = await newTestPki();
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  async function node(o: Parameters<typeof FakeTalosNode.start>[0] = {}): Promise<FakeTalosNode> {
    const n = await FakeTalosNode.start({ osCa: pki.osCa, ...o });
    nodes.push(n);
    return n;
  }

  function inputs(n: FakeTalosNode, config: string, mode: "auto" | "staged" = "auto") {
    return {
      node: n.hostname,
      address: n.address,
      role: "controlplane",
      config,
      configHash: sha256Hex(config),
      talosVersion: "v1.11.5",
      mode,
      osCa: pki.osCa.crt,
      clientCert: pki.admin.crt,
      clientKey: pki.admin.key,
      resetOnDelete: false,
      timeoutSeconds: TIMEOUT_SECONDS,
      // A fresh machine: the maintenance (unauthenticated) apply is allowed for it.
      maintenanceAllowed: true,
    };
  }

  async function refusedOnce(n: FakeTalosNode, config: string, code: string, message: RegExp) {
    const start = Date.now();
    await assert.rejects(applyLogic.create(inputs(n, config), quick), (e: unknown) => {
      assert.ok(e instanceof TalosApiError, String(e));
      assert.equal(e.codeName, code);
      assert.match(e.details, message);
      return true;
    });
    assert.equal(n.callsOf("ApplyConfiguration").length, 1, "the refusal was not retried");
    assert.ok(Date.now() - start < 10_000);
    assert.equal(n.mode, "maintenance");
  }

  it("maintenance: a config that does not parse (UNKNOWN) fails at once", async () => {
    await refusedOnce(await node(), "machine: [unclosed\n", "UNKNOWN", /^failed to parse config/);
  });

  it("maintenance: a Talos 1.12 document sent to a 1.11 ISO (UNKNOWN, judged by Sidero's machinery) fails at once", async function () {
    requireOracle(this, "1.11");
    const newer = `${machineConfig({ pki })}---\napiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable\n`;
    await refusedOnce(
      await node(),
      newer,
      "UNKNOWN",
      /^failed to parse config: .*HostnameConfig.*not registered/,
    );
  });

  it("maintenance: a config that fails validation (InvalidArgument) fails at once", async function () {
    requireOracle(this, "1.11");
    // No install disk: metal/cloud mode requires one.
    const valid = machineConfig({ pki });
    const invalid = valid.replace(/^ +disk: \/dev\/sda\n/m, "");
    assert.notEqual(invalid, valid);
    await refusedOnce(await node(), invalid, "INVALID_ARGUMENT", /^configuration validation failed: /);
  });

  it("classifies per mode: UNKNOWN is final in maintenance only; Unimplemented, PermissionDenied, InvalidArgument always", () => {
    const err = (code: number, details: string) =>
      new TalosApiError("n", "applyConfiguration", code, details, 1);
    assert.equal(isPermanentTalosError(err(2, "failed to parse config: x"), "maintenance"), true);
    assert.equal(isPermanentTalosError(err(2, "failed to parse config: x"), "normal"), false);
    assert.equal(isPermanentTalosError(err(2, "etcd: context deadline exceeded"), "maintenance"), false);
    for (const code of [3, 7, 12]) {
      assert.equal(isPermanentTalosError(err(code, "x"), "normal"), true);
      assert.equal(isPermanentTalosError(err(code, "x"), "maintenance"), true);
    }
    for (const code of [4, 9, 14]) assert.equal(isPermanentTalosError(err(code, "x"), "normal"), false);
  });

  it("a worker refuses a bootstrap (FAILED_PRECONDITION): the Bootstrap resource fails at once", async () => {
    const worker = await node({ config: machineConfig({ pki, type: "worker" }), hostname: "w-1" });
    const start = Date.now();
    await assert.rejects(
      bootstrapLogic.create(
        {
          node: "w-1",
          address: worker.address,
          osCa: pki.osCa.crt,
          clientCert: pki.admin.crt,
          clientKey: pki.admin.key,
          timeoutSeconds: TIMEOUT_SECONDS,
        },
        quick,
      ),
      /bootstrap can only be performed on a control plane node/,
    );
    assert.equal(worker.callsOf("Bootstrap").length, 1);
    assert.ok(Date.now() - start < 10_000);
  });
});
