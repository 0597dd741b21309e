import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { isIP } from "node:net";
import * as path from "node:path";
import { type FieldSpec, fieldsFor } from "../../components/talos/machineconfig/fields/table";
import { applyPatches } from "../../components/talos/machineconfig/patch";
import { quirksFor } from "../../components/talos/machineconfig/patch-quirks";
import {
  isPlainObject,
  type PlainObject,
  type PlainValue,
} from "../../components/talos/machineconfig/patch-yaml";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import type { MachineRole } from "../../components/talos/types";
import { SUPPORTED_TALOS_MINORS, type TalosMinor, talosMinorFacts } from "../../components/talos-minors";
import { hasOracle, oraclePath, tempDir } from "../helpers/shared";
import { baseInput, normalisedDocuments, oracleBundle } from "./fixtures-machineconfig";

let sharedBundle: ReturnType<typeof oracleBundle>["bundle"] | undefined;
const realBundle = () => {
  sharedBundle ??= oracleBundle().bundle;
  return sharedBundle;
};

import { Gen, randomCase } from "./patch-generator";

/**
 * Seeded random differential test of the patcher against Sidero's own (`talos-oracle-<minor> patch`
 * then `validate`, i.e. `talosctl --config-patch` and the node's own loading): for every case both
 * refuse, or both accept with the same parsed result. `PATCH_DIFF_CASES` (default 1000 per minor)
 * and `PATCH_DIFF_SEED` override the size and the seed.
 *
 * Cosmetic differences Talos itself reads the same are normalised, each explicitly (nothing else is):
 * 1. durations: Go re-encodes `2m` as `2m0s` — a string that is a Go duration compares by its value;
 * 2. IPv6 addresses: long and short forms compare by their canonical form;
 * 3. empty maps/lists and nulls are dropped (Go's encoder omits or emits them per field type);
 * 4. zero integers in non-pointer fields are dropped (see dropZeroIntegers);
 * 5. scalars in string-typed fields compare as strings (see asDeclared).
 * One project rule is stricter than Talos and listed in STRICTER_THAN_TALOS: such cases are counted
 * apart ("ours stricter"), never silently as agreement.
 * Numbers vs quoted numbers in string fields need no normalisation: the patcher types scalars by the
 * field table as Talos' decoder does.
 */
const CASES = Number(process.env.PATCH_DIFF_CASES ?? 1000);
const SEED = Number(process.env.PATCH_DIFF_SEED ?? 20261201);
const PARALLEL = 2;

/**
 * Project rules stricter than Talos: Talos' Validate does not check that pod/service subnets are
 * CIDRs (an RFC 6902 copy can put `false` there); this project refuses such a config.
 */
const STRICTER_THAN_TALOS: readonly RegExp[] = [
  /cluster\.network\.(pod|service)Subnets: must be a list of CIDRs/,
];

const GO_DURATION = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$/;

function normaliseScalar(v: PlainValue): PlainValue {
  if (typeof v !== "string" || v === "") return v;
  const d = GO_DURATION.exec(v);
  if (d && (d[1] || d[2] || d[3])) {
    return `duration:${Number(d[1] ?? 0) * 3600 + Number(d[2] ?? 0) * 60 + Number(d[3] ?? 0)}s`;
  }
  const [addr, bits] = v.split("/");
  if (addr && isIP(addr) === 6) {
    const canon = new URL(`http://[${addr}]/`).hostname;
    return bits === undefined ? canon : `${canon}/${bits}`;
  }
  return v;
}

function normalise(v: PlainValue): PlainValue {
  if (Array.isArray(v)) return v.map(normalise);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return normaliseScalar(v);
}

/**
 * 4. Go's encoder omits a zero integer in a non-pointer field (`mtu: 0`); Talos reads absent and 0
 *    the same there. Integer fields (by the field table) holding 0 are dropped, except the pointer
 *    fields of patch-quirks.ts (`zeroReplaces`), where 0 is a value.
 */
