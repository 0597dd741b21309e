import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { decodeDocument } from "../../components/talos/machineconfig/fields/decode";
import { FIELD_GAPS, KIND_GAPS } from "../../components/talos/machineconfig/fields/gaps";
import { fieldsFor, registeredKinds, tableMinors } from "../../components/talos/machineconfig/fields/table";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import { SUPPORTED_TALOS_MINORS, talosMinorFacts } from "../../components/talos-minors";
import {
  deriveFieldTable,
  FIELD_TABLE_PATH,
  fieldTableText,
  schemaMinors,
} from "../../scripts/derive-talos-fields";
import { hasShared, requireOracle, runOracle, sharedPath, tempDir } from "../helpers/shared";
import { baseInput, fakeBundle } from "./fixtures-machineconfig";

/**
 * The committed per-minor field table (components/talos/machineconfig/fields/talos-fields.json) is what
 * scripts/derive-talos-fields.ts derives from ../shared's Talos schemas, covers every schema there
 * and every supported minor, and agrees with Sidero's machinery on which kinds exist, on the known
 * schema gaps and on how a sample of fields decode.
 */
describe("talos field table: derived from the schemas, checked against talos-oracle", function () {
  this.timeout(300_000);
  let dir: string;
  before(() => {
    dir = tempDir("pt-fields-");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is exactly what the derive script makes of ../shared/reference/talos, for every schema there", function () {
    if (!hasShared("reference", "talos")) {
      console.log("      skipped: ../shared/reference/talos is absent");
      this.skip();
    }
    const schemaDir = sharedPath("reference", "talos");
    const derived = deriveFieldTable(schemaDir);
    assert.deepEqual(
      JSON.parse(fs.readFileSync(FIELD_TABLE_PATH, "utf8")),
      JSON.parse(fieldTableText(derived)),
      "the committed table is stale: run npx tsx scripts/derive-talos-fields.ts",
    );
    assert.deepEqual(tableMinors(), schemaMinors(schemaDir));
    for (const minor of SUPPORTED_TALOS_MINORS)
      assert.ok(tableMinors().includes(minor), `no table for ${minor}`);
  });

  /** Oracle's verdict on a patch (load = decode) against a rendered config of the minor. */
  function oraclePatch(minor: string, config: string, patch: string): { ok: boolean; out: string } {
    const p = path.join(dir, `p-${minor}.yaml`);
    fs.writeFileSync(p, patch);
    const r = runOracle(minor, ["patch", config, p]);
    return { ok: r.status === 0, out: r.stdout + r.stderr };
  }

  function configFile(minor: (typeof SUPPORTED_TALOS_MINORS)[number]): string {
    const file = path.join(dir, `cfg-${minor}.yaml`);
    const k8s = `${talosMinorFacts(minor)!.kubernetes.maxMinor}.0`;
    fs.writeFileSync(
      file,
      renderMachineConfig(
        baseInput(minor, "worker", fakeBundle(), { talosVersion: `${minor}.0`, kubernetesVersion: k8s }),
      ),
    );
    return file;
  }

  for (const minor of SUPPORTED_TALOS_MINORS) {
    it(`${minor}: the registered kinds are Talos' own (every other table minor's extra kinds refused)`, function () {
      requireOracle(this, minor);
      const config = configFile(minor);
      const mine = registeredKinds(minor);
      const all = new Set(tableMinors().flatMap((m) => [...registeredKinds(m)]));
      for (const kind of all) {
        const r = oraclePatch(
          minor,
          config,
          `apiVersion: v1alpha1\nkind: ${kind}\nname: probe\nbogusProbeKey: 1\n`,
        );
        const notRegistered = /not registered/.test(r.out);
        assert.equal(
          notRegistered,
          !mine.has(kind),
          `${minor} ${kind}: table ${mine.has(kind)}, Talos: ${r.out.slice(0, 200)}`,
        );
      }
    });

    it(`${minor}: known schema gaps and a sample of fields decode as Talos decodes them`, function () {
      requireOracle(this, minor);
      const config = configFile(minor);
      const fields = fieldsFor(minor);
      const probes: Array<{ patch: string; doc: Record<string, unknown> }> = [];
      const v1 = (o: Record<string, unknown>) => ({ patch: YAML.stringify(o), doc: o });
      // Gaps: accepted by Talos although the schema lacks them; the schema's kind spelling refused.
      for (const gap of FIELD_GAPS) {
        if (gap.type === "v1alpha1.InstallConfig" && fields.types[gap.type]?.[gap.field]) {
          probes.push(v1({ machine: { install: { [gap.field]: ["console=ttyS0"] } } }));
        }
      }
      probes.push(v1({ machine: { kubelet: { extraArgs: { "feature-gates": ["A=true"] } } } }));
      probes.push(v1({ machine: { kubelet: { extraArg: { a: "b" } } } }));
      probes.push(v1({ machine: { install: { wipe: "true" } } }));
      probes.push(v1({ machine: { install: { disk: ["a"] } } }));
      probes.push(v1({ machine: { network: { interfaces: [{ interface: "eth1", mtu: "1500" }] } } }));
      probes.push(v1({ machine: { time: { servers: "pool.ntp.org" } } }));
      probes.push(v1({ machine: { sysctls: { a: [1] } } }));
      probes.push(v1({ machine: { env: { A: "b" } } }));
      probes.push(v1({ machine: { kubelet: { extraConfig: { a: { b: 1 } } } } }));
      probes.push(v1({ cluster: { network: { podSubnets: "10.0.0.0/8" } } }));
      probes.push(v1({ cluster: { apiServer: { extraArgs: { a: ["x"] } } } }));
      probes.push(v1({ cluster: { allowSchedulingOnMasters: false } }));
      // PEM wrappers (TYPE_GAPS): their keys only, base64 strings.
      probes.push(v1({ cluster: { serviceAccount: { key: ["a"] } } }));
      probes.push(v1({ cluster: { serviceAccount: { key: "YWJj", extra: "YWJj" } } }));
      probes.push(v1({ cluster: { serviceAccount: { key: "not base64!" } } }));
      probes.push(v1({ cluster: { serviceAccount: { key: 1 } } }));
      probes.push(v1({ cluster: { serviceAccount: { key: true } } }));
      probes.push(v1({ cluster: { aggregatorCA: { crt: "YWJj", key: "ZGVm" } } }));
      probes.push(v1({ machine: { acceptedCAs: [{ crt: "YWJj" }] } }));
      probes.push(v1({ machine: { acceptedCAs: [{ key: "YWJj" }] } }));
      let checked = 0;
      for (const { patch, doc } of probes) {
        const r = oraclePatch(minor, config, patch);
        const talosDecodes = r.ok || !/decoding|unmarshal|construct|unknown keys|illegal base64/.test(r.out);
        const oursDecodes = decodeDocument(doc as never, minor).length === 0;
        assert.equal(
          oursDecodes,
          talosDecodes,
          `${minor} ${JSON.stringify(doc)}: Talos ${r.out.slice(0, 200)}`,
        );
        checked++;
      }
      for (const gap of KIND_GAPS) {
        if (!registeredKinds(minor).has(gap.kind)) continue;
        assert.ok(
          !/not registered/.test(oraclePatch(minor, config, `apiVersion: v1alpha1\nkind: ${gap.kind}\n`).out),
        );
      }
      assert.ok(checked >= 10);
    });
  }
});
