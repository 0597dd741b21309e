/**
 * What of a section that failed to parse can still feed the cross-field rules: each field of a
 * strict-object schema parsed on its own. A bad `network.cni` must not hide a VIP outside
 * `network.cidr`, nor a bad `nodes[0].vmId` a duplicate `nodes[2].ip`: every fault is reported
 * together (the field's own fault is reported by the schema; here it is only left out).
 */
import type { z } from "zod";
import type { RuleNode } from "./rules";
import { NodeSchema } from "./schema";

/** The fields of `value` that parse with their own schema in `shape` (defaults applied). */
export function parsedFields(
  shape: Readonly<Record<string, z.ZodType>>,
  value: unknown,
): Record<string, unknown> | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(shape)) {
    const result = schema.safeParse((value as Record<string, unknown>)[key]);
    if (result.success && result.data !== undefined) out[key] = result.data;
  }
  return out;
}

/** A node as far as the list rules need it; fields that failed are absent. */
export interface PartialRuleNode {
  readonly name?: string;
  readonly role?: RuleNode["role"];
  readonly ip?: string;
  readonly proxmoxNode?: string;
  readonly vmId?: number;
  readonly cores?: number;
  readonly memoryMiB?: number;
}

/** Every entry of a `nodes` list that failed to parse, field by field (index kept). */
export function partialNodes(raw: unknown): PartialRuleNode[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  return raw.map((n) => (parsedFields(NodeSchema.shape, n) ?? {}) as PartialRuleNode);
}

/**
 * The nodes whose name, role and IP all parsed, as rule nodes, each with its index in the list: list
 * rules report `nodes[i]` by that index.
 */
export function wholeRuleNodes(nodes: readonly PartialRuleNode[]): Array<{ index: number; node: RuleNode }> {
  const out: Array<{ index: number; node: RuleNode }> = [];
  nodes.forEach((n, index) => {
    if (n.name !== undefined && n.role !== undefined && n.ip !== undefined)
      out.push({ index, node: { ...n, name: n.name, role: n.role, ip: n.ip } });
  });
  return out;
}
