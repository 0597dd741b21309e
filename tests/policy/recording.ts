/**
 * The shared Pulumi-mocks recorder (tests/helpers/mocks.ts) seen as the policy engine sees a stack:
 * each recorded resource as a {@link ResourceSpec} for the harness, plus the root stack resource.
 */
import type { PolicyProviderResource } from "@pulumi/policy";
import { type RecordedResource, type Recording, type RecordOptions, recordProgram } from "../helpers/mocks";
import { PROJECT, type ResourceSpec, STACK } from "./harness";

export interface PolicyRecording extends Recording {
  /** What a pack is handed: the root stack first, then every registration in order. */
  readonly specs: ResourceSpec[];
}

/** {@link recordProgram} with the policy tests' project and stack ("homelab") as defaults. */
export async function recordStack(
  program: Parameters<typeof recordProgram>[0],
  opts: RecordOptions = {},
): Promise<PolicyRecording> {
  const project = opts.project ?? PROJECT;
  const stack = opts.stack ?? STACK;
  const recording = await recordProgram(program, { ...opts, project, stack });
  return { ...recording, specs: policySpecs(recording, project, stack) };
}

function policySpecs(rec: Recording, project: string, stack: string): ResourceSpec[] {
  // The mocks register no root stack resource; the engine has one, holding the stack outputs,
  // and parents every top-level resource to it.
  const rootUrn = `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${project}-${stack}`;
  const providers = new Map<string, PolicyProviderResource>(
    rec.resources
      .filter((r) => r.type.startsWith("pulumi:providers:"))
      .map((r) => [r.urn, { type: r.type, name: r.name, urn: r.urn, props: r.inputs }]),
  );
  const spec = (r: RecordedResource): ResourceSpec => {
    const provider = r.providerUrn ? providers.get(r.providerUrn) : undefined;
    return {
      type: r.type,
      name: r.name,
      urn: r.urn,
      stack,
      parentUrn: r.parentUrn ?? rootUrn,
      protect: r.protect,
      ...(provider ? { provider } : {}),
      // Custom resources: the engine checks their inputs (outputs equal inputs in a preview).
      // Components: their registered outputs.
      props: r.custom ? r.inputs : (r.outputs ?? {}),
    };
  };
  return [
    {
      type: "pulumi:pulumi:Stack",
      name: `${project}-${stack}`,
      urn: rootUrn,
      stack,
      props: rec.stackOutputs,
    },
    ...rec.resources.map(spec),
  ];
}
