/** The sample stack file (Pulumi.homelab.yaml) as the config tests start from it. */
import * as path from "node:path";
import { decodeConfigValue } from "../../components/config/load";
import { readStackFile } from "../../components/config/stack-file";
import { PROJECT_ROOT } from "./shared";

/** The sample stack's config as the program sees it: key (no namespace) → decoded value; a fresh copy per call. */
export function sampleRaw(): Record<string, unknown> {
  const { config } = readStackFile(path.join(PROJECT_ROOT, "Pulumi.homelab.yaml"));
  const raw: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(config)) {
    const key = fullKey.replace(/^proxmox-talos:/, "");
    raw[key] = decodeConfigValue(key, text);
  }
  return raw;
}

/** The secret the sample stack needs to validate (a well-formed, made-up Proxmox API token). */
export const SAMPLE_SECRETS = { proxmoxApiToken: "root@pam!pulumi=00000000-0000-0000-0000-000000000000" };
