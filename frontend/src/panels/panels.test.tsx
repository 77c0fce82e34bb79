/**
 * Smoke tests of the panels rendered to static HTML (node, no DOM): the data
 * attributes the browser tests rely on, escaping of untrusted text, and the
 * controls' accessible names. Canvas drawing is covered by the browser tests.
 */
import { describe, expect, it } from "vitest";
import { renderToStaticMarkup } from "react-dom/server";
import {
  DatasetPanel,
  DiffPanel,
  HeatmapPanel,
  HierarchyPanel,
  JaccardPanel,
  OverlayView,
  ScatterPanel,
  TrajectoryPanel,
} from "./index";
import type { DatasetResponse, HeatmapResponse, HierarchyResponse, JaccardResponse, ScatterResponse } from "../types";

const EVIL = "<img src=x onerror=alert(1)>";
const names = ["cat", EVIL, "dog"];
const noop = () => {};
const thumb = (i: number) => `/thumb?index=${i}`;

const scatter: ScatterResponse = {
  method: "tsne",
  seed: 0,
  points: [
    [0, 0],
    [1, 1],
    [2, 0],
    [5, 5],
    [6, 5],
    [5, 6],
  ],
  clusters: [0, 0, 0, 1, 1, 1],
  cluster_info: [
    { id: 0, size: 3, class_counts: { cat: 2, [EVIL]: 1 } },
    { id: 1, size: 3, class_counts: { dog: 3 } },
  ],
  outliers: [2],
  labels: [0, 0, 1, 2, 2, 2],
};

describe("ScatterPanel", () => {
  const html = renderToStaticMarkup(
    <ScatterPanel
      data={scatter}
      classNames={names}
      selected={new Set([3])}
      onSelect={noop}
      params={{ method: "tsne", seed: 0, k: null }}
      onParams={noop}
      thumbnailUrl={thumb}
      onEnlarge={noop}
    />,
  );
  it("renders one circle per point with data-index, hulls, outliers", () => {
    expect(html).toContain('data-testid="scatter"');
    expect(html).toContain('data-points="6"');
    expect(html.match(/<circle[^>]*data-index=/g)?.length).toBe(6);
    expect(html.match(/data-cluster=/g)?.length).toBe(2);
    expect(html).toContain('data-outlier="2"');
    expect(html).toMatch(/class="cep-selected"[^>]*>|data-index="3"[^>]*class="cep-selected"/);
  });
  it("escapes class names and labels its controls", () => {
    expect(html).not.toContain(EVIL);
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    for (const label of [
      "Dimensionality reduction method",
      "Number of clusters K",
      "Enlarge scatterplot",
      "random seed",
    ]) {
      expect(html).toContain(label);
    }
  });
});

const jaccard: JaccardResponse = {
  eta: 0.2,
  top: 2,
  channels: 8,
  order: [1, 0, 2],
  matrix: [
    [1, 0.5, 0],
    [0.5, 1, 0.2],
    [0, 0.2, 1],
  ],
  class_boundaries: [0, 2, 3],
  class_names: ["cat", EVIL],
  class_matrix: [
    [0.8, 0.1],
    [0.1, 1],
  ],
  range: [0, 1],
};

describe("JaccardPanel", () => {
  it("renders the canvas, controls and the clicked pair", () => {
    const html = renderToStaticMarkup(
      <JaccardPanel
        data={jaccard}
        params={{ eta: 0.2, normalize: false }}
        onParams={noop}
        onCell={noop}
        cell={{ i: 1, j: 2, shared: 1, union: 3, similarity: 1 / 3, labels: [0, 1] }}
        classNames={names}
        thumbnailUrl={thumb}
      />,
    );
    expect(html).toContain('data-testid="jaccard"');
    expect(html).toContain('data-testid="jaccard-cell"');
    expect(html).toContain("shares 1 channels (similarity 0.33)");
    expect(html).toContain('type="range"');
    expect(html).toContain('aria-label="Normalize colours');
    expect(html).not.toContain(EVIL);
  });
  it("omits the pair box without a cell", () => {
    const html = renderToStaticMarkup(<JaccardPanel data={jaccard} cell={null} />);
    expect(html).not.toContain("jaccard-cell");
  });
});

