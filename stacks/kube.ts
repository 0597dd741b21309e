/**
 * What the smoke checks need from the Kubernetes API, on top of the project's HTTPS client
 * (components/kube/client.ts: client cert or bearer token from the kubeconfig, bounded
 * requests): the kubeconfig read as a user-facing error, a GET that must succeed, a POST that
 * creates or finds the object there, and the items of a list.
 */
import { KubeClient as ApiClient, type KubeCredentials, kubeCredentials } from "../components/kube/client";
import { UserError } from "./errors";
import { isRecord } from "./stack-config";

/** Reads the current context's server and credentials from kubeconfig YAML text. */
export function parseKubeconfig(text: string): KubeCredentials {
  try {
    return kubeCredentials(text);
  } catch (e) {
    throw new UserError(`kubeconfig output: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export class KubeClient extends ApiClient {
  /** GET that must succeed; returns the JSON body. */
  async get(path: string): Promise<Record<string, unknown>> {
    const r = await this.request("GET", path);
    if (r.status !== 200 || !isRecord(r.body))
      throw new Error(`GET ${path}: HTTP ${r.status} ${brief(r.body)}`);
    return r.body;
  }

  /** POST that must create (201/200) or find it already there (409). */
  async create(path: string, body: unknown): Promise<void> {
    const r = await this.request("POST", path, { body });
    if (r.status !== 201 && r.status !== 200 && r.status !== 202 && r.status !== 409) {
      throw new Error(`POST ${path}: HTTP ${r.status} ${brief(r.body)}`);
    }
  }
}

function brief(body: unknown): string {
  if (isRecord(body) && typeof body.message === "string") return body.message;
  const t = typeof body === "string" ? body : JSON.stringify(body);
  return (t ?? "").slice(0, 200);
}

/** `items` of a list response. */
export function items(list: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(list.items) ? list.items.filter(isRecord) : [];
}
