/**
 * Pure helpers of the activation heatmap (channels x inputs, paper Sect. V-F):
 * rasterization, metric columns, layout and hit testing.
 */
import { colormapLut, renderMatrixRGBA, type ColorLut, type ColormapName } from "./color";

export interface HeatmapImageOptions {
  /** Colour map (default `blues`: dark blue = strong, as the paper's stripes). */
  colormap?: ColormapName;
  reversed?: boolean;
  /** Buffer of `rows * cols * 4` bytes to reuse between renders. */
  out?: Uint8ClampedArray<ArrayBuffer>;
}

/**
 * Rasterize heatmap values, one pixel per (channel row, input column).
 *
 * Args:
 *   values: `values[r][c]` as served by `/heatmap` (already thresholded).
 *   range: `[lo, hi]` colour range (the route's `range`).
 *   options: colour map and reusable buffer.
 * Returns:
 *   RGBA bytes, row-major, `width = values[0].length`, `height = values.length`,
 *   ready for `new ImageData(data, width, height)` and `putImageData`.
 */
export function renderHeatmapImage(
  values: ArrayLike<ArrayLike<number>>,
  range: readonly [number, number],
  options: HeatmapImageOptions = {},
): Uint8ClampedArray<ArrayBuffer> {
  const lut = colormapLut(options.colormap ?? "blues", options.reversed ?? false);
  return renderMatrixRGBA(values, range, lut, options.out);
}

/** Metric columns drawn right of the heatmap, in this order. */
export const METRIC_KEYS = ["pairwise", "variance", "filter_norm", "taylor"] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];
export const METRIC_LABELS: Record<MetricKey, string> = {
  pairwise: "pairwise distance (Eq. 3)",
  variance: "variance",
  filter_norm: "filter L2 norm",
  taylor: "Taylor importance |Σ a·∂L/∂a|",
};
/** Column headers, in the paper's notation (ζ: Eq. 3, σ²: variance, ‖W‖: filter norm; T: Taylor importance). */
export const METRIC_SHORT: Record<MetricKey, string> = {
  pairwise: "ζ",
  variance: "σ²",
  filter_norm: "‖W‖",
  taylor: "T",
};

/** Metrics present in a response (filter_norm and taylor are optional). */
export function presentMetrics(
  metrics: Partial<Record<MetricKey, readonly number[] | null | undefined>>,
  rows: number,
): MetricKey[] {
  return METRIC_KEYS.filter((k) => {
    const m = metrics[k];
    return Array.isArray(m) && m.length === rows;
  });
}

/**
 * Rasterize metric columns: one pixel column per metric, each metric scaled
 * to its own min..max over the rows shown (green ramp as in the paper).
 *
 * Args:
 *   columns: one array of `rows` values per metric.
 *   lut: colour table (default greens).
 * Returns:
 *   RGBA bytes, `width = columns.length`, `height = rows`.
 */
export function renderMetricColumns(
  columns: readonly (readonly number[])[],
  lut: ColorLut = colormapLut("greens"),
): Uint8ClampedArray<ArrayBuffer> {
  const width = columns.length;
  const rows = width > 0 ? columns[0].length : 0;
  const data = new Uint8ClampedArray(width * rows * 4);
  columns.forEach((col, m) => {
    if (col.length !== rows) throw new RangeError(`metric ${m} has ${col.length} rows, expected ${rows}`);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of col) {
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    for (let r = 0; r < rows; r++) {
      const v = col[r];
      const p = (r * width + m) * 4;
      if (!Number.isFinite(v)) {
        data[p] = data[p + 1] = data[p + 2] = 220;
      } else {
        // A constant metric draws mid-green rather than "lowest".
        const i = (scale > 0 ? Math.round((v - lo) * scale) : 128) * 3;
        data[p] = lut[i];
        data[p + 1] = lut[i + 1];
        data[p + 2] = lut[i + 2];
      }
      data[p + 3] = 255;
    }
  });
  return data;
}

