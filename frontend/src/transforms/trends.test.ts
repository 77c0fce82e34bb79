import { describe, expect, it } from "vitest";
import { rgb } from "d3";
import { gridCellAt, layerSeries, scoreDomain, timelineGrid, unionLayers } from "./timeline";
import { advance, allFramePoints, frameIndex, interpolatePoints, pointsAt, trajectories } from "./trajectory";
import { divergingColor, divergingLut, divergingT, symmetricRange } from "./diverging";
import type { TimelineResponse, TrajectoryFrame } from "../types";

const run = {
  run: "r",
  steps: [0, 1, 2],
  layers: ["conv2", "conv1", "head"],
  scores: [
    [0.6, 0.8, 0.9],
    [0.41, 0.55, null],
    [0.2, NaN, 0.95],
  ],
  accuracy: [0.31, null, 0.95],
  steps_written: 3,
  downsampled: false,
};

describe("timeline cell mapping", () => {
  it("orders rows by graph order, unknown layers last, keeps cells with their layer", () => {
    const g = timelineGrid(run, ["conv1", "conv2"]);
    expect(g.layers).toEqual(["conv1", "conv2", "head"]);
    expect(g.values[0]).toEqual([0.41, 0.55, null]);
    expect(g.values[1]).toEqual([0.6, 0.8, 0.9]);
    expect(g.values[2]).toEqual([0.2, null, 0.95]); // NaN -> null
    expect(g.accuracy).toEqual([0.31, null, 0.95]);
    expect(g.chance).toEqual([null, null, null]);
    expect(timelineGrid({ ...run, chance: [0.1, 0.1, null] }).chance).toEqual([0.1, 0.1, null]);
    expect(timelineGrid(run).layers).toEqual(["conv2", "conv1", "head"]);
  });
  it("rejects ragged scores", () => {
    expect(() => timelineGrid({ ...run, scores: [[1, 2, 3]] })).toThrow(/rows/);
    expect(() => timelineGrid({ ...run, scores: [[1], [2], [3]] })).toThrow(/steps/);
  });
  it("maps points to cells and outside points to null", () => {
    const geo = { x0: 100, y0: 50, cellW: 20, cellH: 10, rows: 3, cols: 4 };
    expect(gridCellAt(geo, 100, 50)).toEqual({ row: 0, col: 0 });
    expect(gridCellAt(geo, 179.9, 79.9)).toEqual({ row: 2, col: 3 });
    expect(gridCellAt(geo, 180, 60)).toBeNull();
    expect(gridCellAt(geo, 99, 60)).toBeNull();
    expect(gridCellAt(geo, 120, 80)).toBeNull();
    expect(() => gridCellAt({ ...geo, cellW: 0 }, 0, 0)).toThrow();
  });
  it("uses [0, 1] for accuracy-like scores, else the padded extent", () => {
    expect(scoreDomain([[0.2, null, 0.9]])).toEqual([0, 1]);
    expect(scoreDomain([[null]])).toEqual([0, 1]);
    expect(
      scoreDomain([
        [2, 5],
        [3, null],
      ]),
    ).toEqual([2, 5]);
    expect(scoreDomain([[3, 3]])).toEqual([2.5, 3.5]);
  });
  it("builds per-run series of one layer, skipping missing values", () => {
    const resp: TimelineResponse = {
      score: "knn_loo",
      fn: "l2",
      stage: "pre",
      runs: [run, { ...run, run: "s", layers: ["other", "x", "y"] }],
    };
    const s = layerSeries(resp, "conv1");
    expect(s[0].score).toEqual([
      { step: 0, value: 0.41 },
      { step: 1, value: 0.55 },
    ]);
    expect(s[0].accuracy.map((p) => p.step)).toEqual([0, 2]);
    expect(s[1].score).toEqual([]);
    expect(unionLayers(resp)).toEqual(["conv2", "conv1", "head", "other", "x", "y"]);
  });
});

