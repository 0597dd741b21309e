/** Facts of a Helm release (`kubernetes:helm.sh/v3:Release`) and the pure rules over them. */
import { at, type Reader, str } from "./props";

export const RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";

export interface ReleaseFacts {
  readonly name: string;
  readonly chart?: string;
  readonly version?: string;
  readonly repo?: string;
  readonly namespace?: string;
}

export function releaseFacts(props: unknown, resourceName: string, read: Reader = at): ReleaseFacts {
  return {
    name: str(read(props, "name")) ?? resourceName,
    chart: str(read(props, "chart")),
    version: str(read(props, "version")),
    repo: str(read(props, "repositoryOpts", "repo")),
    namespace: str(read(props, "namespace")),
  };
}

/** A chart from the local file system (a path), which has no repository or version to pin. */
export function isLocalChart(chart: string | undefined): boolean {
  return chart !== undefined && (chart.startsWith("./") || chart.startsWith("../") || chart.startsWith("/"));
}

/** An exact SemVer 2 version (a leading `v` allowed), i.e. not a range, not a wildcard. */
const EXACT_VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export function versionPinIssues(r: ReleaseFacts): string[] {
  if (isLocalChart(r.chart)) return [];
  const chart = r.chart ?? "(unnamed chart)";
  if (r.version === undefined || r.version.trim() === "") {
    return [
      `Helm release ${r.name} (${chart}) has no chart version: every update would install whatever is newest. ` +
        'Pin an exact version, e.g. version: "1.16.3".',
    ];
  }
  if (!EXACT_VERSION.test(r.version.trim())) {
    return [
      `Helm release ${r.name} (${chart}) has chart version ${JSON.stringify(r.version)}, a range rather than one ` +
        'release. Pin an exact version, e.g. "1.16.3".',
    ];
  }
  return [];
}

function schemeOf(url: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  return m ? m[1].toLowerCase() : undefined;
}

export function repositoryIssues(r: ReleaseFacts, allowedSchemes: readonly string[]): string[] {
  if (isLocalChart(r.chart)) return [];
  const allowed = allowedSchemes.map((s) => s.toLowerCase());
  const chart = r.chart ?? "(unnamed chart)";
  const issues: string[] = [];
  const chartScheme = r.chart ? schemeOf(r.chart) : undefined;
  if (r.repo !== undefined && r.repo !== "") {
    const scheme = schemeOf(r.repo);
    if (!scheme || !allowed.includes(scheme)) {
      issues.push(
        `Helm release ${r.name} fetches ${chart} from ${JSON.stringify(r.repo)}, not over ${allowed.join("/")}: ` +
          "anyone on the path could swap the chart. Use the repository's https:// URL.",
      );
    }
  } else if (chartScheme === undefined) {
    issues.push(
      `Helm release ${r.name} names chart ${JSON.stringify(chart)} without repositoryOpts.repo: it would come ` +
        "from whatever Helm repositories the machine running Pulumi has. Set repositoryOpts.repo to an https:// URL.",
    );
  }
  if (chartScheme !== undefined && !allowed.includes(chartScheme)) {
    issues.push(
      `Helm release ${r.name} fetches chart ${JSON.stringify(chart)} over ${chartScheme}, not ${allowed.join("/")}. ` +
        "Use an https:// or oci:// location.",
    );
  }
  return issues;
}

export function namespaceIssues(r: ReleaseFacts, forbidden: readonly string[]): string[] {
  const ns = r.namespace;
  if (ns === undefined || ns === "") {
    return [
      `Helm release ${r.name} (${r.chart ?? "chart"}) sets no namespace, so it lands in "default". ` +
        "Give it its own namespace (e.g. the addon's name).",
    ];
  }
  if (forbidden.includes(ns)) {
    return [
      `Helm release ${r.name} (${r.chart ?? "chart"}) installs into namespace "${ns}". Give it its own namespace.`,
    ];
  }
  return [];
}
