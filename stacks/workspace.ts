/**
 * Opens a stack of this project through the Automation API: LocalWorkspace over the project dir,
 * the program run INLINE (so no Node.js language host is needed), a local file backend by
 * default, the engine from `npm run engine` on PATH when it was built.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  LocalWorkspace,
  PulumiCommand,
  type PulumiFn,
  type Stack,
  StackNotFoundError,
} from "@pulumi/pulumi/automation";
import { NoCliError, UserError } from "./errors";
import { hardenInlineRuntime } from "./inline-runtime";
import {
  hasPassphrase,
  PASSPHRASE_HINT,
  passphraseRefusal,
  stackFileFacts,
  usesOtherProvider,
} from "./passphrase";

export const PROJECT_NAME = "proxmox-talos";
export const PROJECT_ROOT = path.resolve(__dirname, "..");

export type Env = Readonly<Record<string, string | undefined>>;

export interface WorkspaceOptions {
  /** Project dir holding Pulumi.yaml and Pulumi.<stack>.yaml (default: this repo). */
  readonly projectRoot?: string;
  /** Environment to read settings from (default: process.env). */
  readonly env?: Env;
  /** A ready CLI (tests pass a fake); otherwise found with {@link findPulumiCommand}. */
  readonly pulumiCommand?: PulumiCommand;
  /** The program (default: `clusterProgram` from program.ts, loaded lazily). */
  readonly program?: PulumiFn;
  /** `--allow-empty-passphrase`: a non-production stack may run with an empty passphrase. */
  readonly allowEmptyPassphrase?: boolean;
  /** Progress lines of a set-up step, e.g. the engine build (default: stderr). */
  readonly log?: (line: string) => void;
}

/** The version of @pulumi/pulumi this project pins (the engine is built at the same version). */
export function sdkVersion(root = PROJECT_ROOT): string {
  const pkg: unknown = JSON.parse(
    fs.readFileSync(path.join(root, "node_modules/@pulumi/pulumi/package.json"), "utf8"),
  );
  const v = (pkg as { version?: unknown }).version;
  return typeof v === "string" ? v : "0.0.0";
}

/** Where scripts/pulumi-engine.sh puts the CLI and the plugin launchers. */
export function engineBinDir(env: Env, version: string): string {
  return (
    env.PULUMI_ENGINE_DIR ||
    path.join(env.HOME || os.homedir(), ".cache/proxmox-talos", `pulumi-${version}`, "bin")
  );
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The environment every CLI call gets. Without a passphrase in `env` it is empty only when
 * `emptyPassphrase` (a preview, or a run the passphrase guard let through); otherwise unset, so
 * the CLI itself refuses to encrypt.
 */
export function workspaceEnv(root: string, env: Env, emptyPassphrase = true): Record<string, string> {
  const out: Record<string, string> = {
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PROXMOX_TALOS_ROOT: root,
    PULUMI_BACKEND_URL: env.PULUMI_BACKEND_URL || `file://${path.join(root, ".pulumi")}`,
  };
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) out.PULUMI_CONFIG_PASSPHRASE = env.PULUMI_CONFIG_PASSPHRASE;
  else if (env.PULUMI_CONFIG_PASSPHRASE_FILE)
    out.PULUMI_CONFIG_PASSPHRASE_FILE = env.PULUMI_CONFIG_PASSPHRASE_FILE;
  else if (emptyPassphrase) out.PULUMI_CONFIG_PASSPHRASE = "";
  const bin = engineBinDir(env, sdkVersion(root));
  const basePath = env.PATH ?? "";
  out.PATH = fs.existsSync(bin) ? `${bin}${path.delimiter}${basePath}` : basePath;
  return out;
}

/** True when `name` is an executable file in a directory of `env.PATH`. */
export function onPath(env: Env, name: string): boolean {
  return (env.PATH ?? "")
    .split(path.delimiter)
    .some((dir) => dir !== "" && isExecutable(path.join(dir, name)));
}

