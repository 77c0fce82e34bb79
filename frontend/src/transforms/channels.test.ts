import { describe, expect, it } from "vitest";
import {
  argmax,
  byClassId,
  channelKey,
  classBars,
  columnLayout,
  parseChannelKey,
  rankRows,
  rankSuspects,
  selectivityColor,
  sparkline,
  signedEdges,
  suspectsByClass,
  tileFromRect,
  chipCapacity,
  type EdgeBundle,
} from "./channels";
import { CLASS_PALETTE } from "./color";

/** Small deterministic PRNG (mulberry32) for property tests. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("channel identity", () => {
  it("writes a fixed, URL-encoded key", () => {
    expect(channelKey({ run: "lr 0.1", layer: "features.0", channel: 3 })).toBe(
      "run=lr%200.1&layer=features.0&channel=3",
    );
  });
  it("round-trips names holding URL syntax and non-ASCII text", () => {
    for (const id of [
      { run: "a&b=c", layer: "x+y/z?#", channel: 0 },
      { run: "<img src=x>", layer: "слой.1", channel: 2047 },
      { run: "", layer: "%20", channel: 7 },
    ]) {
      expect(parseChannelKey(channelKey(id))).toEqual(id);
    }
  });
  it("distinguishes channels that differ in one part only", () => {
    const keys = new Set([
      channelKey({ run: "r", layer: "l", channel: 1 }),
      channelKey({ run: "r", layer: "l", channel: 11 }),
      channelKey({ run: "r", layer: "l1", channel: 1 }),
      channelKey({ run: "r&layer=l", layer: "l", channel: 1 }),
    ]);
    expect(keys.size).toBe(4);
  });
  it("rejects bad channels and keys", () => {
    expect(() => channelKey({ run: "r", layer: "l", channel: -1 })).toThrow(/channel/);
    expect(() => channelKey({ run: "r", layer: "l", channel: 1.5 })).toThrow(/channel/);
    expect(() => parseChannelKey("run=r&channel=1")).toThrow(/layer/);
    expect(() => parseChannelKey("run=r&layer=l&channel=x")).toThrow(/channel/);
  });
});

describe("class bars and selectivity colour", () => {
  it("scales to the largest mean and marks the preferred class", () => {
    const bars = classBars([1, 4, null, 2], ["a", "b", "c"]);
    expect(bars.map((b) => b.fraction)).toEqual([0.25, 1, 0, 0.5]);
    expect(bars.filter((b) => b.preferred).map((b) => b.cls)).toEqual([1]);
    expect(bars[2].mean).toBeNull();
    expect(bars[3].name).toBe("3"); // no name given
  });
  it("spreads values of the present classes over every class id", () => {
    expect(byClassId([0, 2], [1.5, 3], 4)).toEqual([1.5, null, 3, null]);
    expect(byClassId([5], [1], 2)).toEqual([null, null, null, null, null, 1]); // grows to the largest id
    expect(() => byClassId([0, 1], [1], 2)).toThrow(/length/);
    expect(() => byClassId([-1], [1], 2)).toThrow(/class ids/);
  });
  it("argmax takes the first of ties and skips missing values", () => {
    expect(argmax([2, 5, 5, null])).toBe(1);
    expect(argmax([null, NaN])).toBeNull();
    expect(argmax([-3, -1, -2])).toBe(1);
  });
  it("colours only channels at or above the threshold", () => {
    expect(selectivityColor(2, 0.5, 0.5)).toBe(CLASS_PALETTE[2]);
    expect(selectivityColor(2, 0.49, 0.5)).toBeNull();
    expect(selectivityColor(null, 0.9, 0.5)).toBeNull();
    expect(selectivityColor(1, null, 0)).toBeNull();
    expect(() => selectivityColor(0, 0.5, 1.5)).toThrow(/threshold/);
  });
});

describe("sparkline", () => {
  it("maps steps to x and values to y, up is larger", () => {
    const s = sparkline([0, 1, 2], [0, 1, 0], 12, 12, 1);
    expect(s.path).toBe("M1,11L6,1L11,11");
    expect(s.extent).toEqual([0, 1]);
    expect(s.points.map((p) => [p.x, p.y])).toEqual([
      [1, 11],
      [6, 1],
      [11, 11],
    ]);
  });
  it("spaces points by step value, not by index", () => {
    const s = sparkline([0, 1, 10], [1, 2, 3], 22, 10, 1);
    expect(s.points.map((p) => p.x)).toEqual([1, 3, 21]);
    expect(s.path).toBe("M1,9L3,5L21,1");
  });
  it("leaves a gap at missing values and handles flat and empty series", () => {
    const gap = sparkline([0, 1, 2, 3], [0, null, 1, 2], 20, 10);
    expect(gap.path.match(/M/g)?.length).toBe(2);
    expect(gap.points.length).toBe(3);
    const flat = sparkline([0, 1], [5, 5], 10, 10, 0);
    expect(flat.points.map((p) => p.y)).toEqual([5, 5]);
    expect(sparkline([0, 1], [null, null], 10, 10)).toEqual({ path: "", points: [], extent: null });
  });
  it("validates its input", () => {
    expect(() => sparkline([0, 1], [1], 10, 10)).toThrow(/length/);
    expect(() => sparkline([1, 1], [1, 2], 10, 10)).toThrow(/increase/);
    expect(() => sparkline([0], [1], 4, 10, 2)).toThrow(/small/);
  });
});

describe("rank rows", () => {
  it("lists orderings in the given order with their share", () => {
    const rows = rankRows({ variance: 0, pairwise: 31, taylor: null }, 64, [
      "pairwise",
      "variance",
      "taylor",
      "cluster",
    ]);
    expect(rows).toEqual([
      { order: "pairwise", rank: 31, fraction: 0.5 },
      { order: "variance", rank: 0, fraction: 1 / 64 },
      { order: "taylor", rank: null, fraction: null },
      { order: "cluster", rank: null, fraction: null },
    ]);
  });
  it("rejects ranks outside the layer", () => {
    expect(() => rankRows({ variance: 64 }, 64)).toThrow(/variance/);
    expect(() => rankRows({}, 0)).toThrow(/total/);
  });
});

describe("edges between layers", () => {
  const edges: EdgeBundle[] = [
    { source: 0, target: 1, weight: 5, sign: "positive" },
    { source: 1, target: 0, weight: 10, sign: "positive" },
    { source: 1, target: 1, weight: 1, sign: "positive" },
    { source: 0, target: 0, weight: 0.2, sign: "negative" },
    { source: 1, target: 1, weight: 0.1, sign: "negative" },
    { source: 0, target: 0, weight: 0, sign: "negative" },
  ];
  it("splits signed bundles into a positive and a negative pane", () => {
    const panes = signedEdges([
      { source: 0, target: 1, abs: 6, positive: 5, negative: 1 },
      { source: 1, target: 0, abs: 10, positive: 0, negative: 10 },
      { source: 1, target: 1, abs: 2, positive: 1, negative: 1 },
    ]);
    expect(panes.map((p) => p.sign)).toEqual(["positive", "negative"]);
    expect(panes[0].edges.map((e) => [e.source, e.target, e.weight])).toEqual([
      [0, 1, 5],
      [1, 1, 1],
    ]); // zero left out
    expect(panes[1].edges.map((e) => [e.source, e.target, e.weight])).toEqual([
      [1, 0, 10],
      [0, 1, 1],
      [1, 1, 1],
    ]);
    expect(panes[1].edges.every((e) => e.sign === "negative")).toBe(true);
  });
  it("falls back to one |w| pane without signed sums", () => {
    const panes = signedEdges([
      { source: 0, target: 0, abs: 3, positive: null, negative: null },
      { source: 1, target: 0, abs: 4 },
    ]);
    expect(panes.map((p) => p.sign)).toEqual(["abs"]);
    expect(panes[0].edges.map((e) => e.weight)).toEqual([4, 3]);
    expect(signedEdges([]).map((p) => [p.sign, p.edges.length])).toEqual([
      ["positive", 0],
      ["negative", 0],
    ]);
  });
  it("lays out nodes by size share and links their centres", () => {
    const { nodes, edges: drawn } = columnLayout(
      [
        { id: 0, size: 3 },
        { id: 1, size: 1 },
      ],
      [
        { id: 0, size: 1 },
        { id: 1, size: 1 },
      ],
      [edges[0], edges[1]],
      100,
      100,
      { gap: 4, nodeWidth: 10, maxStroke: 8 },
    );
    // 96 px free: 72 + 24 on the left, 48 + 48 on the right.
    expect(nodes.map((n) => [n.side, n.id, n.y0, n.y1])).toEqual([
      ["source", 0, 0, 72],
      ["source", 1, 76, 100],
      ["target", 0, 0, 48],
      ["target", 1, 52, 100],
    ]);
    expect(drawn[0].path.startsWith("M10,36")).toBe(true); // source 0's centre, right edge
    expect(drawn[0].path.endsWith("90,76")).toBe(true); // target 1's centre, left edge
    expect(drawn.map((e) => e.width)).toEqual([4, 8]);
  });
  it("refuses edges to unknown clusters", () => {
    expect(() => columnLayout([{ id: 0, size: 1 }], [{ id: 0, size: 1 }], [edges[0]], 100, 100)).toThrow(
      /unknown cluster/,
    );
  });
});

describe("suspects", () => {
  const items = [
    { index: 4, score: 0.2, given: 1, likely: 2 },
    { index: 2, score: 0.9, given: 0, likely: 1 },
    { index: 7, score: NaN, given: 1, likely: 1 },
    { index: 1, score: 0.9, given: 1, likely: 0 },
    { index: 3, score: 0.5, given: 1, likely: 0 },
  ];
  it("ranks by score, ties by index, dropping non-finite scores", () => {
    expect(rankSuspects(items).map((s) => s.index)).toEqual([1, 2, 3, 4]);
    expect(rankSuspects(items, 2).map((s) => s.index)).toEqual([1, 2]);
    expect(() => rankSuspects(items, -1)).toThrow(/limit/);
  });
  it("groups by given label, ranked within each class", () => {
    const by = suspectsByClass(items);
    expect([...by.keys()].sort()).toEqual([0, 1]);
    expect(by.get(1)?.map((s) => s.index)).toEqual([1, 3, 4]);
  });
});

describe("cluster tiles", () => {
  it("scales unit-square rects to the box and insets them in their cells", () => {
    expect(tileFromRect([0.5, 0, 0.5, 0.25], 200, 100)).toEqual({ x0: 100, y0: 0, x1: 200, y1: 25 });
    expect(tileFromRect([0.5, 0, 0.5, 0.25], 200, 100, 4)).toEqual({ x0: 102, y0: 2, x1: 198, y1: 23 });
    // A cell thinner than the padding shrinks to its centre line, never past it.
    expect(tileFromRect([0, 0, 0.01, 1], 100, 100, 4)).toEqual({ x0: 0.5, y0: 2, x1: 0.5, y1: 98 });
  });
  it("tiles of a partition never overlap (random guillotine cuts)", () => {
    const rand = rng(7);
    for (let trial = 0; trial < 20; trial++) {
      // Cut the unit square at random into up to 12 rects, as a treemap does.
      let rects: number[][] = [[0, 0, 1, 1]];
      while (rects.length < 2 + Math.floor(rand() * 10)) {
        const [x, y, w, h] = rects.shift() as number[];
        const t = 0.05 + rand() * 0.9;
        rects.push(
          ...(w >= h
            ? [
                [x, y, w * t, h],
                [x + w * t, y, w * (1 - t), h],
              ]
            : [
                [x, y, w, h * t],
                [x, y + h * t, w, h * (1 - t)],
              ]),
        );
      }
      const tiles = rects.map((r) => tileFromRect(r, 300, 200, 3));
      for (let i = 0; i < tiles.length; i++) {
        const a = tiles[i];
        expect(a.x0 >= 0 && a.y0 >= 0 && a.x1 <= 300 + 1e-9 && a.y1 <= 200 + 1e-9).toBe(true);
        for (let j = i + 1; j < tiles.length; j++) {
          const b = tiles[j];
          const ox = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
          const oy = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
          expect(ox <= 1e-9 || oy <= 1e-9).toBe(true);
        }
      }
    }
  });
  it("validates rects and the box", () => {
    expect(() => tileFromRect([0, 0, 1], 10, 10)).toThrow(/rect/);
    expect(() => tileFromRect([0, 0, 1.5, 1], 10, 10)).toThrow(/rect/);
    expect(() => tileFromRect([0, 0, 1, 1], 0, 10)).toThrow(/box/);
  });
  it("counts the chips that fit a tile", () => {
    const tile = { x0: 0, y0: 0, x1: 50, y1: 30 };
    expect(chipCapacity(tile, 10, 10, 2)).toBe(8); // 4 per row, 2 rows
    expect(chipCapacity(tile, 10, 10, 2, 12)).toBe(4); // header leaves 18 px: 1 row
    expect(chipCapacity(tile, 22, 6, 2)).toBe(8); // 2 per row (46 <= 52 < 70), 4 rows
    expect(chipCapacity({ ...tile, x1: 9 }, 10, 10)).toBe(0);
    expect(() => chipCapacity(tile, 0, 10)).toThrow(/chip size/);
  });
});
