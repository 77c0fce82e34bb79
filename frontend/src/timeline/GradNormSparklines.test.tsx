/** The per-layer gradient-norm sparklines of the timeline: rows, path geometry and markup. */
import { describe, expect, it } from "vitest";
import { renderToStaticMarkup } from "react-dom/server";
import { GradNormSparklines, gradNormRows, sparklinePath } from "./GradNormSparklines";
import type { TimelineRun } from "../types";

const run: TimelineRun = {
  run: "r",
  steps: [0, 5, 10],
  layers: ["conv1", "conv2", "fc"],
  scores: [
    [0.1, 0.2, 0.3],
    [0.2, 0.3, 0.4],
    [0.3, 0.4, 0.5],
  ],
  accuracy: [null, null, null],
  steps_written: 3,
  downsampled: false,
  grad_norm: [
    [4, 2, 1],
    [null, null, null],
    [0.5, null, 0.25],
  ],
};

/** The (x, y) points of an SVG path of M/L commands. */
function points(d: string): Array<[string, number, number]> {
  return [...d.matchAll(/([ML])([-\d.e]+),([-\d.e]+)/g)].map((m) => [m[1], Number(m[2]), Number(m[3])]);
}

describe("gradNormRows", () => {
  it("keeps the layers that logged a norm, in the given order", () => {
    expect(gradNormRows(run, ["fc", "conv2", "conv1"])).toEqual([
      { layer: "fc", values: [0.5, null, 0.25] },
      { layer: "conv1", values: [4, 2, 1] },
    ]);
  });
  it("is empty when the run has no gradient norms", () => {
    expect(gradNormRows({ ...run, grad_norm: undefined })).toEqual([]);
    expect(
      gradNormRows({
        ...run,
        grad_norm: [
          [null, null, null],
          [null, null, null],
          [null, null, null],
        ],
      }),
    ).toEqual([]);
  });
});

describe("sparklinePath", () => {
  it("spans the width and maps the row's max to the top, min to the bottom", () => {
    // 3 steps over x in [1, 99]; values 4, 2, 1 over y in [19, 1] (max on top).
    const p = points(sparklinePath([4, 2, 1], 100, 20));
    expect(p.map(([, x]) => x)).toEqual([1, 50, 99]);
    expect(p[0][2]).toBeCloseTo(1);
    expect(p[1][2]).toBeCloseTo(19 - (18 * (2 - 1)) / 3);
    expect(p[2][2]).toBeCloseTo(19);
  });
  it("breaks the line where a step is missing", () => {
    const p = points(sparklinePath([0.5, null, 0.25], 100, 20));
    expect(p.map(([cmd, x]) => `${cmd}${x}`)).toEqual(["M1", "M99"]);
  });
  it("draws a flat row in the middle and nothing without values", () => {
    const p = points(sparklinePath([3, 3], 100, 20));
    expect(p.map(([, , y]) => y)).toEqual([10, 10]);
    expect(sparklinePath([null, null], 100, 20)).toBe("");
  });
  it("rejects a non-positive size", () => {
    expect(() => sparklinePath([1], 0, 20)).toThrow(/width and height must be > 0, got 0 and 20/);
  });
});

describe("GradNormSparklines", () => {
  it("shows one row per layer with its first and last logged value", () => {
    const html = renderToStaticMarkup(<GradNormSparklines run={run} order={run.layers} />);
    expect([...html.matchAll(/<tr data-layer="([^"]+)"/g)].map((m) => m[1])).toEqual(["conv1", "fc"]);
    expect(html).toContain("<td>4.00</td><td>1.00</td>");
    expect(html).toContain("<td>0.500</td><td>0.250</td>");
    expect(html).toContain("steps 0–10");
  });
  it("says how to log gradients when the run has none", () => {
    const html = renderToStaticMarkup(<GradNormSparklines run={{ ...run, grad_norm: undefined }} />);
    expect(html).toContain("importance=True");
    expect(html).not.toContain("<table");
  });
});
