/**
 * Speed of the matrix rasterizers (run: `npx vitest bench --run src/transforms`).
 * 2048 channels x 200 inputs is the heatmap's worst case without paging;
 * 500 x 500 the Jaccard view's.
 */
import { bench, describe } from "vitest";
import { colormapLut, renderMatrixRGBA } from "./color";
import { renderHeatmapImage, renderMetricColumns } from "./heatmap";
import { hullPath, type Point } from "./hull";

function matrix(rows: number, cols: number): number[][] {
  let s = 12345;
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 9),
  );
}

const heat = matrix(2048, 200);
const buf = new Uint8ClampedArray(2048 * 200 * 4);
const jac = matrix(500, 500);
const lut = colormapLut("viridis", true);
const metrics = [heat.map((r) => r[0]), heat.map((r) => r[1]), heat.map((r) => r[2])];
const cloud: Point[] = Array.from({ length: 2000 }, (_, i) => [Math.cos(i) * i, Math.sin(i * 1.3) * i]);

describe("rasterize", () => {
  bench("renderHeatmapImage 2048x200 (new buffer)", () => {
    renderHeatmapImage(heat, [0.05, 9]);
  });
  bench("renderHeatmapImage 2048x200 (reused buffer)", () => {
    renderHeatmapImage(heat, [0.05, 9], { out: buf });
  });
  bench("renderMatrixRGBA jaccard 500x500", () => {
    renderMatrixRGBA(jac, [0, 1], lut);
  });
  bench("renderMetricColumns 3x2048", () => {
    renderMetricColumns(metrics);
  });
  bench("hullPath 2000 points", () => {
    hullPath(cloud, 9);
  });
});
