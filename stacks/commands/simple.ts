/** `preview`, `up` and `destroy` of a named stack. */
import type { Context } from "../context";
import { openStack } from "../workspace";
import { type Operation, type OperationResult, runOperation } from "./operation";

/**
 * Runs one operation on `stackName`. preview/up create the stack in the backend when the project
 * has its `Pulumi.<stack>.yaml`; destroy needs an existing stack.
 */
export async function runStackOperation(
  ctx: Context,
  stackName: string,
  op: Operation,
): Promise<OperationResult> {
  const opened = await openStack(stackName, op === "destroy" ? "select" : "select-or-init", ctx.workspace);
  return runOperation(ctx, opened, op);
}

export const preview = (ctx: Context, stack: string) => runStackOperation(ctx, stack, "preview");
export const up = (ctx: Context, stack: string) => runStackOperation(ctx, stack, "up");
export const destroy = (ctx: Context, stack: string) => runStackOperation(ctx, stack, "destroy");
