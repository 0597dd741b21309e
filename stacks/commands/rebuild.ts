/** `rebuild`: destroy then up; a production stack only with --yes-destroy-production. */
import { type Context, info } from "../context";
import { UserError } from "../errors";
import { isProduction, key } from "../stack-config";
import { openStack } from "../workspace";
import { type OperationResult, runOperation } from "./operation";

export async function rebuild(
  ctx: Context,
  stackName: string,
  yesDestroyProduction: boolean,
): Promise<OperationResult> {
  const opened = await openStack(stackName, "select", ctx.workspace, "rebuild");
  const config = await opened.stack.getAllConfig();
  if (isProduction(config)) {
    if (!yesDestroyProduction) {
      throw new UserError(
        `refusing to rebuild '${stackName}': it is marked production (${key("production")}: true); pass --yes-destroy-production to destroy and recreate it`,
      );
    }
    info(ctx, `rebuilding production stack '${stackName}' (--yes-destroy-production)`, { stack: stackName });
  }
  const destroyed = await runOperation(ctx, opened, "destroy");
  if (!destroyed.ok) return destroyed;
  return runOperation(ctx, opened, "up");
}
