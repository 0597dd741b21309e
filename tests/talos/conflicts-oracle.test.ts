import * as assert from "node:assert/strict";
import YAML from "yaml";
import { applyPatches } from "../../components/talos/machineconfig/patch";
import {
  isPlainObject,
  type PlainObject,
  type PlainValue,
  parseYamlDocuments,
} from "../../components/talos/machineconfig/patch-yaml";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import type { MachineRole, SecretsBundle } from "../../components/talos/types";
import { TALOS_MINORS, type TalosMinor, type V1Alpha1Conflict } from "../../components/talos-minors";
import { hasOracle, oraclePath, runOracle, tempDir } from "../helpers/shared";
import { documentExample, v1alpha1Example, v1alpha1Examples } from "./conflict-examples";
import { baseInput, fakeBundle, NEWEST, oracleBundle, ROLES, writeTemp } from "./fixtures-machineconfig";

/**
 * Every v1alpha1-vs-document conflict of every minor (talos-minors.ts `v1alpha1Conflicts`), each
 * path of it: a patch setting the v1alpha1 field beside the document is refused by our validation
 * (naming the path, the document and the fix) and by `talos-oracle-<minor> patch` + `validate`
 * (with Talos' own words, the row's `talos` gist); without the document both give the same verdict,
 * and both accept it where Talos has nothing else against it.
 */

function documentsOf(yaml: string): PlainObject[] {
  return parseYamlDocuments(yaml).filter(isPlainObject);
}

function fieldSet(doc: PlainObject, dotted: string): boolean {
  let cur: PlainValue | undefined = doc;
  for (const k of dotted.split(".")) cur = isPlainObject(cur) ? cur[k] : undefined;
  return cur !== undefined && cur !== null && !(isPlainObject(cur) && Object.keys(cur).length === 0);
}

/** The rendered documents that make `c` apply (kind, name and field as the fact says). */
function triggering(c: V1Alpha1Conflict, docs: readonly PlainObject[]): PlainObject[] {
  return docs.filter(
    (d) =>
      d.kind === c.kind &&
      (c.documentName === undefined || d.name === c.documentName) &&
      (c.documentField === undefined || fieldSet(d, c.documentField)),
  );
}

interface Verdict {
  readonly refused: boolean;
  readonly text: string;
}

/**
 * Talos' verdict: `patch` then `validate` (strict: a deprecation warning fails it; such a refusal
 * of nothing but warnings counts as acceptance, as `talosctl apply` takes the config).
 */
function talosVerdict(minor: TalosMinor, dir: string, config: string, patch: string, tag: string): Verdict {
  const cfg = writeTemp(dir, `${tag}-config.yaml`, config);
  const p = writeTemp(dir, `${tag}-patch.yaml`, patch);
  const patched = runOracle(minor, ["patch", cfg, p]);
  if (patched.status !== 0) return { refused: true, text: patched.stdout + patched.stderr };
  const out = writeTemp(dir, `${tag}-out.yaml`, patched.stdout);
  const v = runOracle(minor, ["validate", out]);
  const text = v.stdout + v.stderr;
  if (v.status === 0) return { refused: false, text };
  const problems = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("* ") && !/^\* (warning: |v1alpha1\.Config: \d+ errors? occurred:$)/.test(l));
  return { refused: problems.length > 0, text };
}

