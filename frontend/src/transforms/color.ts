/**
 * Colours: class palette (colour-blind safe) and 256-entry lookup tables for
 * matrices, plus the RGBA rasterizer used by the canvas panels.
 */
import { interpolateBlues, interpolateGreens, interpolateViridis, rgb, schemeTableau10 } from "d3";

/** Okabe–Ito palette (colour-blind safe), black moved last. */
export const OKABE_ITO: readonly string[] = [
  "#E69F00",
  "#56B4E9",
  "#009E73",
  "#F0E442",
  "#0072B2",
  "#D55E00",
  "#CC79A7",
  "#000000",
];

/** Class palette: Okabe–Ito first, then Tableau 10. */
export const CLASS_PALETTE: readonly string[] = [...OKABE_ITO, ...schemeTableau10];

/** Point shapes used when the palette repeats (class >= palette length). */
export const CLASS_SHAPES = ["circle", "square", "triangle", "diamond"] as const;
export type ClassShape = (typeof CLASS_SHAPES)[number];

function checkClass(cls: number): void {
  if (!Number.isInteger(cls) || cls < 0) {
    throw new RangeError(`class index must be a non-negative integer, got ${cls}`);
  }
}

/**
 * Colour of a class.
 *
 * Args:
 *   cls: class index (>= 0).
 *   palette: colours to cycle through.
 * Returns:
 *   A CSS colour; classes beyond the palette repeat it (see `classShape`).
 */
export function classColor(cls: number, palette: readonly string[] = CLASS_PALETTE): string {
  checkClass(cls);
  if (palette.length === 0) throw new RangeError("palette must not be empty");
  return palette[cls % palette.length];
}

/**
 * Marker shape of a class: circles for the first palette round, then other
 * shapes so that repeated colours stay distinguishable.
 */
export function classShape(cls: number, paletteSize: number = CLASS_PALETTE.length): ClassShape {
  checkClass(cls);
  return CLASS_SHAPES[Math.floor(cls / paletteSize) % CLASS_SHAPES.length];
}

/** Named continuous colour maps. */
export type ColormapName = "viridis" | "blues" | "greens";

const INTERPOLATORS: Record<ColormapName, (t: number) => string> = {
  viridis: interpolateViridis,
  blues: interpolateBlues,
  greens: interpolateGreens,
};

/** A 256-colour lookup table, RGB triples packed in 768 bytes. */
export type ColorLut = Uint8Array;

const lutCache = new Map<string, ColorLut>();

/**
 * 256-entry lookup table of a colour map.
 *
 * Args:
 *   name: `viridis`, `blues` or `greens`.
 *   reversed: flip the ramp; with viridis this makes high values dark, as the
 *     paper's Jaccard view (darker = more similar).
 */
export function colormapLut(name: ColormapName, reversed = false): ColorLut {
  const interp = INTERPOLATORS[name];
  if (!interp) throw new RangeError(`unknown colormap ${String(name)}`);
  const key = `${name}/${reversed}`;
  const hit = lutCache.get(key);
  if (hit) return hit;
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const c = rgb(interp(reversed ? 1 - t : t));
    lut[i * 3] = c.r;
    lut[i * 3 + 1] = c.g;
    lut[i * 3 + 2] = c.b;
  }
  lutCache.set(key, lut);
  return lut;
}

/** CSS colour of the LUT entry for `t` in [0, 1] (clamped). */
export function lutColor(lut: ColorLut, t: number): string {
  const i = Math.max(0, Math.min(255, Math.round((Number.isFinite(t) ? t : 0) * 255)));
  return `rgb(${lut[i * 3]}, ${lut[i * 3 + 1]}, ${lut[i * 3 + 2]})`;
}

/** CSS `linear-gradient` of a LUT, for colour-bar legends. */
export function lutGradient(lut: ColorLut, stops = 8, direction = "to right"): string {
  const parts: string[] = [];
  for (let s = 0; s <= stops; s++) {
    const t = s / stops;
    parts.push(`${lutColor(lut, t)} ${Math.round(t * 100)}%`);
  }
  return `linear-gradient(${direction}, ${parts.join(", ")})`;
}

/** Colour drawn for NaN / non-finite cells. */
export const MISSING_RGB: readonly [number, number, number] = [220, 220, 220];

/**
 * Rasterize a matrix into RGBA pixels (one pixel per cell, row-major).
 *
 * Args:
 *   matrix: rows of equal length.
 *   range: `[lo, hi]`; values are clamped into it. `lo == hi` maps everything to 0.
 *   lut: colour lookup table (`colormapLut`).
 *   out: optional buffer of `rows * cols * 4` bytes to reuse.
 * Returns:
 *   `Uint8ClampedArray` suitable for `new ImageData(data, cols, rows)`.
 */
export function renderMatrixRGBA(
  matrix: ArrayLike<ArrayLike<number>>,
  range: readonly [number, number],
  lut: ColorLut,
  out?: Uint8ClampedArray<ArrayBuffer>,
): Uint8ClampedArray<ArrayBuffer> {
  const rows = matrix.length;
  const cols = rows > 0 ? matrix[0].length : 0;
  const [lo, hi] = range;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) {
    throw new RangeError(`range must be finite with lo <= hi, got [${lo}, ${hi}]`);
  }
  if (lut.length !== 768) throw new RangeError("lut must hold 256 RGB triples");
  const size = rows * cols * 4;
  if (out && out.length !== size) {
    throw new RangeError(`out must have ${size} bytes, got ${out.length}`);
  }
  const data = out ?? new Uint8ClampedArray(size);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  let p = 0;
  for (let r = 0; r < rows; r++) {
    const row = matrix[r];
    if (row.length !== cols) {
      throw new RangeError(`row ${r} has ${row.length} values, expected ${cols}`);
    }
    for (let c = 0; c < cols; c++) {
      const v = row[c];
      if (v !== v || v === Infinity || v === -Infinity) {
        data[p] = MISSING_RGB[0];
        data[p + 1] = MISSING_RGB[1];
        data[p + 2] = MISSING_RGB[2];
      } else {
        let i = ((v - lo) * scale + 0.5) | 0;
        if (i < 0) i = 0;
        else if (i > 255) i = 255;
        i *= 3;
        data[p] = lut[i];
        data[p + 1] = lut[i + 1];
        data[p + 2] = lut[i + 2];
      }
      data[p + 3] = 255;
      p += 4;
    }
  }
  return data;
}
