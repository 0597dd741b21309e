/**
 * Building blocks shared by the addons' config schemas (config.ts, platform-config.ts,
 * etcd-backup.ts), in the config errors' style.
 */
import { z } from "zod";

/** A message: what is wrong, then (after " — ") the fix; errors.ts shows the value. */
export function wrong(what: string, fix: string): string {
  return `${what} — ${fix}`;
}

/**
 * A zod refinement that reports `problemOf`'s verdict on a value ("is not …", or undefined when
 * the value is fine) as "what — fix": how every `…Problem` rule of the addons becomes an issue.
 */
export const reportProblem =
  <T>(problemOf: (value: T) => string | undefined, fix: string) =>
  (value: T, ctx: z.RefinementCtx): void => {
    const problem = problemOf(value);
    if (problem) ctx.addIssue({ code: "custom", input: value, message: wrong(problem, fix) });
  };

/** A boolean switch with its default, like `enabled`. */
export const flag = (dflt: boolean, what = "enabled") =>
  z.boolean({ error: wrong("must be true or false", `write ${what}: true or ${what}: false`) }).default(dflt);

/** Free-form Helm values merged last (maps merge, lists replace, null deletes). */
export const helmValues = z
  .record(z.string(), z.unknown(), {
    error: wrong(
      "must be a map of Helm values",
      "write values as a YAML mapping, like values: {replicas: 2}",
    ),
  })
  .optional();
