/**
 * The stacks module for other scripts (e.g. `npm run preview`):
 *
 *   import { consoleContext, preview } from "./stacks";
 *   const r = await preview(consoleContext(), "homelab");   // r.ok, r.outputs, r.error
 *   process.exitCode = r.ok ? 0 : 1;
 *
 * or run a whole command line: `process.exitCode = await main(["preview", "homelab"])`.
 * `preview`/`up`/`destroy` throw UserError (one-line message, `describeError`) for a missing
 * CLI, plugin or stack; engine failures come back as `ok: false` with the summary printed.
 */
export { main } from "./cli";
export { ephemeral } from "./commands/ephemeral";
export type { OperationResult } from "./commands/operation";
export { rebuild } from "./commands/rebuild";
export { destroy, preview, runStackOperation, up } from "./commands/simple";
export { type Context, consoleContext } from "./context";
export { describeError, UserError } from "./errors";
