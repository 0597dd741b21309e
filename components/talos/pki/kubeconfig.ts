/**
 * Admin kubeconfig built locally from the Kubernetes CA, the same way Talos' Kubeconfig RPC builds it
 * on a control-plane node (facts.md §5): CN=admin, O=system:masters, back-dated 10 s, one year.
 */

import * as YAML from "yaml";
import type { SecretsBundle } from "../types";
import { toBase64 } from "./encoding";
import { issueCertificate } from "./pki";
import { clientCertWindow, type GeneratedClientConfig } from "./talosconfig";
import { x509 } from "./x509";

export { certificateExpiry } from "./pki";

export interface AdminKubeconfigOptions {
  readonly clusterName: string;
  /** `https://host:6443` — the cluster's control-plane endpoint. */
  readonly endpoint: string;
  readonly bundle: SecretsBundle;
  readonly now?: Date;
  /** Client certificate lifetime in days; CLIENT_CERT_DEFAULTS.validityDays, Talos' own, when unset. */
  readonly validityDays?: number;
}

/** Clock skew allowance Talos applies to the admin cert's NotBefore. */
const BACKDATE_MS = 10_000;

export async function generateAdminKubeconfig(opts: AdminKubeconfigOptions): Promise<GeneratedClientConfig> {
  if (!opts.clusterName) throw new Error("kubeconfig: clusterName must not be empty");
  let url: URL;
  try {
    url = new URL(opts.endpoint);
  } catch {
    throw new Error(`kubeconfig: endpoint "${opts.endpoint}" is not a URL`);
  }
  if (url.protocol !== "https:" || !url.hostname) {
    throw new Error(`kubeconfig: endpoint "${opts.endpoint}" must be https://host:port`);
  }
  const { now, notAfter } = clientCertWindow("kubeconfig", opts);
  const k8s = opts.bundle.certs.k8s;
  const clientCert = await issueCertificate({
    ca: k8s,
    subject: { organization: ["system:masters"], commonName: "admin" },
    keyAlgorithm: "ecdsa-p256",
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    extKeyUsage: [x509.ExtendedKeyUsage.clientAuth],
  });
  const user = `admin@${opts.clusterName}`;
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: opts.clusterName,
        cluster: { server: opts.endpoint, "certificate-authority-data": toBase64(k8s.crt) },
      },
    ],
    users: [
      {
        name: user,
        user: {
          "client-certificate-data": toBase64(clientCert.crt),
          "client-key-data": toBase64(clientCert.key),
        },
      },
    ],
    contexts: [{ context: { cluster: opts.clusterName, namespace: "default", user }, name: user }],
    "current-context": user,
  };
  const yaml = YAML.stringify(doc, { indent: 2, lineWidth: 0, minContentWidth: 0 });
  return { yaml, expiresAt: notAfter, clientCert };
}
