/**
 * Test-only PKI and machine-config fixtures for the Talos API tests: a Talos secrets bundle (its OS
 * CA issues the admin client cert) and real machine configs rendered from it by the project's own
 * renderer, so the fake node's judge (Sidero's machinery, see fakes/talos/config-judge.ts) accepts
 * them as a real node would. Control planes carry the OS CA key, workers `key: ""`.
 */

import type { ConfigPatch } from "../../components/talos/machineconfig/patch";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import { generateSecretsBundle } from "../../components/talos/pki/secrets";
import { sha256Hex } from "../../components/talos/resources/logic/common";
import type { SecretsBundle } from "../../components/talos/types";
import { issueCert, type PemPair } from "./certs";

export interface TestPki {
  readonly bundle: SecretsBundle;
  readonly osCa: PemPair;
  /** Admin client cert (O=os:admin, clientAuth) issued by the OS CA. */
  readonly admin: PemPair;
}

/** One bundle per test process: its RSA-4096 key takes seconds on a loaded machine. */
let sharedBundle: Promise<SecretsBundle> | undefined;

export async function newTestPki(): Promise<TestPki> {
  sharedBundle ??= generateSecretsBundle();
  const bundle = await sharedBundle;
  const osCa = { crt: bundle.certs.os.crt, key: bundle.certs.os.key };
  const admin = await issueCert(osCa, { subject: "O=os:admin", usage: "client" });
  return { bundle, osCa, admin };
}

export interface MachineConfigOptions {
  readonly type?: "controlplane" | "worker";
  readonly pki: TestPki;
  readonly installImage?: string;
  readonly certSans?: readonly string[];
  readonly clusterName?: string;
  readonly endpoint?: string;
  readonly hostname?: string;
  /** Talos config patches, applied as the project applies them. */
  readonly patches?: readonly ConfigPatch[];
}

export const DEFAULT_TEST_IMAGE =
  "factory.talos.dev/nocloud-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.11.5";

/** A machine config for Talos 1.11 (the tag of `installImage`) with Kubernetes 1.34.1. */
export function machineConfig(o: MachineConfigOptions): string {
  const image = o.installImage ?? DEFAULT_TEST_IMAGE;
  return renderMachineConfig({
    talosVersion: image.slice(image.lastIndexOf(":") + 1),
    kubernetesVersion: "1.34.1",
    clusterName: o.clusterName ?? "homelab",
    endpoint: o.endpoint ?? "https://10.0.0.10:6443",
    role: o.type ?? "controlplane",
    hostname: o.hostname ?? "node-1",
    // Not the fake's listen address: its server cert then names 127.0.0.1 only when the fake adds it.
    nodeIp: "10.0.0.11",
    nameservers: ["127.0.0.1"],
    installImage: image,
    certSANs: o.certSans ?? [],
    cni: "none",
    kubeProxyDisabled: true,
    openebsHostpath: false,
    allowSchedulingOnControlPlanes: false,
    discovery: false,
    podSubnets: ["10.244.0.0/16"],
    serviceSubnets: ["10.96.0.0/12"],
    bundle: o.pki.bundle,
    patches: o.patches ?? [],
  });
}

/**
 * `MachineConfigApply` inputs for a node at `address` with a machine config of its role (Talos
 * 1.11.5, auto mode, admin client cert of `pki`); the caller adds the timeout and overrides.
 */
export function applyInputsFor(
  pki: TestPki,
  address: string,
  spec: { readonly name: string; readonly role: "controlplane" | "worker" },
  clusterName = "homelab",
) {
  const config = machineConfig({ type: spec.role, pki, clusterName });
  return {
    node: spec.name,
    address,
    role: spec.role,
    config,
    configHash: sha256Hex(config),
    talosVersion: "v1.11.5",
    mode: "auto",
    osCa: pki.osCa.crt,
    clientCert: pki.admin.crt,
    clientKey: pki.admin.key,
    resetOnDelete: false,
  };
}