const frames: TrajectoryFrame[] = [
  {
    step: 0,
    points: [
      [0, 0],
      [1, 1],
    ],
  },
  {
    step: 5,
    points: [
      [2, 0],
      [1, 3],
    ],
  },
  {
    step: 9,
    points: [
      [2, 2],
      [0, 0],
    ],
  },
];

describe("frame interpolation", () => {
  it("interpolates linearly and clamps t", () => {
    expect(interpolatePoints(frames[0].points, frames[1].points, 0.5)).toEqual([
      [1, 0],
      [1, 2],
    ]);
    expect(interpolatePoints(frames[0].points, frames[1].points, -3)).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(interpolatePoints(frames[0].points, frames[1].points, 7)).toEqual([
      [2, 0],
      [1, 3],
    ]);
    expect(() => interpolatePoints([[0, 0]], [], 0.5)).toThrow(/points/);
  });
  it("returns exact frames at integer positions and blends between", () => {
    expect(pointsAt(frames, 0)).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(pointsAt(frames, 2)).toEqual([
      [2, 2],
      [0, 0],
    ]);
    expect(pointsAt(frames, 1.25)).toEqual([
      [2, 0.5],
      [1 - 0.25, 3 - 0.75],
    ]);
    expect(pointsAt(frames, 99)).toEqual([
      [2, 2],
      [0, 0],
    ]);
    expect(() => pointsAt([], 0)).toThrow();
    // A copy: mutating the result leaves the response intact.
    pointsAt(frames, 0)[0][0] = 42;
    expect(frames[0].points[0][0]).toBe(0);
  });
  it("advances playback, stopping or looping at the end", () => {
    expect(advance(0, 500, 2, 3)).toEqual({ position: 1, done: false });
    expect(advance(1.5, 1000, 2, 3)).toEqual({ position: 2, done: true });
    expect(advance(1.5, 1000, 2, 3, true)).toEqual({ position: 0, done: false });
    expect(advance(0, 100, 2, 1)).toEqual({ position: 0, done: true });
    expect(advance(0.5, -10, 2, 3).position).toBe(0.5);
    expect(() => advance(0, 1, 0, 3)).toThrow();
    expect(frameIndex(1.49, 3)).toBe(1);
    expect(frameIndex(1.5, 3)).toBe(2);
    expect(frameIndex(7, 3)).toBe(2);
  });
  it("collects trajectories of selected inputs and all frame points", () => {
    expect(trajectories(frames, [1, 5, -1])).toEqual([
      {
        index: 1,
        points: [
          [1, 1],
          [1, 3],
          [0, 0],
        ],
      },
    ]);
    expect(allFramePoints(frames)).toHaveLength(6);
  });
});

describe("diverging colour scale", () => {
  it("is symmetric around zero", () => {
    expect(
      symmetricRange([
        [1, -3],
        [2, NaN],
      ]),
    ).toEqual([-3, 3]);
    expect(symmetricRange([-0.5, 0.2])).toEqual([-0.5, 0.5]);
    expect(symmetricRange([[0, 0]])).toEqual([-1, 1]);
    expect(divergingT(0, 2)).toBe(0.5);
    expect(divergingT(2, 2)).toBe(1);
    expect(divergingT(-5, 2)).toBe(0);
    expect(divergingT(NaN, 2)).toBe(0.5);
    expect(() => divergingT(0, 0)).toThrow();
  });
  it("maps negatives to blue, zero to near white, positives to red", () => {
    const neg = rgb(divergingColor(-1, 1));
    const zero = rgb(divergingColor(0, 1));
    const pos = rgb(divergingColor(1, 1));
    expect(neg.b).toBeGreaterThan(neg.r);
    expect(pos.r).toBeGreaterThan(pos.b);
    expect(Math.min(zero.r, zero.g, zero.b)).toBeGreaterThan(230);
    const lut = divergingLut();
    expect(lut).toHaveLength(768);
    expect(divergingLut()).toBe(lut); // cached
  });
});