/**
 * Runs the engine build (`npm run engine`, i.e. scripts/pulumi-engine.sh) with `env`, passing its
 * progress lines (stderr) to `log`. Resolves true when it succeeded.
 */
export function buildEngine(root: string, env: Env, log: (line: string) => void): Promise<boolean> {
  const script = path.join(root, "scripts", "pulumi-engine.sh");
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  return new Promise((resolve) => {
    const child = spawn("bash", [script], { cwd: root, env: childEnv, stdio: ["ignore", "ignore", "pipe"] });
    let pending = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.trim() !== "") log(line);
    });
    child.on("error", () => resolve(false));
    child.on("close", (code) => {
      if (pending.trim() !== "") log(pending);
      resolve(code === 0);
    });
  });
}

/**
 * Finds the Pulumi CLI: the built engine first, then `pulumi` on PATH. Without one, where Go is
 * present, builds the pinned engine (`npm run engine`, with progress) and looks again; otherwise
 * (or when the build fails) one line saying how to install the pinned Pulumi.
 */
export async function findPulumiCommand(
  root: string,
  env: Env,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<PulumiCommand> {
  const found = await locatePulumiCommand(root, env);
  if (found) return found;
  const version = sdkVersion(root);
  const bin = engineBinDir(env, version);
  const install = `install the pinned Pulumi ${version} with \`curl -fsSL https://get.pulumi.com | sh -s -- --version ${version}\``;
  if (!onPath(env, "go")) {
    throw new NoCliError(
      `no Pulumi CLI found (looked in ${bin} and on PATH) and no Go to build it with \`npm run engine\`: ${install} (pulumi.com's installer)`,
    );
  }
  log(
    `no Pulumi CLI found: building the pinned engine ${version} with \`npm run engine\` (Go is present; minutes the first time)`,
  );
  const built = await buildEngine(root, env, log);
  const after = built ? await locatePulumiCommand(root, env) : undefined;
  if (after) return after;
  throw new NoCliError(`no Pulumi CLI found and \`npm run engine\` failed (its output is above): ${install}`);
}

/** The built engine, else a `pulumi` on PATH; undefined when neither runs. */
async function locatePulumiCommand(root: string, env: Env): Promise<PulumiCommand | undefined> {
  const candidates: string[] = [];
  const bin = engineBinDir(env, sdkVersion(root));
  if (isExecutable(path.join(bin, "pulumi"))) candidates.push(path.dirname(bin));
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir && path.basename(dir) === "bin" && isExecutable(path.join(dir, "pulumi")))
      candidates.push(path.dirname(dir));
  }
  for (const candidate of candidates) {
    try {
      return await PulumiCommand.get({ root: candidate, skipVersionCheck: true });
    } catch {
      // not runnable: try the next one
    }
  }
  return undefined;
}

/** The error the program threw during the last operation, if any (a ConfigError, say). */
export interface ProgramErrors {
  last?: Error;
}

/** Loads `clusterProgram` from program.ts only when the engine runs the program. */
export function lazyClusterProgram(root: string): PulumiFn {
  return async () => {
    const file = path.join(root, "program");
    let mod: unknown;
    try {
      mod = require(file);
    } catch (err) {
      const why = (err instanceof Error ? err.message : String(err)).split("\n")[0];
      throw new UserError(`cannot load ${file}.ts: ${why}`);
    }
    const fn = (mod as { clusterProgram?: unknown }).clusterProgram;
    if (typeof fn !== "function") throw new UserError(`${file}.ts does not export clusterProgram()`);
    return (await (fn as () => Promise<Record<string, unknown>>)()) ?? {};
  };
}

/** Wraps a program so the error it throws is kept for a one-line report. */
export function capturingProgram(program: PulumiFn, sink: ProgramErrors): PulumiFn {
  return async () => {
    try {
      return await program();
    } catch (err) {
      sink.last = err instanceof Error ? err : new Error(String(err));
      throw err;
    }
  };
}

export type OpenMode = "select" | "create" | "select-or-init";

