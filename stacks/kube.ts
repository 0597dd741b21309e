/**
 * A minimal Kubernetes API client over plain HTTPS, authenticated with the kubeconfig's client
 * certificate (or bearer token) — enough for the smoke checks, no kubectl needed.
 */
import * as https from "node:https";
import { parse } from "yaml";
import { UserError } from "./errors";
import { isRecord } from "./stack-config";

export interface KubeTarget {
  readonly server: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly token?: string;
  readonly insecure: boolean;
}

function named(list: unknown, name: string, field: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const item: unknown = list.find((e: unknown) => isRecord(e) && e.name === name);
  if (!isRecord(item)) return undefined;
  const inner = item[field];
  return isRecord(inner) ? inner : undefined;
}

const b64 = (v: unknown): Buffer | undefined =>
  typeof v === "string" ? Buffer.from(v, "base64") : undefined;

/** Reads the current context's server and credentials from kubeconfig YAML text. */
export function parseKubeconfig(text: string): KubeTarget {
  const doc: unknown = parse(text);
  if (!isRecord(doc)) throw new UserError("kubeconfig output is not a YAML mapping");
  const contexts = doc.contexts;
  const currentName =
    typeof doc["current-context"] === "string"
      ? doc["current-context"]
      : Array.isArray(contexts) && isRecord(contexts[0]) && typeof contexts[0].name === "string"
        ? contexts[0].name
        : "";
  const ctx = named(contexts, currentName, "context");
  if (!ctx) throw new UserError(`kubeconfig has no context '${currentName}'`);
  const cluster = named(doc.clusters, String(ctx.cluster), "cluster");
  const user = named(doc.users, String(ctx.user), "user") ?? {};
  if (!cluster || typeof cluster.server !== "string") throw new UserError("kubeconfig has no cluster server");
  return {
    server: cluster.server.replace(/\/$/, ""),
    ca: b64(cluster["certificate-authority-data"]),
    cert: b64(user["client-certificate-data"]),
    key: b64(user["client-key-data"]),
    token: typeof user.token === "string" ? user.token : undefined,
    insecure: cluster["insecure-skip-tls-verify"] === true,
  };
}

export interface KubeResponse {
  readonly status: number;
  readonly body: unknown;
}

export class KubeClient {
  constructor(
    private readonly target: KubeTarget,
    private readonly timeoutMs = 15_000,
  ) {}

  request(method: string, path: string, body?: unknown): Promise<KubeResponse> {
    const url = new URL(this.target.server + path);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          ca: this.target.ca,
          cert: this.target.cert,
          key: this.target.key,
          rejectUnauthorized: !this.target.insecure,
          timeout: this.timeoutMs,
          headers: {
            accept: "application/json",
            ...(payload
              ? { "content-type": "application/json", "content-length": String(payload.length) }
              : {}),
            ...(this.target.token ? { authorization: `Bearer ${this.target.token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // keep text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`${method} ${path}: timed out after ${this.timeoutMs}ms`)),
      );
      req.on("error", reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** GET that must succeed; returns the JSON body. */
  async get(path: string): Promise<Record<string, unknown>> {
    const r = await this.request("GET", path);
    if (r.status !== 200 || !isRecord(r.body))
      throw new Error(`GET ${path}: HTTP ${r.status} ${brief(r.body)}`);
    return r.body;
  }

  /** POST that must create (201/200) or find it already there (409). */
  async create(path: string, body: unknown): Promise<void> {
    const r = await this.request("POST", path, body);
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
