/**
 * Talos / Kubernetes version compatibility, mirroring Talos' own compatibility package
 * (`pkg/machinery/compatibility`): per Talos minor (its row in talos-minors.ts), a Kubernetes
 * minimum (inclusive) and a maximum expressed as `<max minor>.99` (exclusive), plus the oldest
 * Talos a node may be upgraded from. Pure functions; the stack config, the policy pack and the
 * upgrade planner all call these. Versions are parsed once (version.ts), `v` prefix or not.
 */
import { SUPPORTED_TALOS_MINORS, type TalosMinorFacts, talosMinorFacts } from "./talos-minors";
import { compareVersions, mustParseVersion, parseVersion, type Version } from "./version";

/** The row of a Talos version's minor, when this project supports that minor. */
export function talosMinorOfVersion(v: Version): TalosMinorFacts | undefined {
  return talosMinorFacts(v.minorKey);
}

/** Why a Talos version is not usable with this project, or undefined when it is. */
export function talosVersionError(talosVersion: string): string | undefined {
  const v = parseVersion(talosVersion, { release: true });
  if (!v) return `"${talosVersion}" is not a Talos release version like 1.14.1`;
  if (!talosMinorOfVersion(v)) {
    return `Talos ${v.plain} is not supported; use a ${SUPPORTED_TALOS_MINORS.join(", ")} release`;
  }
  return undefined;
}

/**
 * Why Kubernetes `k8s` cannot run on Talos `talos`, or undefined when the pair is supported.
 * Same verdicts as Talos' `KubernetesVersion.SupportedWith` for plain X.Y.Z versions.
 */
export function kubernetesSupportError(talos: string, k8s: string): string | undefined {
  const talosError = talosVersionError(talos);
  if (talosError) return talosError;
  const kv = parseVersion(k8s, { release: true });
  if (!kv) return `"${k8s}" is not a Kubernetes release version like 1.37.2`;
  const tv = mustParseVersion(talos, "Talos version", { release: true });
  const support = talosMinorOfVersion(tv)!.kubernetes;
  const min = mustParseVersion(support.min, "minimum Kubernetes");
  const maxExclusive = mustParseVersion(`${support.maxMinor}.99`, "maximum Kubernetes");
  const range = `${support.min} up to ${support.maxMinor}.x`;
  if (compareVersions(kv, min) < 0) {
    return `Kubernetes ${kv.plain} is too old for Talos ${tv.plain} (supported: ${range})`;
  }
  if (compareVersions(kv, maxExclusive) >= 0) {
    return `Kubernetes ${kv.plain} is too new for Talos ${tv.plain} (supported: ${range})`;
  }
  return undefined;
}

/** Why a node on Talos `from` cannot be upgraded to `to`, or undefined when it can. */
export function talosUpgradeError(from: string, to: string): string | undefined {
  const toError = talosVersionError(to);
  if (toError) return toError;
  const fv = parseVersion(from);
  if (!fv) return `"${from}" is not a Talos release version`;
  const tv = mustParseVersion(to, "Talos version", { release: true });
  if (compareVersions(tv, fv) < 0) {
    return `Talos ${tv.plain} is older than the running ${fv.plain}; downgrades are not supported`;
  }
  const minFrom = mustParseVersion(talosMinorOfVersion(tv)!.minUpgradeFrom, "minimum upgrade source");
  if (compareVersions(fv, minFrom) < 0) {
    return `Talos ${tv.plain} cannot be reached from ${fv.plain}: upgrade to ${minFrom.plain} or later first`;
  }
  return undefined;
}

/** Why Kubernetes cannot move from `from` to `to` in one step (as `talosctl upgrade-k8s` decides). */
export function kubernetesUpgradeError(from: string, to: string): string | undefined {
  const f = parseVersion(from, { release: true });
  const t = parseVersion(to, { release: true });
  if (!f || !t) return undefined; // the config schema rejects malformed versions
  if (compareVersions(t, f) < 0 && (t.major !== f.major || t.minor !== f.minor)) {
    return `Kubernetes ${t.plain} is older than the running ${f.plain}; minor downgrades are not supported`;
  }
  if (t.major !== f.major || t.minor > f.minor + 1) {
    return `Kubernetes ${f.plain} → ${t.plain} skips a minor version; upgrade one minor at a time (${f.major}.${f.minor + 1}.x first)`;
  }
  return undefined;
}
