/**
 * Secret policies: the Proxmox API is reached over verified TLS outside throw-away stacks, and
 * credentials leave the stack only through the designated (secret) outputs.
 *
 * What a 1.21 policy can and cannot see: the engine sends secret values marked, but
 * `@pulumi/policy` unwraps them before a validation runs (only remediations get `Secret` wrappers),
 * so no policy can tell whether an output *is* secret. This pack checks what is visible — that
 * credential material appears in no output other than the designated ones — and the program's tests
 * check that the designated outputs are `pulumi.secret` (see tests/policy/pack.test.ts).
 */
import type { PolicyProviderResource, StackValidationPolicy } from "@pulumi/policy";
import { readConfig, schemaOf } from "./lib/config";
import { STACK_TYPE } from "./lib/facts";
import { atKnown, bool, known, matchesAny, stackOfUrn } from "./lib/props";
import { findCredentials } from "./lib/secrets";
import { PROXMOX_PROVIDER_TYPE } from "./lib/vm";

export const TLS_DEFAULTS = { testStacks: ["test-*", "ephemeral-*", "ci-*"] } as const;

export const proxmoxTls: StackValidationPolicy = {
  name: "proxmox-provider-tls-verified",
  description:
    "The Proxmox provider verifies the API's TLS certificate (insecure: false) outside test stacks.",
  enforcementLevel: "mandatory",
  severity: "critical",
  configSchema: schemaOf(TLS_DEFAULTS, {
    testStacks: "Stack name patterns ('*' matches anything) where insecure: true is tolerated.",
  }),
  validateStack: (args, reportViolation) => {
    const { testStacks } = readConfig(args, TLS_DEFAULTS);
    // Providers are resources of the stack, and each resource names its provider: take both, once each.
    const providers = new Map<string, PolicyProviderResource>();
    for (const r of args.resources) {
      if (r.type === PROXMOX_PROVIDER_TYPE) providers.set(r.urn, r);
      if (r.provider?.type === PROXMOX_PROVIDER_TYPE) providers.set(r.provider.urn, r.provider);
    }
    for (const p of providers.values()) {
      if (bool(atKnown(p.props, "insecure")) !== true) continue;
      const stack = stackOfUrn(p.urn) ?? "(unknown stack)";
      if (matchesAny(testStacks, stack)) continue;
      reportViolation(
        `Proxmox provider ${p.name} skips TLS verification (insecure: true) in stack "${stack}": the API token ` +
          "would be sent to whoever answers. Give Proxmox a trusted certificate and set proxmox.insecure: false " +
          `(insecure is tolerated only in stacks matching ${testStacks.join(", ")}).`,
        p.urn,
      );
    }
  },
};

export const OUTPUT_DEFAULTS = {
  secretOutputs: [
    "talosconfig",
    "kubeconfig",
    "sopsAgeKey",
    "ageKey",
    "ageIdentity",
    "headlampAdminToken",
    "headlampViewerToken",
    "grafanaAdminPassword",
  ],
  components: ["proxmox-talos:index:HomelabCluster"],
} as const;

export const secretOutputs: StackValidationPolicy = {
  name: "credentials-only-in-secret-outputs",
  description:
    "Credentials (talosconfig/kubeconfig keys, age identities, API tokens) leave the stack only through the designated secret outputs.",
  enforcementLevel: "mandatory",
  severity: "critical",
  configSchema: schemaOf(OUTPUT_DEFAULTS, {
    secretOutputs: "Output names that carry credentials and are exported with pulumi.secret.",
    components:
      "Component types whose registered outputs are checked besides the stack's own outputs ('*' matches anything).",
  }),
  validateStack: (args, reportViolation) => {
    const { secretOutputs: designated, components } = readConfig(args, OUTPUT_DEFAULTS);
    const checked = args.resources.filter((r) => r.type === STACK_TYPE || matchesAny(components, r.type));
    for (const r of checked) {
      for (const key of Object.keys(r.props)) {
        if (designated.includes(key)) continue;
        const value: unknown = known(() => r.props[key], undefined);
        for (const f of findCredentials(value, key)) {
          const where = r.type === STACK_TYPE ? "stack output" : `output of ${r.type} ${r.name}`;
          reportViolation(
            `${where} "${f.path}" carries ${f.kind}: it would be stored and shown in plain text. Export credentials ` +
              `only as pulumi.secret under a designated name (${designated.join(", ")}), or not at all.`,
            r.urn,
          );
        }
      }
    }
  },
};

export const secretPolicies = [proxmoxTls, secretOutputs] as const;
