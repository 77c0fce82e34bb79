/**
 * Diverging colour scale of the diff view: d3's RdBu on a symmetric range,
 * blue for B < A, white for no change, red for B > A.
 */
import { interpolateRdBu, rgb } from "d3";
import type { ColorLut } from "./color";

let rdbu: ColorLut | null = null;

/** 256-entry RdBu lookup table from blue (entry 0, most negative) to red (entry 255). */
export function divergingLut(): ColorLut {
  if (rdbu) return rdbu;
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    // interpolateRdBu runs red -> blue; flip it so positive differences are red.
    const c = rgb(interpolateRdBu(1 - i / 255));
    lut[i * 3] = c.r;
    lut[i * 3 + 1] = c.g;
    lut[i * 3 + 2] = c.b;
  }
  rdbu = lut;
  return lut;
}

/**
 * Symmetric range `[-m, m]` around zero.
 *
 * Args:
 *   values: rows of values, or a `[lo, hi]` range already computed.
 * Returns:
 *   `m` is the largest finite |value|; an all-zero (or empty) input gives
 *   `[-1, 1]` so that a colour scale stays defined.
 */
export function symmetricRange(values: Iterable<Iterable<number>> | readonly [number, number]): [number, number] {
  let m = 0;
  const visit = (v: number) => {
    if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  };
  for (const row of values as Iterable<number | Iterable<number>>) {
    if (typeof row === "number") visit(row);
    else for (const v of row) visit(v);
  }
  return m > 0 ? [-m, m] : [-1, 1];
}

/** Position in [0, 1] of `v` on the symmetric scale `[-m, m]` (clamped; 0.5 is zero). */
export function divergingT(v: number, m: number): number {
  if (!(m > 0)) throw new RangeError(`m must be > 0, got ${m}`);
  if (!Number.isFinite(v)) return 0.5;
  return Math.max(0, Math.min(1, 0.5 + v / (2 * m)));
}

/** CSS colour of `v` on the symmetric RdBu scale `[-m, m]`. */
export function divergingColor(v: number, m: number): string {
  const lut = divergingLut();
  const i = Math.round(divergingT(v, m) * 255) * 3;
  return `rgb(${lut[i]}, ${lut[i + 1]}, ${lut[i + 2]})`;
}
