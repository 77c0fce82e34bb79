/**
 * Pure helpers of the timeline view: the layer x step grid of one run, cell
 * hit testing, the colour domain and per-layer series across runs.
 */
import type { TimelineResponse, TimelineRun } from "../types";

/** One run as a layer x step grid, rows in display order. */
export interface TimelineGrid {
  /** Layer of each row. */
  layers: string[];
  /** Step of each column. */
  steps: number[];
  /** `values[row][col]`; `null` where the layer was not logged at that step. */
  values: Array<Array<number | null>>;
  /** Accuracy per column (`null` where not logged). */
  accuracy: Array<number | null>;
  /** Chance level per column (`null` where unknown). */
  chance: Array<number | null>;
}

function finiteOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * The grid of one run of `/timeline`.
 *
 * Args:
 *   run: one entry of `TimelineResponse.runs`.
 *   order: layer names in graph order (e.g. the manifest's); rows follow it,
 *     layers it does not name come after, in the response's order.
 * Returns:
 *   Rows = layers, columns = steps; non-finite scores become `null`.
 */
export function timelineGrid(run: TimelineRun, order?: readonly string[]): TimelineGrid {
  if (run.scores.length !== run.layers.length) {
    throw new RangeError(`scores has ${run.scores.length} rows for ${run.layers.length} layers`);
  }
  const rank = new Map<string, number>();
  (order ?? []).forEach((name, i) => {
    if (!rank.has(name)) rank.set(name, i);
  });
  const rows = run.layers.map((_, i) => i);
  rows.sort((a, b) => {
    const ra = rank.get(run.layers[a]) ?? Infinity;
    const rb = rank.get(run.layers[b]) ?? Infinity;
    return ra === rb ? a - b : ra - rb;
  });
  const nSteps = run.steps.length;
  return {
    layers: rows.map((r) => run.layers[r]),
    steps: [...run.steps],
    values: rows.map((r) => {
      const src = run.scores[r];
      if (src.length !== nSteps) throw new RangeError(`scores row ${r} has ${src.length} values for ${nSteps} steps`);
      return src.map(finiteOrNull);
    }),
    accuracy: run.steps.map((_, c) => finiteOrNull(run.accuracy?.[c])),
    chance: run.steps.map((_, c) => finiteOrNull(run.chance?.[c])),
  };
}

/** Geometry of a drawn grid: origin, cell size and extent. */
export interface GridGeometry {
  x0: number;
  y0: number;
  cellW: number;
  cellH: number;
  rows: number;
  cols: number;
}

/** The cell (row, col) under the point (x, y), or null outside the grid. */
export function gridCellAt(g: GridGeometry, x: number, y: number): { row: number; col: number } | null {
  if (!(g.cellW > 0) || !(g.cellH > 0)) throw new RangeError("cell size must be > 0");
  const col = Math.floor((x - g.x0) / g.cellW);
  const row = Math.floor((y - g.y0) / g.cellH);
  if (!(col >= 0 && col < g.cols && row >= 0 && row < g.rows)) return null;
  return { row, col };
}

/**
 * Colour domain of separability scores: `[0, 1]` when every finite value lies
 * in it (scores are accuracies), else the finite extent (padded when flat).
 */
export function scoreDomain(values: Iterable<Iterable<number | null>>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of values) {
    for (const v of row) {
      if (v === null || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo === Infinity) return [0, 1];
  if (lo >= 0 && hi <= 1) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/** One line of the multi-run chart. */
export interface RunSeries {
  run: string;
  /** Score of the layer per step (steps where it is null are left out). */
  score: Array<{ step: number; value: number }>;
  /** Accuracy per step (null steps left out). */
  accuracy: Array<{ step: number; value: number }>;
}

/** Score of `layer` over the steps of each run (runs without the layer give an empty line). */
export function layerSeries(resp: TimelineResponse, layer: string): RunSeries[] {
  return resp.runs.map((run) => {
    const li = run.layers.indexOf(layer);
    const score: RunSeries["score"] = [];
    const accuracy: RunSeries["accuracy"] = [];
    run.steps.forEach((step, c) => {
      const v = li >= 0 ? finiteOrNull(run.scores[li]?.[c]) : null;
      if (v !== null) score.push({ step, value: v });
      const a = finiteOrNull(run.accuracy?.[c]);
      if (a !== null) accuracy.push({ step, value: a });
    });
    return { run: run.run, score, accuracy };
  });
}

/** Layers of all runs, first-seen order (for the multi-run layer picker). */
export function unionLayers(resp: TimelineResponse): string[] {
  const seen = new Set<string>();
  for (const run of resp.runs) for (const l of run.layers) seen.add(l);
  return [...seen];
}

/**
 * The steps of a run kept in full, when the writer kept some steps compact
 * (`full_every`); null when every step opens in full (or the server predates
 * `full_steps`), so nothing needs marking.
 */
export function keptInFull(run: Pick<TimelineRun, "steps" | "full_steps">): number[] | null {
  const full = run.full_steps;
  if (!full) return null;
  const set = new Set(full);
  const kept = run.steps.filter((s) => set.has(s));
  return kept.length === run.steps.length ? null : kept;
}

/** A short list of steps: all of them up to `max`, else the first ones, an ellipsis and the last. */
export function stepList(steps: readonly number[], max = 8): string {
  if (steps.length <= max) return steps.join(", ");
  return `${steps.slice(0, max - 2).join(", ")}, …, ${steps[steps.length - 1]}`;
}
