/**
 * Logic of the `ClientConfigs` dynamic resource: the admin talosconfig and kubeconfig, generated
 * locally from the secrets bundle and then KEPT in state, so an unchanged `up` neither churns the
 * client certificates nor changes the outputs (a new kubeconfig on every run would make every
 * Kubernetes provider fed from it show an update). Regenerated (in place) when the cluster, the
 * endpoints or the names change, or when a client cert is within `renewBeforeDays` of expiry.
 */

import { CLIENT_CERT_DEFAULTS } from "../../../defaults";
import { generateAdminKubeconfig } from "../../pki/kubeconfig";
import { parseSecretsYaml } from "../../pki/secrets";
import { generateTalosconfig } from "../../pki/talosconfig";
import { type DiffResult, Props, type ReadMode, sha256Hex } from "./common";

export interface ClientConfigsInputs {
  /** The bundle (secret). */
  readonly secretsYaml: string;
  readonly clusterName: string;
  /** Kubernetes API endpoint for the kubeconfig. */
  readonly endpoint: string;
  /** talosconfig endpoints (control-plane IPs) and default nodes. */
  readonly endpoints: readonly string[];
  readonly nodes: readonly string[];
  /** Regenerate when a client cert expires within this many days. */
  readonly renewBeforeDays: number;
  /** Client cert lifetime in days. */
  readonly validityDays: number;
}

export interface ClientConfigsOutputs extends ClientConfigsInputs {
  readonly talosconfig: string;
  readonly kubeconfig: string;
  readonly talosconfigExpiresAt: string;
  readonly kubeconfigExpiresAt: string;
  /** Non-secret fingerprint of the bundle the configs were made from. */
  readonly bundleHash: string;
}

/** Parses new inputs, or (mode `state`) a stored state with the same defaults. */
export function parseClientConfigsInputs(raw: unknown, mode: ReadMode = "inputs"): ClientConfigsInputs {
  const p = new Props("ClientConfigs", raw, mode);
  return {
    secretsYaml: p.str("secretsYaml"),
    clusterName: p.str("clusterName"),
    endpoint: p.str("endpoint"),
    endpoints: p.strings("endpoints"),
    nodes: p.has("nodes") ? p.strings("nodes") : [],
    renewBeforeDays: p.num("renewBeforeDays", CLIENT_CERT_DEFAULTS.renewBeforeDays),
    validityDays: p.num("validityDays", CLIENT_CERT_DEFAULTS.validityDays),
  };
}

export async function generate(raw: unknown, now = new Date()): Promise<ClientConfigsOutputs> {
  const i = parseClientConfigsInputs(raw);
  const bundle = parseSecretsYaml(i.secretsYaml);
  const t = await generateTalosconfig({
    contextName: i.clusterName,
    endpoints: i.endpoints,
    nodes: i.nodes,
    bundle,
    now,
    validityDays: i.validityDays,
  });
  const k = await generateAdminKubeconfig({
    clusterName: i.clusterName,
    endpoint: i.endpoint,
    bundle,
    now,
    validityDays: i.validityDays,
  });
  return {
    ...i,
    talosconfig: t.yaml,
    kubeconfig: k.yaml,
    talosconfigExpiresAt: new Date(t.expiresAt).toISOString(),
    kubeconfigExpiresAt: new Date(k.expiresAt).toISOString(),
    bundleHash: sha256Hex(i.secretsYaml),
  };
}

export async function create(raw: unknown): Promise<{ id: string; outs: ClientConfigsOutputs }> {
  const outs = await generate(raw);
  return { id: `client-configs-${outs.clusterName}`, outs };
}

/** Why the configs must be regenerated, or [] when the stored ones still fit. */
export function staleReasons(olds: unknown, news: unknown, now = new Date()): string[] {
  // The outputs (hash, expiry dates) are read raw; the inputs through the inputs' parser.
  const out = (olds ?? {}) as Partial<Record<string, unknown>>;
  const o = parseClientConfigsInputs(olds, "state");
  const n = parseClientConfigsInputs(news);
  const reasons: string[] = [];
  if (out.bundleHash !== sha256Hex(n.secretsYaml)) reasons.push("secretsYaml");
  if (o.clusterName !== n.clusterName) reasons.push("clusterName");
  if (o.endpoint !== n.endpoint) reasons.push("endpoint");
  if (JSON.stringify(o.endpoints) !== JSON.stringify(n.endpoints)) reasons.push("endpoints");
  if (JSON.stringify(o.nodes) !== JSON.stringify(n.nodes)) reasons.push("nodes");
  if (o.validityDays !== n.validityDays) reasons.push("validityDays");
  const renewAt = now.getTime() + n.renewBeforeDays * 86_400_000;
  for (const key of ["talosconfigExpiresAt", "kubeconfigExpiresAt"]) {
    const at = Date.parse(String(out[key] ?? ""));
    if (!Number.isFinite(at) || at <= renewAt) reasons.push(key);
  }
  return reasons;
}

/** `now` is injectable so the renewal window can be tested; the provider passes the clock. */
export function diff(olds: unknown, news: unknown, now = new Date()): DiffResult {
  return { changes: staleReasons(olds, news, now).length > 0, replaces: [] };
}

export async function update(
  olds: unknown,
  news: unknown,
  now = new Date(),
): Promise<{ outs: ClientConfigsOutputs }> {
  if (staleReasons(olds, news, now).length === 0) {
    // Only renewBeforeDays changed: keep the configs.
    const n = parseClientConfigsInputs(news);
    return { outs: { ...(olds as ClientConfigsOutputs), ...n } };
  }
  return { outs: await generate(news, now) };
}
