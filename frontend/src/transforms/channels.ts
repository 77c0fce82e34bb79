/**
 * Pure helpers of the channel-centric views (channel clusters, channel card,
 * channel embedding, edges between layers) and of the suspect-label list:
 * channel identity, per-class bars, selectivity colouring, sparklines, rank
 * rows, signed edge panes, the two-column edge layout and cluster tiles.
 * No DOM, no fetch.
 */
import { line, linkHorizontal, scaleLinear } from "d3";
import { classColor } from "./color";

/** A channel's stable identity: the same triple always names the same channel. */
export interface ChannelId {
  run: string;
  layer: string;
  channel: number;
}

function checkChannel(channel: number, what: string): void {
  if (!Number.isInteger(channel) || channel < 0) {
    throw new RangeError(`${what}: channel must be a non-negative integer, got ${channel}`);
  }
}

/**
 * Linkable key of a channel, `run=R&layer=L&channel=C` (URL-encoded, fixed
 * key order), usable in a URL hash, as a React key or a `data-` attribute.
 */
export function channelKey(id: ChannelId): string {
  checkChannel(id.channel, "channelKey");
  return `run=${encodeURIComponent(id.run)}&layer=${encodeURIComponent(id.layer)}&channel=${id.channel}`;
}

/** Inverse of `channelKey`; throws `RangeError` naming what is missing or wrong. */
export function parseChannelKey(key: string): ChannelId {
  const params = new URLSearchParams(key);
  const run = params.get("run");
  const layer = params.get("layer");
  const channelText = params.get("channel");
  if (run === null) throw new RangeError(`parseChannelKey: no run in ${JSON.stringify(key)}`);
  if (layer === null) throw new RangeError(`parseChannelKey: no layer in ${JSON.stringify(key)}`);
  if (channelText === null || !/^\d+$/.test(channelText)) {
    throw new RangeError(`parseChannelKey: channel must be a non-negative integer in ${JSON.stringify(key)}`);
  }
  return { run, layer, channel: Number(channelText) };
}

/** Index of the largest finite value (the lowest index on ties), or null when none is finite. */
export function argmax(values: ReadonlyArray<number | null>): number | null {
  let best: number | null = null;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) return;
    if (best === null || v > (values[best] as number)) best = i;
  });
  return best;
}

/**
 * Spreads per-class values given for the classes present (`classes[i]` has
 * `values[i]`) over all class ids `0..nClasses-1`, `null` for absent classes.
 */
export function byClassId(
  classes: readonly number[],
  values: ReadonlyArray<number | null>,
  nClasses: number,
): Array<number | null> {
  if (classes.length !== values.length) {
    throw new RangeError(`byClassId: classes (${classes.length}) and values (${values.length}) differ in length`);
  }
  const top = classes.reduce((m, c) => Math.max(m, c + 1), 0);
  const out = new Array<number | null>(Math.max(nClasses, top)).fill(null);
  classes.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`byClassId: class ids must be integers >= 0, got ${c}`);
    out[c] = values[i];
  });
  return out;
}

/** One bar of a per-class mean chart. */
export interface ClassBar {
  cls: number;
  name: string;
  mean: number | null;
  /** `mean / max(mean)` in [0, 1] (0 for missing or non-positive means). */
  fraction: number;
  /** The class with the largest mean. */
  preferred: boolean;
}

/**
 * Per-class mean bars, scaled to the largest mean.
 *
 * Args:
 *   means: mean activation of the channel (or cluster) per class; `null`
 *     for a class without inputs.
 *   classNames: names by class id; missing names fall back to the id.
 */
export function classBars(means: ReadonlyArray<number | null>, classNames: readonly string[]): ClassBar[] {
  const pref = argmax(means);
  const top = pref === null ? 0 : (means[pref] as number);
  return means.map((m, cls) => {
    const ok = m !== null && Number.isFinite(m);
    return {
      cls,
      name: classNames[cls] ?? String(cls),
      mean: ok ? m : null,
      fraction: ok && top > 0 && m > 0 ? m / top : 0,
      preferred: cls === pref,
    };
  });
}

