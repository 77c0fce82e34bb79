import { describe, expect, it } from "vitest";
import { openableSteps, resolveStep } from "./sideChoice";
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
});