export interface OpenedStack {
  readonly stack: Stack;
  readonly workspace: LocalWorkspace;
  readonly programErrors: ProgramErrors;
  readonly root: string;
  /** The project's own program runs (not a test's): its stack config is checked offline first. */
  readonly clusterProgram?: boolean;
  /** The stack runs under an empty passphrase (a preview, or `--allow-empty-passphrase`). */
  readonly emptyPassphrase: boolean;
}

/** Operations that write state (and so encrypt secrets): they get the passphrase guard. */
export type GuardedOperation = "up" | "destroy" | "rebuild" | "ephemeral";

/**
 * Opens a stack. `select` fails on an unknown stack; `select-or-init` creates it when the
 * project has a `Pulumi.<stack>.yaml` (its config); `create` always creates it.
 */
export async function openStack(
  stackName: string,
  mode: OpenMode,
  opts: WorkspaceOptions = {},
  guarded?: GuardedOperation,
): Promise<OpenedStack> {
  // Programs run in this process, one after another: see inline-runtime.ts.
  hardenInlineRuntime();
  const root = opts.projectRoot ?? PROJECT_ROOT;
  const env = opts.env ?? process.env;
  const facts = stackFileFacts(root, stackName);
  // A stack file naming a KMS/Vault secrets provider needs no passphrase.
  const otherProvider = usesOtherProvider(facts);
  const emptyPassphrase = !hasPassphrase(env) && !otherProvider;
  if (guarded) {
    const why = passphraseRefusal(guarded, stackName, env, {
      production: facts.production,
      allowEmpty: opts.allowEmptyPassphrase === true,
      otherProvider,
    });
    if (why) throw new UserError(why);
  }
  const envVars = workspaceEnv(root, env, emptyPassphrase);
  if (envVars.PULUMI_BACKEND_URL.startsWith("file://") && !env.PULUMI_BACKEND_URL) {
    // State holds the encrypted secrets and everything else: readable by its owner only.
    const dir = envVars.PULUMI_BACKEND_URL.slice("file://".length);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
  }
  const pulumiCommand = opts.pulumiCommand ?? (await findPulumiCommand(root, env, opts.log));
  const programErrors: ProgramErrors = {};
  const program = capturingProgram(opts.program ?? lazyClusterProgram(root), programErrors);
  const args = { stackName, projectName: PROJECT_NAME, program };
  const wsOpts = { workDir: root, envVars, pulumiCommand };
  // A new stack's passphrase salt is written into its file: created under "", its secrets stay bound
  // to the empty passphrase, and the user's next `pulumi config set --secret` with a real one fails
  // with "incorrect passphrase". So no operation creates a stack without one (unless asked to).
  const create = () => {
    if (emptyPassphrase && opts.allowEmptyPassphrase !== true) {
      throw new UserError(
        `refusing to create stack '${stackName}' without a passphrase: the passphrase a stack is created with encrypts its secrets from then on — ${PASSPHRASE_HINT}; then run this again`,
      );
    }
    return LocalWorkspace.createStack(args, wsOpts);
  };
  let stack: Stack;
  try {
    if (mode === "create") stack = await create();
    else stack = await LocalWorkspace.selectStack(args, wsOpts);
  } catch (err) {
    const hasFile = fs.existsSync(path.join(root, `Pulumi.${stackName}.yaml`));
    if (err instanceof StackNotFoundError && mode === "select-or-init" && hasFile) {
      stack = await create();
    } else if (err instanceof StackNotFoundError) {
      throw new UserError(
        `unknown stack '${stackName}' in ${envVars.PULUMI_BACKEND_URL}` +
          (mode === "select-or-init" ? ` and no Pulumi.${stackName}.yaml in ${root}` : ""),
      );
    } else {
      throw err;
    }
  }
  return {
    stack,
    workspace: stack.workspace as LocalWorkspace,
    programErrors,
    root,
    clusterProgram: opts.program === undefined,
    emptyPassphrase,
  };
}
