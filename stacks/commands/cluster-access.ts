/**
 * What the etcd commands (snapshot, restore) need of a deployed stack: its control planes (apid
 * addresses from the `nodes` output), the admin mTLS credentials (from the secret `talosconfig`
 * output; never printed), the kubeconfig, the SOPS recipient and the `backup` settings.
 */
import * as fs from "node:fs";
import type { ConfigMap, OutputMap } from "@pulumi/pulumi/automation";
import { type BackupConfig, BackupSchema, backupDir } from "../../components/config/backup";
import { credentialsFromTalosconfig } from "../../components/talos/resources/credentials";
import type { MtlsCredentials } from "../../components/talos/resources/logic/common";
import type { PeerNode } from "../../components/talos/resources/logic/etcd";
import { UserError } from "../errors";
import { configValue, isProduction, isRecord, key } from "../stack-config";
import type { WorkspaceOptions } from "../workspace";
import { type OpenedStack, openStack, PROJECT_ROOT } from "../workspace";

export interface ClusterAccess {
  readonly stack: string;
  readonly controlPlanes: PeerNode[];
  readonly creds: MtlsCredentials;
  readonly kubeconfig?: string;
  /** The stack's SOPS age recipient (output `sopsRecipient`), if any. */
  readonly recipient?: string;
  readonly backup: BackupConfig;
  /** Absolute folder of the stack's snapshots. */
  readonly dir: string;
  readonly production: boolean;
}

/** `backup` of the stack config, validated (an error names the key, the value and the fix). */
export function backupSettings(config: ConfigMap): BackupConfig {
  const parsed = BackupSchema.safeParse(configValue(config, "backup") ?? {});
  if (!parsed.success) {
    const faults = parsed.error.issues.map(
      (i) => `${key("backup")}${i.path.length ? `.${i.path.join(".")}` : ""}: ${i.message}`,
    );
    throw new UserError(`invalid stack config:\n  - ${faults.join("\n  - ")}`);
  }
  return parsed.data;
}

/** The control planes from the `nodes` output (`apiAddress` when a node has one, else its ip). */
export function controlPlanesOf(outputs: OutputMap): PeerNode[] {
  const nodes = outputs.nodes?.value;
  if (!Array.isArray(nodes)) throw new UserError("the stack has no `nodes` output: run `npm run up` first");
  const cps = nodes.filter(isRecord).filter((n) => n.role === "controlplane");
  if (cps.length === 0) throw new UserError("the stack's `nodes` output has no control plane");
  return cps.map((n) => ({
    name: String(n.name),
    address: typeof n.apiAddress === "string" && n.apiAddress ? n.apiAddress : String(n.ip),
  }));
}

export async function clusterAccess(
  stackName: string,
  workspace: WorkspaceOptions,
): Promise<{ access: ClusterAccess; opened: OpenedStack }> {
  const opened = await openStack(stackName, "select", workspace);
  const config = await opened.stack.getAllConfig();
  const outputs = await opened.stack.outputs();
  const talosconfig = outputs.talosconfig?.value;
  if (typeof talosconfig !== "string" || talosconfig === "") {
    throw new UserError(
      `stack '${stackName}' has no talosconfig output: run \`npm run up -- ${stackName}\` first`,
    );
  }
  const kubeconfig = outputs.kubeconfig?.value;
  const recipient = outputs.sopsRecipient?.value;
  const backup = backupSettings(config);
  return {
    opened,
    access: {
      stack: stackName,
      controlPlanes: controlPlanesOf(outputs),
      creds: (() => {
        const c = credentialsFromTalosconfig(talosconfig);
        return { osCa: c.osCa, clientCert: c.clientCert, clientKey: c.clientKey };
      })(),
      kubeconfig: typeof kubeconfig === "string" && kubeconfig !== "" ? kubeconfig : undefined,
      recipient: typeof recipient === "string" && recipient !== "" ? recipient : undefined,
      backup,
      dir: backupDir(workspace.projectRoot ?? PROJECT_ROOT, stackName, backup.dir),
      production: isProduction(config),
    },
  };
}

/**
 * age identities for decrypting: the `--identity` file, else `$SOPS_AGE_KEY_FILE`. Read from a
 * file only (a secret never goes on a command line); the file must not be readable by others.
 */
export function readIdentities(
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const f = file ?? env.SOPS_AGE_KEY_FILE;
  if (!f) return [];
  let st: fs.Stats;
  try {
    st = fs.statSync(f);
  } catch {
    throw new UserError(`--identity: ${f} does not exist`);
  }
  if ((st.mode & 0o077) !== 0) {
    throw new UserError(
      `--identity: ${f} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  const ids = fs
    .readFileSync(f, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("AGE-SECRET-KEY-"));
  if (ids.length === 0) throw new UserError(`--identity: ${f} holds no AGE-SECRET-KEY-… line`);
  return ids;
}

/** A progress line: rewritten in place on a terminal, every 10 % otherwise. */
export function byteProgress(
  write: (s: string) => void,
  tty: boolean,
  label: string,
  total?: number,
): (bytes: number) => void {
  let lastTenth = -1;
  let lastMiB = -1;
  return (bytes) => {
    const mib = bytes / 1048576;
    const text = total
      ? `${label}: ${mib.toFixed(1)} / ${(total / 1048576).toFixed(1)} MiB (${Math.floor((bytes / total) * 100)} %)`
      : `${label}: ${mib.toFixed(1)} MiB`;
    if (tty) {
      write(`\r${text}`);
      return;
    }
    const step = total ? Math.floor((bytes / total) * 10) : Math.floor(mib / 16);
    if (step !== (total ? lastTenth : lastMiB)) {
      if (total) lastTenth = step;
      else lastMiB = step;
      write(`${text}\n`);
    }
  };
}
