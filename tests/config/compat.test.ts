import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { kubernetesSupportError, talosUpgradeError } from "../../components/compat";
import { TALOS_MINORS, type TalosMinorFacts } from "../../components/talos-minors";
import { DEFAULT_KUBERNETES_VERSION, DEFAULT_TALOS_VERSION } from "../../components/versions";
import { PROJECT_ROOT, requireOracle, runOracle } from "../helpers/shared";

/** Kubernetes versions around each boundary of a Talos minor's support range. */
function pairsAround(row: TalosMinorFacts): string[] {
  const [maj, min] = row.kubernetes.min.split(".").map(Number) as [number, number];
  const maxMinor = Number(row.kubernetes.maxMinor.split(".")[1]);
  return [
    `${maj}.${min - 1}.0`,
    `${maj}.${min - 1}.98`,
    `${maj}.${min}.0`,
    `${maj}.${min}.1`,
    `${maj}.${maxMinor - 1}.5`,
    `${maj}.${maxMinor}.0`,
    `${maj}.${maxMinor}.98`,
    `${maj}.${maxMinor}.99`,
    `${maj}.${maxMinor + 1}.0`,
  ];
}

describe("Talos/Kubernetes compatibility", () => {
  it("the README's support table has exactly one line per row, with the row's range and upgrade floor", () => {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
    const section = readme.split("### Supported Talos releases")[1]?.split("\n\n")[1] ?? "";
    const lines = section.split("\n").filter((l) => /^\| \d+\.\d+ \|/.test(l));
    assert.deepEqual(
      lines.map((l) =>
        l
          .split("|")
          .slice(1, 4)
          .map((c) => c.trim()),
      ),
      TALOS_MINORS.map((r) => [r.minor, `${r.kubernetes.min}–${r.kubernetes.maxMinor}.x`, r.minUpgradeFrom]),
    );
  });

  it("accepts each Talos minor's own default Kubernetes, and the pinned defaults", () => {
    for (const row of TALOS_MINORS) {
      assert.equal(kubernetesSupportError(row.machineryRelease, row.defaultKubernetes), undefined, row.minor);
      assert.equal(
        kubernetesSupportError(`v${row.machineryRelease}`, `v${row.defaultKubernetes}`),
        undefined,
      );
    }
    assert.equal(kubernetesSupportError(DEFAULT_TALOS_VERSION, DEFAULT_KUBERNETES_VERSION), undefined);
  });

  it("refuses unsupported Talos minors and upgrade paths that skip too far", () => {
    const [oMaj, oMin] = TALOS_MINORS[0].minor.split(".").map(Number) as [number, number];
    const newest = TALOS_MINORS[TALOS_MINORS.length - 1]!;
    const [nMaj, nMin] = newest.minor.split(".").map(Number) as [number, number];
    assert.match(kubernetesSupportError(`${oMaj}.${oMin - 1}.6`, "1.32.0") ?? "", /not supported/);
    assert.match(
      kubernetesSupportError(`${nMaj}.${nMin + 1}.0`, newest.defaultKubernetes) ?? "",
      /not supported/,
    );
    TALOS_MINORS.forEach((row, i) => {
      const [fMaj, fMin] = row.minUpgradeFrom.split(".").map(Number) as [number, number];
      const tooOld = `${fMaj}.${fMin - 1}.9`;
      assert.equal(
        talosUpgradeError(tooOld, row.machineryRelease),
        `Talos ${row.machineryRelease} cannot be reached from ${tooOld}: upgrade to ${row.minUpgradeFrom} or later first`,
      );
      assert.equal(talosUpgradeError(row.minUpgradeFrom, row.machineryRelease), undefined);
      const previous = TALOS_MINORS[i - 1];
      if (previous) {
        assert.equal(talosUpgradeError(`v${previous.machineryRelease}`, row.machineryRelease), undefined);
        assert.match(talosUpgradeError(row.machineryRelease, previous.machineryRelease) ?? "", /downgrades/);
      }
    });
  });

  for (const row of TALOS_MINORS) {
    const minor = row.minor;
    it(`agrees with Sidero's machinery (compat) around Talos ${minor}'s boundaries`, function () {
      requireOracle(this, minor);
      const talos = row.machineryRelease;
      for (const k8s of pairsAround(row)) {
        const ours = kubernetesSupportError(talos, k8s) === undefined;
        const theirs = runOracle(minor, ["compat", talos, k8s]).status === 0;
        assert.equal(ours, theirs, `Talos ${talos} + Kubernetes ${k8s}: ours ${ours}, machinery ${theirs}`);
      }
    });

    it(`agrees with Sidero's machinery on upgrade sources for Talos ${minor}`, function () {
      requireOracle(this, minor);
      const talos = row.machineryRelease;
      const from = row.minUpgradeFrom.split(".").map(Number) as [number, number, number];
      const sources = [
        `${from[0]}.${from[1] - 1}.9`,
        `${from[0]}.${from[1]}.0`,
        `${from[0]}.${from[1] + 1}.3`,
        // older rows' example releases: the paths a rolling upgrade into this minor may take
        ...TALOS_MINORS.slice(0, TALOS_MINORS.indexOf(row)).map((r) => r.machineryRelease),
      ];
      for (const source of sources) {
        const ours = talosUpgradeError(source, talos) === undefined;
        const theirs = runOracle(minor, ["compat", talos, row.kubernetes.min, source]).status === 0;
        assert.equal(ours, theirs, `Talos ${source} → ${talos}: ours ${ours}, machinery ${theirs}`);
      }
    });
  }
});
