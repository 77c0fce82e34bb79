/**
 * Cluster enclosures for the scatter view: a padded convex hull smoothed with
 * a closed Catmull–Rom curve (paper Sect. V-D).
 */
import { curveCatmullRomClosed, line, polygonHull } from "d3";

export type Point = [number, number];

/** Points sampled on the padding circle around every hull vertex. */
const PAD_SAMPLES = 12;

function checkPoints(points: readonly Point[]): void {
  for (const p of points) {
    if (!Array.isArray(p) || p.length < 2 || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      throw new RangeError(`points must be finite [x, y] pairs, got ${JSON.stringify(p)}`);
    }
  }
}

/**
 * Convex hull of `points` grown by `pad` (Minkowski sum with a sampled disk).
 *
 * Works for 1 or 2 points too (a disk or a capsule). Every input point lies
 * at least `pad * cos(pi / PAD_SAMPLES)` inside the returned polygon.
 *
 * Args:
 *   points: 2D points (any order, duplicates allowed).
 *   pad: padding in the points' units (>= 0).
 * Returns:
 *   Hull vertices in counter-clockwise order (as d3.polygonHull), or `[]` for
 *   no points.
 */
export function paddedHull(points: readonly Point[], pad: number): Point[] {
  if (!Number.isFinite(pad) || pad < 0) throw new RangeError(`pad must be >= 0, got ${pad}`);
  checkPoints(points);
  if (points.length === 0) return [];
  // Hull first so the padding samples stay few for big clusters.
  const core = points.length >= 3 ? polygonHull(points as Point[]) : null;
  const base: readonly Point[] = core ?? points; // null when collinear / < 3 points
  if (pad === 0) {
    if (core) return core as Point[];
    // Degenerate: return the unique extreme points (segment or single point).
    return extremes(base);
  }
  const grown: Point[] = [];
  for (const [x, y] of base) {
    for (let s = 0; s < PAD_SAMPLES; s++) {
      const a = (2 * Math.PI * s) / PAD_SAMPLES;
      grown.push([x + pad * Math.cos(a), y + pad * Math.sin(a)]);
    }
  }
  return (polygonHull(grown) ?? extremes(grown)) as Point[];
}

function extremes(points: readonly Point[]): Point[] {
  let lo = points[0];
  let hi = points[0];
  for (const p of points) {
    if (p[0] < lo[0] || (p[0] === lo[0] && p[1] < lo[1])) lo = p;
    if (p[0] > hi[0] || (p[0] === hi[0] && p[1] > hi[1])) hi = p;
  }
  return lo === hi || (lo[0] === hi[0] && lo[1] === hi[1]) ? [lo] : [lo, hi];
}

const smoothLine = line<Point>().curve(curveCatmullRomClosed.alpha(0.5));

/**
 * SVG path of a cluster enclosure.
 *
 * Args:
 *   points: the cluster's 2D points (screen units).
 *   pad: padding around the points (screen units, > 0 for a visible shape).
 * Returns:
 *   A closed SVG path string (`M...Z`), or `''` when there are no points.
 */
export function hullPath(points: readonly Point[], pad: number): string {
  const hull = paddedHull(points, pad);
  if (hull.length === 0) return "";
  const d = smoothLine(hull) ?? "";
  // d3's closed Catmull–Rom returns to the start without a closepath command.
  return d && !d.endsWith("Z") ? d + "Z" : d;
}

/** Centroid (mean) of points; `null` for none. */
export function centroid(points: readonly Point[]): Point | null {
  if (points.length === 0) return null;
  let x = 0;
  let y = 0;
  for (const p of points) {
    x += p[0];
    y += p[1];
  }
  return [x / points.length, y / points.length];
}
