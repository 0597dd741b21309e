/**
 * The real engine (built by `npm run engine`) for engine-level tests that drive an inline program
 * through LocalWorkspace: where the engine is, and a throwaway project + file backend under a
 * temp dir. Automatic plugin downloads are off: these tests must never reach the internet.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { hardenInlineRuntime } from "../../stacks/inline-runtime";
import { engineBinDir, sdkVersion } from "../../stacks/workspace";
import { PROJECT_ROOT } from "./shared";

export const ENGINE_BIN = engineBinDir(process.env, sdkVersion(PROJECT_ROOT));

/** Skips the running suite when the engine (or one of the named plugins beside it) is not built. */
export function requireEngine(ctx: Mocha.Context, ...plugins: string[]): void {
  for (const f of ["pulumi", ...plugins]) {
    if (!fs.existsSync(path.join(ENGINE_BIN, f))) {
      console.log(`      skipped: no built engine in ${ENGINE_BIN} (${f} missing; run \`npm run engine\`)`);
      ctx.skip();
    }
  }
}

/** The kinds of change in a preview's or update's summary other than `same`, with their counts. */
export function changes(summary: Readonly<Record<string, number>>): [string, number][] {
  return Object.entries(summary).filter(([k, v]) => k !== "same" && v > 0);
}

export interface InlineStackOptions {
  /** Temp dir owned by the test: gets `project/` and `state/`. */
  readonly dir: string;
  readonly stackName: string;
  readonly program: PulumiFn;
  /** Dir with the `pulumi` CLI and plugin launchers; default the built engine's. */
  readonly binDir?: string;
}

/** A project dir for the engine: this project's Pulumi.yaml and a link to its node_modules. */
export function writeProject(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: proxmox-talos\nruntime: nodejs\n");
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"));
}

/** A new stack of an inline program in a temp project (see writeProject). */
export async function inlineStack(o: InlineStackOptions): Promise<Stack> {
  // As openStack does: every suite's programs run in this one test process.
  hardenInlineRuntime();
  const bin = o.binDir ?? ENGINE_BIN;
  const work = path.join(o.dir, "project");
  writeProject(work);
  fs.mkdirSync(path.join(o.dir, "state"), { recursive: true });
  // Only `bin` provides plugins (a test's own launchers must not be shadowed by the engine's).
  const rest = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((d) => path.resolve(d) !== path.resolve(ENGINE_BIN));
  return LocalWorkspace.createStack(
    { stackName: o.stackName, projectName: "proxmox-talos", program: o.program },
    {
      workDir: work,
      pulumiCommand: await PulumiCommand.get({ root: path.dirname(bin), skipVersionCheck: true }),
      envVars: {
        PULUMI_BACKEND_URL: `file://${path.join(o.dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: `${o.stackName}-engine-test`,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PATH: [bin, ...rest].join(path.delimiter),
      },
    },
  );
}
