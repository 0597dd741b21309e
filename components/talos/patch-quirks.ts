/**
 * Every per-minor difference of Talos' patcher (`configpatcher`, `config/merge`, the delete
 * selectors) this project reproduces, in one place, keyed by Talos minor. Each was observed with
 * Sidero's own machinery (`talos-oracle-<minor> patch`, tests/talos/patch-oracle.test.ts and the
 * random differential test tests/talos/patch-differential.test.ts).
 */
import { minorOf } from "./fields/table";

export interface PatcherQuirks {
  /** Talos version as 1000·major+minor (Infinity = newest). */
  readonly version: number;
  /** The version text the quirks were chosen for (field table key), undefined = newest. */
  readonly talosVersion?: string;
  /** ≤ 1.11: `$patch: delete` cannot reach inside Unstructured (free-form) fields at all. */
  readonly noDeleteInsideUnstructured: boolean;
  /**
   * ≤ 1.11: a `$patch: delete` whose parent section is absent (a worker's `cluster.apiServer`)
   * makes Talos panic (reflect on a nil pointer); 1.12+ say "lookup failed". Both refuse; we refuse
   * with a clear message.
   */
  readonly panicsOnDeleteUnderMissingParent: boolean;
  /**
   * Integer fields (`Type.field`) that are pointers in Go, so an explicit 0 in a patch replaces the
   * value (BondConfig `miimon: 0`); everywhere else 0 is Go's zero value and leaves it alone. Found by
   * patching each integer field of the documents with 0 through talos-oracle-<minor>.
   */
  readonly zeroReplaces: ReadonlySet<string>;
  /**
   * Deleting a named document (`kind` + `name`) the config does not have leaves a placeholder Talos
   * cannot encode (it panics writing the config) unless a later patch deletes it again; an unnamed
   * one encodes as `{}`. Every minor so far.
   */
  readonly crashesOnUnmatchedNamedDocumentDelete: boolean;
  /**
   * Fields (`Type.field` of the field table) whose Go type merges by replacement: whenever the
   * struct holding them is merged (even by a patch that does not mention them) the result is the
   * patch's value, or nothing. CEL expressions (selectors' `match`) and byte sizes.
   */
  readonly replacedOnMerge: ReadonlySet<string>;
}

const BOND_POINTER_INTEGERS = [
  "adActorSysPrio",
  "adUserPortKey",
  "allSlavesActive",
  "arpInterval",
  "downdelay",
  "lpInterval",
  "miimon",
  "minLinks",
  "missedMax",
  "numPeerNotif",
  "packetsPerSlave",
  "peerNotifDelay",
  "resendIGMP",
  "tlbLogicalLb",
  "updelay",
].map((f) => `network.BondConfigV1Alpha1.${f}`);

const CEL_SELECTORS = [
  "block.DiskSelector.match",
  "block.VolumeSelector.match",
  "network.LinkSelector.match",
  "runtime.DiskSelectorSpec.match",
  "storage.LVMVolumeSelectorSpec.match",
  "storage.RAIDVolumeSelector.match",
];

export function versionNumber(talosVersion: string | undefined): number {
  const minor = talosVersion === undefined ? undefined : minorOf(talosVersion);
  if (!minor) return Number.POSITIVE_INFINITY;
  const [a, b] = minor.split(".");
  return Number(a) * 1000 + Number(b);
}

/** The patcher quirks of a Talos version (`1.11`, `v1.11.6` …); undefined = newest behaviour. */
export function quirksFor(talosVersion: string | undefined): PatcherQuirks {
  const version = versionNumber(talosVersion);
  const replaced = new Set<string>([...CEL_SELECTORS, "block.ProvisioningSpec.minSize"]);
  // ≤ 1.11 maxSize is a byte size too; 1.12 made it a size-or-percentage that merges normally.
  if (version <= 1011) replaced.add("block.ProvisioningSpec.maxSize");
  return {
    version,
    talosVersion: talosVersion === undefined ? undefined : minorOf(talosVersion),
    noDeleteInsideUnstructured: version <= 1011,
    panicsOnDeleteUnderMissingParent: version <= 1011,
    zeroReplaces: new Set([
      ...(version >= 1011 ? ["block.ZswapConfigV1Alpha1.maxPoolPercent"] : []),
      ...(version >= 1012 ? BOND_POINTER_INTEGERS : []),
    ]),
    crashesOnUnmatchedNamedDocumentDelete: true,
    replacedOnMerge: replaced,
  };
}
