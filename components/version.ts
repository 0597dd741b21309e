/**
 * The one version type of the project (Talos and Kubernetes releases alike). A version is parsed
 * once, the way Talos' `compatibility.ParseTalosVersion` does it (`semver.ParseTolerant`: spaces
 * trimmed, a leading `v` dropped, a missing patch read as 0), and then passed around as this
 * value. `plain` (`1.14.1`) is what the stack config, compat checks and messages use; `tag`
 * (`v1.14.1`) is the wire form, used only where a wire format needs it (installer image tags,
 * Image Factory paths, the Talos Version RPC, container image tags, Pulumi state of the apply).
 * Pure.
 */

export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Pre-release suffix without the dash (`rc.1`), "" for a release. */
  readonly prerelease: string;
  /** `1.14.1` (`1.14.0-rc.1` for a pre-release). */
  readonly plain: string;
  /** `v1.14.1`: the wire form. */
  readonly tag: string;
  /** `1.14`. */
  readonly minorKey: string;
}

// semver.ParseTolerant: optional v, X.Y with optional .Z, optional -pre-release and +build.
const TOLERANT = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:-([0-9A-Za-z.-]+))?(\+[0-9A-Za-z.-]+)?$/;

export interface ParseOptions {
  /** Only a release `X.Y.Z` (a leading `v` allowed): no missing patch, pre-release or build. */
  readonly release?: boolean;
}

/** Parses a version, or undefined when `text` is none (or, with `release`, not a release). */
export function parseVersion(text: string, opts: ParseOptions = {}): Version | undefined {
  const m = TOLERANT.exec(text.trim());
  if (!m) return undefined;
  if (opts.release && (m[3] === undefined || m[4] !== undefined || m[5] !== undefined)) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = Number(m[3] ?? 0);
  const prerelease = m[4] ?? "";
  const plain = `${major}.${minor}.${patch}${prerelease ? `-${prerelease}` : ""}`;
  return { major, minor, patch, prerelease, plain, tag: `v${plain}`, minorKey: `${major}.${minor}` };
}

/** Like parseVersion, but throws an error naming `what` and the text. */
export function mustParseVersion(text: string, what: string, opts: ParseOptions = {}): Version {
  const v = parseVersion(text, opts);
  if (!v) {
    throw new Error(
      `${what} "${text}" is not a ${opts.release ? "release " : ""}version like 1.14.1${opts.release ? "" : " or v1.14.1"}`,
    );
  }
  return v;
}

/** True when `text` is a release version `X.Y.Z` (a leading `v` allowed). */
export function isReleaseVersion(text: string): boolean {
  return parseVersion(text, { release: true }) !== undefined;
}

/** Orders by major, minor, patch; a pre-release sorts before its release. */
export function compareVersions(a: Version, b: Version): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return core;
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === "") return 1;
  if (b.prerelease === "") return -1;
  return a.prerelease < b.prerelease ? -1 : 1;
}

/** Same version, whatever its spelling (`v1.14.1` = `1.14.1`); false when either is not one. */
export function sameVersion(a: string, b: string): boolean {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  return va !== undefined && vb !== undefined && compareVersions(va, vb) === 0;
}

/** The tag of an image reference (`repo/name:v1.13.9` → `v1.13.9`); "" when it has none. */
export function imageTag(image: string): string {
  const ref = image.split("@")[0] ?? "";
  const colon = ref.lastIndexOf(":");
  return colon > ref.lastIndexOf("/") ? ref.slice(colon + 1) : "";
}