/**
 * 5. A scalar in a string-typed field (by the field table): `1` and `"1"`, `false` and `"false"` are
 *    the same string to Talos' decoder (its strategic-merge output quotes them, its RFC 6902 output
 *    keeps the patch's text).
 */
function asDeclared(v: PlainValue, spec: FieldSpec | undefined): PlainValue {
  // `p`: a PEM wrapper's base64 string, decoded from the same scalars.
  const stringTyped =
    spec === "s" || spec === "p" || (typeof spec === "object" && "o" in spec && spec.o.includes("s"));
  return stringTyped && (typeof v === "number" || typeof v === "boolean") ? String(v) : v;
}

function dropZeroIntegers(doc: PlainValue, minor: string): PlainValue {
  const fields = fieldsFor(minor);
  const quirks = quirksFor(minor);
  const walk = (v: PlainValue, spec: FieldSpec | undefined): PlainValue => {
    if (Array.isArray(v)) {
      const item = spec && typeof spec === "object" && "l" in spec ? spec.l : undefined;
      return v.map((x) => asDeclared(walk(x, item), item));
    }
    if (!isPlainObject(v)) return v;
    const typeName = typeof spec === "string" && spec.startsWith("@") ? spec.slice(1) : undefined;
    const type = typeName ? fields.types[typeName] : undefined;
    const out: PlainObject = {};
    for (const [k, x] of Object.entries(v)) {
      const sub = type ? type[k] : spec && typeof spec === "object" && "m" in spec ? spec.m : undefined;
      if (x === 0 && sub === "i" && !quirks.zeroReplaces.has(`${typeName}.${k}`)) continue;
      out[k] = asDeclared(walk(x, sub), sub);
    }
    return out;
  };
  if (!isPlainObject(doc)) return doc;
  const kind = typeof doc.kind === "string" ? doc.kind : "v1alpha1";
  const typeName = fields.kinds[kind];
  return walk(doc, typeName ? `@${typeName}` : undefined);
}

function compared(yaml: string, minor: string): PlainValue[] {
  return normalisedDocuments(yaml).map((d) => normalise(dropZeroIntegers(d, minor)));
}

interface Run {
  readonly status: number;
  readonly stdout: string;
}

function run(bin: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString("utf8");
    });
    child.stderr.on("data", (b: Buffer) => {
      stdout += b.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ status: code ?? -1, stdout }));
  });
}

async function pool<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Talos/Kubernetes versions of a minor, from the support table (no minor listed here). */
function versionsOf(minor: TalosMinor): { talos: string; k8s: string } {
  return { talos: `${minor}.0`, k8s: `${talosMinorFacts(minor)!.kubernetes.maxMinor}.0` };
}

interface Outcome {
  readonly agree: number;
  readonly bothRefuse: number;
  readonly stricter: string[];
  readonly mismatches: string[];
}

