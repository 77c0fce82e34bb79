/**
 * Helpers of the confusion hierarchy tree.
 */
import type { HierarchyNode } from "../types";

/** A node with its position in the tree. */
export interface FlatNode {
  /** Path of child indices from the root, e.g. `0/2/1` (`''` for the root). */
  id: string;
  parentId: string | null;
  depth: number;
  node: HierarchyNode;
  /** `super`, `class`, `sub` or `root` (depth 0) by the fields present. */
  kind: "root" | "super" | "class" | "sub";
}

/** Kind of a node: from its fields, the root by depth. */
export function nodeKind(node: HierarchyNode, depth: number): FlatNode["kind"] {
  if (depth === 0) return "root";
  if (typeof node.class === "number") return "class";
  if (Array.isArray(node.inputs)) return "sub";
  return "super";
}

/** Depth-first (pre-order) list of all nodes. Throws on cycles / deep trees. */
export function flattenTree(root: HierarchyNode, maxDepth = 64): FlatNode[] {
  const out: FlatNode[] = [];
  const seen = new Set<HierarchyNode>();
  const visit = (node: HierarchyNode, id: string, parentId: string | null, depth: number) => {
    if (depth > maxDepth) throw new RangeError(`tree deeper than ${maxDepth}`);
    if (seen.has(node)) throw new RangeError("tree contains a cycle");
    seen.add(node);
    out.push({ id, parentId, depth, node, kind: nodeKind(node, depth) });
    (node.children ?? []).forEach((child, i) => visit(child, id === "" ? String(i) : `${id}/${i}`, id, depth + 1));
  };
  visit(root, "", null, 0);
  return out;
}

/** All input indices under a node (leaf `inputs`), sorted and unique. */
export function collectInputs(node: HierarchyNode): number[] {
  const acc = new Set<number>();
  for (const f of flattenTree(node)) for (const i of f.node.inputs ?? []) acc.add(i);
  return [...acc].sort((a, b) => a - b);
}

/**
 * Inputs that exemplify a node: its own `representatives`, else those of its
 * descendants, at most `max`.
 */
export function nodeRepresentatives(node: HierarchyNode, max = 8): number[] {
  if (node.representatives && node.representatives.length > 0) return node.representatives.slice(0, max);
  const acc: number[] = [];
  for (const f of flattenTree(node)) {
    for (const r of f.node.representatives ?? []) {
      if (!acc.includes(r)) acc.push(r);
      if (acc.length >= max) return acc;
    }
  }
  return acc;
}

/** Number of leaves (for sizing the layout). */
export function countLeaves(node: HierarchyNode): number {
  return flattenTree(node).filter((f) => !f.node.children || f.node.children.length === 0).length;
}
