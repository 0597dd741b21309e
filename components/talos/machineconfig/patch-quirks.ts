/**
 * Every per-minor difference of Talos' patcher (`configpatcher`, `config/merge`, the delete
 * selectors) this project reproduces, as the patch code consumes it: built from the `patcher`
 * facts of the minor's row in talos-minors.ts (the facts live there, one row per minor). Each was observed with
 * Sidero's own machinery (`talos-oracle-<minor> patch`, tests/talos/patch-oracle.test.ts and the
 * random differential test tests/talos/patch-differential.test.ts).
 */
import { type PatcherFacts, talosMinorFactsOrNewest } from "../../talos-minors";
import { parseVersion } from "../../version";

export interface PatcherQuirks {
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
   * one encodes as `{}`, which Talos' loader refuses ("duplicate document /v1alpha1/"). Up to 1.13
   * (the row's fact).
   */
  readonly crashesOnUnmatchedNamedDocumentDelete: boolean;
  /**
   * Fields (`Type.field` of the field table) whose Go type merges by replacement: whenever the
   * struct holding them is merged (even by a patch that does not mention them) the result is the
   * patch's value, or nothing. CEL expressions (selectors' `match`) and byte sizes.
   */
  readonly replacedOnMerge: ReadonlySet<string>;
  /** 1.14: an explicit `!!timestamp` scalar is refused where a string goes; ≤ 1.13 keep its text. */
  readonly refusesTimestampIntoString: boolean;
}

const BOND_POINTER_INTEGERS: readonly string[] = [
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

const POINTER_INTEGERS: Readonly<Record<PatcherFacts["pointerIntegers"][number], readonly string[]>> = {
  zswap: ["block.ZswapConfigV1Alpha1.maxPoolPercent"],
  bond: BOND_POINTER_INTEGERS,
};

/**
 * The patcher quirks of a Talos version (`1.11`, `v1.11.6` …), from the `patcher` facts of its
 * minor's row (talos-minors.ts); undefined or a minor newer than the table = the newest row.
 */
export function quirksFor(talosVersion: string | undefined): PatcherQuirks {
  const row = talosMinorFactsOrNewest(talosVersion);
  const p = row.patcher;
  const replaced = new Set<string>([...CEL_SELECTORS, "block.ProvisioningSpec.minSize"]);
  if (p.maxSizeReplacedOnMerge) replaced.add("block.ProvisioningSpec.maxSize");
  return {
    talosVersion: talosVersion === undefined ? undefined : parseVersion(talosVersion)?.minorKey,
    noDeleteInsideUnstructured: !p.deleteInsideUnstructured,
    panicsOnDeleteUnderMissingParent: p.panicsOnDeleteUnderMissingParent,
    zeroReplaces: new Set(p.pointerIntegers.flatMap((g) => POINTER_INTEGERS[g])),
    crashesOnUnmatchedNamedDocumentDelete: p.crashesOnUnmatchedNamedDocumentDelete,
    replacedOnMerge: replaced,
    refusesTimestampIntoString: p.refusesTimestampIntoString,
  };
}
