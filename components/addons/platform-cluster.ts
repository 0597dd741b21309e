/**
 * What the platform addons need from, and give to, the rest of the program: the control-plane
 * config patch monitoring requires, the secret config keys they read, and their stack outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackSecrets } from "../config/load";
import type { PlatformOutputs, PlatformSecrets } from "./platform";
import { PLATFORM_SECRET_KEYS } from "./platform-config";
import { monitoringControlPlanePatch } from "./values/monitoring";

/**
 * The stack's patches with the monitoring addon's control-plane patch first (metrics listeners
 * Prometheus scrapes), so a stack patch can still override it.
 */
export function withPlatformPatches<P extends { readonly controlplane: readonly unknown[] }>(
  patches: P,
  addons: { readonly monitoring: { readonly enabled: boolean } },
  talosVersion: string,
): P {
  if (!addons.monitoring.enabled) return patches;
  return { ...patches, controlplane: [monitoringControlPlanePatch(talosVersion), ...patches.controlplane] };
}

/** The platform addons' secret config values (already Pulumi secrets). */
export function platformSecretsOf(secrets: StackSecrets): PlatformSecrets {
  const out: PlatformSecrets = {};
  for (const key of PLATFORM_SECRET_KEYS) {
    const value = secrets[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** Stack outputs: the CA certificate plain (clients import it), tokens as secrets. */
export function platformStackOutputs(p: PlatformOutputs): Record<string, pulumi.Output<string>> {
  return {
    ...(p.caCertificate ? { caCertificate: p.caCertificate } : {}),
    ...(p.headlampAdminToken ? { headlampAdminToken: pulumi.secret(p.headlampAdminToken) } : {}),
    ...(p.headlampViewerToken ? { headlampViewerToken: pulumi.secret(p.headlampViewerToken) } : {}),
    ...(p.grafanaAdminPassword ? { grafanaAdminPassword: pulumi.secret(p.grafanaAdminPassword) } : {}),
  };
}