function ourVerdict(config: string, patch: string, talosVersion: string): Verdict {
  try {
    applyPatches(config, [patch], { node: "n1", talosVersion });
    return { refused: false, text: "" };
  } catch (e) {
    return { refused: true, text: (e as Error).message };
  }
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("talos v1alpha1-vs-document conflicts: every fact of every minor, ours and talos-oracle", function () {
  this.timeout(600_000);
  let bundle: SecretsBundle;
  let dir: string;
  before(() => {
    // 1.14's Validate checks the Kube* documents' CA certificates: real ones where the oracle runs.
    bundle = hasOracle(NEWEST) ? oracleBundle().bundle : fakeBundle();
    dir = tempDir("pt-conflicts-");
  });

  it("the facts: each conflict names a registered kind, a set rule and paths with an example here", () => {
    for (const row of TALOS_MINORS) {
      for (const c of row.v1alpha1Conflicts) {
        assert.ok(c.paths.length > 0, `${row.minor} ${c.kind}: no paths`);
        for (const p of c.paths)
          assert.ok(
            v1alpha1Example(p, bundle),
            `${row.minor} ${c.kind}: no example value for ${p} in this test`,
          );
      }
    }
    // The rows grow with the minors: a later minor keeps every earlier conflict.
    for (let i = 1; i < TALOS_MINORS.length; i++) {
      const newer: readonly V1Alpha1Conflict[] = TALOS_MINORS[i]!.v1alpha1Conflicts;
      for (const c of TALOS_MINORS[i - 1]!.v1alpha1Conflicts) assert.ok(newer.includes(c));
    }
  });

  for (const row of TALOS_MINORS) {
    const minor = row.minor as TalosMinor;
    const conflicts: readonly V1Alpha1Conflict[] = row.v1alpha1Conflicts;
    const fields = conflicts.reduce((n, c) => n + c.paths.length, 0);
    const title = `${minor}: ${fields} conflicting fields refused by both beside their document, same verdict without it; every other field the same verdict from both`;
    it(title, () => {
      const oracle = hasOracle(minor);
      if (!oracle)
        console.log(`      oracle part skipped: ${oraclePath(minor)} not built (.ci/run builds it with Go)`);
      const rendered = new Map<MachineRole, string>(
        ROLES.map((role) => [role, renderMachineConfig(baseInput(minor, role, bundle))]),
      );
      let refusedBoth = 0;
      let acceptedWithout = 0;
      const absentDiffer: string[] = [];
      const cases: Array<{ c?: V1Alpha1Conflict; path: string }> = conflicts.flatMap((c) =>
        c.paths.map((path) => ({ c, path })),
      );
      // Completeness: every other field here (another minor's conflict) set on this minor's rendered
      // config gets the same verdict from both, so a conflict missing from the row would show.
      const own = new Set(cases.map((k) => k.path));
      for (const path of Object.keys(v1alpha1Examples(bundle))) if (!own.has(path)) cases.push({ path });
      for (const { c, path } of cases) {
        const fragment = YAML.stringify(v1alpha1Example(path, bundle)!);
        const roles = c
          ? ROLES.filter((r) => triggering(c, documentsOf(rendered.get(r)!)).length > 0)
          : (["controlplane"] as const);
        const withDoc = c && roles.length === 0 ? documentExample(c) : undefined;
        if (c && roles.length === 0)
          assert.ok(withDoc, `${minor} ${c.kind}: neither rendered nor an example document in this test`);
        for (const role of roles.length > 0 ? roles : (["controlplane"] as const)) {
          const config = rendered.get(role)!;
          const label = `${minor} ${role} .${path}${c ? ` beside ${c.kind}` : " (no conflict fact)"}`;
          const tag = `${minor}-${role}-${path}-${c?.kind ?? "none"}`;
          if (c) {
            const patch = withDoc ? `${fragment}---\n${YAML.stringify(withDoc)}` : fragment;
            const ours = ourVerdict(config, patch, row.machineryRelease);
            assert.ok(ours.refused, `${label}: ours accepts`);
            assert.match(
              ours.text,
              new RegExp(
                `${escapeRe(`.${path} is already set in v1alpha1 config, which conflicts with the ${c.kind}`)}.*Talos ${escapeRe(minor)} refuses.*set it in ${c.replacement ?? c.kind} instead`,
              ),
              label,
            );
            if (oracle) {
              const talos = talosVerdict(minor, dir, config, patch, tag);
              const gist = c.talos ?? `.${path} is already set in v1alpha1 config`;
              assert.ok(talos.refused, `${label}: Talos accepts`);
              assert.ok(
                talos.text.includes(gist),
                `${label}: Talos refuses for another reason: ${talos.text}`,
              );
              refusedBoth++;
            }
          }
          // Without the document: deleted where the render has it, not added where it has not.
          const deletes = c
            ? triggering(c, documentsOf(config)).map((d) =>
                YAML.stringify({
                  apiVersion: "v1alpha1",
                  kind: d.kind,
                  ...(typeof d.name === "string" ? { name: d.name } : {}),
                  $patch: "delete",
                }),
              )
            : [];
          const absent = [fragment, ...deletes].join("---\n");
          const ours = ourVerdict(config, absent, row.machineryRelease);
          const own = `.${path} is already set in v1alpha1 config, which conflicts with the ${c?.kind ?? ""}`;
          assert.ok(!ours.text.includes(own), `${label}, document absent: ${ours.text}`);
          if (!oracle) continue;
          const talos = talosVerdict(minor, dir, config, absent, `${tag}-absent`);
          if (talos.refused !== ours.refused)
            absentDiffer.push(
              `${label}, document absent: Talos ${talos.refused ? `refuses (${talos.text.trim()})` : "accepts"}, ours ${ours.refused ? `refuses (${ours.text})` : "accepts"}`,
            );
          else if (!ours.refused) acceptedWithout++;
        }
      }
      if (oracle)
        console.log(
          `      ${minor}: ${refusedBoth} refused by both beside the document; without it ${acceptedWithout} accepted by both, ${absentDiffer.length} differ`,
        );
      assert.deepEqual(absentDiffer, []);
      if (oracle) assert.ok(acceptedWithout > 0, "some field is accepted without its document");
    });
  }
});
