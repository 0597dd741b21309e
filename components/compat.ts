/**
 * Talos / Kubernetes version compatibility, mirroring Talos' own compatibility package
 * (`pkg/machinery/compatibility`): per Talos minor, a Kubernetes minimum (inclusive) and a maximum
 * expressed as `<max minor>.99` (exclusive), plus the oldest Talos a node may be upgraded from.
 * Pure functions; the stack config, the policy pack and the upgrade planner all call these.
 */
import { SUPPORTED_TALOS_MINORS, TALOS_KUBERNETES_SUPPORT, type TalosMinor } from "./versions";

export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)$/;

/** Parses `1.2.3` (a leading `v` allowed); undefined for anything else, pre-releases included. */
export function parseSemVer(text: string): SemVer | undefined {
  const m = SEMVER.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

export function compareSemVer(a: SemVer, b: SemVer): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function formatSemVer(v: SemVer): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** `1.11.6` → `1.11`, when that minor is supported by this project. */
export function talosMinor(version: string): TalosMinor | undefined {
  const v = parseSemVer(version);
  if (!v) return undefined;
  const minor = `${v.major}.${v.minor}`;
  return (SUPPORTED_TALOS_MINORS as readonly string[]).includes(minor) ? (minor as TalosMinor) : undefined;
}

/** Why a Talos version is not usable with this project, or undefined when it is. */
export function talosVersionError(talosVersion: string): string | undefined {
  if (!parseSemVer(talosVersion)) return `"${talosVersion}" is not a Talos release version like 1.13.9`;
  if (!talosMinor(talosVersion)) {
    return `Talos ${talosVersion} is not supported; use a ${SUPPORTED_TALOS_MINORS.join(", ")} release`;
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
  const kv = parseSemVer(k8s);
  if (!kv) return `"${k8s}" is not a Kubernetes release version like 1.36.3`;
  const support = TALOS_KUBERNETES_SUPPORT[talosMinor(talos)!];
  const min = parseSemVer(support.minKubernetes)!;
  const maxExclusive = parseSemVer(`${support.maxKubernetesMinor}.99`)!;
  const range = `${support.minKubernetes} up to ${support.maxKubernetesMinor}.x`;
  if (compareSemVer(kv, min) < 0)
    return `Kubernetes ${k8s} is too old for Talos ${talos} (supported: ${range})`;
  if (compareSemVer(kv, maxExclusive) >= 0) {
    return `Kubernetes ${k8s} is too new for Talos ${talos} (supported: ${range})`;
  }
  return undefined;
}

/** Why a node on Talos `from` cannot be upgraded to `to`, or undefined when it can. */
export function talosUpgradeError(from: string, to: string): string | undefined {
  const toError = talosVersionError(to);
  if (toError) return toError;
  const fv = parseSemVer(from);
  if (!fv) return `"${from}" is not a Talos release version`;
  const tv = parseSemVer(to)!;
  if (compareSemVer(tv, fv) < 0)
    return `Talos ${to} is older than the running ${from}; downgrades are not supported`;
  const minFrom = parseSemVer(TALOS_KUBERNETES_SUPPORT[talosMinor(to)!].minUpgradeFrom)!;
  if (compareSemVer(fv, minFrom) < 0) {
    return `Talos ${to} cannot be reached from ${from}: upgrade to ${formatSemVer(minFrom)} or later first`;
  }
  return undefined;
}
