/**
 * A node's Talos image from its resolved hardware: the Image Factory schematic (cluster default +
 * class + node additions, Secure Boot options), its ID, the Proxmox boot image to download and the
 * installer image the node runs. Nodes with equal schematics share one download per host.
 */
import type { NodeHardware } from "../config/hardware";
import { imageFileName, type VmImage } from "../proxmox/vm";
import { installerImage, nocloudImageUrl, schematicId, schematicYaml } from "../talos/schematic";

export interface NodeImage {
  /** Canonical schematic YAML (what the factory hashes). */
  readonly schematic: string;
  readonly schematicId: string;
  readonly secureBoot: boolean;
  /** `factory.talos.dev/nocloud-installer[-secureboot]/<id>:v<version>`. */
  readonly installImage: string;
  /** The Proxmox boot image; `variant` is "" for the cluster's default image. */
  readonly bootImage: VmImage;
}

export function nodeSchematic(hw: NodeHardware): string {
  return schematicYaml(hw.image.extensions, {
    extraKernelArgs: hw.image.extraKernelArgs,
    meta: hw.image.meta,
    includeWellKnownCertificates: hw.image.includeWellKnownCertificates,
  });
}

/**
 * The node's image. `defaultSchematicId` is the cluster's plain schematic (imageFactory
 * extensions only): a node on it without Secure Boot uses the default download name.
 */
export function nodeImage(
  hw: NodeHardware,
  factoryUrl: string,
  talosVersion: string,
  defaultSchematicId: string,
): NodeImage {
  const schematic = nodeSchematic(hw);
  const id = schematicId(schematic);
  const isDefault = id === defaultSchematicId && !hw.secureBoot;
  return {
    schematic,
    schematicId: id,
    secureBoot: hw.secureBoot,
    installImage: installerImage(new URL(factoryUrl).host, id, talosVersion, "nocloud", hw.secureBoot),
    bootImage: {
      url: nocloudImageUrl(factoryUrl, id, talosVersion, "amd64", hw.secureBoot),
      fileName: imageFileName(id, talosVersion, hw.secureBoot),
      variant: isDefault ? "" : `${id.slice(0, 12)}${hw.secureBoot ? "-sb" : ""}`,
    },
  };
}

/** The boot-security profile of a node; a change of it reinstalls the node. */
export function bootSecurityProfile(hw: Pick<NodeHardware, "secureBoot" | "diskEncryption">): string {
  return `secureBoot=${hw.secureBoot},diskEncryption=${hw.diskEncryption}`;
}
