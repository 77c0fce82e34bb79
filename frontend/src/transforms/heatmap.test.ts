import { describe, expect, it } from "vitest";
import { colormapLut } from "./color";
import { groupColumnsByClass, groupsFromBoundaries, separators } from "./groups";
import {
  heatmapHit,
  heatmapLayout,
  presentMetrics,
  renderHeatmapImage,
  renderMetricColumns,
  topChannels,
} from "./heatmap";
import { pageInfo } from "./paging";

describe("renderHeatmapImage", () => {
  it("golden pixels: threshold floor is lightest, max is darkest blue", () => {
    const lut = colormapLut("blues");
    const px = renderHeatmapImage(
      [
        [0, 9.1],
        [0.05, 4.575],
      ],
      [0.05, 9.1],
    );
    expect(px.length).toBe(16);
    expect(Array.from(px.slice(0, 4))).toEqual([lut[0], lut[1], lut[2], 255]);
    expect(Array.from(px.slice(4, 8))).toEqual([lut[765], lut[766], lut[767], 255]);
    expect(Array.from(px.slice(8, 12))).toEqual(Array.from(px.slice(0, 4)));
    // Midpoint rounds to LUT entry 128.
    expect(Array.from(px.slice(12, 15))).toEqual(Array.from(lut.slice(384, 387)));
    expect(px[4] + px[5] + px[6]).toBeLessThan(px[0] + px[1] + px[2]);
  });
  it("renders 2048 x 200 into a reused buffer", () => {
    const values = Array.from({ length: 2048 }, (_, r) => Array.from({ length: 200 }, (_, c) => (r * c) % 7));
    const out = new Uint8ClampedArray(2048 * 200 * 4);
    const px = renderHeatmapImage(values, [0, 6], { out });
    expect(px).toBe(out);
    expect(px[(2047 * 200 + 199) * 4 + 3]).toBe(255);
  });
});

describe("renderMetricColumns", () => {
  it("scales each metric to its own range", () => {
    const lut = colormapLut("greens");
    const px = renderMetricColumns(
      [
        [1, 3],
        [100, 100],
      ],
      lut,
    );
    // 2 metrics wide, 2 rows high.
    expect(px.length).toBe(16);
    expect(Array.from(px.slice(0, 3))).toEqual(Array.from(lut.slice(0, 3))); // row0 metric0 = min
    expect(Array.from(px.slice(8, 11))).toEqual(Array.from(lut.slice(765, 768))); // row1 metric0 = max
    expect(Array.from(px.slice(4, 7))).toEqual(Array.from(lut.slice(384, 387))); // constant -> mid
    expect(() => renderMetricColumns([[1, 2], [1]])).toThrow(RangeError);
  });
  it("lists only metrics of the right length", () => {
    expect(presentMetrics({ variance: [1, 2], pairwise: [1, 2], filter_norm: null }, 2)).toEqual([
      "pairwise",
      "variance",
    ]);
    expect(presentMetrics({ variance: [1], pairwise: [1, 2], filter_norm: [3, 4] }, 2)).toEqual([
      "pairwise",
      "filter_norm",
    ]);
  });
});

describe("heatmapLayout / heatmapHit", () => {
  const layout = heatmapLayout({ rows: 10, cols: 20, metrics: 3, width: 248, maxHeight: 50 });
  it("reserves metric columns at the right", () => {
    expect(layout.heatW).toBe(248 - 6 - 3 * 14);
    expect(layout.cellW).toBe(10);
    expect(layout.cellH).toBe(5);
    expect(layout.width).toBe(248);
    expect(layout.metricX).toBe(206);
  });
  it("maps points to cells and metric columns, null outside", () => {
    expect(heatmapHit(layout, 0, 0)).toEqual({ kind: "cell", row: 0, col: 0 });
    expect(heatmapHit(layout, 199.9, 49.9)).toEqual({ kind: "cell", row: 9, col: 19 });
    expect(heatmapHit(layout, 203, 1)).toBeNull(); // gap
    expect(heatmapHit(layout, 206 + 14 * 2 + 1, 7)).toEqual({ kind: "metric", row: 1, metric: 2 });
    expect(heatmapHit(layout, 10, 50)).toBeNull();
    expect(heatmapHit(layout, -1, 3)).toBeNull();
    expect(heatmapHit(layout, 249, 3)).toBeNull();
  });
  it("clamps row height", () => {
    expect(heatmapLayout({ rows: 2048, cols: 5, metrics: 0, width: 100, maxHeight: 600 }).cellH).toBe(0.5);
    expect(heatmapLayout({ rows: 2, cols: 5, metrics: 0, width: 100, maxHeight: 600 }).cellH).toBe(14);
    expect(() => heatmapLayout({ rows: -1, cols: 5, metrics: 0, width: 100, maxHeight: 6 })).toThrow(RangeError);
  });
});

