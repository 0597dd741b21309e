import * as assert from "node:assert/strict";
import { kubernetesSupportError, talosUpgradeError } from "../../components/compat";
import { SUPPORTED_TALOS_MINORS, TALOS_KUBERNETES_SUPPORT } from "../../components/versions";
import { requireOracle, runOracle } from "../helpers/shared";

/** Kubernetes versions around each boundary of a Talos minor's support range. */
function pairsAround(minor: (typeof SUPPORTED_TALOS_MINORS)[number]): string[] {
  const s = TALOS_KUBERNETES_SUPPORT[minor];
  const [maj, min] = s.minKubernetes.split(".").map(Number);
  const maxMinor = Number(s.maxKubernetesMinor.split(".")[1]);
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

const TALOS_PATCH: Record<string, string> = {
  "1.10": "1.10.6",
  "1.11": "1.11.6",
  "1.12": "1.12.6",
  "1.13": "1.13.9",
};

describe("Talos/Kubernetes compatibility", () => {
  it("accepts each Talos minor's own default Kubernetes", () => {
    assert.equal(kubernetesSupportError("1.13.9", "1.36.3"), undefined);
    assert.equal(kubernetesSupportError("1.12.11", "1.35.4"), undefined);
    assert.equal(kubernetesSupportError("1.11.6", "1.34.1"), undefined);
    assert.equal(kubernetesSupportError("1.10.9", "1.33.6"), undefined);
  });

  it("refuses unsupported Talos minors and upgrade paths that skip too far", () => {
    assert.match(kubernetesSupportError("1.9.6", "1.32.0") ?? "", /not supported/);
    assert.match(talosUpgradeError("1.10.9", "1.13.9") ?? "", /upgrade to 1\.11\.0 or later first/);
    assert.equal(talosUpgradeError("1.12.6", "1.13.9"), undefined);
    assert.match(talosUpgradeError("1.13.9", "1.12.6") ?? "", /downgrades/);
  });

  for (const minor of SUPPORTED_TALOS_MINORS) {
    it(`agrees with Sidero's machinery (compat) around Talos ${minor}'s boundaries`, function () {
      requireOracle(this, minor);
      const talos = TALOS_PATCH[minor];
      for (const k8s of pairsAround(minor)) {
        const ours = kubernetesSupportError(talos, k8s) === undefined;
        const theirs = runOracle(minor, ["compat", talos, k8s]).status === 0;
        assert.equal(ours, theirs, `Talos ${talos} + Kubernetes ${k8s}: ours ${ours}, machinery ${theirs}`);
      }
    });

    it(`agrees with Sidero's machinery on upgrade sources for Talos ${minor}`, function () {
      requireOracle(this, minor);
      const talos = TALOS_PATCH[minor];
      const from = TALOS_KUBERNETES_SUPPORT[minor].minUpgradeFrom.split(".").map(Number);
      const sources = [
        `${from[0]}.${from[1] - 1}.9`,
        `${from[0]}.${from[1]}.0`,
        `${from[0]}.${from[1] + 1}.3`,
      ];
      for (const source of sources) {
        const ours = talosUpgradeError(source, talos) === undefined;
        const k8s = TALOS_KUBERNETES_SUPPORT[minor].minKubernetes;
        const theirs = runOracle(minor, ["compat", talos, k8s, source]).status === 0;
        assert.equal(ours, theirs, `Talos ${source} → ${talos}: ours ${ours}, machinery ${theirs}`);
      }
    });
  }
});
