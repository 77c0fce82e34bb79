import { describe, expect, it } from "vitest";
import {
  CLASS_PALETTE,
  OKABE_ITO,
  classColor,
  classShape,
  colormapLut,
  lutGradient,
  MISSING_RGB,
  renderMatrixRGBA,
} from "./color";

describe("classColor", () => {
  it("starts with Okabe–Ito and cycles", () => {
    expect(classColor(0)).toBe(OKABE_ITO[0]);
    expect(classColor(7)).toBe(OKABE_ITO[7]);
    expect(classColor(8)).not.toBe(classColor(0));
    expect(classColor(CLASS_PALETTE.length)).toBe(classColor(0));
    expect(new Set(CLASS_PALETTE.slice(0, 8)).size).toBe(8);
  });
  it("changes shape when colours repeat", () => {
    expect(classShape(0)).toBe("circle");
    expect(classShape(CLASS_PALETTE.length)).toBe("square");
    expect(classShape(CLASS_PALETTE.length)).not.toBe(classShape(0));
  });
  it("rejects bad classes", () => {
    expect(() => classColor(-1)).toThrow(RangeError);
    expect(() => classColor(1.5)).toThrow(RangeError);
    expect(() => classColor(0, [])).toThrow(RangeError);
  });
});

describe("colormapLut", () => {
  const lum = (lut: Uint8Array, i: number) => lut[i * 3] + lut[i * 3 + 1] + lut[i * 3 + 2];
  it("reversed viridis is dark at the top (darker = more similar)", () => {
    const lut = colormapLut("viridis", true);
    expect(lum(lut, 255)).toBeLessThan(lum(lut, 0));
    expect(Array.from(lut.slice(0, 3))).toEqual(Array.from(colormapLut("viridis").slice(765, 768)));
  });
  it("blues is light at 0 and dark at 1", () => {
    const lut = colormapLut("blues");
    expect(lum(lut, 0)).toBeGreaterThan(600);
    expect(lum(lut, 255)).toBeLessThan(250);
  });
  it("gradient lists stops", () => {
    expect(lutGradient(colormapLut("greens"), 4)).toMatch(/^linear-gradient\(to right, rgb\(.*100%\)$/);
  });
});

describe("renderMatrixRGBA", () => {
  const lut = colormapLut("viridis");
  it("maps lo/hi to the LUT ends, clamps, marks NaN, is row-major", () => {
    const m = [
      [0, 1, 0.5],
      [-5, 9, NaN],
    ];
    const px = renderMatrixRGBA(m, [0, 1], lut);
    expect(px.length).toBe(2 * 3 * 4);
    const at = (r: number, c: number) => Array.from(px.slice((r * 3 + c) * 4, (r * 3 + c) * 4 + 4));
    expect(at(0, 0)).toEqual([lut[0], lut[1], lut[2], 255]);
    expect(at(0, 1)).toEqual([lut[765], lut[766], lut[767], 255]);
    expect(at(0, 2)).toEqual([lut[128 * 3], lut[128 * 3 + 1], lut[128 * 3 + 2], 255]);
    expect(at(1, 0)).toEqual(at(0, 0));
    expect(at(1, 1)).toEqual(at(0, 1));
    expect(at(1, 2)).toEqual([...MISSING_RGB, 255]);
  });
  it("handles a flat range and empty matrices", () => {
    const px = renderMatrixRGBA([[3, 3]], [3, 3], lut);
    expect(Array.from(px.slice(0, 3))).toEqual(Array.from(lut.slice(0, 3)));
    expect(renderMatrixRGBA([], [0, 1], lut).length).toBe(0);
  });
  it("reuses a buffer and validates input", () => {
    const out = new Uint8ClampedArray(4);
    expect(renderMatrixRGBA([[1]], [0, 1], lut, out)).toBe(out);
    expect(() => renderMatrixRGBA([[1]], [0, 1], lut, new Uint8ClampedArray(8))).toThrow(RangeError);
    expect(() => renderMatrixRGBA([[1, 2], [3]], [0, 1], lut)).toThrow(/row 1/);
    expect(() => renderMatrixRGBA([[1]], [1, 0], lut)).toThrow(RangeError);
    expect(() => renderMatrixRGBA([[1]], [0, NaN], lut)).toThrow(RangeError);
  });
});