/** Geometry of the heatmap canvas (CSS pixels). */
export interface HeatmapLayout {
  rows: number;
  cols: number;
  metrics: number;
  cellW: number;
  cellH: number;
  /** Width of the heatmap proper. */
  heatW: number;
  /** Height of the heatmap proper (= total height). */
  heatH: number;
  /** x of the first metric column. */
  metricX: number;
  metricW: number;
  width: number;
  height: number;
}

/**
 * Canvas layout: the matrix fills `width` minus the metric columns; rows get
 * `maxHeight / rows` pixels, clamped to [minRowH, maxRowH] (default [0.5, 14]; sub-pixel rows are fine because the image is scaled by drawImage).
 */
export function heatmapLayout(opts: {
  rows: number;
  cols: number;
  metrics: number;
  width: number;
  maxHeight: number;
  metricW?: number;
  gap?: number;
  minRowH?: number;
  maxRowH?: number;
}): HeatmapLayout {
  const { rows, cols, metrics, width, maxHeight } = opts;
  for (const [k, v] of Object.entries({ rows, cols, metrics })) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${k} must be a non-negative integer, got ${v}`);
  }
  if (!(width > 0) || !(maxHeight > 0)) throw new RangeError("width and maxHeight must be > 0");
  const metricW = opts.metricW ?? 14;
  const gap = metrics > 0 ? (opts.gap ?? 6) : 0;
  const heatW = Math.max(cols, width - gap - metrics * metricW);
  const cellW = cols > 0 ? heatW / cols : 0;
  const cellH = rows > 0 ? Math.min(opts.maxRowH ?? 14, Math.max(opts.minRowH ?? 0.5, maxHeight / rows)) : 0;
  const heatH = rows * cellH;
  return {
    rows,
    cols,
    metrics,
    cellW,
    cellH,
    heatW,
    heatH,
    metricX: heatW + gap,
    metricW,
    width: heatW + gap + metrics * metricW,
    height: heatH,
  };
}

export type HeatmapHit = { kind: "cell"; row: number; col: number } | { kind: "metric"; row: number; metric: number };

/** What lies under canvas point (x, y) in CSS pixels; null for gaps/outside. */
export function heatmapHit(layout: HeatmapLayout, x: number, y: number): HeatmapHit | null {
  if (!(y >= 0) || y >= layout.heatH || !(x >= 0) || layout.rows === 0) return null;
  const row = Math.min(layout.rows - 1, Math.floor(y / layout.cellH));
  if (x < layout.heatW) {
    if (layout.cols === 0) return null;
    return { kind: "cell", row, col: Math.min(layout.cols - 1, Math.floor(x / layout.cellW)) };
  }
  const mx = x - layout.metricX;
  if (mx >= 0 && mx < layout.metrics * layout.metricW) {
    return { kind: "metric", row, metric: Math.floor(mx / layout.metricW) };
  }
  return null;
}

/**
 * The `k` strongest channels of one column (input), strongest first.
 *
 * Args:
 *   values: `values[r][c]`.
 *   col: column index.
 *   channels: channel id of each row.
 *   k: how many (default 3). Non-finite and non-positive values are skipped
 *     (thresholded cells carry no activation worth overlaying).
 */
export function topChannels(
  values: ArrayLike<ArrayLike<number>>,
  col: number,
  channels: readonly number[],
  k = 3,
): Array<{ channel: number; row: number; value: number }> {
  if (channels.length !== values.length) {
    throw new RangeError(`channels has ${channels.length} entries, values ${values.length} rows`);
  }
  if (values.length > 0 && (!Number.isInteger(col) || col < 0 || col >= values[0].length)) {
    throw new RangeError(`col ${col} outside the matrix`);
  }
  const out: Array<{ channel: number; row: number; value: number }> = [];
  for (let r = 0; r < values.length; r++) {
    const v = values[r][col];
    if (Number.isFinite(v) && v > 0) out.push({ channel: channels[r], row: r, value: v });
  }
  out.sort((a, b) => b.value - a.value || a.row - b.row);
  return out.slice(0, Math.max(0, k));
}