const heatmap: HeatmapResponse = {
  order: "pairwise",
  total_channels: 600,
  offset: 0,
  limit: 256,
  channels: [17, 4, 9],
  columns: [2, 0, 1],
  class_boundaries: [0, 2],
  values: [
    [0, 1.2, 3],
    [2, 0, 0.5],
    [0.1, 0.1, 0.1],
  ],
  threshold: 0.05,
  range: [0.05, 3],
  metrics: { variance: [1, 0.5, 0.1], pairwise: [12, 8, 1], filter_norm: [0.8, 0.7, 0.1] },
};

describe("HeatmapPanel", () => {
  it("renders canvas, paging, ordering and overlays of the clicked cell and top channels", () => {
    const html = renderToStaticMarkup(
      <HeatmapPanel
        data={heatmap}
        classNames={names}
        labels={[0, 1, 0]}
        onOrder={noop}
        onPage={noop}
        cell={{ channel: 4, index: 2 }}
        overlayUrl={(i, c) => `/overlay?index=${i}&channel=${c}`}
        selected={new Set()}
      />,
    );
    expect(html).toContain('data-testid="heatmap"');
    expect(html).toContain("1–256 / 600");
    expect(html).toContain('aria-label="Order channels by"');
    expect(html).toContain('data-testid="overlay" src="/overlay?index=2&amp;channel=4"');
    // Input 2 is column 0: values 0, 2, 0.1 -> channels 4 then 9 (17 is 0).
    expect(html.match(/data-testid="overlay-top"/g)?.length).toBe(2);
    expect(html).toContain("top 1: ch 4");
    expect(html).toContain("top 2: ch 9");
    expect(html).not.toContain(EVIL);
  });
  it("says when no maps were logged", () => {
    const html = renderToStaticMarkup(
      <HeatmapPanel
        data={heatmap}
        classNames={names}
        cell={{ channel: 4, index: 2 }}
        overlayUrl={() => "/o"}
        hasMaps={false}
      />,
    );
    expect(html).not.toContain('data-testid="overlay"');
    expect(html).toContain("No activation maps were logged");
  });
});

const tree: HierarchyResponse = {
  tree: {
    name: "root",
    children: [
      {
        name: "super 0",
        classes: [0, 1],
        representatives: [0],
        children: [
          {
            name: "0",
            class: 0,
            representatives: [0],
            children: [{ name: "0 / sub 0", inputs: [0, 1], representatives: [0] }],
          },
          {
            name: EVIL,
            class: 1,
            representatives: [2],
            children: [{ name: "x / sub 0", inputs: [2], representatives: [2] }],
          },
        ],
      },
    ],
  },
};

describe("HierarchyPanel", () => {
  it("lays out every node as a focusable tree item", () => {
    const html = renderToStaticMarkup(
      <HierarchyPanel data={tree} classNames={names} thumbnailUrl={thumb} onSelect={noop} />,
    );
    expect(html).toContain('data-testid="hierarchy"');
    expect(html).toContain('data-nodes="6"');
    expect(html.match(/role="treeitem"/g)?.length).toBe(6);
    expect(html.match(/tabindex="0"/g)?.length).toBe(6);
    expect(html).toContain(">cat<");
    expect(html).not.toContain(EVIL);
  });
});

const dataset: DatasetResponse = {
  reference: 0,
  classes: [
    { id: 0, name: "cat", count: 2, similarity: 1 },
    { id: 1, name: EVIL, count: 1, similarity: 0.4 },
  ],
  predictions: [0, 1, 0],
  probabilities: [0.9, 0.8, 0.7],
  accuracy: 2 / 3,
  representatives: [0, 2],
};

