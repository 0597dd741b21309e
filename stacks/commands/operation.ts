/** One engine operation (preview, up, destroy) on an opened stack, with progress and summary. */
import type { OpMap, OutputMap } from "@pulumi/pulumi/automation";
import { checkStackConfig, stackFilePath } from "../config-check";
import { type Context, info } from "../context";
import { describeError, UserError } from "../errors";
import { passphraseRefusal } from "../passphrase";
import { ensurePlugins } from "../plugins";
import { Progress } from "../progress";
import { isProduction } from "../stack-config";
import type { OpenedStack } from "../workspace";

export type Operation = "preview" | "up" | "destroy";

export interface OperationResult {
  readonly ok: boolean;
  readonly outputs: OutputMap;
  readonly error?: string;
}

const REMOVALS = new Set(["delete", "delete-replaced", "discard", "discard-replaced"]);

/** Resources in the stack after its last update, as a progress total; undefined when unknown. */
async function expectedTotal(opened: OpenedStack): Promise<number | undefined> {
  try {
    const last = await opened.stack.info();
    if (last?.kind !== "update" || !last.resourceChanges) return undefined;
    const changes: OpMap = last.resourceChanges;
    return Object.entries(changes).reduce((sum, [op, n]) => (REMOVALS.has(op) ? sum : sum + (n ?? 0)), 0);
  } catch {
    return undefined;
  }
}

/**
 * Checks the stack config offline first (its faults come before anything about plugins or the
 * engine); for an operation that writes state, refuses a production stack under an empty
 * passphrase; then installs the plugins the stack needs and lacks. Throws a UserError naming what
 * is wrong.
 */
export async function preflight(ctx: Context, opened: OpenedStack, op: Operation = "preview"): Promise<void> {
  const config = await opened.stack.getAllConfig();
  // destroy runs no program: a stack whose config no longer validates can still be destroyed.
  if (op !== "destroy" && opened.clusterProgram === true) {
    const warnings = checkStackConfig(config, stackFilePath(opened.root, opened.stack.name));
    for (const w of warnings) info(ctx, `warning: ${w}`);
  }
  if (op !== "preview" && opened.emptyPassphrase && isProduction(config)) {
    const why = passphraseRefusal(
      op,
      opened.stack.name,
      {},
      { production: true, allowEmpty: false, otherProvider: false },
    );
    if (why) throw new UserError(why);
  }
  await ensurePlugins(config, opened.root, opened.workspace, (line) => info(ctx, line));
}

/** Read through a function: TypeScript would keep the `undefined` we reset it to. */
const programError = (opened: OpenedStack): Error | undefined => opened.programErrors.last;

/** Runs the operation. Engine failures come back as `ok: false` (summary already printed). */
export async function runOperation(
  ctx: Context,
  opened: OpenedStack,
  op: Operation,
): Promise<OperationResult> {
  await preflight(ctx, opened, op);
  const progress = new Progress({
    mode: ctx.mode,
    out: ctx.out,
    operation: op,
    stack: opened.stack.name,
    expectedTotal: await expectedTotal(opened),
    now: ctx.now,
  });
  opened.programErrors.last = undefined;
  try {
    let outputs: OutputMap = {};
    let changes: OpMap | undefined;
    if (op === "preview") {
      const r = await opened.stack.preview({ onEvent: progress.onEvent });
      changes = r.changeSummary;
    } else if (op === "up") {
      const r = await opened.stack.up({ onEvent: progress.onEvent });
      outputs = r.outputs;
      changes = r.summary?.resourceChanges;
    } else {
      const r = await opened.stack.destroy({ onEvent: progress.onEvent });
      changes = r.summary?.resourceChanges;
    }
    progress.finish({ ok: true, changes, outputs });
    return { ok: true, outputs };
  } catch (err) {
    // The program's own error (an invalid config, say) says it best; then the engine's.
    const engineErrors = progress.errorMessages;
    const error =
      programError(opened)?.message ??
      (engineErrors.length > 0
        ? engineErrors[engineErrors.length - 1]
        : describeError(err, opened.stack.name));
    progress.finish({ ok: false, error });
    return { ok: false, outputs: {}, error };
  }
}
