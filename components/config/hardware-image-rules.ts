/**
 * Rules over a node's whole Image Factory schematic, which comes from up to three places (the
 * cluster's `imageFactory`, the node's class, the node): each extension and each META key once, each
 * kernel argument once. The factory takes the lists as given (image-factory's EnhanceFromSchematic
 * appends them in order), so a repeat only makes a different schematic ID for the same image — or,
 * for a META key set twice with two values, leaves it to write order which one the node gets.
 */
import { type ConfigIssue, showValue } from "./errors";
import type { HardwareClusterInput, HardwareNodeInput } from "./hardware";

interface Sourced<T> {
  readonly key: string;
  readonly value: T;
}

/** The node's schematic lists with the key each entry was set at, in the order resolveNodeHardware merges them. */
function sourcedImage(cluster: HardwareClusterInput, node: HardwareNodeInput, i: number) {
  const cls = node.class !== undefined ? cluster.nodeClasses?.[node.class] : undefined;
  const layers = [
    ...(cls?.image ? [{ at: `nodeClasses.${node.class}.image`, image: cls.image }] : []),
    ...(node.image ? [{ at: `nodes[${i}].image`, image: node.image }] : []),
  ];
  const extensions: Sourced<string>[] = [
    ...cluster.imageFactory.extensions.map((value, k) => ({ key: `imageFactory.extensions[${k}]`, value })),
    ...layers.flatMap(({ at, image }) =>
      image.extensions.map((value, k) => ({ key: `${at}.extensions[${k}]`, value })),
    ),
  ];
  const kernelArgs = layers.flatMap(({ at, image }) =>
    image.extraKernelArgs.map((value, k) => ({ key: `${at}.extraKernelArgs[${k}]`, value })),
  );
  const metaKeys = layers.flatMap(({ at, image }) =>
    image.meta.map((m, k) => ({ key: `${at}.meta[${k}].key`, value: m.key })),
  );
  return { extensions, kernelArgs, metaKeys };
}

/** Every entry that repeats an earlier one, with the earlier one's key. */
function repeats<T>(entries: readonly Sourced<T>[]): { entry: Sourced<T>; first: string }[] {
  const firstAt = new Map<T, string>();
  const out: { entry: Sourced<T>; first: string }[] = [];
  for (const e of entries) {
    const first = firstAt.get(e.value);
    if (first === undefined) firstAt.set(e.value, e.key);
    else out.push({ entry: e, first });
  }
  return out;
}

/** Repeated extensions, kernel arguments and META keys in one node's schematic. */
export function schematicRepeatIssues(
  cluster: HardwareClusterInput,
  node: HardwareNodeInput,
  i: number,
): ConfigIssue[] {
  const { extensions, kernelArgs, metaKeys } = sourcedImage(cluster, node, i);
  return [
    ...repeats(extensions).map(({ entry, first }) => ({
      path: entry.key,
      message: `${showValue(entry.value)} is already in the node's schematic (${first}): a second copy adds nothing and changes the schematic ID`,
      fix: "list each extension once per node (the cluster's imageFactory.extensions are already included)",
    })),
    ...repeats(kernelArgs).map(({ entry, first }) => ({
      path: entry.key,
      message: `${showValue(entry.value)} is already in the node's kernel arguments (${first})`,
      fix: "give each kernel argument once per node",
    })),
    ...repeats(metaKeys).map(({ entry, first }) => ({
      path: entry.key,
      message: `${entry.value} is set twice for the node (also ${first}): the image would carry two values for one META key`,
      fix: "set each META key once per node (a node's image adds to its class's, it does not replace it)",
    })),
  ];
}
