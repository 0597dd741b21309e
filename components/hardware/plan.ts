/**
 * Per-node hardware plan of a validated stack: each node's resolved hardware, Talos image
 * (schematic, boot image, installer), boot-security profile and machine-config hardware. Shared by
 * `HomelabCluster` and the offline render script; pure.
 */
import { type NodeHardware, resolveNodeHardware } from "../config/hardware";
import type { StackConfig } from "../config/validate";
import { hasNvidiaModules, type MachineHardware, userVolumeMountPath } from "../talos/machineconfig/hardware";
import { schematicId, schematicYaml } from "../talos/schematic";
import { bootSecurityProfile, type NodeImage, nodeImage } from "./node-image";

export interface NodePlan {
  readonly name: string;
  readonly hardware: NodeHardware;
  readonly image: NodeImage;
  readonly bootSecurity: string;
  readonly machine: MachineHardware;
}

/** The cluster's default schematic: `imageFactory.extensions`, nothing else. */
export function defaultSchematicId(config: Pick<StackConfig, "imageFactory">): string {
  return schematicId(schematicYaml(config.imageFactory.extensions));
}

export function planNodes(
  config: Pick<
    StackConfig,
    "nodes" | "imageFactory" | "security" | "nodeClasses" | "proxmox" | "talosVersion"
  >,
): NodePlan[] {
  const defaultId = defaultSchematicId(config);
  return config.nodes.map((node) => {
    const hardware = resolveNodeHardware(config, node);
    return {
      name: node.name,
      hardware,
      image: nodeImage(hardware, config.imageFactory.url, config.talosVersion, defaultId),
      bootSecurity: bootSecurityProfile(hardware),
      machine: {
        userVolumes: hardware.dataDisks.map((d) => ({
          name: d.name,
          selector: d.selector,
          sizeGiB: d.sizeGiB,
        })),
        diskEncryption: hardware.diskEncryption,
        nvidia: hasNvidiaModules(hardware.image.extensions),
      },
    };
  });
}

/** OpenEBS LocalPV's base path when it lives on a data disk. */
export function openebsBasePath(config: Pick<StackConfig, "addons">): string | undefined {
  const o = config.addons.openebs;
  return o.enabled && o.dataDisk !== undefined ? userVolumeMountPath(o.dataDisk) : undefined;
}