/**
 * Colour of a channel in the channel embedding: its preferred class's colour
 * when it is selective enough, else `null` (drawn neutral).
 *
 * Args:
 *   preferred: class with the largest mean, or null.
 *   selectivity: the channel's class-selectivity index in [0, 1], or null.
 *   threshold: minimum selectivity to colour, in [0, 1].
 */
export function selectivityColor(
  preferred: number | null,
  selectivity: number | null,
  threshold: number,
): string | null {
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new RangeError(`selectivityColor: threshold must be in [0, 1], got ${threshold}`);
  }
  if (preferred === null || selectivity === null || !Number.isFinite(selectivity)) return null;
  return selectivity >= threshold ? classColor(preferred) : null;
}

/** A sparkline ready to draw. */
export interface Sparkline {
  /** SVG path; separate segments around missing values. */
  path: string;
  /** Position of each finite value, in input order. */
  points: Array<{ step: number; value: number; x: number; y: number }>;
  /** Value range drawn, or null without finite values. */
  extent: [number, number] | null;
}

/**
 * Sparkline of a value across steps: x by step, y by value (up is larger).
 *
 * Args:
 *   steps: increasing steps.
 *   values: value at each step; `null` leaves a gap.
 *   width, height: box in pixels.
 *   pad: inner margin in pixels.
 */
export function sparkline(
  steps: readonly number[],
  values: ReadonlyArray<number | null>,
  width: number,
  height: number,
  pad = 2,
): Sparkline {
  if (steps.length !== values.length) {
    throw new RangeError(`sparkline: steps (${steps.length}) and values (${values.length}) differ in length`);
  }
  if (!(width > 2 * pad) || !(height > 2 * pad)) {
    throw new RangeError(`sparkline: box ${width} x ${height} too small for pad ${pad}`);
  }
  for (let i = 1; i < steps.length; i++) {
    if (!(steps[i] > steps[i - 1]))
      throw new RangeError(`sparkline: steps must increase, got ${steps[i - 1]} then ${steps[i]}`);
  }
  const finite = values.flatMap((v, i) => (v !== null && Number.isFinite(v) ? [{ step: steps[i], value: v }] : []));
  if (finite.length === 0) return { path: "", points: [], extent: null };
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of finite) {
    lo = Math.min(lo, p.value);
    hi = Math.max(hi, p.value);
  }
  const x = scaleLinear()
    .domain(steps.length > 1 ? [steps[0], steps[steps.length - 1]] : [steps[0] - 1, steps[0] + 1])
    .range([pad, width - pad]);
  // A flat series is drawn across the middle.
  const y = scaleLinear()
    .domain(hi > lo ? [lo, hi] : [lo - 1, lo + 1])
    .range([height - pad, pad]);
  const gen = line<number | null>()
    .defined((v) => v !== null && Number.isFinite(v))
    .x((_, i) => x(steps[i]))
    .y((v) => y(v as number));
  return {
    path: gen(values as Array<number | null>) ?? "",
    points: finite.map((p) => ({ ...p, x: x(p.step), y: y(p.value) })),
    extent: [lo, hi],
  };
}

/** One row of the "rank under each ordering" table. */
export interface RankRow {
  order: string;
  /** 0-based rank (0 = first), or null when the ordering is unavailable. */
  rank: number | null;
  /** `(rank + 1) / total` in (0, 1]: the share of channels ranked at or before it. */
  fraction: number | null;
}

/**
 * Rank rows of a channel, in the given order of orderings.
 *
 * Args:
 *   ranks: ordering -> 0-based rank (null/absent when not available).
 *   total: channels of the layer (> 0).
 *   orders: orderings to list; defaults to the keys of `ranks`.
 */
export function rankRows(
  ranks: Readonly<Record<string, number | null | undefined>>,
  total: number,
  orders: readonly string[] = Object.keys(ranks),
): RankRow[] {
  if (!Number.isInteger(total) || total < 1)
    throw new RangeError(`rankRows: total must be a positive integer, got ${total}`);
  return orders.map((order) => {
    const r = ranks[order];
    if (r === null || r === undefined) return { order, rank: null, fraction: null };
    if (!Number.isInteger(r) || r < 0 || r >= total) {
      throw new RangeError(`rankRows: rank of ${order} must be an integer in [0, ${total}), got ${r}`);
    }
    return { order, rank: r, fraction: (r + 1) / total };
  });
}

