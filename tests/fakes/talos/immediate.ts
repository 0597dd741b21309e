/**
 * Which config changes Talos applies without a reboot. Facts from Talos 1.10–1.13
 * `internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go` (`CanApplyImmediate`, the same
 * list in each of those minors): only the v1alpha1 document is compared (other documents never
 * force a reboot), after taking these parts of it from the running config.
 */
import * as YAML from "yaml";

/** Top-level keys of the v1alpha1 document that change without a reboot. */
const TOP = ["debug", "cluster"] as const;
/** `machine.*` keys that change without a reboot. */
const MACHINE = [
  "ca",
  "acceptedCAs",
  "time",
  "certSANs",
  "install",
  "network",
  "sysfs",
  "sysctls",
  "logging",
  "controlPlane",
  "kubelet",
  "kernel",
  "registries", // registry auth is not applied until containerd restarts (Talos' own note)
  "pods",
  "seccompProfiles",
  "nodeAnnotations",
  "nodeLabels",
  "nodeTaints",
] as const;
/** `machine.features.*` keys that change without a reboot (only when both configs have features). */
const FEATURES = [
  "kubernetesTalosAPIAccess",
  "kubePrism",
  "hostDNS",
  "imageCache",
  "nodeAddressSortAlgorithm",
] as const;

type Doc = Record<string, unknown>;

function isRecord(v: unknown): v is Doc {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function v1alpha1(text: string): Doc | undefined {
  for (const d of YAML.parseAllDocuments(text)) {
    const js: unknown = d.toJS();
    if (isRecord(js) && (js.version === "v1alpha1" || "machine" in js)) return js;
  }
  return undefined;
}

/** Copies `key` of `from` into `to` (deleting it where `from` has none). */
function take(to: Doc, from: Doc, key: string): void {
  if (key in from) to[key] = from[key];
  else delete to[key];
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    isRecord(x)
      ? Object.fromEntries(
          Object.keys(x)
            .sort()
            .map((k) => [k, x[k]]),
        )
      : x,
  );
}

/** The v1alpha1 top-level/machine keys that differ after the immediately-applicable parts are taken. */
function changedParts(cur: Doc, next: Doc): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(cur), ...Object.keys(next)])) {
    if (k === "machine" && isRecord(cur.machine) && isRecord(next.machine)) {
      for (const m of new Set([...Object.keys(cur.machine), ...Object.keys(next.machine)])) {
        if (canonical(cur.machine[m]) !== canonical(next.machine[m])) out.push(`machine.${m}`);
      }
    } else if (canonical(cur[k]) !== canonical(next[k])) out.push(k);
  }
  return out;
}

/**
 * Undefined when `nextText` can replace `currentText` without a reboot, else Talos' refusal text
 * ("this config change can't be applied in immediate mode", then the parts that differ where Talos
 * prints a diff).
 */
export function immediateChangeError(currentText: string, nextText: string): string | undefined {
  const cur = v1alpha1(currentText);
  if (!cur) return "current config is not v1alpha1";
  const parsed = v1alpha1(nextText);
  if (!parsed) return "new config is not v1alpha1";
  const next: Doc = structuredClone(parsed);
  for (const k of TOP) take(next, cur, k);
  if (isRecord(next.machine) && isRecord(cur.machine)) {
    const machine: Doc = next.machine;
    for (const k of MACHINE) take(machine, cur.machine, k);
    if (isRecord(machine.features) && isRecord(cur.machine.features)) {
      const features: Doc = machine.features;
      for (const k of FEATURES) take(features, cur.machine.features, k);
    }
  }
  if (canonical(cur) === canonical(next)) return undefined;
  return `this config change can't be applied in immediate mode\ndiff:\n${changedParts(cur, next).join("\n")}`;
}
