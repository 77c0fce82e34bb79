import { describe, expect, it } from "vitest";
import { moveCursor, squareCellAt } from "./matrix";
import { clusterClassBars, clusterMembers, fitPoints, pointsInRect } from "./scatter";
import { collectInputs, countLeaves, flattenTree, nodeRepresentatives } from "./tree";
import { parseK, perClassAccuracy } from "./dataset";
import type { HierarchyNode } from "../types";

describe("scatter", () => {
  it("fits points into the box keeping aspect ratio, y up", () => {
    const pts: Array<[number, number]> = [
      [0, 0],
      [10, 5],
      [-10, -5],
    ];
    const t = fitPoints(pts, 120, 70, 10);
    const s = pts.map(t.apply);
    for (const [x, y] of s) {
      expect(x).toBeGreaterThanOrEqual(10 - 1e-9);
      expect(x).toBeLessThanOrEqual(110 + 1e-9);
      expect(y).toBeGreaterThanOrEqual(10 - 1e-9);
      expect(y).toBeLessThanOrEqual(60 + 1e-9);
    }
    expect(s[1][1]).toBeLessThan(s[2][1]); // higher y is drawn higher
    expect(s[0]).toEqual([60, 35]); // centred
    expect(t.scale).toBe(5);
  });
  it("fits single and empty point sets", () => {
    expect(fitPoints([[3, 3]], 100, 100).apply([3, 3])).toEqual([50, 50]);
    expect(fitPoints([], 100, 100).scale).toBe(1);
    expect(() => fitPoints([], 10, 10, 10)).toThrow(RangeError);
  });
  it("brushes a rectangle given in any corner order", () => {
    const pts: Array<[number, number]> = [
      [1, 1],
      [5, 5],
      [9, 1],
    ];
    expect(pointsInRect(pts, [6, 0], [0, 6])).toEqual([0, 1]);
    expect(pointsInRect(pts, [20, 20], [30, 30])).toEqual([]);
  });
  it("builds class bars, folding extra classes", () => {
    const names = ["a", "b", "c", "d", "e"];
    const bars = clusterClassBars({ id: 0, size: 10, class_counts: { b: 2, a: 6, c: 1, d: 1 } }, names, 3);
    expect(bars.map((b) => b.name)).toEqual(["a", "b", "2 other classes"]);
    expect(bars[0]).toMatchObject({ cls: 0, count: 6, fraction: 0.6 });
    expect(bars[2]).toMatchObject({ cls: -1, count: 2 });
    expect(clusterClassBars({ id: 1, size: 3, class_counts: { zz: 3 } }, names)[0].cls).toBe(-1);
  });
  it("lists cluster members", () => {
    expect([...clusterMembers([1, 0, 1]).entries()]).toEqual([
      [1, [0, 2]],
      [0, [1]],
    ]);
  });
});

describe("matrix", () => {
  it("hit-tests square matrices", () => {
    expect(squareCellAt(4, 400, 0, 0)).toEqual({ row: 0, col: 0 });
    expect(squareCellAt(4, 400, 399, 101)).toEqual({ row: 1, col: 3 });
    expect(squareCellAt(4, 400, 400, 1)).toBeNull();
    expect(squareCellAt(0, 400, 1, 1)).toBeNull();
    expect(() => squareCellAt(4, 0, 1, 1)).toThrow(RangeError);
  });
  it("moves a clamped cursor", () => {
    expect(moveCursor({ row: 0, col: 0 }, "ArrowUp", 3, 3)).toEqual({ row: 0, col: 0 });
    expect(moveCursor({ row: 0, col: 0 }, "ArrowDown", 3, 3)).toEqual({ row: 1, col: 0 });
    expect(moveCursor({ row: 1, col: 1 }, "End", 3, 3)).toEqual({ row: 1, col: 2 });
    expect(moveCursor({ row: 1, col: 1 }, "a", 3, 3)).toBeNull();
  });
});

const tree: HierarchyNode = {
  name: "root",
  children: [
    {
      name: "super 0",
      classes: [0, 3],
      representatives: [12],
      children: [
        {
          name: "3",
          class: 3,
          representatives: [5],
          children: [
            { name: "3 / sub 0", inputs: [5, 9], representatives: [5] },
            { name: "3 / sub 1", inputs: [2], representatives: [2] },
          ],
        },
        { name: "0", class: 0, children: [{ name: "0 / sub 0", inputs: [9, 1], representatives: [1] }] },
      ],
    },
  ],
};

describe("tree", () => {
  it("flattens in pre-order with kinds and ids", () => {
    const flat = flattenTree(tree);
    expect(flat.map((f) => f.id)).toEqual(["", "0", "0/0", "0/0/0", "0/0/1", "0/1", "0/1/0"]);
    expect(flat.map((f) => f.kind)).toEqual(["root", "super", "class", "sub", "sub", "class", "sub"]);
    expect(flat[3].parentId).toBe("0/0");
    expect(flat[3].depth).toBe(3);
  });
  it("collects inputs, representatives and leaves", () => {
    expect(collectInputs(tree)).toEqual([1, 2, 5, 9]);
    expect(nodeRepresentatives(tree.children![0])).toEqual([12]);
    expect(nodeRepresentatives(tree)).toEqual([12, 5, 2, 1]);
    expect(nodeRepresentatives(tree, 2)).toEqual([12, 5]);
    expect(countLeaves(tree)).toBe(3);
  });
  it("rejects cycles", () => {
    const a: HierarchyNode = { name: "a", children: [] };
    a.children!.push(a);
    expect(() => flattenTree(a)).toThrow(/cycle/);
  });
});

describe("dataset", () => {
  it("computes per-class accuracy and the main confusion", () => {
    const acc = perClassAccuracy([0, 0, 0, 1, 1], [0, 1, 1, 1, 1], 3);
    expect(acc[0]).toEqual({ cls: 0, count: 3, correct: 1, accuracy: 1 / 3, confusedWith: { cls: 1, count: 2 } });
    expect(acc[1]).toMatchObject({ accuracy: 1, confusedWith: null });
    expect(acc[2]).toMatchObject({ count: 0, accuracy: null });
    expect(() => perClassAccuracy([0], [], 1)).toThrow(RangeError);
    expect(() => perClassAccuracy([4], [0], 2)).toThrow(RangeError);
  });
  it("parses K", () => {
    expect(parseK("")).toBeNull();
    expect(parseK(" 7 ")).toBe(7);
    expect(parseK("0")).toBeNaN();
    expect(parseK("2.5")).toBeNaN();
    expect(parseK("x")).toBeNaN();
  });
});
