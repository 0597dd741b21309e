/**
 * Entry point for `pulumi preview` / `pulumi up` with a normal Pulumi install. The program itself
 * lives in `program.ts` so the Automation API runner (`stacks/`) can run it inline.
 */
import { clusterProgram } from "./program";

export = clusterProgram;
