/**
 * Runs `ClusterAddons` under the recording mocks. The AgeIdentity dynamic resource gets its state
 * from the real provider's `create` (a real age identity), every other resource echoes its inputs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { MockResourceArgs, MockResourceResult } from "@pulumi/pulumi/runtime/mocks";
import {
  type AddonsConfigInput,
  AddonsConfigSchema,
  ageIdentityProvider,
  ClusterAddons,
  type ClusterAddonsArgs,
} from "../../components/addons";
import type { AgeIdentityInputs } from "../../components/addons/age-identity";
import { type Recording, recordProgram, unwrapSecrets } from "../helpers/mocks";

export const AGE_TYPE = "pulumi-nodejs:dynamic:AgeIdentity";
export const RELEASE = "kubernetes:helm.sh/v3:Release";
export const NAMESPACE = "kubernetes:core/v1:Namespace";
export const SECRET = "kubernetes:core/v1:Secret";
export const POOL = "kubernetes:metallb.io/v1beta1:IPAddressPool";
export const L2 = "kubernetes:metallb.io/v1beta1:L2Advertisement";
export const GITREPO = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository";
export const KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization";
export const READY_TYPE = "test:index:ClusterReady";

/** Stands in for TalosCluster's readiness resource. */
export class ClusterReady extends pulumi.CustomResource {
  constructor(name: string) {
    super(READY_TYPE, name, {});
  }
}

/** `ClusterAddons` as the tests register it: a stand-in ClusterReady, a placeholder kubeconfig, `config` parsed. */
export function testAddons(
  config: AddonsConfigInput,
  extra: Omit<ClusterAddonsArgs, "kubeconfig" | "clusterReady" | "config"> = {},
): ClusterAddons {
  return new ClusterAddons("addons", {
    kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n"),
    clusterReady: new ClusterReady("ready"),
    config: AddonsConfigSchema.parse(config),
    ...extra,
  });
}

/** A `newResource` hook: AgeIdentity gets its state from the real provider's `create`; others echo. */
export async function ageIdentityState(args: MockResourceArgs): Promise<MockResourceResult | undefined> {
  if (args.type !== AGE_TYPE) return undefined;
  const created = await ageIdentityProvider.create(unwrapSecrets(args.inputs) as AgeIdentityInputs);
  return { id: created.id, state: { ...created.outs } };
}

/** Every addon on, two pools, Flux synced from Git with credentials. */
export const FULL_CONFIG: AddonsConfigInput = {
  cilium: { enabled: true },
  metallb: {
    enabled: true,
    pools: [
      { name: "default", addresses: ["192.168.50.200-192.168.50.220"] },
      { name: "reserved", addresses: ["192.168.50.240/29"], autoAssign: false },
    ],
  },
  openebs: { enabled: true },
  flux: { enabled: true, git: { url: "https://github.com/me/fleet.git", path: "./clusters/homelab" } },
};

export interface AddonsRun {
  readonly rec: Recording;
  readonly outputs: {
    sopsRecipient?: pulumi.Output<string>;
    sopsConfig?: pulumi.Output<string>;
    sopsAgeIdentity?: pulumi.Output<string>;
  };
}

export async function runAddons(
  config: AddonsConfigInput,
  extra: { ageKey?: string; gitCredentials?: boolean } = {},
): Promise<AddonsRun> {
  let outputs: AddonsRun["outputs"] = {};
  const rec = await recordProgram(
    () => {
      const addons = testAddons(config, {
        ...(extra.gitCredentials !== false
          ? { gitCredentials: pulumi.secret({ username: "git", password: "s3cret-token" }) }
          : {}),
        ...(extra.ageKey ? { ageKey: pulumi.secret(extra.ageKey) } : {}),
      });
      outputs = {
        sopsRecipient: addons.sopsRecipient,
        sopsConfig: addons.sopsConfig,
        sopsAgeIdentity: addons.sopsAgeIdentity,
      };
      return {
        ...(addons.sopsRecipient ? { sopsRecipient: addons.sopsRecipient } : {}),
        ...(addons.sopsConfig ? { sopsConfig: addons.sopsConfig } : {}),
        enabledAddons: addons.enabledAddons,
      };
    },
    { newResource: ageIdentityState },
  );
  return { rec, outputs };
}

/** `type::name` of every custom resource the addons registered (provider and ClusterReady excluded). */
export function resourceKeys(rec: Recording): Set<string> {
  return new Set(
    rec.resources
      .filter((r) => r.custom && r.type !== READY_TYPE && !r.type.startsWith("pulumi:providers:"))
      .map((r) => `${r.type}::${r.name}`),
  );
}
