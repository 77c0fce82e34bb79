/**
 * Pure helpers of the animated, aligned scatterplot across steps: frame
 * interpolation, playback position and per-input trajectories.
 */
import type { TrajectoryFrame } from "../types";
import type { Point } from "./hull";

/**
 * Linear interpolation between two frames' points.
 *
 * Args:
 *   a: points of the earlier frame.
 *   b: points of the later frame (same length and input order).
 *   t: fraction in [0, 1] (clamped); 0 gives `a`, 1 gives `b`.
 */
export function interpolatePoints(
  a: readonly (readonly [number, number])[],
  b: readonly (readonly [number, number])[],
  t: number,
): Point[] {
  if (a.length !== b.length) throw new RangeError(`frames have ${a.length} and ${b.length} points`);
  const u = Number.isFinite(t) ? Math.max(0, Math.min(1, t)) : 0;
  const out: Point[] = new Array(a.length);
  for (let i = 0; i < a.length; i++) {
    out[i] = [a[i][0] + (b[i][0] - a[i][0]) * u, a[i][1] + (b[i][1] - a[i][1]) * u];
  }
  return out;
}

/**
 * Points at a fractional playback position.
 *
 * Args:
 *   frames: the trajectory frames (>= 1).
 *   position: frame index, possibly fractional (2.25 = a quarter from frame 2
 *     to 3); clamped to `[0, frames.length - 1]`.
 */
export function pointsAt(frames: readonly TrajectoryFrame[], position: number): Point[] {
  if (!frames.length) throw new RangeError("no frames");
  const last = frames.length - 1;
  const p = Number.isFinite(position) ? Math.max(0, Math.min(last, position)) : 0;
  const i = Math.floor(p);
  if (i >= last) return frames[last].points.map(([x, y]) => [x, y]);
  return interpolatePoints(frames[i].points, frames[i + 1].points, p - i);
}

/**
 * Next playback position after `dtMs` milliseconds at `framesPerSecond`.
 *
 * Returns `{position, done}`: with `loop` the position wraps to 0 once it
 * reaches the last frame; without it, it stops on the last frame and `done` is true.
 */
export function advance(
  position: number,
  dtMs: number,
  framesPerSecond: number,
  nFrames: number,
  loop = false,
): { position: number; done: boolean } {
  if (!Number.isInteger(nFrames) || nFrames < 1) throw new RangeError(`nFrames must be >= 1, got ${nFrames}`);
  if (!(framesPerSecond > 0)) throw new RangeError(`framesPerSecond must be > 0, got ${framesPerSecond}`);
  const last = nFrames - 1;
  if (last === 0) return { position: 0, done: true };
  const next = position + (Math.max(0, dtMs) / 1000) * framesPerSecond;
  if (next < last) return { position: next, done: false };
  if (loop) return { position: 0, done: false };
  return { position: last, done: true };
}

/** Index of the frame shown at a playback position (nearest frame). */
export function frameIndex(position: number, nFrames: number): number {
  if (nFrames < 1) return 0;
  return Math.max(0, Math.min(nFrames - 1, Math.round(position)));
}

/** Every point of every frame (for one plot transform that stays fixed during playback). */
export function allFramePoints(frames: readonly TrajectoryFrame[]): Array<readonly [number, number]> {
  const out: Array<readonly [number, number]> = [];
  for (const f of frames) for (const p of f.points) out.push(p);
  return out;
}

/**
 * Trajectories of some inputs: for each index, its point in every frame.
 *
 * Args:
 *   frames: the frames.
 *   indices: input indices (into the frames' point arrays); out-of-range ones
 *     are skipped.
 */
export function trajectories(
  frames: readonly TrajectoryFrame[],
  indices: Iterable<number>,
): Array<{ index: number; points: Point[] }> {
  const n = frames.length ? frames[0].points.length : 0;
  const out: Array<{ index: number; points: Point[] }> = [];
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= n) continue;
    out.push({ index: i, points: frames.map((f) => [f.points[i][0], f.points[i][1]] as Point) });
  }
  return out;
}