async function differential(minor: TalosMinor, dir: string): Promise<Outcome> {
  const bin = oraclePath(minor);
  // A real bundle: from 1.14 on, Talos validates the CA certificates in the Kube* documents.
  const bundle = realBundle();
  const roles: MachineRole[] = ["controlplane", "worker"];
  const configs = new Map<MachineRole, { text: string; file: string }>();
  const v = versionsOf(minor);
  for (const role of roles) {
    const text = renderMachineConfig(
      baseInput(minor, role, bundle, { talosVersion: v.talos, kubernetesVersion: v.k8s }),
    );
    const file = path.join(dir, `${minor}-${role}.yaml`);
    fs.writeFileSync(file, text);
    configs.set(role, { text, file });
  }
  const g = new Gen(SEED + Number(minor.split(".")[1]));
  const cases = Array.from({ length: CASES }, (_, i) => {
    const role = roles[i % 2]!;
    return { i, role, patches: randomCase(g, minor, role) };
  });
  // Talos: patch each case (two at a time), then validate the accepted results in batches.
  const patched = await pool(cases, PARALLEL, async (c) => {
    const files = c.patches.map((p, k) => {
      const f = path.join(dir, `${minor}-c${c.i}-p${k}.yaml`);
      fs.writeFileSync(f, p);
      return f;
    });
    const r = await run(bin, ["patch", configs.get(c.role)!.file, ...files]);
    if (r.status !== 0) return { refused: r.stdout.trim() };
    const out = path.join(dir, `${minor}-c${c.i}-out.yaml`);
    fs.writeFileSync(out, r.stdout);
    return { out, text: r.stdout };
  });
  const verdicts = new Map<number, string>();
  const toValidate = cases.map((c) => c.i).filter((i) => patched[i]!.out !== undefined);
  const batches: number[][] = [];
  for (let k = 0; k < toValidate.length; k += 100) batches.push(toValidate.slice(k, k + 100));
  await pool(batches, PARALLEL, async (batch) => {
    let rest = batch;
    while (rest.length > 0) {
      const r = await run(bin, ["validate", ...rest.map((i) => patched[i]!.out!)]);
      if (r.status === 0) return;
      const failed = rest.findIndex((i) => r.stdout.includes(`FAIL ${patched[i]!.out!}:`));
      if (failed < 0) throw new Error(`validate failed without naming a file: ${r.stdout}`);
      verdicts.set(rest[failed]!, r.stdout.trim().split("\n").slice(-4).join(" "));
      rest = rest.slice(failed + 1);
    }
  });

  let agree = 0;
  let bothRefuse = 0;
  const mismatches: string[] = [];
  const stricter: string[] = [];
  for (const c of cases) {
    const p = patched[c.i]!;
    const talosRefusal = p.refused ?? verdicts.get(c.i);
    let ours: string | undefined;
    let ourError = "";
    try {
      ours = applyPatches(configs.get(c.role)!.text, c.patches, { node: c.role, talosVersion: v.talos });
    } catch (e) {
      ourError = (e as Error).message;
    }
    const label = `${minor} #${c.i} ${c.role} ${JSON.stringify(c.patches)}`;
    if (talosRefusal !== undefined && ours === undefined) bothRefuse++;
    else if (ours === undefined && STRICTER_THAN_TALOS.some((re) => re.test(ourError)))
      stricter.push(`${label}: ${ourError}`);
    else if (talosRefusal !== undefined)
      mismatches.push(`${label}: Talos refuses (${talosRefusal}); ours accepts`);
    else if (ours === undefined) mismatches.push(`${label}: Talos accepts; ours refuses (${ourError})`);
    else {
      try {
        assert.deepEqual(compared(ours, minor), compared(p.text!, minor));
        agree++;
      } catch (e) {
        mismatches.push(`${label}: results differ\n${(e as Error).message.slice(0, 1500)}`);
      }
    }
  }
  return { agree, bothRefuse, stricter, mismatches };
}

describe("talos patches: seeded random differential against talos-oracle patch + validate", function () {
  this.timeout(900_000);
  let dir: string;
  before(() => {
    dir = tempDir("pt-patch-diff-");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const minor of SUPPORTED_TALOS_MINORS) {
    it(`${minor}: ${CASES} random cases, same refusal or same result`, async function () {
      if (!hasOracle(minor)) {
        console.log(`      skipped: ${oraclePath(minor)} not built (.ci/run builds it with Go)`);
        this.skip();
      }
      const start = Date.now();
      const r = await differential(minor, dir);
      const seconds = ((Date.now() - start) / 1000).toFixed(1);
      console.log(
        `      ${minor}: ${CASES} cases: ${r.agree} agree, ${r.bothRefuse} both refuse, ${r.stricter.length} ours stricter (listed rule), ${r.mismatches.length} mismatches (${seconds}s)`,
      );
      if (process.env.PATCH_DIFF_DUMP)
        fs.writeFileSync(`${process.env.PATCH_DIFF_DUMP}-${minor}.txt`, r.mismatches.join("\n\n"));
      assert.deepEqual(r.mismatches.slice(0, 5), [], `${r.mismatches.length} mismatches`);
      assert.ok(r.agree > CASES / 5 && r.bothRefuse > CASES / 10, "the generator covers both outcomes");
    });
  }
});
