/**
 * The dynamic providers of the Talos layer, kept thin for Pulumi's closure serialization.
 *
 * Pulumi serializes each provider object (with everything its methods reference) into the state and
 * runs it in a separate Node process, the dynamic-provider plugin. So the methods here reference
 * only `loadLogic` and a small `LogicRef` (paths as strings, resolved now, at program time) and
 * `require` the real logic — TypeScript modules under `./logic/` — when they run:
 *
 * - by absolute path; if the checkout moved since (e.g. a destroy with the provider from an old
 *   state), by the project-relative path from the plugin's working directory (the project dir);
 * - if no TypeScript loader is active in that process (`require.extensions[".ts"]` unset — the
 *   project's engine launcher preloads tsx, Pulumi's stock plugin does not), tsx's CommonJS
 *   register API (`tsx/cjs/api`, from the project's node_modules) is registered first.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type * as applyLogic from "./logic/apply";
import type * as bootstrapLogic from "./logic/bootstrap";
import type * as clientConfigsLogic from "./logic/client-configs";
import type * as membershipLogic from "./logic/membership";
import type * as readyLogic from "./logic/ready";
import type * as secretsLogic from "./logic/secrets";

/** Where a logic module is, captured as plain strings into the serialized provider. */
export interface LogicRef {
  /** Absolute path of the module file at program time. */
  readonly abs: string;
  /** Same, relative to the project root. */
  readonly rel: string;
  /** Absolute path of `tsx/cjs/api` at program time ("" when tsx is not installed). */
  readonly tsx: string;
}

/** Project root: components/talos/resources → ../../.. */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..", "..");

function tsxApiPath(): string {
  try {
    return require.resolve("tsx/cjs/api");
  } catch {
    return "";
  }
}

function logicRef(name: string): LogicRef {
  const abs = require.resolve(`./logic/${name}`);
  return { abs, rel: path.relative(PROJECT_ROOT, abs), tsx: tsxApiPath() };
}

export const LOGIC = {
  apply: logicRef("apply"),
  bootstrap: logicRef("bootstrap"),
  clientConfigs: logicRef("client-configs"),
  membership: logicRef("membership"),
  ready: logicRef("ready"),
  secrets: logicRef("secrets"),
  snapshot: logicRef("snapshot"),
} as const;

/**
 * Loads a logic module inside the provider process (see the file comment). Self-contained: it is
 * serialized with the providers, so it uses only `require`, `process` and its argument.
 */
export function loadLogic<T>(ref: LogicRef): T {
  const fs = require("node:fs") as typeof import("node:fs");
  const nodePath = require("node:path") as typeof import("node:path");
  let file = ref.abs;
  if (!fs.existsSync(file)) {
    const alt = nodePath.resolve(process.cwd(), ref.rel);
    if (fs.existsSync(alt)) file = alt;
  }
  if (/\.[cm]?tsx?$/.test(file) && !require.extensions[".ts"]) {
    let api = ref.tsx && fs.existsSync(ref.tsx) ? ref.tsx : "";
    if (!api) {
      try {
        api = require.resolve("tsx/cjs/api", { paths: [nodePath.dirname(file), process.cwd()] });
      } catch {
        throw new Error(
          `cannot load ${file}: it is TypeScript and no TypeScript loader is active in the Pulumi dynamic-provider process, and tsx was not found (run npm install in the project)`,
        );
      }
    }
    (require(api) as { register(): unknown }).register();
  }
  return require(file) as T;
}

// Inputs/outputs are untyped property bags here; the logic modules validate them.
type Bag = Record<string, unknown>;

/**
 * What a logic module exports for its provider. `update`, `remove` and `checkUpgrade` are optional:
 * without `update` an update only rewrites the state, without `remove` a delete does nothing outside
 * the state, without `checkUpgrade` every input passes `check`.
 */
