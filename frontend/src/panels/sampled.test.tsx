/**
 * The "Sampled m of n inputs" note of the similarity panels: shown exactly
 * when the response says it was sampled, with the server's text escaped.
 */
import { describe, expect, it } from "vitest";
import { renderToStaticMarkup } from "react-dom/server";
import { DatasetPanel, DiffPanel, HierarchyPanel, JaccardPanel } from "./index";
import { sampledText } from "./SampledNote";
import type { DatasetResponse, DiffResponse, HierarchyResponse, JaccardResponse, SampleInfo } from "../types";

const sampled: SampleInfo = {
  n_total: 20000,
  n_shown: 4096,
  how: "stratified by class, seed 0",
  seed: 0,
  per_class: [
    { class: 0, total: 15000, shown: 3072 },
    { class: 1, total: 5000, shown: 1024 },
  ],
};
const NOTE = "Sampled 4,096 of 20,000 inputs (stratified by class, seed 0)";

const pair = [
  [1, 0.5],
  [0.5, 1],
];
const jaccard: JaccardResponse = {
  ...{ eta: 0.2, top: 2, channels: 8, range: [0, 1] },
  order: [17, 9000],
  matrix: pair,
  class_matrix: pair,
  class_boundaries: [0, 1, 2],
  class_names: ["cat", "dog"],
};
const tree: HierarchyResponse = {
  tree: { name: "root", children: [{ name: "cat", class: 0, children: [{ name: "s", inputs: [17] }] }] },
};
const dataset: DatasetResponse = {
  reference: 0,
  classes: [{ id: 0, name: "cat", count: 2, similarity: 1 }],
  predictions: null,
  probabilities: null,
  accuracy: null,
  representatives: [17],
};
const diff: DiffResponse = {
  a: { run: "r", step: 0 },
  b: { run: "r", step: 1 },
  matched: 2,
  sample_ids: [17, 9000],
  labels: [0, 1],
  order: [0, 1],
  class_boundaries: [0, 1, 2],
  diff: [
    [0, 0.1],
    [0.1, 0],
  ],
  range: [-0.1, 0.1],
  mean_abs_diff: 0.1,
  rank_changes: null,
};

const panels: [string, (s: SampleInfo | null) => string][] = [
  ["JaccardPanel", (s) => renderToStaticMarkup(<JaccardPanel data={{ ...jaccard, sampled: s }} cell={null} />)],
  [
    "HierarchyPanel",
    (s) => renderToStaticMarkup(<HierarchyPanel data={{ ...tree, exact: !s, sampled: s }} classNames={["cat"]} />),
  ],
  ["DatasetPanel", (s) => renderToStaticMarkup(<DatasetPanel data={{ ...dataset, sampled: s }} />)],
  ["DiffPanel", (s) => renderToStaticMarkup(<DiffPanel data={{ ...diff, sampled: s }} classNames={["cat", "dog"]} />)],
];

describe("sampled note", () => {
  it("formats the counts with separators", () => {
    expect(sampledText(sampled)).toBe(NOTE);
    expect(sampledText({ ...sampled, n_shown: 999, n_total: 1000, how: "x" })).toBe("Sampled 999 of 1,000 inputs (x)");
  });
  for (const [name, render] of panels) {
    it(`${name}: shown when sampled, absent otherwise, text escaped`, () => {
      const note = name === "DiffPanel" ? NOTE.replace("inputs", "matched inputs") : NOTE;
      expect(render(sampled)).toContain(note);
      expect(render(sampled)).toContain("class 1: 1,024 of 5,000");
      expect(render(null)).not.toContain('data-testid="sampled-note"');
      const evil = render({ ...sampled, how: "<img src=x onerror=alert(1)>" });
      expect(evil).not.toContain("<img src=x");
      expect(evil).toContain("&lt;img src=x");
    });
  }
});
