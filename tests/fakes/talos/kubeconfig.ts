/**
 * The admin kubeconfig the fake Talos node's Kubeconfig RPC returns, shaped as Talos 1.11.5
 * `pkg/machinery/config/generate/...`/`internal/pkg/kubeconfig` GenerateAdmin writes it: the cluster
 * CA from `cluster.ca` of the running config, a client certificate CN=admin O=system:masters signed
 * by it (ECDSA P-256, back-dated 10 s, one year), the cluster's control-plane endpoint, context
 * `admin@<cluster>` in namespace default. A real Kubernetes API server with `--client-ca-file` of
 * that CA accepts it.
 */
import * as YAML from "yaml";
import { issueCertificate } from "../../../components/talos/pki/pki";
import { x509 } from "../../../components/talos/pki/x509";

export interface ClusterCa {
  readonly crt: string;
  readonly key: string;
}

export async function adminKubeconfig(o: {
  readonly clusterName: string;
  readonly endpoint: string;
  readonly ca: ClusterCa;
}): Promise<string> {
  const now = Date.now();
  const cert = await issueCertificate({
    ca: o.ca,
    subject: { organization: ["system:masters"], commonName: "admin" },
    keyAlgorithm: "ecdsa-p256",
    notBefore: new Date(now - 10_000),
    notAfter: new Date(now + 365 * 86_400_000),
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    extKeyUsage: [x509.ExtendedKeyUsage.clientAuth],
  });
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  const user = `admin@${o.clusterName}`;
  return YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: o.clusterName, cluster: { server: o.endpoint, "certificate-authority-data": b64(o.ca.crt) } },
    ],
    users: [
      { name: user, user: { "client-certificate-data": b64(cert.crt), "client-key-data": b64(cert.key) } },
    ],
    contexts: [{ name: user, context: { cluster: o.clusterName, namespace: "default", user } }],
    "current-context": user,
  });
}
