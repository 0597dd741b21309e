/**
 * Logic of the `MachineSecrets` dynamic resource: the cluster's secrets bundle, generated once
 * (or imported from a secrets.yaml given as secret config, parsed and validated). The bundle is
 * kept in state as `secretsYaml` (a secret output); an unchanged `up` never regenerates it — only a
 * different imported bundle (by hash) replaces it, and only when `allowReplacement` says so.
 */
import { generateSecretsBundle, parseSecretsYaml, serializeSecretsYaml } from "../../pki/secrets";
import { type DiffResult, Props, sha256Hex } from "./common";

export interface SecretsInputs {
  /** secrets.yaml text to adopt (secret), or empty to generate. */
  readonly importedSecrets: string;
  /** sha256 of `importedSecrets` ("" when generating): the non-secret diff key. */
  readonly importedHash: string;
  /**
   * Let a changed or removed import replace the bundle (`allowTalosSecretsReplacement`). Without
   * it such a change is refused in diff, before any step runs: a new bundle is a new PKI the
   * running cluster rejects.
   */
  readonly allowReplacement: boolean;
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
  return {
    importedSecrets,
    importedHash: importedSecrets ? sha256Hex(importedSecrets) : "",
    allowReplacement: p.bool("allowReplacement", false),
  };
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

/** Whether `importedSecrets` holds exactly the bundle in `secretsYaml` (adopting what is in state). */
function sameBundle(importedSecrets: string, secretsYaml: unknown): boolean {
  if (!importedSecrets || typeof secretsYaml !== "string" || secretsYaml === "") return false;
  try {
    return serializeSecretsYaml(parseSecretsYaml(importedSecrets)) === secretsYaml;
  } catch {
    return false;
  }
}

/**
 * No change unless the imported bundle changed. Importing the very bundle in state only records
 * the new hash; any other change is a new cluster identity:
 * a replace when `allowReplacement`, else refused here, before any step of the update runs.
 */
export function diff(olds: unknown, news: unknown): DiffResult {
  const o = (olds ?? {}) as Partial<Record<string, unknown>>;
  const n = parseSecretsInputs(news);
  const changed = (o.importedHash ?? "") !== n.importedHash;
  if (!changed) return { changes: false, replaces: [], deleteBeforeReplace: false };
  if (sameBundle(n.importedSecrets, o.secretsYaml)) {
    return { changes: true, replaces: [], deleteBeforeReplace: false };
  }
  if (!n.allowReplacement) {
    throw new Error(
      `MachineSecrets: refusing to ${n.importedHash ? "change" : "remove"} talosSecrets: the cluster's secrets bundle would be replaced by ` +
        `${n.importedHash ? "a different" : "a freshly generated"} one, and the running cluster rejects credentials from a new PKI. ` +
        "Restore the previous talosSecrets value, or set proxmox-talos:allowTalosSecretsReplacement: true to replace the bundle on purpose.",
    );
  }
  return { changes: true, replaces: ["importedSecrets"], deleteBeforeReplace: false };
}

/** An update only records that the bundle in state is now the imported one. */
export async function update(olds: unknown, news: unknown): Promise<{ outs: SecretsOutputs }> {
  const o = (olds ?? {}) as Partial<SecretsOutputs>;
  const n = parseSecretsInputs(news);
  if (!sameBundle(n.importedSecrets, o.secretsYaml) || typeof o.secretsYaml !== "string") {
    throw new Error("MachineSecrets: an update may only adopt the bundle already in state");
  }
  return {
    outs: {
      importedHash: n.importedHash,
      source: "imported",
      secretsYaml: o.secretsYaml,
      createdAt: o.createdAt ?? new Date().toISOString(),
    },
  };
}
