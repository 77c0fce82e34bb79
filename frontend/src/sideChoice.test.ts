import { describe, expect, it } from "vitest";
import { nearestOpenableStep, nearestStep, openableSteps, resolveStep } from "./sideChoice";
import type { RunInfo } from "./types";

const run = (extra: Partial<RunInfo>): RunInfo => ({
  run: "r",
  steps: [0, 1, 2, 3, 4],
  steps_written: 5,
  downsampled: false,
  ...extra,
});

describe("sideChoice", () => {
  it("follows the latest step when every step is full", () => {
    expect(openableSteps(run({}))).toEqual([0, 1, 2, 3, 4]);
    expect(resolveStep(run({}), null)).toBe(4);
    expect(resolveStep(run({ full_steps: [0, 1, 2, 3, 4] }), 2)).toBe(2);
  });

  it("offers only the steps kept in full when the writer kept some compact", () => {
    const info = run({ full_steps: [0, 2], compact_steps: [1, 3, 4] });
    expect(openableSteps(info)).toEqual([0, 2]);
    // The newest step is compact during training: the latest full one opens instead.
    expect(resolveStep(info, null)).toBe(2);
    expect(resolveStep(info, 3)).toBe(2);
    expect(resolveStep(info, 0)).toBe(0);
  });

  it("has no step for an unknown run", () => {
    expect(resolveStep(undefined, null)).toBeNull();
  });

  it("opens the nearest step kept in full for a compact step, the earlier one on a tie", () => {
    const info = run({ steps: [0, 10, 20, 30, 40, 50], full_steps: [0, 30, 50], compact_steps: [10, 20, 40] });
    expect(nearestOpenableStep(info, 10)).toBe(0);
    expect(nearestOpenableStep(info, 20)).toBe(30);
    expect(nearestOpenableStep(info, 40)).toBe(30); // 10 from 30 and from 50: the earlier
    expect(nearestOpenableStep(info, 30)).toBe(30);
    // Every step full (or an older server): the step itself.
    expect(nearestOpenableStep(run({}), 3)).toBe(3);
    expect(nearestStep([], 3)).toBeNull();
  });
});
