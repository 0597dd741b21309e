/** `preview`, `up` and `destroy` of a named stack. */
import { ALLOW_NODE_REMOVAL_ENV } from "../../components/production";
import { type Context, info } from "../context";
import { UserError } from "../errors";
import { isProduction, key } from "../stack-config";
import { openStack } from "../workspace";
import { type Operation, type OperationResult, runOperation } from "./operation";

export interface OperationFlags {
  /** `destroy --yes-destroy-production`: a production stack may be destroyed. */
  readonly yesDestroyProduction?: boolean;
  /** `up --allow-node-removal`: this up may take nodes out of a production stack. */
  readonly allowNodeRemoval?: boolean;
}

/**
 * Runs one operation on `stackName`. preview/up create the stack in the backend when the project
 * has its `Pulumi.<stack>.yaml`; destroy needs an existing stack, and a production one refuses
 * without `--yes-destroy-production`, before anything is touched.
 */
export async function runStackOperation(
  ctx: Context,
  stackName: string,
  op: Operation,
  flags: OperationFlags = {},
): Promise<OperationResult> {
  const opened = await openStack(
    stackName,
    op === "destroy" ? "select" : "select-or-init",
    ctx.workspace,
    op === "preview" ? undefined : op,
  );
  if (op === "destroy" && isProduction(await opened.stack.getAllConfig())) {
    if (!flags.yesDestroyProduction) {
      throw new UserError(
        `refusing to destroy '${stackName}': it is marked production (${key("production")}: true); pass --yes-destroy-production to delete the cluster and its secrets bundle`,
      );
    }
    info(ctx, `destroying production stack '${stackName}' (--yes-destroy-production)`, { stack: stackName });
  }
  if (op !== "up" || !flags.allowNodeRemoval) return runOperation(ctx, opened, op);
  // The program runs inline in this process: the allowance holds for this one up only.
  const before = process.env[ALLOW_NODE_REMOVAL_ENV];
  process.env[ALLOW_NODE_REMOVAL_ENV] = "1";
  info(ctx, `up '${stackName}' may take removed nodes out (--allow-node-removal)`, { stack: stackName });
  try {
    return await runOperation(ctx, opened, op);
  } finally {
    if (before === undefined) delete process.env[ALLOW_NODE_REMOVAL_ENV];
    else process.env[ALLOW_NODE_REMOVAL_ENV] = before;
  }
}

export const preview = (ctx: Context, stack: string) => runStackOperation(ctx, stack, "preview");
export const up = (ctx: Context, stack: string, flags?: OperationFlags) =>
  runStackOperation(ctx, stack, "up", flags);
export const destroy = (ctx: Context, stack: string, flags?: OperationFlags) =>
  runStackOperation(ctx, stack, "destroy", flags);
