/**
 * Mock states for the Talos dynamic resources, for tests that run `TalosCluster` (or the whole
 * program) under Pulumi mocks: dynamic providers do not run under mocks, and a state that merely
 * echoes the inputs lacks the generated outputs the component needs (`secretsYaml` of
 * MachineSecrets, the talosconfig/kubeconfig of ClientConfigs). Plug into
 * `recordProgram(program, { newResource: talosMockState() })` (tests/helpers/mocks.ts).
 */
import type { MockResourceArgs, MockResourceResult } from "@pulumi/pulumi/runtime/mocks";
import { generateSecretsBundle, serializeSecretsYaml } from "../../components/talos/pki/secrets";
import * as clientConfigsLogic from "../../components/talos/resources/logic/client-configs";
import { unwrapSecrets } from "../helpers/mocks";

export const TALOS_TYPES = {
  secrets: "pulumi-nodejs:dynamic/talos:MachineSecrets",
  clientConfigs: "pulumi-nodejs:dynamic/talos:ClientConfigs",
  apply: "pulumi-nodejs:dynamic/talos:MachineConfigApply",
  bootstrap: "pulumi-nodejs:dynamic/talos:Bootstrap",
  ready: "pulumi-nodejs:dynamic/talos:ClusterReady",
  membership: "pulumi-nodejs:dynamic/talos:ClusterMembership",
  snapshotStep: "pulumi-nodejs:dynamic/talos:EtcdSnapshotStep",
} as const;

/**
 * A `newResource` hook: MachineSecrets gets `secretsYaml` (the imported bundle when one is given,
 * else `secretsYaml`, else a bundle generated once per hook), ClientConfigs runs its real logic;
 * every other type → undefined (the caller's default).
 */
export function talosMockState(
  secretsYaml?: string,
): (args: MockResourceArgs) => Promise<MockResourceResult | undefined> {
  let generated: Promise<string> | undefined;
  return async (args) => {
    if (args.type === TALOS_TYPES.secrets) {
      const inputs = unwrapSecrets(args.inputs) as { importedSecrets?: string };
      generated ??= secretsYaml
        ? Promise.resolve(secretsYaml)
        : generateSecretsBundle().then(serializeSecretsYaml);
      const yaml = inputs.importedSecrets || (await generated);
      return {
        id: `${args.name}-id`,
        state: {
          ...args.inputs,
          secretsYaml: yaml,
          source: inputs.importedSecrets ? "imported" : "generated",
          createdAt: new Date(0).toISOString(),
        },
      };
    }
    if (args.type === TALOS_TYPES.clientConfigs) {
      const r = await clientConfigsLogic.create(unwrapSecrets(args.inputs));
      return { id: r.id, state: { ...r.outs } };
    }
    return undefined;
  };
}
