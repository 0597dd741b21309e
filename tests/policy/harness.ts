/**
 * Drives policies the way the policy engine does (`@pulumi/policy`'s server): builds
 * `ResourceValidationArgs` / `StackValidationArgs` with props wrapped in the SDK's own
 * unknown-checking proxy, collects `reportViolation` calls, and treats `notApplicable` and values
 * unknown during preview as the server does.
 */
import * as assert from "node:assert/strict";
import type {
  EnforcementLevel,
  Policies,
  PolicyProviderResource,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import * as proxyModule from "@pulumi/policy/proxy";

/** The runtime exports of `@pulumi/policy/proxy` (its typings are stripped). */
const sdkProxy = proxyModule as unknown as {
  unknownCheckingProxy<T>(value: T): T;
  unknownStringValue: string;
  unknownObjectValue: object;
};

/** A value that is unknown during preview, as the engine marks it. */
export const UNKNOWN_STRING: string = sdkProxy.unknownStringValue;
export const UNKNOWN_OBJECT: object = sdkProxy.unknownObjectValue;

export const PROJECT = "proxmox-talos";
export const STACK = "homelab";

export function urnOf(type: string, name: string, stack = STACK, parentType?: string): string {
  const qualified = parentType ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${PROJECT}::${qualified}::${name}`;
}

/** What a test says about one resource; everything else is filled in as the engine would. */
export interface ResourceSpec {
  readonly type: string;
  readonly name: string;
  readonly props?: Record<string, unknown>;
  readonly protect?: boolean;
  readonly stack?: string;
  readonly parentUrn?: string;
  readonly provider?: PolicyProviderResource;
  readonly urn?: string;
}

function options(spec: ResourceSpec): PolicyResourceOptions {
  return {
    protect: spec.protect ?? false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(spec.parentUrn ? { parent: spec.parentUrn } : {}),
  };
}

/** `isType` as the server implements it: by the class' Pulumi type token. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
  const token = (resourceClass as { __pulumiType?: unknown }).__pulumiType;
  return typeof token === "string" && token === type;
}

export class NotApplicable extends Error {
  constructor(readonly reason: string | undefined) {
    super(reason ?? "not applicable");
  }
}

function throwNotApplicable(reason?: string): never {
  throw new NotApplicable(reason);
}

/** Deep plain copy (drops undefined like the wire does) wrapped in the SDK's unknown-checking proxy. */
function wire(props: Record<string, unknown> | undefined): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(props ?? {})) as Record<string, unknown>;
  return sdkProxy.unknownCheckingProxy(restoreUnknowns(props ?? {}, plain) as Record<string, unknown>);
}

/** JSON drops the unknown sentinels' identity; put them back where the source had them. */
function restoreUnknowns(src: unknown, copy: unknown): unknown {
  if (src === UNKNOWN_STRING || src === UNKNOWN_OBJECT) return src;
  if (Array.isArray(src) && Array.isArray(copy)) return copy.map((c, i) => restoreUnknowns(src[i], c));
  if (src && typeof src === "object" && copy && typeof copy === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(copy))
      out[k] = restoreUnknowns((src as Record<string, unknown>)[k], v);
    for (const [k, v] of Object.entries(src)) if (v === UNKNOWN_OBJECT) out[k] = v;
    return out;
  }
  return copy;
}

/** What a resource looks like to a resource policy and to a stack policy alike. */
function resourceView(spec: ResourceSpec) {
  return {
    type: spec.type,
    props: wire(spec.props),
    urn: spec.urn ?? urnOf(spec.type, spec.name, spec.stack),
    name: spec.name,
    opts: options(spec),
    ...(spec.provider ? { provider: spec.provider } : {}),
    isType: (cls: unknown) => isTypeOf(spec.type, cls),
  };
}

export function resourceArgs(spec: ResourceSpec, config: object = {}): ResourceValidationArgs {
  const view = resourceView(spec);
  const asType = ((cls: unknown) =>
    isTypeOf(spec.type, cls) ? view.props : undefined) as ResourceValidationArgs["asType"];
  return {
    ...view,
    stackTags: new Map(),
    asType,
    getConfig: <T extends object>() => config as T,
    notApplicable: throwNotApplicable,
  };
}

export function policyResource(spec: ResourceSpec): PolicyResource {
  return { ...resourceView(spec), dependencies: [], propertyDependencies: {}, asType: () => undefined };
}

/** Fills in `parent` links between the resources (by the parent URN in their options). */
export function linkParents(resources: PolicyResource[]): PolicyResource[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  for (const r of resources) {
    const parent = r.opts.parent ? byUrn.get(r.opts.parent) : undefined;
    if (parent) r.parent = parent;
  }
  return resources;
}

export function stackArgs(resources: PolicyResource[], config: object = {}): StackValidationArgs {
  return {
    resources,
    stackTags: new Map(),
    getConfig: <T extends object>() => config as T,
    notApplicable: throwNotApplicable,
  };
}

export interface Outcome {
  readonly violations: ReadonlyArray<{ readonly message: string; readonly urn?: string }>;
  /** Set when the policy declared itself not applicable. */
  readonly notApplicable?: string;
  /** Set when the policy read a value unknown during preview (the server reports that as advisory). */
  readonly unknown?: string;
}

async function capture(run: (report: (message: string, urn?: string) => void) => unknown): Promise<Outcome> {
  const violations: Array<{ message: string; urn?: string }> = [];
  try {
    await Promise.resolve(run((message, urn) => violations.push({ message, ...(urn ? { urn } : {}) })));
  } catch (err) {
    if (err instanceof NotApplicable) return { violations, notApplicable: err.reason ?? "" };
    if (err instanceof Error && err.constructor.name === "UnknownValueError")
      return { violations, unknown: err.message };
    throw err;
  }
  return { violations };
}

export function runResourcePolicy(
  policy: ResourceValidationPolicy,
  args: ResourceValidationArgs,
): Promise<Outcome> {
  return capture(async (report) => {
    const validations = Array.isArray(policy.validateResource)
      ? policy.validateResource
      : policy.validateResource
        ? [policy.validateResource]
        : [];
    for (const validate of validations) await Promise.resolve(validate(args, report));
  });
}

export function runStackPolicy(policy: StackValidationPolicy, args: StackValidationArgs): Promise<Outcome> {
  return capture((report) => policy.validateStack(args, report));
}

/** Messages of an outcome, for assertions. */
export function messages(outcome: Outcome): string[] {
  return outcome.violations.map((v) => v.message);
}

/** The messages a resource policy reports on `spec`; it must not have read a value unknown at preview. */
export async function violations(
  policy: ResourceValidationPolicy,
  spec: ResourceSpec,
  config: object = {},
): Promise<string[]> {
  const outcome = await runResourcePolicy(policy, resourceArgs(spec, config));
  assert.equal(outcome.unknown, undefined, `policy read an unknown value: ${outcome.unknown}`);
  return messages(outcome);
}

export interface PackViolation {
  readonly policy: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly message: string;
  readonly urn?: string;
}

function isStackPolicy(p: ResourceValidationPolicy | StackValidationPolicy): p is StackValidationPolicy {
  return "validateStack" in p && typeof p.validateStack === "function";
}

/**
 * Runs a whole pack over a stack as the engine does: every resource policy on every resource
 * (Analyze), then every stack policy over all of them (AnalyzeStack). `config` is per policy, as
 * in `--policy-pack-config`, and may override `enforcementLevel`.
 */
export async function runPack(
  policies: Policies,
  resources: readonly ResourceSpec[],
  config: Readonly<Record<string, Record<string, unknown>>> = {},
): Promise<PackViolation[]> {
  const out: PackViolation[] = [];
  for (const p of policies) {
    const { enforcementLevel: override, ...policyConfig } = config[p.name] ?? {};
    const level = (override as EnforcementLevel | undefined) ?? p.enforcementLevel ?? "advisory";
    if (level === "disabled") continue;
    // A resource policy's violations always belong to the resource under validation.
    const outcomes: Array<{ outcome: Outcome; urn?: string }> = [];
    if (isStackPolicy(p)) {
      const args = stackArgs(linkParents(resources.map(policyResource)), policyConfig);
      outcomes.push({ outcome: await runStackPolicy(p, args) });
    } else {
      for (const r of resources) {
        const args = resourceArgs(r, policyConfig);
        outcomes.push({ outcome: await runResourcePolicy(p, args), urn: args.urn });
      }
    }
    for (const { outcome: o, urn } of outcomes) {
      for (const v of o.violations)
        out.push({ policy: p.name, enforcementLevel: level, ...v, ...(urn ? { urn } : {}) });
      if (o.unknown)
        out.push({
          policy: p.name,
          enforcementLevel: "advisory",
          message: `can't run during preview: ${o.unknown}`,
        });
    }
  }
  return out;
}

/** Marks a property to remove in `edited`. */
export const DELETE: unique symbol = Symbol("delete");

/**
 * A deep copy of `props` with edits applied: `["cpu.type", "kvm64"]` sets a value,
 * `["agent", DELETE]` removes one; numeric steps index arrays (`disks.0.size`).
 */
export function edited(
  props: Readonly<Record<string, unknown>> | undefined,
  edits: ReadonlyArray<readonly [string, unknown]>,
): Record<string, unknown> {
  const copy = structuredClone(props ?? {}) as Record<string, unknown>;
  for (const [path, value] of edits) {
    const steps = path.split(".");
    let cur: unknown = copy;
    for (const step of steps.slice(0, -1)) {
      cur = (cur as Record<string, unknown>)[step];
      if (typeof cur !== "object" || cur === null) throw new Error(`edited: ${path} has no ${step}`);
    }
    const holder = cur as Record<string, unknown>;
    const last = steps[steps.length - 1];
    if (value === DELETE) delete holder[last];
    else holder[last] = value;
  }
  return copy;
}