interface ProviderLogic {
  create(inputs: unknown): Promise<{ id: string; outs: object }>;
  diff(olds: unknown, news: unknown): pulumi.dynamic.DiffResult;
  update?(olds: unknown, news: unknown): Promise<{ outs: object }>;
  remove?(props: unknown): Promise<void>;
  checkUpgrade?(olds: unknown, news: unknown): pulumi.dynamic.CheckFailure[];
  /** Other refusals known before any step runs (a protected scale-down). */
  check?(olds: unknown, news: unknown): pulumi.dynamic.CheckFailure[];
}

/**
 * The provider of one logic module. Its methods capture only `ref` and `loadLogic` (see the file
 * comment) and load the module when they run, in the dynamic-provider process.
 */
export function logicProvider<M extends ProviderLogic>(
  ref: LogicRef,
): pulumi.dynamic.ResourceProvider<Bag, Bag> {
  return {
    async check(olds, news) {
      const m = loadLogic<M>(ref);
      const failures = [...(m.checkUpgrade?.(olds, news) ?? []), ...(m.check?.(olds, news) ?? [])];
      return { inputs: news, failures };
    },
    async create(inputs) {
      const r = await loadLogic<M>(ref).create(inputs);
      return { id: r.id, outs: { ...r.outs } };
    },
    async diff(_id, olds, news) {
      return loadLogic<M>(ref).diff(olds, news);
    },
    async update(_id, olds, news) {
      const m = loadLogic<M>(ref);
      return { outs: m.update ? { ...(await m.update(olds, news)).outs } : { ...olds, ...news } };
    },
    async delete(_id, props) {
      await loadLogic<M>(ref).remove?.(props);
    },
    async read(id, props) {
      return { id, props };
    },
  };
}

/**
 * The bundle: a different import replaces it (only when allowed, see logic/secrets.ts); an update
 * only adopts the bundle already in state; nothing outside the state on delete.
 */
export const machineSecretsProvider = logicProvider<typeof secretsLogic>(LOGIC.secrets);
/** One node's config; `remove` resets it only with `resetOnDelete`. */
export const machineConfigApplyProvider = logicProvider<typeof applyLogic>(LOGIC.apply);
/** Bootstraps once: an update only rewrites the state. */
export const bootstrapProvider = logicProvider<typeof bootstrapLogic>(LOGIC.bootstrap);
export const clusterReadyProvider = logicProvider<typeof readyLogic>(LOGIC.ready);
export const clientConfigsProvider = logicProvider<typeof clientConfigsLogic>(LOGIC.clientConfigs);
/** `check` refuses a protected scale-down; nothing on delete: a destroy skips the per-node ceremony. */
export const clusterMembershipProvider = logicProvider<typeof membershipLogic>(LOGIC.membership);

/**
 * The provider of one logic module as the dynamic-provider host loads it: the text of a CommonJS
 * module whose `handler()` returns `logicProvider(ref)`. Written out here from the two functions
 * above (self-contained: they use only their arguments, `require` and `process`), so the program
 * skips Pulumi's closure serialization, which loads the TypeScript compiler and walks every
 * closure through the inspector — a second or more of each `up` before the first resource.
 */
export function providerModuleText(ref: LogicRef): string {
  return [
    "exports.handler = function () {",
    `  const loadLogic = ${loadLogic.toString()};`,
    `  const logicProvider = ${logicProvider.toString()};`,
    `  return logicProvider(${JSON.stringify(ref)});`,
    "};",
    "",
  ].join("\n");
}

const providerTexts = new Map<LogicRef, string>();

/**
 * A dynamic resource of the Talos layer (`pulumi-nodejs:dynamic/talos:<type>`, as
 * `pulumi.dynamic.Resource` names it) whose provider is {@link providerModuleText}.
 */
export abstract class LogicResource extends pulumi.CustomResource {
  constructor(
    ref: LogicRef,
    name: string,
    props: pulumi.Inputs,
    opts: pulumi.CustomResourceOptions | undefined,
    type: string,
  ) {
    let text = providerTexts.get(ref);
    if (text === undefined) {
      text = providerModuleText(ref);
      providerTexts.set(ref, text);
    }
    super(`pulumi-nodejs:dynamic/talos:${type}`, name, { ...props, __provider: text }, opts);
  }
}
