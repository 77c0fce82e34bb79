/**
 * Module-hierarchy grouping of the model graph (pure functions).
 *
 * Large models (hundreds of layers) are shown with module groups collapsed into
 * one node each; a click expands a group. Groups come from each node's `parent`
 * (its enclosing module path): node `layer1.0.conv1` with parent `layer1.0`
 * belongs to groups `layer1` and `layer1.0`.
 */
import type { GraphEdge, GraphNode, GraphResponse } from "../types";

/** Prefix of group node ids, so a group never collides with a layer id. */
export const GROUP_PREFIX = "group:";

/** Above this many nodes, top-level groups start collapsed. */
export const COLLAPSE_THRESHOLD = 60;

/** A visible node: a layer or a collapsed group. */
export type VisibleNode =
  | { kind: "layer"; id: string; node: GraphNode }
  | {
      kind: "group";
      id: string;
      /** Module path of the group, e.g. `layer1.0`. */
      path: string;
      /** Number of graph nodes inside. */
      size: number;
      /** Number of logged layers inside. */
      logged: number;
      /** Ids of the logged layers inside (first few). */
      loggedIds: string[];
    };

/** The graph after collapsing groups. */
export interface VisibleGraph {
  nodes: VisibleNode[];
  edges: GraphEdge[];
}

/** `a.b.c` -> [`a`, `a.b`, `a.b.c`]; `""` -> []. */
export function pathPrefixes(path: string): string[] {
  if (!path) return [];
  const parts = path.split(".");
  const out: string[] = [];
  for (let i = 1; i <= parts.length; i++) out.push(parts.slice(0, i).join("."));
  return out;
}

/** Every group path of the graph with the number of nodes it holds. */
export function groupSizes(nodes: GraphNode[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const n of nodes) {
    for (const p of pathPrefixes(n.parent)) sizes.set(p, (sizes.get(p) ?? 0) + 1);
  }
  return sizes;
}

/** Groups with at least two nodes (collapsing a single node gains nothing). */
function usefulGroups(nodes: GraphNode[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [p, s] of groupSizes(nodes)) if (s >= 2) out.set(p, s);
  return out;
}

/**
 * The groups collapsed by default: none for small graphs; every top-level group
 * when the graph has more than `threshold` nodes.
 */
export function defaultCollapsed(graph: GraphResponse, threshold = COLLAPSE_THRESHOLD): Set<string> {
  if (!Number.isFinite(threshold) || threshold < 0) throw new Error(`defaultCollapsed: invalid threshold ${threshold}`);
  if (graph.nodes.length <= threshold) return new Set();
  const out = new Set<string>();
  for (const p of usefulGroups(graph.nodes).keys()) if (!p.includes(".")) out.add(p);
  return out;
}

/**
 * The collapsed set after expanding `path`: the group opens, and its direct
 * child groups start collapsed when the group is itself larger than `threshold`.
 */
export function expandGroup(
  graph: GraphResponse,
  collapsed: ReadonlySet<string>,
  path: string,
  threshold = COLLAPSE_THRESHOLD / 2,
): Set<string> {
  const next = new Set(collapsed);
  next.delete(path);
  const groups = usefulGroups(graph.nodes);
  const size = groups.get(path) ?? 0;
  if (size > threshold) {
    const depth = path.split(".").length;
    for (const p of groups.keys()) {
      if (p.startsWith(path + ".") && p.split(".").length === depth + 1) next.add(p);
    }
  }
  return next;
}

/** Collapses `path` again (and drops the now hidden inner collapsed groups). */
export function collapseGroup(collapsed: ReadonlySet<string>, path: string): Set<string> {
  const next = new Set<string>();
  for (const p of collapsed) if (!p.startsWith(path + ".")) next.add(p);
  next.add(path);
  return next;
}

/**
 * The collapsed set after revealing node `id`: every enclosing group is
 * expanded (outermost first, as clicks would), so the node becomes visible.
 * Unknown ids leave the set unchanged.
 */
export function revealNode(graph: GraphResponse, collapsed: ReadonlySet<string>, id: string): Set<string> {
  const node = graph.nodes.find((n) => n.id === id);
  let next = new Set(collapsed);
  if (!node) return next;
  for (const p of pathPrefixes(node.parent)) {
    if (next.has(p)) next = expandGroup(graph, next, p);
  }
  return next;
}

/** The outermost collapsed group holding a node, or `null` when it is visible. */
export function collapsedAncestor(node: GraphNode, collapsed: ReadonlySet<string>): string | null {
  for (const p of pathPrefixes(node.parent)) if (collapsed.has(p)) return p;
  return null;
}

/**
 * Collapses the graph: nodes inside a collapsed group become that group's node;
 * edges are re-pointed, de-duplicated, and self-loops inside a group dropped.
 */
export function visibleGraph(graph: GraphResponse, collapsed: ReadonlySet<string>): VisibleGraph {
  const rep = new Map<string, string>();
  const groups = new Map<string, Extract<VisibleNode, { kind: "group" }>>();
  const nodes: VisibleNode[] = [];
  for (const n of graph.nodes) {
    const g = collapsedAncestor(n, collapsed);
    if (g === null) {
      rep.set(n.id, n.id);
      nodes.push({ kind: "layer", id: n.id, node: n });
      continue;
    }
    const gid = GROUP_PREFIX + g;
    rep.set(n.id, gid);
    let group = groups.get(gid);
    if (!group) {
      group = { kind: "group", id: gid, path: g, size: 0, logged: 0, loggedIds: [] };
      groups.set(gid, group);
      nodes.push(group);
    }
    group.size += 1;
    if (n.logged) {
      group.logged += 1;
      if (group.loggedIds.length < 4) group.loggedIds.push(n.id);
    }
  }
  const seen = new Set<string>();
  const edges: GraphEdge[] = [];
  for (const e of graph.edges) {
    const s = rep.get(e.source);
    const t = rep.get(e.target);
    if (s === undefined || t === undefined || s === t) continue;
    const key = `${s}\u0000${t}`;
    if (seen.has(key)) continue;
    seen.add(key);
    edges.push({ source: s, target: t });
  }
  return { nodes, edges };
}
