/**
 * Test-only PKI and machine-config fixtures for the Talos API tests: an OS CA, the admin client
 * cert, and a minimal v1alpha1 machine config carrying the OS CA as Talos writes it
 * (`machine.ca.crt`/`key` = base64 of PEM; workers have `key: ""`).
 */
import { issueCert, newCa, type PemPair } from "./certs";

export interface TestPki {
  readonly osCa: PemPair;
  /** Admin client cert (O=os:admin, clientAuth) issued by the OS CA. */
  readonly admin: PemPair;
}

export async function newTestPki(): Promise<TestPki> {
  const osCa = await newCa("talos");
  const admin = await issueCert(osCa, { subject: "O=os:admin", usage: "client" });
  return { osCa, admin };
}

export interface MachineConfigOptions {
  readonly type?: "controlplane" | "worker";
  readonly osCa: PemPair;
  readonly installImage?: string;
  readonly certSans?: readonly string[];
  readonly clusterName?: string;
  readonly endpoint?: string;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** A small multi-document machine config (v1alpha1 + a second document). */
export function machineConfig(o: MachineConfigOptions): string {
  const type = o.type ?? "controlplane";
  const sans = o.certSans ?? [];
  return [
    "version: v1alpha1",
    "debug: false",
    "persist: true",
    "machine:",
    `  type: ${type}`,
    "  token: abcdef.0123456789abcdef",
    "  ca:",
    `    crt: ${b64(o.osCa.crt)}`,
    `    key: ${type === "worker" ? '""' : b64(o.osCa.key)}`,
    `  certSANs: ${sans.length ? `[${sans.join(", ")}]` : "[]"}`,
    "  install:",
    "    disk: /dev/sda",
    `    image: ${o.installImage ?? "factory.talos.dev/nocloud-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.11.5"}`,
    "cluster:",
    `  clusterName: ${o.clusterName ?? "homelab"}`,
    "  controlPlane:",
    `    endpoint: ${o.endpoint ?? "https://10.0.0.10:6443"}`,
    "---",
    "apiVersion: v1alpha1",
    "kind: HostnameConfig",
    "auto: stable",
    "",
  ].join("\n");
}
