/**
 * Layered (Sugiyama) layout of the visible graph with dagre, and layout
 * export/import as JSON (node positions).
 */
import dagre from "@dagrejs/dagre";
import type { GraphEdge } from "../types";

/** Top-to-bottom or left-to-right. */
export type Orientation = "TB" | "LR";

/** Size of a node box in pixels. */
export interface Size {
  width: number;
  height: number;
}

/** Top-left corner of a node box (React Flow convention). */
export interface Position {
  x: number;
  y: number;
}

/**
 * Lays out nodes with dagre.
 *
 * Args:
 *   ids: node ids, in a stable order (dagre's result depends on it).
 *   edges: edges between those ids (others are ignored).
 *   sizes: box size of each node.
 *   orientation: `TB` or `LR`.
 *
 * Returns:
 *   Top-left position of every node.
 */
export function layoutGraph(
  ids: string[],
  edges: GraphEdge[],
  sizes: Map<string, Size>,
  orientation: Orientation = "TB",
): Map<string, Position> {
  if (orientation !== "TB" && orientation !== "LR") {
    throw new Error(`layoutGraph: orientation must be "TB" or "LR", got ${JSON.stringify(orientation)}`);
  }
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: orientation, nodesep: 28, ranksep: 44, edgesep: 12, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(ids);
  for (const id of ids) {
    const s = sizes.get(id) ?? { width: 160, height: 40 };
    g.setNode(id, { width: s.width, height: s.height });
  }
  for (const e of edges) {
    if (known.has(e.source) && known.has(e.target) && e.source !== e.target) g.setEdge(e.source, e.target);
  }
  dagre.layout(g);
  const out = new Map<string, Position>();
  for (const id of ids) {
    const n = g.node(id) as { x: number; y: number; width: number; height: number };
    out.set(id, { x: Math.round(n.x - n.width / 2), y: Math.round(n.y - n.height / 2) });
  }
  return out;
}

/** Format tag of exported layouts. */
export const LAYOUT_FORMAT = "channelexplorer-layout";

/** An exported layout file. */
export interface LayoutFile {
  format: typeof LAYOUT_FORMAT;
  version: 1;
  run: string;
  orientation: Orientation;
  collapsed: string[];
  positions: Record<string, Position>;
}

/** Serializes positions (plus orientation and collapsed groups) to pretty JSON. */
export function exportLayout(
  run: string,
  orientation: Orientation,
  collapsed: Iterable<string>,
  positions: Map<string, Position> | Record<string, Position>,
): string {
  const entries = positions instanceof Map ? Array.from(positions.entries()) : Object.entries(positions);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const file: LayoutFile = {
    format: LAYOUT_FORMAT,
    version: 1,
    run,
    orientation,
    collapsed: Array.from(collapsed).sort(),
    positions: Object.fromEntries(entries.map(([id, p]) => [id, { x: Math.round(p.x), y: Math.round(p.y) }])),
  };
  return JSON.stringify(file, null, 2);
}

/**
 * Parses and validates an exported layout.
 *
 * Throws:
 *   Error naming the first invalid field.
 */
export function parseLayout(text: string): LayoutFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`Layout file is not JSON: ${(err as Error).message}`);
  }
  const o = raw as Partial<LayoutFile> | null;
  if (!o || typeof o !== "object") throw new Error("Layout file must be a JSON object");
  if (o.format !== LAYOUT_FORMAT) throw new Error(`Layout file: "format" must be "${LAYOUT_FORMAT}"`);
  if (o.version !== 1) throw new Error(`Layout file: unsupported "version" ${JSON.stringify(o.version)}`);
  if (o.orientation !== "TB" && o.orientation !== "LR")
    throw new Error('Layout file: "orientation" must be "TB" or "LR"');
  if (!Array.isArray(o.collapsed) || !o.collapsed.every((c) => typeof c === "string")) {
    throw new Error('Layout file: "collapsed" must be a list of strings');
  }
  if (!o.positions || typeof o.positions !== "object" || Array.isArray(o.positions)) {
    throw new Error('Layout file: "positions" must be an object');
  }
  for (const [id, p] of Object.entries(o.positions)) {
    if (!p || typeof p !== "object" || !Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      throw new Error(`Layout file: position of ${JSON.stringify(id)} must be {"x": number, "y": number}`);
    }
  }
  return {
    format: LAYOUT_FORMAT,
    version: 1,
    run: typeof o.run === "string" ? o.run : "",
    orientation: o.orientation,
    collapsed: o.collapsed,
    positions: o.positions as Record<string, Position>,
  };
}
