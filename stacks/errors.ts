/**
 * Errors the command line reports as ONE line (no stack trace), and the mapping from what the
 * Automation API throws to such a line.
 */
import { CommandError, StackNotFoundError } from "@pulumi/pulumi/automation";

/** A failure whose message is complete and meant for the user as is. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "UserError";
  }
}

/** Thrown by the workspace when no usable Pulumi CLI was found. */
export class NoCliError extends UserError {}

/** The last meaningful line of a CLI error output, without the Automation API's wrapper text. */
export function cliErrorLine(err: CommandError): string {
  const text = err.message;
  const stderr = /stderr: ([\s\S]*?)\n err\?:/.exec(text)?.[1] ?? text;
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const errLine = lines.find((l) => l.startsWith("error:"));
  return (errLine ?? lines[lines.length - 1] ?? "the Pulumi CLI failed").replace(/^error:\s*/, "");
}

/** Renders any error as the single line the CLI prints. */
export function describeError(err: unknown, stack?: string): string {
  if (err instanceof UserError) return err.message;
  if (err instanceof StackNotFoundError) {
    return `unknown stack${stack ? ` '${stack}'` : ""}: ${cliErrorLine(err)}`;
  }
  if (err instanceof CommandError) return cliErrorLine(err);
  if (err instanceof Error) return err.message;
  return String(err);
}
