import { describe, expect, it } from "vitest";
import { polygonContains } from "d3";
import { centroid, hullPath, paddedHull, type Point } from "./hull";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe("paddedHull", () => {
  it("contains every point with margin, for random clouds", () => {
    const r = rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + Math.floor(r() * 60);
      const pts: Point[] = Array.from({ length: n }, () => [r() * 100, r() * 50]);
      const hull = paddedHull(pts, 5);
      expect(hull.length).toBeGreaterThanOrEqual(3);
      for (const [x, y] of pts) {
        // Points pushed 4 units in any direction stay inside (pad 5 * cos(15deg) > 4.8).
        for (const [dx, dy] of [
          [4, 0],
          [-4, 0],
          [0, 4],
          [0, -4],
        ]) {
          expect(polygonContains(hull, [x + dx, y + dy])).toBe(true);
        }
      }
    }
  });
  it("handles one point, two points and collinear points", () => {
    expect(paddedHull([[1, 1]], 2).length).toBeGreaterThanOrEqual(3);
    const two = paddedHull(
      [
        [0, 0],
        [10, 0],
      ],
      1,
    );
    expect(polygonContains(two, [5, 0.5])).toBe(true);
    const line = paddedHull(
      [
        [0, 0],
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      1,
    );
    expect(polygonContains(line, [1.5, 1.5])).toBe(true);
    expect(paddedHull([], 3)).toEqual([]);
    expect(
      paddedHull(
        [
          [0, 0],
          [0, 0],
        ],
        0,
      ),
    ).toEqual([[0, 0]]);
  });
  it("rejects bad input", () => {
    expect(() => paddedHull([[0, 0]], -1)).toThrow(RangeError);
    expect(() => paddedHull([[0, NaN]], 1)).toThrow(RangeError);
  });
});

describe("hullPath", () => {
  it("is a closed smooth path through the padded hull", () => {
    const d = hullPath(
      [
        [0, 0],
        [10, 0],
        [10, 10],
        [0, 10],
        [5, 5],
      ],
      2,
    );
    expect(d.startsWith("M")).toBe(true);
    expect(d.endsWith("Z")).toBe(true);
    expect(d).toContain("C"); // cubic Bézier segments of Catmull–Rom
    // The curve passes through every padded-hull vertex (segment endpoints; d3 rounds to 3 decimals).
    const nums = (d.match(/-?\d+(\.\d+)?(e-?\d+)?/g) ?? []).map(Number);
    const pairs: Point[] = [];
    for (let i = 0; i + 1 < nums.length; i += 2) pairs.push([nums[i], nums[i + 1]]);
    for (const [x, y] of paddedHull(
      [
        [0, 0],
        [10, 0],
        [10, 10],
        [0, 10],
        [5, 5],
      ],
      2,
    )) {
      expect(pairs.some(([px, py]) => Math.abs(px - x) < 1e-3 && Math.abs(py - y) < 1e-3)).toBe(true);
    }
  });
  it("is empty for no points", () => {
    expect(hullPath([], 2)).toBe("");
  });
});

describe("centroid", () => {
  it("averages", () => {
    expect(
      centroid([
        [0, 0],
        [2, 4],
      ]),
    ).toEqual([1, 2]);
    expect(centroid([])).toBeNull();
  });
});
