/**
 * The one rule for an https endpoint in the stack config (the Kubernetes and Proxmox APIs, the
 * Image Factory, S3 endpoints, an OIDC issuer, Flux's Git URL): `https://`, no white space, no
 * credentials (they would sit in plain config), a host, a port 1-65535 if any (0 or more never
 * connects), no query or fragment (dropped or refused by every reader), and a path rule that is
 * the caller's. The same fault reads the same at every key; a caller says only what differs: the
 * path it allows, its example, where credentials go instead, why the path rule is so.
 *
 * Pure (zod only): the addons' schemas and the core schema both use it.
 */
import { z } from "zod";

/**
 * What may follow `host[:port]`: `none` nothing (a base the program appends to), `root` at most
 * "/", `any` any path, `required` a path (a Git repository).
 */
export type EndpointPath = "none" | "root" | "any" | "required";

export interface EndpointRule {
  /** A URL of the right form, named in the fixes. */
  readonly example: string;
  readonly path: EndpointPath;
  /** Where credentials go instead of the URL. */
  readonly credentials?: string;
  /** Why the path rule is so, said with a path fault ("the provider adds /api2/json"). */
  readonly pathWhy?: string;
}

/** A fault: what is wrong, and the fix (joined as "what — fix" in the message). */
export interface EndpointProblem {
  readonly what: string;
  readonly fix: string;
}

const CREDENTIALS_GO = "they go in the secret config keys, not in plain config";

/** The `host[:port]` part as written, and what follows it (path, query, fragment). */
function split(s: string): { authority: string; rest: string } {
  const after = s.slice("https://".length);
  const end = after.search(/[/?#]/);
  return end < 0
    ? { authority: after, rest: "" }
    : { authority: after.slice(0, end), rest: after.slice(end) };
}

/** The port written after the host (IPv6 hosts are bracketed), or undefined without one. */
function portText(authority: string): string | undefined {
  const m = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(authority);
  return m?.[1];
}

/** Why `s` is not an https endpoint under `rule`, or undefined when it is one. */
export function httpsEndpointProblem(s: string, rule: EndpointRule): EndpointProblem | undefined {
  const like = `write it like ${rule.example}`;
  if (!s.startsWith("https://")) return { what: "is not an https:// URL", fix: like };
  if (/\s/.test(s)) return { what: "has white space in it", fix: like };
  const { authority, rest } = split(s);
  if (authority.includes("@"))
    return { what: "has credentials in it", fix: `remove them: ${rule.credentials ?? CREDENTIALS_GO}` };
  const port = portText(authority);
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    return { what: "has a port outside 1-65535", fix: like };
  let url: URL | undefined;
  try {
    url = new URL(s);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.hostname === "") return { what: "is not a URL with a host", fix: like };
  if (/[?#]/.test(rest))
    return { what: "has a query or fragment", fix: `write it without one, like ${rule.example}` };
  const why = rule.pathWhy ? ` (${rule.pathWhy})` : "";
  const pathRefused =
    (rule.path === "none" && rest !== "") || (rule.path === "root" && rest !== "" && rest !== "/");
  if (pathRefused) return { what: "has a path", fix: `write it without one, like ${rule.example}${why}` };
  if (rule.path === "required" && rest.replace(/^\/+/, "") === "")
    return { what: "has no path", fix: `${like}${why}` };
  return undefined;
}

/** A zod string field holding an https endpoint under `rule`, in the config errors' style. */
export const httpsEndpoint = (rule: EndpointRule) =>
  z.string().superRefine((s, ctx) => {
    const problem = httpsEndpointProblem(s, rule);
    if (problem) ctx.addIssue({ code: "custom", input: s, message: `${problem.what} — ${problem.fix}` });
  });
