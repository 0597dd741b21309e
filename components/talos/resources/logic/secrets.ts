/**
 * Logic of the `MachineSecrets` dynamic resource: the cluster's secrets bundle, generated once
 * (or imported from a secrets.yaml given as secret config, parsed and validated). The bundle is
 * kept in state as `secretsYaml` (a secret output); an unchanged `up` never regenerates it — only a
 * different imported bundle (by hash) replaces it.
 */
import { generateSecretsBundle, parseSecretsYaml, serializeSecretsYaml } from "../../secrets";
import { Props, sha256Hex } from "./common";

export interface SecretsInputs {
  /** secrets.yaml text to adopt (secret), or empty to generate. */
  readonly importedSecrets: string;
  /** sha256 of `importedSecrets` ("" when generating): the non-secret diff key. */
  readonly importedHash: string;
}

export interface SecretsOutputs {
  readonly importedHash: string;
  readonly source: "generated" | "imported";
  /** The bundle in talosctl's secrets.yaml form (secret). */
  readonly secretsYaml: string;
  readonly createdAt: string;
}

export function parseSecretsInputs(raw: unknown): SecretsInputs {
  const p = new Props("MachineSecrets", raw);
  const importedSecrets = p.optStr("importedSecrets");
  return { importedSecrets, importedHash: importedSecrets ? sha256Hex(importedSecrets) : "" };
}

/** The bundle YAML for the inputs: the imported one (validated), else a fresh one. */
export async function bundleYaml(i: SecretsInputs, now?: Date): Promise<string> {
  if (i.importedSecrets) {
    let bundle: ReturnType<typeof parseSecretsYaml>;
    try {
      bundle = parseSecretsYaml(i.importedSecrets);
    } catch (e) {
      throw new Error(
        `MachineSecrets: the imported Talos secrets bundle (talosSecrets) is not valid: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    return serializeSecretsYaml(bundle);
  }
  return serializeSecretsYaml(await generateSecretsBundle(now ? { now } : undefined));
}

export async function create(raw: unknown): Promise<{ id: string; outs: SecretsOutputs }> {
  const i = parseSecretsInputs(raw);
  const secretsYaml = await bundleYaml(i);
  const createdAt = new Date().toISOString();
  return {
    id: `secrets-${sha256Hex(secretsYaml + createdAt).slice(0, 16)}`,
    outs: {
      importedHash: i.importedHash,
      source: i.importedSecrets ? "imported" : "generated",
      secretsYaml,
      createdAt,
    },
  };
}

/** No change unless the imported bundle changed (then replace: a new cluster identity). */
export function diff(
  olds: unknown,
  news: unknown,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } {
  const o = (olds ?? {}) as Partial<Record<string, unknown>>;
  const n = parseSecretsInputs(news);
  const changed = (o.importedHash ?? "") !== n.importedHash;
  return { changes: changed, replaces: changed ? ["importedSecrets"] : [], deleteBeforeReplace: false };
}
