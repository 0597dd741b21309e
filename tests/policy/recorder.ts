/**
 * Runs Pulumi code under mocks and records what it registers — type, name, inputs, parent, provider,
 * `protect`, and component outputs — converted to the shapes the policy engine hands a pack:
 * secret values unwrapped (the engine sends them marked; `@pulumi/policy` unwraps them before a
 * validation runs), URNs as the engine builds them. Stand-in until tests/helpers/mocks.ts lands.
 */

import type { PolicyProviderResource } from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import type { ResourceSpec } from "./harness";

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** A value with secret markers (as the wire or `rpc.deserializeProperties` has them) made plain. */
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

interface Registration {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  parentUrn?: string;
  providerRef?: string;
  protect: boolean;
  inputs: Record<string, unknown>;
  /** Component outputs (registerOutputs), with the paths that were secret. */
  outputs?: Record<string, unknown>;
  secretOutputs: string[];
}

/** The parts of the mock monitor's request objects the recorder reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProtect(): boolean | undefined;
  getProvider(): string;
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

export interface Recording {
  readonly resources: ResourceSpec[];
  /** The program's return value, resolved and unwrapped, as the root stack's outputs. */
  readonly stackOutputs: Record<string, unknown>;
  /** Names of the stack outputs that were `pulumi.secret`. */
  readonly secretStackOutputs: string[];
  /** Per component URN, the output paths that were secret. */
  readonly secretComponentOutputs: ReadonlyMap<string, string[]>;
}

async function settle(value: unknown): Promise<{ value: unknown; secret: boolean }> {
  const out: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<unknown>);
  const secret = await pulumi.isSecret(out);
  const resolved = await new Promise<unknown>((resolve) => out.apply((v) => resolve(v)));
  return { value: resolved, secret };
}

/**
 * Runs `program` with mocks (every resource's state is its inputs) and the given stack config, and
 * returns what it registered. `config` maps full keys (`proxmox-talos:nodes`) to their text.
 */
export async function record(
  program: () => Promise<Record<string, unknown>> | Record<string, unknown> | undefined,
  opts: {
    project?: string;
    stack?: string;
    config?: Record<string, string>;
    secretKeys?: string[];
    /** Mock state for types whose outputs the program reads (undefined → inputs as state). */
    newResource?: (
      args: pulumi.runtime.MockResourceArgs,
    ) => Promise<pulumi.runtime.MockResourceResult | undefined>;
  } = {},
): Promise<Recording> {
  const project = opts.project ?? "proxmox-talos";
  const stack = opts.stack ?? "homelab";
  const regs = new Map<string, Registration>();
  const inputsByKey = new Map<string, Record<string, unknown>>();

  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        const inputs = args.inputs as Record<string, unknown>;
        inputsByKey.set(`${args.type}::${args.name}`, inputs);
        const custom = opts.newResource ? await opts.newResource(args) : undefined;
        return custom ?? { id: args.custom ? `${args.name}-id` : undefined, state: inputs };
      },
      call: (args) => args.inputs,
    },
    project,
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(opts.config ?? {}, opts.secretKeys ?? []);

  const monitor = settings.getMonitor() as unknown as MockMonitorLike;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    register(req, (err, res) => {
      if (!err) {
        const urn = (res as { getUrn(): string }).getUrn();
        const provider = req.getProvider();
        regs.set(urn, {
          urn,
          type: req.getType(),
          name: req.getName(),
          custom: req.getCustom(),
          ...(req.getParent() ? { parentUrn: req.getParent() } : {}),
          ...(provider ? { providerRef: provider } : {}),
          protect: req.getProtect() ?? false,
          inputs: inputsByKey.get(`${req.getType()}::${req.getName()}`) ?? {},
          secretOutputs: [],
        });
      }
      cb(err, res);
    });
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, cb) => {
    const reg = regs.get(req.getUrn());
    if (reg) {
      const secretPaths: string[] = [];
      reg.outputs = unwrapSecrets(req.getOutputs()?.toJavaScript() ?? {}, "", secretPaths) as Record<
        string,
        unknown
      >;
      reg.secretOutputs = secretPaths;
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
  // Let registrations still in flight finish: wait until the count holds still.
  for (let last = -1, stable = 0; stable < 3; ) {
    await new Promise((r) => setTimeout(r, 20));
    stable = regs.size === last ? stable + 1 : 0;
    last = regs.size;
  }

  const rootUrn = `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${project}-${stack}`;
  const providers = new Map<string, PolicyProviderResource>();
  for (const r of regs.values()) {
    if (r.type.startsWith("pulumi:providers:")) {
      providers.set(r.urn, {
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: unwrapSecrets(r.inputs) as Record<string, unknown>,
      });
    }
  }
  const resources: ResourceSpec[] = [
    { type: "pulumi:pulumi:Stack", name: `${project}-${stack}`, urn: rootUrn, stack, props: stackOutputs },
  ];
  const secretComponentOutputs = new Map<string, string[]>();
  for (const r of regs.values()) {
    const providerUrn = r.providerRef ? r.providerRef.slice(0, r.providerRef.lastIndexOf("::")) : undefined;
    const provider = providerUrn ? providers.get(providerUrn) : undefined;
    if (!r.custom) secretComponentOutputs.set(r.urn, r.secretOutputs);
    resources.push({
      type: r.type,
      name: r.name,
      urn: r.urn,
      stack,
      parentUrn: r.parentUrn ?? rootUrn,
      protect: r.protect,
      ...(provider ? { provider } : {}),
      // Custom resources: the engine checks their inputs (outputs equal inputs in a preview).
      // Components: their registered outputs.
      props: (r.custom ? unwrapSecrets(r.inputs) : (r.outputs ?? {})) as Record<string, unknown>,
    });
  }
  return { resources, stackOutputs, secretStackOutputs, secretComponentOutputs };
}