describe("DatasetPanel", () => {
  it("lists classes with similarity, accuracy and representative controls", () => {
    const html = renderToStaticMarkup(
      <DatasetPanel
        data={dataset}
        labels={[0, 1, 1]}
        onReference={noop}
        activeClasses={new Set([0])}
        onClasses={noop}
        k={null}
        onK={noop}
        onSelect={noop}
        thumbnailUrl={thumb}
      />,
    );
    expect(html).toContain("Accuracy 66.7%");
    expect(html).toContain('aria-label="Select representative inputs"');
    expect(html.match(/type="checkbox"/g)?.length).toBe(2);
    expect(html.match(/checked=""/g)?.length).toBe(1);
    expect(html).toContain("50.0%"); // class 1: one of two right
    expect(html).toContain("2 found");
    expect(html).not.toContain(EVIL);
  });
  it("handles missing predictions", () => {
    const html = renderToStaticMarkup(<DatasetPanel data={{ ...dataset, predictions: null, accuracy: null }} />);
    expect(html).toContain("No predictions logged.");
    expect(html).not.toContain("acc.");
  });
});

describe("OverlayView", () => {
  it("has alt text", () => {
    const html = renderToStaticMarkup(<OverlayView src="/o.png" channel={3} index={7} />);
    expect(html).toContain('alt="activation of channel 3 overlaid on input 7"');
    expect(html).toContain('data-testid="overlay"');
  });
});

describe("TrajectoryPanel", () => {
  const traj = {
    layer: "conv3",
    method: "pca" as const,
    align: "procrustes" as const,
    steps: [0, 1, 2],
    sample_ids: [10, 11, 12],
    labels: [0, 1, 1],
    matched: 3,
    dropped: { "0": 1 },
    frames: [0, 1, 2].map((s) => ({
      step: s,
      points: [
        [0, s],
        [1, 1],
        [2, -s],
      ] as Array<[number, number]>,
    })),
    mean_displacement: [0.1, 0.2],
    mean_displacement_unaligned: [0.5, 0.6],
  };
  const html = renderToStaticMarkup(
    <TrajectoryPanel
      data={traj}
      classNames={names}
      selected={new Set([0, 2])}
      onSelect={noop}
      params={{ method: "pca", align: "procrustes" }}
      onParams={noop}
      initialFrame={1}
    />,
  );
  it("exposes the frame, the points and the selected trajectories", () => {
    expect(html).toContain('data-testid="trajectory"');
    expect(html).toContain('data-frame="1"');
    expect(html).toContain('data-step="1"');
    expect(html).toContain('data-points="3"');
    expect(html).toContain('data-trajectories="2"');
    expect(html.match(/<circle[^>]*data-index=/g)?.length).toBe(3);
    expect(html).toContain("1 dropped");
  });
  it("escapes class names and labels its controls", () => {
    expect(html).not.toContain(EVIL);
    for (const label of ["Trajectory step", "Play the animation", "Projection method of the trajectory"]) {
      expect(html).toContain(label);
    }
  });
});

describe("DiffPanel", () => {
  const data = {
    a: { run: EVIL, step: 0 },
    b: { run: "r", step: 4 },
    matched: 3,
    sample_ids: [1, 2, 3],
    labels: [0, 1, 0],
    order: [0, 2, 1],
    class_boundaries: [0, 2, 3],
    diff: [
      [0, -0.2, 0.1],
      [-0.2, 0, 0.3],
      [0.1, 0.3, 0],
    ],
    range: [-0.3, 0.3] as [number, number],
    mean_abs_diff: 0.2,
    rank_changes: [
      { channel: 1, rank_a: 3, rank_b: 1, delta: -2 },
      { channel: 0, rank_a: 1, rank_b: 40, delta: 39 },
    ],
  };
  const html = renderToStaticMarkup(<DiffPanel data={data} classNames={names} />);
  it("renders the canvas, class bars and the rank table, biggest change first", () => {
    expect(html).toContain('data-testid="diff"');
    expect(html).toContain('data-n="3"');
    expect(html.match(/data-cls=/g)?.length).toBe(2);
    const rows = [...html.matchAll(/data-channel="(\d+)"/g)].map((m) => m[1]);
    expect(rows).toEqual(["0", "1"]);
  });
  it("escapes run names and explains incomparable ranks", () => {
    expect(html).not.toContain(EVIL);
    expect(html).toContain("blue less similar in B");
    const other = renderToStaticMarkup(
      <DiffPanel data={{ ...data, rank_changes: null, channels: [8, 16] }} classNames={names} />,
    );
    expect(other).toContain("channel counts differ (8 vs 16)");
  });
});
