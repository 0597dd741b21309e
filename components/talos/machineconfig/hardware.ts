/**
 * The machine-config parts of node hardware, per Talos minor: a `UserVolumeConfig` per data disk
 * (1.10+), STATE/EPHEMERAL disk encryption (`machine.systemDiskEncryption` on 1.10, `VolumeConfig`
 * documents from 1.11, where the v1alpha1 field left the schema), and the kernel modules and sysctl
 * Talos documents for NVIDIA GPUs (`machine.kernel`/`machine.sysctls` up to 1.13,
 * `KernelModuleConfig`/`SysctlConfig` documents from 1.14, where those fields left the schema).
 * Pure; checked against Sidero's machinery with talos-oracle on every supported minor.
 */
import type { ConfigLayout } from "../../talos-minors";
import type { PlainObject } from "./patch-yaml";

/** One data disk as a Talos user volume, mounted by Talos at /var/mnt/<name>. */
export interface UserVolume {
  readonly name: string;
  /** CEL disk selector, e.g. `disk.serial == "data"`. */
  readonly selector: string;
  readonly sizeGiB: number;
}

export interface MachineHardware {
  readonly userVolumes?: readonly UserVolume[];
  /** LUKS2 on STATE and EPHEMERAL with TPM-sealed or node-id-derived keys. */
  readonly diskEncryption?: "none" | "tpm" | "nodeID";
  /** Load the NVIDIA kernel modules and set the sysctl Talos' NVIDIA guide asks for. */
  readonly nvidia?: boolean;
}

/** Extensions carrying NVIDIA kernel modules (proprietary or open, production or LTS). */
const NVIDIA_KMOD = /^siderolabs\/(nonfree-kmod-nvidia|nvidia-open-gpu-kernel-modules)(-[a-z0-9.-]+)?$/;

export function hasNvidiaModules(extensions: readonly string[]): boolean {
  return extensions.some((e) => NVIDIA_KMOD.test(e));
}

/** Talos' NVIDIA GPU guide: these modules, and `net.core.bpf_jit_harden: 1`. */
export const NVIDIA_KERNEL_MODULES = ["nvidia", "nvidia_uvm", "nvidia_drm", "nvidia_modeset"] as const;
export const NVIDIA_SYSCTLS: Readonly<Record<string, string>> = { "net.core.bpf_jit_harden": "1" };

/** Where Talos mounts a user volume. */
export function userVolumeMountPath(name: string): string {
  return `/var/mnt/${name}`;
}

type Gates = Pick<ConfigLayout, "volumeConfigEncryption" | "kernelDocuments">;

function encryptionSpec(kind: "tpm" | "nodeID"): PlainObject {
  // TPM: refuse to enroll unless the node booted with Secure Boot (what the key is sealed to).
  const key: PlainObject =
    kind === "tpm" ? { slot: 0, tpm: { checkSecurebootStatusOnEnroll: true } } : { slot: 0, nodeID: {} };
  return { provider: "luks2", keys: [key] };
}

/** Adds the v1alpha1 `machine` fields (in place); returns nothing. */
export function addHardwareMachineFields(
  machine: PlainObject,
  hw: MachineHardware | undefined,
  g: Gates,
): void {
  if (!hw) return;
  if (hw.nvidia && !g.kernelDocuments) {
    machine.kernel = { modules: NVIDIA_KERNEL_MODULES.map((name) => ({ name })) };
    machine.sysctls = { ...NVIDIA_SYSCTLS };
  }
  const enc = hw.diskEncryption ?? "none";
  if (enc !== "none" && !g.volumeConfigEncryption) {
    machine.systemDiskEncryption = { state: encryptionSpec(enc), ephemeral: encryptionSpec(enc) };
  }
}

/** The extra documents of a node's hardware. */
export function hardwareDocuments(hw: MachineHardware | undefined, g: Gates): PlainObject[] {
  if (!hw) return [];
  const docs: PlainObject[] = [];
  const enc = hw.diskEncryption ?? "none";
  if (enc !== "none" && g.volumeConfigEncryption) {
    for (const name of ["STATE", "EPHEMERAL"]) {
      docs.push({ apiVersion: "v1alpha1", kind: "VolumeConfig", name, encryption: encryptionSpec(enc) });
    }
  }
  for (const v of hw.userVolumes ?? []) {
    docs.push({
      apiVersion: "v1alpha1",
      kind: "UserVolumeConfig",
      name: v.name,
      // The whole disk: at least its size less 1 GiB (GPT and alignment), no maximum.
      provisioning: { diskSelector: { match: v.selector }, minSize: `${Math.max(1, v.sizeGiB - 1)}GiB` },
    });
  }
  if (hw.nvidia && g.kernelDocuments) {
    for (const name of NVIDIA_KERNEL_MODULES)
      docs.push({ apiVersion: "v1alpha1", kind: "KernelModuleConfig", name });
    docs.push({ apiVersion: "v1alpha1", kind: "SysctlConfig", params: { ...NVIDIA_SYSCTLS } });
  }
  return docs;
}
