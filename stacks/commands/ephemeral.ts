/**
 * `ephemeral`: a throwaway cluster from a base stack's config — up (which waits for the cluster
 * to be ready), smoke checks, then destroy and remove the stack, also when a step failed.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { ConfigMap, OutputMap } from "@pulumi/pulumi/automation";
import { type Context, info } from "../context";
import { configJson, ephemeralConfig, resolveOffsets, secretKeys } from "../ephemeral-config";
import { describeError, UserError } from "../errors";
import { kubeSmoke, type SmokeResult } from "../smoke";
import { enabledAddons, nodeCount } from "../stack-config";
import { type OpenedStack, openStack } from "../workspace";
import { runOperation } from "./operation";

const execFileAsync = promisify(execFile);

export interface EphemeralOptions {
  readonly name?: string;
  readonly vmidOffset?: string;
  readonly ipOffset?: string;
}

export interface EphemeralResult {
  readonly ok: boolean;
  readonly stack: string;
  readonly steps: readonly { step: string; ok: boolean; detail?: string }[];
}

function stamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

export async function ephemeral(
  ctx: Context,
  baseName: string,
  opts: EphemeralOptions,
): Promise<EphemeralResult> {
  const base = await openStack(baseName, "select-or-init", ctx.workspace, "ephemeral");
  const baseConfig: ConfigMap = await base.stack.getAllConfig();
  const offsets = resolveOffsets(baseConfig, opts, baseName);
  const name = opts.name ?? `${baseName}-eph-${stamp(new Date(ctx.now ? ctx.now() : Date.now()))}`;
  const config = ephemeralConfig(baseConfig, name, offsets);

  const steps: { step: string; ok: boolean; detail?: string }[] = [];
  const record = (step: string, ok: boolean, detail?: string) => {
    steps.push({ step, ok, ...(detail ? { detail } : {}) });
    info(ctx, `ephemeral ${name}: ${step} ${ok ? "ok" : "FAILED"}${detail ? ` — ${detail}` : ""}`, {
      stack: name,
      step,
      ok,
      ...(detail ? { detail } : {}),
    });
  };

  info(
    ctx,
    `ephemeral ${name}: from '${baseName}', VM ids +${offsets.vmidOffset}, IPs +${offsets.ipOffset}`,
    {
      stack: name,
      base: baseName,
      ...offsets,
    },
  );
  let eph: OpenedStack | undefined;
  try {
    eph = await openStack(name, "create", ctx.workspace, "ephemeral");
    // Plain settings through set-all; secrets re-encrypted by the CLI from the base stack, so no
    // secret value is ever on a command line.
    await eph.workspace.setAllConfigJson(name, configJson(config));
    for (const k of secretKeys(config)) {
      await runCli(eph, ["config", "cp", k, "--stack", baseName, "--dest", name, "--non-interactive"]);
    }
    record("create stack", true);

    const up = await runOperation(ctx, eph, "up");
    record("up (ClusterReady)", up.ok, up.error);
    if (up.ok) {
      const results = await smoke(ctx, up.outputs, config);
      for (const r of results) record(`smoke: ${r.name}`, r.ok, r.detail);
    }
  } catch (err) {
    record(eph ? "run" : "create stack", false, describeError(err, name));
  } finally {
    if (eph) {
      let destroyed = false;
      try {
        const d = await runOperation(ctx, eph, "destroy");
        destroyed = d.ok;
        record("destroy", d.ok, d.error);
      } catch (err) {
        record("destroy", false, describeError(err, name));
      }
      try {
        // A failed destroy leaves resources: keep nothing but say so; the stack is removed anyway.
        await eph.workspace.removeStack(name, { force: !destroyed });
        record("remove stack", true, destroyed ? undefined : "forced: check Proxmox for leftover VMs");
      } catch (err) {
        record("remove stack", false, describeError(err, name));
      }
    }
  }
  const ok = steps.every((s) => s.ok);
  info(ctx, `ephemeral ${name}: ${ok ? "passed" : "FAILED"}`, {
    stack: name,
    result: ok ? "passed" : "failed",
  });
  return { ok, stack: name, steps };
}

/** One CLI call outside the Automation API's typed surface (`config cp`); throws its stderr. */
async function runCli(opened: OpenedStack, args: string[]): Promise<void> {
  const ws = opened.workspace;
  try {
    await execFileAsync(ws.pulumiCommand.command, args, {
      cwd: ws.workDir,
      env: { ...process.env, ...ws.envVars },
    });
  } catch (err) {
    const stderr = (err as { stderr?: unknown }).stderr;
    throw new UserError(`pulumi ${args.slice(0, 3).join(" ")} failed: ${String(stderr ?? err).trim()}`);
  }
}

async function smoke(ctx: Context, outputs: OutputMap, config: ConfigMap): Promise<SmokeResult[]> {
  const kubeconfig = outputs.kubeconfig?.value;
  if (typeof kubeconfig !== "string" || kubeconfig === "") {
    throw new UserError("the stack has no kubeconfig output to run smoke checks with");
  }
  const addons = enabledAddons(config);
  const runner = ctx.smoke ?? kubeSmoke();
  return runner(
    kubeconfig,
    {
      nodes: nodeCount(config),
      storage: addons.includes("openebs"),
      loadBalancer: addons.includes("metallb"),
    },
    (line) => info(ctx, line),
  );
}
