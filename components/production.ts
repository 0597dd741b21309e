/**
 * The run-time allowance for removing nodes from a production stack: the runner's
 * `up --allow-node-removal` sets it for its one run (the program runs inline in the runner's
 * process); a plain `pulumi up` can set it in the environment. The stack-file way is
 * `proxmox-talos:rollout.allowNodeRemoval: true`.
 */
export const ALLOW_NODE_REMOVAL_ENV = "PROXMOX_TALOS_ALLOW_NODE_REMOVAL";

export function allowNodeRemovalFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  const v = env[ALLOW_NODE_REMOVAL_ENV];
  return v === "1" || v === "true";
}
