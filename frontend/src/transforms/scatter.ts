/**
 * Pure helpers of the scatter view: fitting points to the plot, brushing and
 * per-cluster class bars.
 */
import type { ClusterInfo } from "../types";
import type { Point } from "./hull";

/** Affine map from data space to a `width x height` box with a margin. */
export interface PlotTransform {
  scale: number;
  tx: number;
  ty: number;
  apply: (p: readonly [number, number]) => Point;
}

/**
 * Uniform scale that fits all points into the box (aspect ratio kept, so the
 * DR distances are not distorted), y pointing down as in SVG.
 */
export function fitPoints(
  points: readonly (readonly [number, number])[],
  width: number,
  height: number,
  margin = 16,
): PlotTransform {
  if (!(width > 2 * margin) || !(height > 2 * margin)) {
    throw new RangeError(`box ${width}x${height} too small for margin ${margin}`);
  }
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  if (x0 === Infinity) {
    x0 = x1 = y0 = y1 = 0;
  }
  const w = width - 2 * margin;
  const h = height - 2 * margin;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const scale = dx === 0 && dy === 0 ? 1 : Math.min(dx > 0 ? w / dx : Infinity, dy > 0 ? h / dy : Infinity);
  // Centre the data box inside the plot box.
  const tx = margin + (w - dx * scale) / 2 - x0 * scale;
  const ty = margin + (h - dy * scale) / 2 + y1 * scale;
  return { scale, tx, ty, apply: ([x, y]) => [tx + x * scale, ty - y * scale] };
}

/** Indices of points inside the rectangle spanned by two corners (inclusive). */
export function pointsInRect(
  points: readonly (readonly [number, number])[],
  a: readonly [number, number],
  b: readonly [number, number],
): number[] {
  const xl = Math.min(a[0], b[0]);
  const xh = Math.max(a[0], b[0]);
  const yl = Math.min(a[1], b[1]);
  const yh = Math.max(a[1], b[1]);
  const out: number[] = [];
  points.forEach(([x, y], i) => {
    if (x >= xl && x <= xh && y >= yl && y <= yh) out.push(i);
  });
  return out;
}

/** One bar of a cluster's class bar chart. */
export interface ClassBar {
  /** Class id (index into class names), -1 when the name is unknown. */
  cls: number;
  name: string;
  count: number;
  /** count / cluster size, in [0, 1]. */
  fraction: number;
}

/**
 * Class bars of a cluster, largest first (ties by class id), at most `max`
 * bars; the remaining classes are folded into one `other` bar (cls -1).
 */
export function clusterClassBars(info: ClusterInfo, classNames: readonly string[], max = 4): ClassBar[] {
  const total = info.size > 0 ? info.size : Object.values(info.class_counts).reduce((s, c) => s + c, 0);
  const bars: ClassBar[] = Object.entries(info.class_counts)
    .filter(([, count]) => count > 0)
    .map(([name, count]) => ({
      cls: classNames.indexOf(name),
      name,
      count,
      fraction: total > 0 ? count / total : 0,
    }));
  bars.sort((p, q) => q.count - p.count || p.cls - q.cls);
  if (bars.length <= max) return bars;
  const kept = bars.slice(0, Math.max(0, max - 1));
  const rest = bars.slice(kept.length);
  const count = rest.reduce((s, b) => s + b.count, 0);
  kept.push({ cls: -1, name: `${rest.length} other classes`, count, fraction: total > 0 ? count / total : 0 });
  return kept;
}

/** Members of each cluster id: `Map<cluster, input indices>`. */
export function clusterMembers(clusters: readonly number[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  clusters.forEach((c, i) => {
    const list = out.get(c);
    if (list) list.push(i);
    else out.set(c, [i]);
  });
  return out;
}
