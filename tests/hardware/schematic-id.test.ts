import * as assert from "node:assert/strict";
import { isPlainSchematicScalar, schematicId, schematicYaml } from "../../components/talos/schematic";
import { factorySchematic, requireSchematicIdTool } from "../helpers/schematic-id";

/**
 * Schematic IDs against Image Factory's own code (image-factory v0.8.4 pkg/schematic: Unmarshal,
 * then the SHA-256 of its canonical Marshal), run as ../shared/tools/schematic-id. Each case gives
 * the factory the schematic as JSON with its fields in another order than the canonical one, so
 * only a program that emits the factory's struct order gets the same bytes and ID.
 */
const QGA = "siderolabs/qemu-guest-agent";

interface Case {
  readonly name: string;
  readonly extensions: readonly string[];
  readonly extraKernelArgs?: readonly string[];
  readonly meta?: readonly { key: number; value: string }[];
  readonly includeWellKnownCertificates?: boolean;
}

const CASES: readonly Case[] = [
  { name: "Intel iGPU (i915 + intel-ucode)", extensions: [QGA, "siderolabs/i915", "siderolabs/intel-ucode"] },
  {
    name: "NVIDIA (nonfree kmod + container toolkit, production)",
    extensions: [
      QGA,
      "siderolabs/nonfree-kmod-nvidia-production",
      "siderolabs/nvidia-container-toolkit-production",
    ],
  },
  {
    name: "extra kernel args",
    extensions: [QGA],
    extraKernelArgs: ["i915.enable_guc=3", "-console", "net.ifnames=0", "talos.dashboard.disabled=1"],
  },
  { name: "Secure Boot (well-known certificates)", extensions: [QGA], includeWellKnownCertificates: true },
  {
    name: "META entries",
    extensions: [QGA],
    meta: [
      { key: 12, value: "rack-2" },
      { key: 10, value: "a=b,c/d:e" },
    ],
  },
  {
    name: "all fields: GPU worker with Secure Boot",
    extensions: [
      QGA,
      "siderolabs/nonfree-kmod-nvidia-production",
      "siderolabs/nvidia-container-toolkit-production",
    ],
    extraKernelArgs: ["iommu=pt"],
    meta: [{ key: 12, value: "gpu" }],
    includeWellKnownCertificates: true,
  },
  {
    name: "list order kept (intel-ucode first)",
    extensions: ["siderolabs/intel-ucode", "siderolabs/i915", QGA],
  },
];

/** The same schematic as JSON, fields in reverse of the factory's struct order. */
function reorderedJson(c: Case): string {
  const customization: Record<string, unknown> = {};
  if (c.includeWellKnownCertificates) customization.secureboot = { includeWellKnownCertificates: true };
  customization.systemExtensions = { officialExtensions: c.extensions };
  if (c.meta) customization.meta = c.meta.map((m) => ({ value: m.value, key: m.key }));
  if (c.extraKernelArgs) customization.extraKernelArgs = c.extraKernelArgs;
  return JSON.stringify({ customization });
}

describe("schematic IDs equal Image Factory's own", () => {
  let bin = "";
  before(function () {
    bin = requireSchematicIdTool(this);
  });

  const ids = new Map<string, string>();
  for (const c of CASES) {
    it(`${c.name}: same canonical YAML and ID`, () => {
      const ours = schematicYaml(c.extensions, c);
      const theirs = factorySchematic(bin, reorderedJson(c));
      assert.equal(ours, theirs.canonical);
      assert.equal(schematicId(ours), theirs.id);
      ids.set(c.name, theirs.id);
      console.log(`      ${theirs.id}  ${c.name}`);
    });
  }

  it("different schematics get different IDs (and order matters)", () => {
    assert.equal(new Set(ids.values()).size, ids.size);
  });

  it("the empty and qemu-guest-agent schematics give the factory's documented IDs", () => {
    assert.equal(factorySchematic(bin, "{}").id, schematicId(schematicYaml([])));
    assert.equal(
      factorySchematic(bin, reorderedJson({ name: "", extensions: [QGA] })).id,
      schematicId(schematicYaml([QGA])),
    );
  });

  it("every value accepted as a plain scalar is one the factory writes unquoted (else the ID would differ)", () => {
    const values = [
      "foo",
      "a=b",
      "-console",
      "--x",
      "_x",
      "net.ifnames=0",
      "a:b",
      "x/y",
      "a,b",
      "v1.2.3",
      "a+b",
      "a@b",
      "yes",
      "No",
      "on",
      "OFF",
      "y",
      "n",
      "true",
      "False",
      "null",
      "10",
      "1e3",
      "0x1f",
      "+1",
      ".inf",
      "~",
      "a: b",
      "a #b",
      "a:",
      "@x",
      "-",
      "",
      "a b",
      "'q'",
      '"q"',
      "12:30",
      "-1",
      "é",
    ];
    for (const v of values) {
      const { canonical } = factorySchematic(
        bin,
        JSON.stringify({ customization: { extraKernelArgs: [v] } }),
      );
      const line = canonical.split("\n")[2] ?? "";
      const plainInFactory = line === `        - ${v}`;
      if (isPlainSchematicScalar(v)) assert.ok(plainInFactory, `${JSON.stringify(v)} is written as ${line}`);
    }
    // Not vacuous: the usual kernel-argument forms are accepted.
    assert.deepEqual(
      values.slice(0, 12).filter((v) => !isPlainSchematicScalar(v)),
      [],
    );
  });
});
