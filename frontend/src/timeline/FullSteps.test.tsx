/** The timeline says which steps are kept in full: the note, the marks under the step numbers, the compact cells. */
import { describe, expect, it } from "vitest";
import { renderToStaticMarkup } from "react-dom/server";
import { FullStepsNote } from "./FullStepsNote";
import { TimelineHeatmap } from "./TimelineHeatmap";
import { keptInFull, stepList, timelineGrid } from "../transforms/timeline";
import type { TimelineRun } from "../types";

const steps = [0, 1, 2, 3, 4, 5, 6];
const run: TimelineRun = {
  run: "r",
  steps,
  layers: ["conv1", "conv2"],
  scores: [steps.map((s) => 0.1 * s), steps.map((s) => 0.1 + 0.1 * s)],
  accuracy: steps.map(() => null),
  steps_written: 7,
  downsampled: false,
  full_steps: [0, 3, 6],
  compact_steps: [1, 2, 4, 5],
};

function attrs(html: string, attr: string): string[] {
  return [...html.matchAll(new RegExp(`${attr}="([^"]*)"`, "g"))].map((m) => m[1]);
}

describe("keptInFull and stepList", () => {
  it("lists the full steps only when some are compact", () => {
    expect(keptInFull(run)).toEqual([0, 3, 6]);
    expect(keptInFull({ steps, full_steps: steps })).toBeNull();
    expect(keptInFull({ steps })).toBeNull(); // an older server: every step opens
  });
  it("shortens long lists to the first ones and the last", () => {
    expect(stepList([0, 50, 99])).toBe("0, 50, 99");
    expect(stepList([0, 10, 20, 30, 40, 50, 60, 70, 80, 90], 5)).toBe("0, 10, 20, …, 90");
  });
});

describe("TimelineHeatmap with compact steps", () => {
  const html = (fullSteps: number[] | null) =>
    renderToStaticMarkup(
      <TimelineHeatmap
        run="r"
        grid={timelineGrid(run)}
        domain={[0, 1]}
        score="knn_loo"
        maxWidth={900}
        activeLayer={null}
        onLayer={() => {}}
        onOpen={() => {}}
        fullSteps={fullSteps}
      />,
    );

  it("marks exactly the full steps under their numbers", () => {
    const out = html([0, 3, 6]);
    const marked = attrs(out, 'data-testid="timeline-full-step" data-step').map(Number);
    expect(marked).toEqual([0, 3, 6]);
  });

  it("says what a compact cell opens: the nearest full step", () => {
    const out = html([0, 3, 6]);
    // One row of cells: the step each column's click opens.
    const opens = attrs(out, "data-opens").slice(0, steps.length).map(Number);
    expect(opens).toEqual([0, 0, 3, 3, 3, 6, 6]);
    expect(out).toContain("compact step (timeline record only): click opens step 3, the nearest kept in full");
  });

  it("marks nothing when every step is full", () => {
    const out = html(null);
    expect(out).not.toContain("timeline-full-step");
    expect(out).not.toContain("compact step");
    expect(attrs(out, "data-opens").slice(0, steps.length).map(Number)).toEqual(steps);
  });
});

describe("FullStepsNote", () => {
  it("names the run as text and counts the full steps", () => {
    const out = renderToStaticMarkup(
      <FullStepsNote run={"<img src=x onerror=alert(1)>"} full={[0, 50, 99]} total={100} />,
    );
    expect(out).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(out).not.toContain("<img");
    expect(out).toContain("3 of 100 steps kept in full (0, 50, 99)");
  });
});
