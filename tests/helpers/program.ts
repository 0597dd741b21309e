/**
 * Runs the real program (`index.ts`) under Pulumi mocks with a given stack config and returns
 * every registered resource (type, name, inputs, parent, dependencies) and the stack outputs.
 */
import * as path from "node:path";
import type { MockResourceArgs, MockResourceResult } from "@pulumi/pulumi/runtime/mocks";
import { readStackFile } from "../../components/config/stack-file";
import { TALOS_TYPES, talosMockState } from "../talos-cluster/mock-state";
import { type Recording, type RecordOptions, recordProgram, unwrapSecrets } from "./mocks";
import { PROJECT_ROOT } from "./shared";

export const SAMPLE_TOKEN = "root@pam!pulumi=00000000-0000-0000-0000-000000000000";

/** The sample stack's config (`proxmox-talos:key` → text), with the Proxmox token as a secret. */
export function sampleStackConfig(): Record<string, string> {
  return {
    ...readStackFile(path.join(PROJECT_ROOT, "Pulumi.homelab.yaml")).config,
    "proxmox-talos:proxmoxApiToken": SAMPLE_TOKEN,
  };
}

export type NewResourceHook = NonNullable<RecordOptions["newResource"]>;

/**
 * A Talos mock state to SHARE between runs that are compared with each other: one generated
 * secrets bundle for all of them, and the admin talosconfig/kubeconfig (fresh client certs each
 * time they are generated) kept per ClientConfigs input, as the real resource keeps them in state.
 * Without it every run has its own PKI and every Talos input differs.
 */
export function sharedTalosState(): NewResourceHook {
  const base = talosMockState();
  const clientConfigs = new Map<string, Promise<MockResourceResult | undefined>>();
  return (args: MockResourceArgs) => {
    if (args.type !== TALOS_TYPES.clientConfigs) return base(args);
    const key = JSON.stringify(unwrapSecrets(args.inputs));
    let result = clientConfigs.get(key);
    if (!result) {
      result = base(args);
      clientConfigs.set(key, result);
    }
    return result;
  };
}

/**
 * Runs index.ts's program with `config`; keys in `secretKeys` are Pulumi secrets. `newResource`
 * defaults to a fresh {@link talosMockState}; pass one {@link sharedTalosState} to runs you compare.
 */
export async function runProgram(
  config: Record<string, string>,
  secretKeys: string[] = ["proxmox-talos:proxmoxApiToken"],
  opts: { readonly newResource?: NewResourceHook } = {},
): Promise<Recording> {
  const program = (await import(path.join(PROJECT_ROOT, "index.ts"))) as unknown as
    | (() => Promise<Record<string, unknown>>)
    | { default: () => Promise<Record<string, unknown>> };
  const fn = typeof program === "function" ? program : program.default;
  return recordProgram(() => fn(), { config, secretKeys, newResource: opts.newResource ?? talosMockState() });
}

/** A generated stack of `count` nodes (3 control planes, the rest workers) on 3 Proxmox hosts. */
export function generatedStackConfig(count: number): Record<string, string> {
  const base = sampleStackConfig();
  const nodes = Array.from({ length: count }, (_, i) => ({
    name: i < 3 ? `cp-${i + 1}` : `worker-${i - 2}`,
    role: i < 3 ? "controlplane" : "worker",
    proxmoxNode: `pve${(i % 3) + 1}`,
    vmId: 9000 + i,
    ip: `10.20.${Math.floor((i + 10) / 250)}.${((i + 10) % 250) + 1}`,
  }));
  return {
    ...base,
    "proxmox-talos:network": JSON.stringify({
      cidr: "10.20.0.0/16",
      gateway: "10.20.255.254",
      dnsServers: ["10.20.255.254"],
    }),
    // Three nodes or fewer are all control planes: they run the addons' pods too.
    "proxmox-talos:controlPlane": JSON.stringify({
      vip: "10.20.200.1",
      allowSchedulingOnControlPlanes: count <= 3,
    }),
    "proxmox-talos:nodes": JSON.stringify(nodes),
    "proxmox-talos:addons": JSON.stringify({
      cilium: { enabled: true },
      metallb: { enabled: true, pools: [{ name: "lb", addresses: ["10.20.201.1-10.20.201.50"] }] },
      openebs: { enabled: true },
    }),
  };
}