/** An aggregated edge between a cluster of the lower and one of the upper layer. */
export interface EdgeBundle {
  source: number;
  target: number;
  /** Summed |weight| of this sign over the connecting filters (>= 0). */
  weight: number;
  /** `abs` when the signs were not logged (summed |w| of both signs). */
  sign: EdgeSign;
}

export type EdgeSign = "positive" | "negative" | "abs";

/** A bundle as `/channel_edges` returns it (already thresholded by the route). */
export interface RouteBundle {
  source: number;
  target: number;
  abs: number;
  positive?: number | null;
  negative?: number | null;
}

/**
 * Splits the route's bundles into the edges of each sign, so positive and
 * negative weights are drawn apart; without signed sums every bundle is one
 * `abs` edge.
 *
 * Returns:
 *   One pane per sign present (`positive` and `negative`, or `abs`), each
 *   with its non-zero edges, strongest first (ties by source, then target).
 */
export function signedEdges(bundles: readonly RouteBundle[]): Array<{ sign: EdgeSign; edges: EdgeBundle[] }> {
  const signed =
    bundles.length > 0 && bundles.every((b) => typeof b.positive === "number" && typeof b.negative === "number");
  const signs: EdgeSign[] = signed || bundles.length === 0 ? ["positive", "negative"] : ["abs"];
  return signs.map((sign) => ({
    sign,
    edges: bundles
      .map((b) => ({ source: b.source, target: b.target, sign, weight: (sign === "abs" ? b.abs : b[sign]) as number }))
      .filter((e) => Number.isFinite(e.weight) && e.weight > 0)
      .sort((x, y) => y.weight - x.weight || x.source - y.source || x.target - y.target),
  }));
}

/** A cluster node of the two-column edge diagram. */
export interface ColumnNode {
  id: number;
  size: number;
  side: "source" | "target";
  x: number;
  y0: number;
  y1: number;
}

/** A drawn edge of the two-column diagram. */
export interface ColumnEdge extends EdgeBundle {
  path: string;
  /** Stroke width in pixels, proportional to weight. */
  width: number;
}

/**
 * Two-column layout of edges between two layers' clusters: source clusters
 * on the left, target clusters on the right, each node as tall as its
 * cluster's share of its layer, edges as horizontal links between centres.
 *
 * Args:
 *   sources, targets: clusters of the lower and the upper layer.
 *   edges: bundles to draw (already thresholded), ids of `sources`/`targets`.
 *   width, height: box in pixels.
 *   options: `gap` between nodes, `nodeWidth`, `maxStroke` for the strongest edge.
 */
export function columnLayout(
  sources: ReadonlyArray<{ id: number; size: number }>,
  targets: ReadonlyArray<{ id: number; size: number }>,
  edges: readonly EdgeBundle[],
  width: number,
  height: number,
  options: { gap?: number; nodeWidth?: number; maxStroke?: number } = {},
): { nodes: ColumnNode[]; edges: ColumnEdge[] } {
  const gap = options.gap ?? 3;
  const nodeWidth = options.nodeWidth ?? 10;
  const maxStroke = options.maxStroke ?? 8;
  if (!(width > 2 * nodeWidth) || !(height > 0)) {
    throw new RangeError(`columnLayout: box ${width} x ${height} too small for nodeWidth ${nodeWidth}`);
  }
  const column = (items: ReadonlyArray<{ id: number; size: number }>, side: ColumnNode["side"], x: number) => {
    const total = items.reduce((s, it) => s + it.size, 0);
    const free = Math.max(0, height - gap * Math.max(0, items.length - 1));
    let y = 0;
    return items.map((it) => {
      const h = total > 0 ? (free * it.size) / total : 0;
      const node = { id: it.id, size: it.size, side, x, y0: y, y1: y + h };
      y += h + gap;
      return node;
    });
  };
  const left = column(sources, "source", 0);
  const right = column(targets, "target", width - nodeWidth);
  const byId = (nodes: ColumnNode[]) => new Map(nodes.map((n) => [n.id, n]));
  const L = byId(left);
  const R = byId(right);
  const max = edges.reduce((m, e) => Math.max(m, e.weight), 0);
  const link = linkHorizontal<unknown, [number, number]>()
    .source((d) => (d as [[number, number], [number, number]])[0])
    .target((d) => (d as [[number, number], [number, number]])[1]);
  const drawn: ColumnEdge[] = [];
  for (const e of edges) {
    const s = L.get(e.source);
    const t = R.get(e.target);
    if (!s || !t) throw new RangeError(`columnLayout: edge ${e.source} -> ${e.target} names an unknown cluster`);
    const path =
      link([
        [s.x + nodeWidth, (s.y0 + s.y1) / 2],
        [t.x, (t.y0 + t.y1) / 2],
      ]) ?? "";
    drawn.push({ ...e, path, width: max > 0 ? Math.max(0.5, (maxStroke * e.weight) / max) : 0.5 });
  }
  return { nodes: [...left, ...right], edges: drawn };
}

