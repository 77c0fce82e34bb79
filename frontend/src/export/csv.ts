/**
 * CSV flattening of each panel's response (the rules are listed in docs/guide.md).
 *
 * Point views give one row per point, matrix views one row per matrix row with
 * a column per matrix column (labelled by input or channel index), the tree one
 * row per node, the edges one row per bundle, the Dataset view one row per
 * class, the timeline one row per (run, layer, step). RFC 4180 quoting; text
 * cells that start like a spreadsheet formula get a leading `'`.
 */
import type {
  ChannelClustersResponse,
  ChannelEdgesResponse,
  ChannelEmbeddingResponse,
  DatasetResponse,
  DiffResponse,
  HeatmapResponse,
  HierarchyNode,
  HierarchyResponse,
  JaccardResponse,
  ScatterResponse,
  TimelineResponse,
  TrajectoryResponse,
} from "../types";
import { withJaccardMatrix } from "../transforms/jaccard";

type Cell = string | number | boolean | null | undefined;
export type Table = { header: string[]; rows: Cell[][] };

/** One CSV cell: numbers as JS prints them, text quoted when needed. */
export function csvCell(v: Cell): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  if (typeof v === "boolean") return v ? "1" : "0";
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** `table` as CSV text, CRLF line ends, header first. */
export function toCsv(table: Table): string {
  const lines = [table.header, ...table.rows].map((r) => r.map(csvCell).join(","));
  return lines.join("\r\n") + "\r\n";
}

function matrixTable(
  rowIds: number[],
  colIds: Array<number | string>,
  m: ArrayLike<ArrayLike<number>>,
  first: string,
  prefix: string,
  cell: (v: number) => number = (v) => v,
) {
  return {
    header: [first, ...colIds.map((c) => `${prefix}${c}`)],
    rows: Array.from(m, (row, r) => [rowIds[r], ...Array.from(row, cell)]),
  };
}

/** 7 significant digits, as the server rounds: a decoded float32 prints 0.3333333, not 0.3333333432674408. */
const sig7 = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(7)) : v);

function hierarchyRows(node: HierarchyNode, path: string, depth: number, out: Cell[][]) {
  const here = path ? `${path}/${node.name}` : node.name;
  out.push([here, depth, node.name, node.class ?? "", (node.classes ?? []).join(" "), node.inputs?.length ?? ""]);
  for (const c of node.children ?? []) hierarchyRows(c, here, depth + 1, out);
}

function genericTable(body: unknown): Table {
  const rows: Cell[][] = [];
  if (body && typeof body === "object") {
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      rows.push([k, typeof v === "object" && v !== null ? JSON.stringify(v) : (v as Cell)]);
    }
  }
  return { header: ["key", "value"], rows };
}

/**
 * The table of one route's response.
 *
 * Args:
 *   route: the route that answered, e.g. `scatter`.
 *   body: its JSON response.
 *
 * Raises:
 *   Error: when `body` is not an object.
 */
export function flatten(route: string, body: unknown): Table {
  if (!body || typeof body !== "object") {
    throw new Error(`flatten: body of ${JSON.stringify(route)} must be an object, got ${JSON.stringify(body)}`);
  }
  switch (route) {
    case "scatter": {
      const r = body as ScatterResponse;
      const out = new Set(r.outliers);
      return {
        header: ["input", "x", "y", "label", "cluster", "outlier"],
        rows: r.points.map(([x, y], i) => [i, x, y, r.labels[i], r.clusters[i], out.has(i)]),
      };
    }
    case "jaccard": {
      const r = withJaccardMatrix(body as JaccardResponse);
      return matrixTable(r.order, r.order, r.matrix, "input", "input_", sig7);
    }
    case "heatmap": {
      const r = body as HeatmapResponse;
      return matrixTable(r.channels, r.columns, r.values, "channel", "input_");
    }
    case "diff": {
      const r = body as DiffResponse;
      const ids = r.order.map((i) => r.sample_ids[i]);
      const t = matrixTable(r.order, ids, r.diff, "row", "sample_");
      return { header: ["sample", ...t.header.slice(1)], rows: t.rows.map((row, k) => [ids[k], ...row.slice(1)]) };
    }
    case "hierarchy": {
      const rows: Cell[][] = [];
      hierarchyRows((body as HierarchyResponse).tree, "", 0, rows);
      return { header: ["path", "depth", "name", "class", "classes", "inputs"], rows };
    }
    case "trajectory": {
      const r = body as TrajectoryResponse;
      return {
        header: ["step", "sample", "label", "x", "y"],
        rows: r.frames.flatMap((f) => f.points.map(([x, y], i) => [f.step, r.sample_ids[i], r.labels[i], x, y])),
      };
    }
    case "channel_clusters": {
      const r = body as ChannelClustersResponse;
      return {
        header: ["channel", "cluster", "selectivity", "preferred_class"],
        rows: r.assignment.map((c, ch) => [ch, c, r.channel_selectivity[ch], r.channel_preferred_class[ch]]),
      };
    }
    case "channel_embedding": {
      const r = body as ChannelEmbeddingResponse;
      return {
        header: ["channel", "x", "y", "preferred_class", "selectivity", "color_class"],
        rows: r.points.map(([x, y], ch) => [ch, x, y, r.preferred_class[ch], r.selectivity[ch], r.color_class[ch]]),
      };
    }
    case "channel_edges": {
      const r = body as ChannelEdgesResponse;
      return {
        header: [
          "source_cluster",
          "target_cluster",
          "connections",
          "abs",
          "mean_abs",
          "strength",
          "positive",
          "negative",
        ],
        rows: r.bundles.map((b) => [
          b.source,
          b.target,
          b.connections,
          b.abs,
          b.mean_abs,
          b.strength,
          b.positive,
          b.negative,
        ]),
      };
    }
    case "dataset": {
      const r = body as DatasetResponse;
      return {
        header: ["class", "name", "count", "similarity"],
        rows: r.classes.map((c) => [c.id, c.name, c.count, c.similarity]),
      };
    }
    case "timeline": {
      const r = body as TimelineResponse;
      return {
        header: ["run", "layer", "step", "score", "accuracy"],
        rows: r.runs.flatMap((run) =>
          run.layers.flatMap((layer, l) =>
            run.steps.map((st, s) => [run.run, layer, st, run.scores[l][s], run.accuracy[s]]),
          ),
        ),
      };
    }
    default:
      return genericTable(body);
  }
}
