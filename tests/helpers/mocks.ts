/**
 * Runs Pulumi code under `pulumi.runtime.setMocks` and records every registration: type, name,
 * custom vs component, parent URN, provider reference, inputs (secrets unwrapped, their paths
 * noted), the URNs each resource depends on (explicit `dependsOn` and input dependencies), the
 * outputs components register, and the program's stack outputs.
 *
 * `MockResourceArgs` (3.250.0) carries neither parent nor dependencies, so the recorder wraps the
 * mock monitor's `registerResource` and reads them off the RegisterResourceRequest
 * (`getDependenciesList`, `getPropertydependenciesMap`), which is exactly what the engine would get.
 *
 *   const rec = await recordProgram(() => { new MyComponent("x", args); return { out: ... }; });
 *   rec.find("kubernetes:helm.sh/v3:Release", "cilium");
 *   rec.dependsOn(a, b);   // transitively, through dependencies, providers and parents' dependsOn
 */
import * as pulumi from "@pulumi/pulumi";
import type { MockCallArgs, MockResourceArgs, MockResourceResult } from "@pulumi/pulumi/runtime/mocks";
import * as settings from "@pulumi/pulumi/runtime/settings";

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** A value with Pulumi's secret markers made plain; the paths that were secret go to `secretPaths`. */
export function unwrapSecrets(value: unknown, path = "", secretPaths: string[] = []): unknown {
  if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${path}[${i}]`, secretPaths));
  if (value && typeof value === "object") {
    const rec = value as Record<string, unknown>;
    if (rec[SIG_KEY] === SECRET_SIG) {
      secretPaths.push(path);
      return unwrapSecrets(rec.value, path, secretPaths);
    }
    return Object.fromEntries(
      Object.entries(rec).map(([k, v]) => [k, unwrapSecrets(v, path ? `${path}.${k}` : k, secretPaths)]),
    );
  }
  return value;
}

/** Every place `needle` occurs in `value` (inside a string), as a path like unwrapSecrets' ones. */
export function pathsOf(value: unknown, needle: string, path = ""): string[] {
  if (typeof value === "string") return value.includes(needle) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => pathsOf(v, needle, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => pathsOf(v, needle, path ? `${path}.${k}` : k));
  }
  return [];
}

/** One registered resource as the mock monitor saw it. */
export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** Custom resource (true) or component (false). */
  readonly custom: boolean;
  readonly parentUrn?: string;
  /** Provider reference `<provider urn>::<id>`, when a custom resource names one. */
  readonly providerRef?: string;
  /** URN part of `providerRef`. */
  readonly providerUrn?: string;
  /** Inputs with secrets unwrapped. */
  readonly inputs: Record<string, unknown>;
  /** Input paths that were Pulumi secrets. */
  readonly secretInputPaths: readonly string[];
  /** Every URN this resource depends on directly (explicit `dependsOn` and through its inputs). */
  readonly dependencies: readonly string[];
  /** Input name → URNs that input depends on. */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  /** Property paths of the `ignoreChanges` option. */
  readonly ignoreChanges: readonly string[];
  /** Property paths of the `replaceOnChanges` option. */
  readonly replaceOnChanges?: readonly string[];
  /** The `replacementTrigger` option's value, when set. */
  readonly replacementTrigger?: unknown;
  readonly additionalSecretOutputs: readonly string[];
  /** The `aliases` option: each a former URN, or a spec naming what changed (here: the parent). */
  readonly aliases: readonly RecordedAlias[];
  /** Outputs a component registered (secrets unwrapped). */
  outputs?: Record<string, unknown>;
  /** Output paths of `outputs` that were secret. */
  secretOutputPaths: string[];
}

/** One alias as the engine receives it (`pulumirpc.Alias`: a URN or a spec). */
export interface RecordedAlias {
  readonly urn?: string;
  readonly name?: string;
  readonly type?: string;
  readonly parentUrn?: string;
  readonly noParent?: boolean;
}

export interface RecordOptions {
  readonly project?: string;
  readonly stack?: string;
  readonly preview?: boolean;
  /** Stack config (`project:key` → text) and which keys are secret. */
  readonly config?: Record<string, string>;
  readonly secretKeys?: string[];
  /**
   * Custom state for a resource; return undefined for the default (state = inputs, id = `<name>-id`
   * for custom resources).
   */
  readonly newResource?: (
    args: MockResourceArgs,
  ) => MockResourceResult | undefined | Promise<MockResourceResult | undefined>;
  /** Function call results; defaults to echoing the inputs. */
  readonly call?: (args: MockCallArgs) => Record<string, unknown> | Promise<Record<string, unknown>>;
}

export interface Recording {
  readonly resources: readonly RecordedResource[];
  /** The program's returned outputs, resolved, secrets unwrapped. */
  readonly stackOutputs: Record<string, unknown>;
  /** Names of stack outputs that were secret. */
  readonly secretStackOutputs: readonly string[];
  byType(type: string): RecordedResource[];
  /** The one resource of `type` named `name` (throws when absent or ambiguous). */
  find(type: string, name: string): RecordedResource;
  tryFind(type: string, name: string): RecordedResource | undefined;
  byUrn(urn: string): RecordedResource | undefined;
  /**
   * Whether `from` waits for `to`: through dependencies (a component dependency stands for the
   * component and all its descendants) and provider references, transitively.
   */
  dependsOn(from: RecordedResource, to: RecordedResource): boolean;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProtect(): boolean | undefined;
  getRetainondelete?(): boolean | undefined;
  getProvider(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): {
    forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void;
  };
  getAdditionalsecretoutputsList(): string[];
  getAliasesList(): Array<{
    toObject(): {
      urn?: string;
      spec?: { name?: string; type?: string; parenturn?: string; noparent?: boolean };
    };
  }>;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  hasReplacementTrigger(): boolean;
  getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
}
interface OutputsRequest {
  getUrn(): string;
  getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined;
}
type Callback = (err: unknown, res: unknown) => void;
interface MockMonitorLike {
  registerResource(req: RegisterRequest, cb: Callback): unknown;
  registerResourceOutputs(req: OutputsRequest, cb: Callback): unknown;
}

async function settle(value: unknown): Promise<{ value: unknown; secret: boolean }> {
  const out: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<unknown>);
  const secret = await pulumi.isSecret(out);
  const resolved = await new Promise<unknown>((resolve) => out.apply((v) => resolve(v)));
  return { value: resolved, secret };
}

/** Resolves an Output (or plain value) under mocks; with `isSecret`. */
export function resolveOutput<T>(value: pulumi.Input<T>): Promise<{ value: T; secret: boolean }> {
  return settle(value) as Promise<{ value: T; secret: boolean }>;
}

/**
 * Runs `program` under mocks and returns what it registered. Each call installs fresh mocks, so
 * tests may call it once per scenario.
 */
export async function recordProgram(
  program: () => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined,
  opts: RecordOptions = {},
): Promise<Recording> {
  const project = opts.project ?? "proxmox-talos";
  const stack = opts.stack ?? "test";
  const regs = new Map<string, RecordedResource>();
  const inputsByKey = new Map<string, Record<string, unknown>>();
  let pending = 0;

  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        const inputs = args.inputs as Record<string, unknown>;
        inputsByKey.set(`${args.type}::${args.name}`, inputs);
        const custom = await opts.newResource?.(args);
        return custom ?? { id: args.custom ? `${args.name}-id` : undefined, state: inputs };
      },
      call: (args) => (opts.call ? opts.call(args) : (args.inputs as Record<string, unknown>)),
    },
    project,
    stack,
    opts.preview ?? false,
  );
  pulumi.runtime.setAllConfig(opts.config ?? {}, opts.secretKeys ?? []);

  const monitor = settings.getMonitor() as unknown as MockMonitorLike;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    pending++;
    return register(req, (err, res) => {
      pending--;
      if (!err) {
        const urn = (res as { getUrn(): string }).getUrn();
        const providerRef = req.getProvider() || undefined;
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((v, k) => {
          propertyDependencies[k] = v.getUrnsList();
        });
        const secretInputPaths: string[] = [];
        const rawInputs = inputsByKey.get(`${req.getType()}::${req.getName()}`) ?? {};
        regs.set(urn, {
          urn,
          type: req.getType(),
          name: req.getName(),
          custom: req.getCustom(),
          ...(req.getParent() ? { parentUrn: req.getParent() } : {}),
          ...(providerRef
            ? { providerRef, providerUrn: providerRef.slice(0, providerRef.lastIndexOf("::")) }
            : {}),
          inputs: unwrapSecrets(rawInputs, "", secretInputPaths) as Record<string, unknown>,
          secretInputPaths,
          dependencies: [...new Set(req.getDependenciesList())],
          propertyDependencies,
          protect: req.getProtect() ?? false,
          retainOnDelete: req.getRetainondelete?.() ?? false,
          ignoreChanges: req.getIgnorechangesList(),
          replaceOnChanges: req.getReplaceonchangesList(),
          ...(req.hasReplacementTrigger()
            ? { replacementTrigger: req.getReplacementTrigger()?.toJavaScript() }
            : {}),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          aliases: req.getAliasesList().map((a): RecordedAlias => {
            const { urn, spec } = a.toObject();
            if (urn) return { urn };
            return {
              ...(spec?.name ? { name: spec.name } : {}),
              ...(spec?.type ? { type: spec.type } : {}),
              ...(spec?.parenturn ? { parentUrn: spec.parenturn } : {}),
              ...(spec?.noparent ? { noParent: true } : {}),
            };
          }),
          secretOutputPaths: [],
        });
      }
      cb(err, res);
    });
  };
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, cb) => {
    const reg = regs.get(req.getUrn());
    if (reg) {
      const secretPaths: string[] = [];
      reg.outputs = unwrapSecrets(req.getOutputs()?.toJavaScript() ?? {}, "", secretPaths) as Record<
        string,
        unknown
      >;
      reg.secretOutputPaths = secretPaths;
    }
    return registerOutputs(req, cb);
  };

  const returned = (await program()) ?? {};
  const stackOutputs: Record<string, unknown> = {};
  const secretStackOutputs: string[] = [];
  for (const [k, v] of Object.entries(returned)) {
    const { value, secret } = await settle(v);
    stackOutputs[k] = unwrapSecrets(value);
    if (secret) secretStackOutputs.push(k);
  }
  // Let registrations still in flight finish: nothing pending and the count holding still.
  for (let last = -1, stable = 0; stable < 3; ) {
    await new Promise((r) => setTimeout(r, 10));
    stable = pending === 0 && regs.size === last ? stable + 1 : 0;
    last = regs.size;
  }

  const resources = [...regs.values()];
  const children = new Map<string, string[]>();
  for (const r of resources) {
    if (r.parentUrn) children.set(r.parentUrn, [...(children.get(r.parentUrn) ?? []), r.urn]);
  }
  const descendants = (urn: string): string[] =>
    (children.get(urn) ?? []).flatMap((c) => [c, ...descendants(c)]);
  const edges = (r: RecordedResource): string[] => {
    const direct = [...r.dependencies, ...(r.providerUrn ? [r.providerUrn] : [])];
    return direct.flatMap((u) => [u, ...descendants(u)]);
  };

  const recording: Recording = {
    resources,
    stackOutputs,
    secretStackOutputs,
    byType: (type) => resources.filter((r) => r.type === type),
    tryFind: (type, name) => resources.find((r) => r.type === type && r.name === name),
    find: (type, name) => {
      const found = resources.filter((r) => r.type === type && r.name === name);
      if (found.length !== 1) throw new Error(`expected one ${type} "${name}", found ${found.length}`);
      return found[0];
    },
    byUrn: (urn) => regs.get(urn),
    dependsOn: (from, to) => {
      const seen = new Set<string>();
      const stackOf = [...edges(from)];
      while (stackOf.length > 0) {
        const urn = stackOf.pop()!;
        if (urn === to.urn) return true;
        if (seen.has(urn)) continue;
        seen.add(urn);
        const r = regs.get(urn);
        if (r) stackOf.push(...edges(r));
      }
      return false;
    },
  };
  return recording;
}
