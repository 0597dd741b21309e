/**
 * Logic of the `Bootstrap` dynamic resource: bootstraps etcd once, on the first control plane,
 * over mutual TLS. "Already bootstrapped" (ALREADY_EXISTS) counts as success; FAILED_PRECONDITION
 * (node not ready yet, time not synced) and transport trouble are retried until the timeout; Talos'
 * permanent answers (a worker: "bootstrap can only be performed on a control plane node", a role
 * that may not bootstrap, …) fail at once.
 */

import { TIMEOUT_DEFAULTS } from "../../../defaults";
import { TalosApiError } from "../../api/client";
import {
  type DiffResult,
  defaultLog,
  isPermanentTalosError,
  type LogFn,
  type MtlsCredentials,
  mtlsClient,
  Props,
  type ReadMode,
  retryUntil,
} from "./common";

export interface BootstrapInputs extends MtlsCredentials {
  readonly node: string;
  readonly address: string;
  /** Non-secret fingerprint of the cluster's secrets; a new cluster means a new bootstrap. */
  readonly clusterFingerprint: string;
  readonly timeoutSeconds: number;
}

export interface BootstrapOutputs extends BootstrapInputs {
  readonly alreadyBootstrapped: boolean;
  readonly bootstrappedAt: string;
}

export interface BootstrapDeps {
  readonly log?: LogFn;
  readonly pollMs?: number;
}

/** Parses new inputs, or (mode `state`) a stored state with the same defaults. */
export function parseBootstrapInputs(raw: unknown, mode: ReadMode = "inputs"): BootstrapInputs {
  const p = new Props("Bootstrap", raw, mode);
  return {
    node: p.str("node"),
    address: p.str("address"),
    clusterFingerprint: p.optStr("clusterFingerprint"),
    timeoutSeconds: p.num("timeoutSeconds", TIMEOUT_DEFAULTS.applySeconds),
    ...p.mtls(),
  };
}

/** Talos 1.11.5 v1alpha1_server.go `Bootstrap`: only "not a control plane" of its preconditions is final. */
function bootstrapRefused(e: unknown): boolean {
  if (isPermanentTalosError(e, "normal")) return true;
  return e instanceof TalosApiError && e.code === 9 && /only be performed on a control plane/.test(e.details);
}

export async function create(
  raw: unknown,
  deps: BootstrapDeps = {},
): Promise<{ id: string; outs: BootstrapOutputs }> {
  const i = parseBootstrapInputs(raw);
  const log = deps.log ?? defaultLog;
  const what = `Bootstrap: bootstrap etcd on node ${i.node} (${i.address})`;
  const r = await retryUntil(
    // Polled each second: the first control plane is rebooting, and Ready waits on this bootstrap.
    { what, timeoutMs: i.timeoutSeconds * 1000, pollMs: deps.pollMs ?? 1000, fatal: bootstrapRefused, log },
    async (remaining) => {
      const client = mtlsClient(i.address, i, {
        timeoutMs: Math.max(1, Math.min(30_000, remaining)),
        retry: { attempts: 1 },
      });
      try {
        return await client.bootstrap();
      } finally {
        client.close();
      }
    },
  );
  log(`${what}: ${r.alreadyBootstrapped ? "already bootstrapped" : "done"}`);
  return {
    id: `bootstrap-${i.node}`,
    outs: { ...i, alreadyBootstrapped: r.alreadyBootstrapped, bootstrappedAt: new Date().toISOString() },
  };
}

/** Bootstraps once: only a different cluster (new secrets) replaces it; anything else is no diff. */
export function diff(olds: unknown, news: unknown): DiffResult {
  const o = parseBootstrapInputs(olds, "state");
  const n = parseBootstrapInputs(news);
  const replaces = o.clusterFingerprint !== n.clusterFingerprint ? ["clusterFingerprint"] : [];
  return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
}
