/**
 * Parsing YAML that holds secrets (kubeconfigs, talosconfigs). The `yaml` library's parse errors
 * quote the offending source line with a caret under it; in such a document that line can be a
 * client key or token, and the error ends up in a Pulumi log or a terminal. Only the first line of
 * the message (what and where: "… at line 4, column 22") is kept. Loadable by dynamic providers.
 */
import * as YAML from "yaml";

export function parseSecretYaml(text: string, what: string): unknown {
  try {
    return YAML.parse(text);
  } catch (e) {
    const first = (e instanceof Error ? e.message : String(e)).split("\n")[0]?.replace(/:\s*$/, "") ?? "";
    throw new Error(`${what} is not valid YAML: ${first}`);
  }
}
