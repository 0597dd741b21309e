/**
 * The range a stack's `addons.<name>.version` override may take: the program's values (and the
 * tests pinning them against the charts' values.yaml and values.schema.json) are written for the
 * pinned chart in `CHARTS`, so an override stays within its compatible releases: the same major
 * (for a 0.x chart, the same 0.minor: semver lets those break anything), written the way the
 * chart's repository spells versions (cert-manager with a leading "v", the others without; Helm
 * finds no "v0.45.0" of a chart published as 0.45.0).
 */
import { z } from "zod";
import { type AddonName, CHARTS } from "../versions";
import { reportProblem, wrong } from "./config-fields";

const SEMVER = /^(v?)(\d+)\.(\d+)\.(\d+)([-+][0-9A-Za-z.-]+)?$/;

/** The compatible series of a pinned version: "1.x" / "0.15.x", with its spelling. */
function series(pinned: string): { v: string; major: number; minor: number; text: string } {
  const [, v = "", major = "0", minor = "0"] = SEMVER.exec(pinned) ?? [];
  const text = major === "0" ? `${v}0.${minor}.x` : `${v}${major}.x`;
  return { v, major: Number(major), minor: Number(minor), text };
}

/** Why `version` is outside the pinned chart's range for `addon`, or undefined. */
export function chartVersionProblem(addon: AddonName, version: string): string | undefined {
  const m = SEMVER.exec(version);
  if (m === null) return undefined; // the schema reports the format
  const pin = CHARTS[addon];
  const want = series(pin.version);
  if (m[1] !== want.v)
    return want.v === "v"
      ? `has no leading "v", but ${pin.chart}'s chart versions do (pinned ${pin.version})`
      : `has a leading "v", but ${pin.chart}'s chart versions do not (pinned ${pin.version})`;
  const major = Number(m[2]);
  const minor = Number(m[3]);
  if (major !== want.major || (want.major === 0 && minor !== want.minor))
    return `is outside ${want.text}, the ${pin.chart} releases the program's values are written for (pinned ${pin.version})`;
  return undefined;
}

/** The `version` field of an addon: a chart version in the pinned chart's range. */
export const chartVersion = (addon: AddonName) => {
  const pinned = CHARTS[addon].version;
  return z
    .string({ error: wrong("must be a chart version string", `quote it, like version: "${pinned}"`) })
    .regex(SEMVER, {
      error: wrong(
        "is not a Helm chart version",
        `write a semver like "${pinned}"${pinned.startsWith("v") ? "" : ' (no leading "v")'}`,
      ),
      abort: true,
    })
    .superRefine(
      reportProblem(
        (version: string) => chartVersionProblem(addon, version),
        `remove the override to use ${pinned}, or pick a release in that range`,
      ),
    )
    .optional();
};