describe("topChannels", () => {
  it("returns the strongest positive channels of a column", () => {
    const values = [
      [0, 1],
      [5, 2],
      [3, 0],
      [5, 9],
    ];
    expect(topChannels(values, 0, [10, 11, 12, 13]).map((t) => t.channel)).toEqual([11, 13, 12]);
    expect(topChannels(values, 1, [10, 11, 12, 13], 2).map((t) => t.channel)).toEqual([13, 11]);
    expect(topChannels([[0], [0]], 0, [1, 2])).toEqual([]);
    expect(() => topChannels(values, 2, [10, 11, 12, 13])).toThrow(RangeError);
    expect(() => topChannels(values, 0, [1])).toThrow(RangeError);
  });
});

describe("groups", () => {
  it("groups from boundaries with or without the end", () => {
    const a = groupsFromBoundaries([0, 40, 80], 80);
    const b = groupsFromBoundaries([0, 40], 80);
    expect(a).toEqual(b);
    expect(a).toEqual([
      { cls: 0, start: 0, end: 40 },
      { cls: 1, start: 40, end: 80 },
    ]);
    expect(separators(a)).toEqual([40]);
    expect(groupsFromBoundaries([0, 0, 3], 5).length).toBe(2);
    expect(groupsFromBoundaries([], 0)).toEqual([]);
    expect(() => groupsFromBoundaries([0, 4, 2], 5)).toThrow(RangeError);
  });
  it("labels groups by the class of their first column", () => {
    const labels = [2, 0, 2, 1];
    const columns = [1, 0, 2, 3];
    expect(groupsFromBoundaries([0, 1, 3], 4, (c) => labels[columns[c]])).toEqual([
      { cls: 0, start: 0, end: 1 },
      { cls: 2, start: 1, end: 3 },
      { cls: 1, start: 3, end: 4 },
    ]);
  });
  it("groupColumnsByClass groups consecutive labels", () => {
    expect(groupColumnsByClass([1, 0, 2, 3], [2, 0, 2, 1])).toEqual([
      { cls: 0, start: 0, end: 1 },
      { cls: 2, start: 1, end: 3 },
      { cls: 1, start: 3, end: 4 },
    ]);
    expect(() => groupColumnsByClass([5], [0])).toThrow(RangeError);
  });
});

describe("pageInfo", () => {
  it("pages through 2048 channels by 256", () => {
    const p0 = pageInfo(2048, 0, 256);
    expect(p0).toMatchObject({
      page: 0,
      pages: 8,
      from: 1,
      to: 256,
      prevOffset: null,
      nextOffset: 256,
      lastOffset: 1792,
    });
    const p7 = pageInfo(2048, 1792, 256);
    expect(p7).toMatchObject({ page: 7, from: 1793, to: 2048, prevOffset: 1536, nextOffset: null });
  });
  it("handles partial, empty and out-of-range pages", () => {
    expect(pageInfo(10, 8, 4)).toMatchObject({ page: 2, pages: 3, from: 9, to: 10, nextOffset: null, prevOffset: 4 });
    expect(pageInfo(0, 0, 4)).toMatchObject({ page: 0, pages: 1, from: 0, to: 0, prevOffset: null, nextOffset: null });
    expect(pageInfo(10, 99, 4)).toMatchObject({ page: 2, from: 9 });
    expect(pageInfo(10, 3, 4)).toMatchObject({ prevOffset: 0, nextOffset: 7 });
    expect(() => pageInfo(10, 0, 0)).toThrow(RangeError);
    expect(() => pageInfo(10, -1, 4)).toThrow(RangeError);
  });
});