/** A cluster tile in pixels. */
export interface Tile {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Pixel tile of a rectangle given as fractions of the box (`[x, y, w, h]` in
 * the unit square, as `/channel_clusters` lays its treemap out), inset by
 * half the padding inside its own cell so neighbours never touch.
 */
export function tileFromRect(rect: readonly number[], width: number, height: number, padding = 0): Tile {
  if (rect.length !== 4 || !rect.every((v) => Number.isFinite(v) && v >= 0 && v <= 1 + 1e-9)) {
    throw new RangeError(`tileFromRect: rect must be [x, y, w, h] within the unit square, got ${JSON.stringify(rect)}`);
  }
  if (!(width > 0) || !(height > 0)) throw new RangeError(`tileFromRect: box must be > 0, got ${width} x ${height}`);
  if (!(padding >= 0)) throw new RangeError(`tileFromRect: padding must be >= 0, got ${padding}`);
  const [x, y, w, h] = rect;
  const ix = Math.min(padding / 2, (w * width) / 2);
  const iy = Math.min(padding / 2, (h * height) / 2);
  return { x0: x * width + ix, y0: y * height + iy, x1: (x + w) * width - ix, y1: (y + h) * height - iy };
}

/**
 * How many chips of `chipW x chipH` pixels (with `gap` between them) fit in a
 * tile below a header strip of `header` pixels.
 */
export function chipCapacity(tile: Tile, chipW: number, chipH: number, gap = 2, header = 0): number {
  if (!(chipW > 0) || !(chipH > 0))
    throw new RangeError(`chipCapacity: chip size must be > 0, got ${chipW} x ${chipH}`);
  const w = tile.x1 - tile.x0;
  const h = tile.y1 - tile.y0 - header;
  if (w < chipW || h < chipH) return 0;
  const perRow = Math.floor((w + gap) / (chipW + gap));
  const rows = Math.floor((h + gap) / (chipH + gap));
  return perRow * rows;
}

/** One suspect input, as listed in the Dataset view. */
export interface Suspect {
  index: number;
  score: number;
  given: number;
  likely: number;
}

/**
 * Suspects ranked by score, highest first (ties by input index), non-finite
 * scores dropped.
 *
 * Args:
 *   items: suspects in any order.
 *   limit: how many to keep (>= 0); all when omitted.
 */
export function rankSuspects(items: readonly Suspect[], limit?: number): Suspect[] {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new RangeError(`rankSuspects: limit must be a non-negative integer, got ${limit}`);
  }
  const ranked = items.filter((s) => Number.isFinite(s.score)).sort((a, b) => b.score - a.score || a.index - b.index);
  return limit === undefined ? ranked : ranked.slice(0, limit);
}

/** Ranked suspects grouped by their given label (for the hierarchy's class nodes). */
export function suspectsByClass(items: readonly Suspect[]): Map<number, Suspect[]> {
  const out = new Map<number, Suspect[]>();
  for (const s of rankSuspects(items)) {
    const list = out.get(s.given);
    if (list) list.push(s);
    else out.set(s.given, [s]);
  }
  return out;
}
