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
import type * as pulumi from "@pulumi/pulumi";
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

type SecretsLogic = typeof secretsLogic;
type ApplyLogic = typeof applyLogic;
type BootstrapLogic = typeof bootstrapLogic;
type ClientConfigsLogic = typeof clientConfigsLogic;
type ReadyLogic = typeof readyLogic;
type MembershipLogic = typeof membershipLogic;

const SECRETS = LOGIC.secrets;
const APPLY = LOGIC.apply;
const BOOTSTRAP = LOGIC.bootstrap;
const CLIENT_CONFIGS = LOGIC.clientConfigs;
const READY = LOGIC.ready;
const MEMBERSHIP = LOGIC.membership;

// Inputs/outputs are untyped property bags here; the logic modules validate them.
type Bag = Record<string, unknown>;

export const machineSecretsProvider: pulumi.dynamic.ResourceProvider<Bag, Bag> = {
  async create(inputs) {
    const r = await loadLogic<SecretsLogic>(SECRETS).create(inputs);
    return { id: r.id, outs: { ...r.outs } };
  },
  async diff(_id, olds, news) {
    return loadLogic<SecretsLogic>(SECRETS).diff(olds, news);
  },
  async update(_id, olds, news) {
    return { outs: { ...loadLogic<SecretsLogic>(SECRETS).update(olds, news).outs } };
  },
  async read(id, props) {
    return { id, props };
  },
  async delete() {
    // Nothing outside the state holds the bundle.
  },
};

export const machineConfigApplyProvider: pulumi.dynamic.ResourceProvider<Bag, Bag> = {
  async check(olds, news) {
    return { inputs: news, failures: loadLogic<ApplyLogic>(APPLY).checkUpgrade(olds, news) };
  },
  async create(inputs) {
    const r = await loadLogic<ApplyLogic>(APPLY).create(inputs);
    return { id: r.id, outs: { ...r.outs } };
  },
  async diff(_id, olds, news) {
    return loadLogic<ApplyLogic>(APPLY).diff(olds, news);
  },
  async update(_id, olds, news) {
    const r = await loadLogic<ApplyLogic>(APPLY).update(olds, news);
    return { outs: { ...r.outs } };
  },
  async delete(_id, props) {
    await loadLogic<ApplyLogic>(APPLY).remove(props);
  },
  async read(id, props) {
    return { id, props };
  },
};

export const bootstrapProvider: pulumi.dynamic.ResourceProvider<Bag, Bag> = {
  async create(inputs) {
    const r = await loadLogic<BootstrapLogic>(BOOTSTRAP).create(inputs);
    return { id: r.id, outs: { ...r.outs } };
  },
  async diff(_id, olds, news) {
    return loadLogic<BootstrapLogic>(BOOTSTRAP).diff(olds, news);
  },
  async update(_id, olds, news) {
    // Only state is rewritten (bootstrap happens once).
    return { outs: { ...olds, ...news } };
  },
  async delete() {},
  async read(id, props) {
    return { id, props };
  },
};

export const clusterReadyProvider: pulumi.dynamic.ResourceProvider<Bag, Bag> = {
  async create(inputs) {
    const r = await loadLogic<ReadyLogic>(READY).create(inputs);
    return { id: r.id, outs: { ...r.outs } };
  },
  async diff(_id, olds, news) {
    return loadLogic<ReadyLogic>(READY).diff(olds, news);
  },
  async update(_id, olds, news) {
    const r = await loadLogic<ReadyLogic>(READY).update(olds, news);
    return { outs: { ...r.outs } };
  },
  async delete() {},
  async read(id, props) {
    return { id, props };
  },
};

export const clientConfigsProvider: pulumi.dynamic.ResourceProvider<Bag, Bag> = {
  async create(inputs) {
    const r = await loadLogic<ClientConfigsLogic>(CLIENT_CONFIGS).create(inputs);
    return { id: r.id, outs: { ...r.outs } };
  },
  async diff(_id, olds, news) {
    return loadLogic<ClientConfigsLogic>(CLIENT_CONFIGS).diff(olds, news);
  },
  async update(_id, olds, news) {
    const r = await loadLogic<ClientConfigsLogic>(CLIENT_CONFIGS).update(olds, news);
    return { outs: { ...r.outs } };
  },
  async delete() {},
  async read(id, props) {
    return { id, props };
  },
};

export const clusterMembershipProvider: pulumi.dynamic.ResourceProvider<Bag, Bag> = {
  async check(olds, news) {
    return { inputs: news, failures: loadLogic<MembershipLogic>(MEMBERSHIP).check(olds, news) };
  },
  async create(inputs) {
    const r = await loadLogic<MembershipLogic>(MEMBERSHIP).create(inputs);
    return { id: r.id, outs: { ...r.outs } };
  },
  async diff(_id, olds, news) {
    return loadLogic<MembershipLogic>(MEMBERSHIP).diff(olds, news);
  },
  async update(_id, olds, news) {
    const r = await loadLogic<MembershipLogic>(MEMBERSHIP).update(olds, news);
    return { outs: { ...r.outs } };
  },
  // Nothing on delete: a destroy of the whole cluster skips the per-node ceremony.
  async delete() {},
  async read(id, props) {
    return { id, props };
  },
};
