/**
 * Git's rules for a branch name (`git check-ref-format --branch`, documented in
 * git-check-ref-format(1)): Flux clones `spec.ref.branch` by that name, so a name Git refuses fails
 * only later, in the GitRepository's status. Pure; returns why the name is refused, or undefined.
 */
const FORBIDDEN_CHARS = /[ ~^:?*[\\]/;

/** The first character Git refuses in a ref name: ASCII control characters, space, ~ ^ : ? * [ \. */
function forbiddenChar(name: string): string | undefined {
  for (const ch of name) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return ch;
  }
  return FORBIDDEN_CHARS.exec(name)?.[0];
}

export function gitBranchProblem(name: string): string | undefined {
  if (name === "HEAD") return 'is "HEAD", which Git reserves for the checked-out commit';
  if (name.startsWith("-")) return 'starts with "-"';
  const bad = forbiddenChar(name);
  if (bad)
    return `contains ${bad === " " ? "a space" : JSON.stringify(bad)}, which Git refuses in a ref name`;
  if (name.includes("..")) return 'contains "..", which Git refuses in a ref name';
  if (name.includes("@{")) return 'contains "@{", which Git refuses in a ref name';
  if (name.startsWith("/") || name.endsWith("/") || name.includes("//"))
    return "has an empty path component (a leading, trailing or doubled /)";
  if (name.endsWith(".")) return 'ends with "."';
  for (const part of name.split("/")) {
    if (part.startsWith(".")) return `has a component starting with "." (${JSON.stringify(part)})`;
    if (part.endsWith(".lock")) return `has a component ending with ".lock" (${JSON.stringify(part)})`;
  }
  return undefined;
}
