/**
 * Static-markup tests (node, no DOM) of the channel-centric panels and the
 * suspect list: what they show for hand-made data, the attributes the
 * browser tests rely on, and escaping of untrusted names (run, layer, class).
 */
import { describe, expect, it } from "vitest";
import { renderToStaticMarkup } from "react-dom/server";
import { SuspectList } from "./SuspectList";
import { SuspectsByClass } from "./SuspectsByClass";
import { SuspectRings } from "./SuspectRings";
import { HeatmapPanel } from "./HeatmapPanel";
import { RowMarks } from "./RowMarks";
import { JaccardPanel } from "./JaccardPanel";
import type { HeatmapResponse, JaccardResponse } from "../types";
import { ChannelClustersPanel } from "./ChannelClustersPanel";
import { ChannelCard } from "./ChannelCard";
import { ChannelEmbeddingPanel } from "./ChannelEmbeddingPanel";
import { LayerEdgesPanel } from "./LayerEdgesPanel";
import { CLASS_PALETTE } from "../transforms/color";

const EVIL = "<img src=x onerror=alert(1)>";
const ESCAPED = "&lt;img src=x onerror=alert(1)&gt;";
const names = ["cat", EVIL, "dog"];
const thumb = (i: number) => `/thumb?index=${i}`;

function attrs(html: string, attr: string): string[] {
  return [...html.matchAll(new RegExp(`${attr}="([^"]*)"`, "g"))].map((m) => m[1]);
}

describe("SuspectList", () => {
  const suspects = [
    { index: 10, score: 0.3, given: 0, likely: 2 },
    { index: 4, score: 0.95, given: 1, likely: 0 },
    { index: 8, score: 0.6, given: 2, likely: 1 },
    { index: 2, score: 0.6, given: 0, likely: 1 },
  ];
  it("lists suspects by score with thumbnails, given and likely labels", () => {
    const html = renderToStaticMarkup(
      <SuspectList
        suspects={suspects}
        classNames={names}
        thumbnailUrl={thumb}
        limit={3}
        threshold={0.5}
        onSelect={() => {}}
      />,
    );
    expect(html).toContain('data-count="3"');
    // 0.95, then the 0.6 tie by index (2 before 8); 0.3 is cut by the limit.
    expect(attrs(html, "data-index")).toEqual(["4", "2", "8"]);
    expect(attrs(html, "src")).toEqual(["/thumb?index=4", "/thumb?index=2", "/thumb?index=8"]);
    expect(html).toContain("Input 4: labelled &lt;img src=x onerror=alert(1)&gt;, likely cat, score 0.95");
    expect(html).toContain("3 above 0.50");
    expect(html).toContain("+1 more");
    expect(html).not.toContain(EVIL);
  });
  it("says so when the given label is also the nearest class", () => {
    const html = renderToStaticMarkup(
      <SuspectList suspects={[{ index: 1, score: 0.7, given: 2, likely: 2 }]} classNames={names} />,
    );
    expect(html).toContain("(no nearer class)");
    expect(html).not.toContain("→");
  });
  it("says when there is nothing to list", () => {
    const html = renderToStaticMarkup(<SuspectList suspects={[]} classNames={names} />);
    expect(html).toContain("No suspect labels.");
    expect(html).toContain('data-count="0"');
  });
});

describe("SuspectsByClass", () => {
  const suspects = [
    { index: 10, score: 0.7, given: 2, likely: 0 },
    { index: 4, score: 0.95, given: 1, likely: 0 },
    { index: 8, score: 0.6, given: 2, likely: 1 },
    { index: 2, score: 0.9, given: 2, likely: 1 },
  ];
  it("groups suspects under their given class, most suspect first", () => {
    const html = renderToStaticMarkup(<SuspectsByClass suspects={suspects} classNames={names} perClass={2} />);
    expect(html).toContain('data-classes="2"');
    expect(attrs(html, "data-class")).toEqual(["1", "2"]);
    expect(attrs(html, "data-index")).toEqual(["4", "2", "10"]); // class 2 keeps its top 2 of 3
    expect(html).toContain("+1");
    expect(html).toContain(`Select the 1 suspect inputs labelled ${ESCAPED}`);
    expect(html).not.toContain(EVIL);
  });
  it("says when a layer has none", () => {
    expect(renderToStaticMarkup(<SuspectsByClass suspects={[]} classNames={names} />)).toContain("No suspect labels");
  });
});

describe("SuspectRings", () => {
  it("rings the given inputs at their screen positions, skipping unknown ones", () => {
    const html = renderToStaticMarkup(
      <svg>
        <SuspectRings
          screen={[
            [1, 2],
            [3, 4],
            [5, 6],
          ]}
          indices={[2, 0, 9]}
          r={6}
        />
      </svg>,
    );
    expect(attrs(html, "data-suspect")).toEqual(["2", "0"]);
    expect(html).toContain('cx="5" cy="6" r="6"');
    expect(html).toContain('data-suspects="2"');
  });
});

describe("HeatmapPanel channel marks", () => {
  const heatmap: HeatmapResponse = {
    order: "cluster",
    total_channels: 3,
    offset: 0,
    limit: 256,
    channels: [17, 4, 9],
    columns: [0, 1],
    class_boundaries: [0, 2],
    values: [
      [1, 2],
      [0, 1],
      [2, 0],
    ],
    threshold: 0,
    range: [0, 2],
    metrics: { variance: [1, 0.5, 0.1], pairwise: [3, 2, 1] },
  };
  it("marks the rows of the selected channels shown on the page", () => {
    const html = renderToStaticMarkup(
      <HeatmapPanel data={heatmap} classNames={names} markedChannels={new Set([9, 17, 99])} width={300} height={90} />,
    );
    expect(html).toContain('data-testid="row-marks" data-marked="2"');
    expect(attrs(html, "data-row")).toEqual(["0", "2"]); // 99 is not on this page
    expect(html).toContain("ordered by channel cluster");
  });
  it("places each mark at its row", () => {
    const html = renderToStaticMarkup(<RowMarks rows={[0, 2]} rowHeight={5} left={40} height={15} />);
    expect(html).toContain('style="left:40px;height:15px"');
    expect(html).toContain('data-row="0" style="top:0;height:5px"');
    expect(html).toContain('data-row="2" style="top:10px;height:5px"');
  });
  it("draws no marks without a selection", () => {
    expect(renderToStaticMarkup(<HeatmapPanel data={heatmap} classNames={names} />)).not.toContain("row-marks");
  });
});

describe("JaccardPanel shared channels", () => {
  const jaccard: JaccardResponse = {
    eta: 0.2,
    top: 2,
    channels: 8,
    order: [0, 1],
    matrix: [
      [1, 0.5],
      [0.5, 1],
    ],
    class_boundaries: [0, 2],
    class_names: ["cat"],
    class_matrix: [[0.75]],
    range: [0, 1],
  };
  const cell = { i: 0, j: 1, shared: 14, union: 20, similarity: 0.7, labels: [0, 0] as [number, number] };
  it("links the channels a pair shares, when the host opens cards", () => {
    const shared = Array.from({ length: 14 }, (_, k) => k * 3);
    const html = renderToStaticMarkup(
      <JaccardPanel data={jaccard} cell={{ ...cell, shared_channels: shared }} onChannel={() => {}} />,
    );
    expect(attrs(html, "data-channel")).toEqual(shared.slice(0, 12).map(String));
    expect(html).toContain("+2");
    expect(html).toContain('aria-label="Open channel 33"');
    expect(html).not.toContain('aria-label="Open channel 36"');
  });
  it("shows no links without a handler or without shared channels", () => {
    expect(
      renderToStaticMarkup(<JaccardPanel data={jaccard} cell={{ ...cell, shared_channels: [1] }} />),
    ).not.toContain("channel-links");
    expect(renderToStaticMarkup(<JaccardPanel data={jaccard} cell={cell} onChannel={() => {}} />)).not.toContain(
      "channel-links",
    );
  });
});

describe("ChannelClustersPanel", () => {
  const clusters = [
    {
      id: 0,
      size: 12,
      rect: [0, 0, 0.75, 1],
      representatives: [5, 1, 9],
      channels: [5, 1, 9, 0, 2, 3, 4, 6, 7, 8, 10, 11],
      classMeans: [0.1, 2, 1],
    },
    {
      id: 1,
      size: 4,
      rect: [0.75, 0, 0.25, 1],
      representatives: [13, 12],
      channels: [12, 13, 14, 15],
      classMeans: [3, 0, null],
    },
  ];
  const html = renderToStaticMarkup(
    <ChannelClustersPanel
      clusters={clusters}
      classNames={names}
      onChannel={() => {}}
      highlighted={new Set([1, 2, 14])}
      activeChannel={9}
      width={300}
      height={200}
    />,
  );
  it("places each tile at its rect and shows its representative chips", () => {
    expect(html).toContain("left:1.5px;top:1.5px;width:222px;height:197px"); // [0, 0, .75, 1] of 300 x 200, inset 1.5
    expect(html).toContain("left:226.5px;top:1.5px;width:72px;height:197px");
    expect(html).toContain('data-clusters="2"');
    expect(attrs(html, "data-cluster")).toEqual(["0", "1"]);
    expect(attrs(html, "data-size")).toEqual(["12", "4"]);
    expect(attrs(html, "data-channel")).toEqual(["5", "1", "9", "13", "12"]);
    expect(html).toContain('aria-label="Open channel 13 (cluster 1)"');
  });
  it("marks highlighted channels and their clusters, and the open channel", () => {
    expect(attrs(html, "data-marked")).toEqual(["2", "1"]); // {1, 2} in cluster 0, {14} in cluster 1
    expect(html).toMatch(
      /class="cep-chip is-marked"[^>]*data-channel="1"|data-channel="1"[^>]*class="cep-chip is-marked"/,
    );
    expect(html).toMatch(/data-channel="9"[^>]*class="cep-chip is-active"/);
  });
  it("bars each class mean, the preferred class marked, names escaped", () => {
    // Cluster 0 prefers class 1 (mean 2), cluster 1 class 0 (mean 3).
    expect(html).toContain(`strongest for ${ESCAPED}`);
    expect(html).toContain("strongest for cat");
    expect(html.match(/class="is-preferred"/g)?.length).toBe(2);
    expect(html).not.toContain(EVIL);
  });
  it("shows no chips in a tile too small for them", () => {
    const tiny = renderToStaticMarkup(
      <ChannelClustersPanel
        clusters={[
          { id: 0, size: 99, rect: [0, 0, 1, 0.99], representatives: [1] },
          { id: 1, size: 1, rect: [0, 0.99, 1, 0.01], representatives: [2] },
        ]}
        classNames={names}
        width={100}
        height={100}
      />,
    );
    expect(attrs(tiny, "data-channel")).toEqual(["1"]);
  });
});

describe("ChannelCard", () => {
  const base = {
    id: { run: "r&x", layer: "conv3", channel: 7 },
    totalChannels: 64,
    topInputs: [
      { index: 3, value: 2.5 },
      { index: 11, value: 1.25 },
    ],
    labels: [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2],
    classNames: names,
    classMeans: [0.5, 2, 1],
    selectivity: 0.42,
    ranks: { pairwise: 31, variance: 0, filter_norm: null },
    orders: ["pairwise", "variance", "filter_norm", "taylor"],
    filterNorm: 0.75,
    thumbnailUrl: thumb,
    overlayUrl: (i: number, c: number) => `/overlay?index=${i}&channel=${c}`,
    history: { steps: [0, 1, 2], values: [0.5, null, 1.5] },
    step: 2,
  };
  it("names the channel by a linkable key and escapes the names", () => {
    const html = renderToStaticMarkup(<ChannelCard {...base} id={{ run: EVIL, layer: EVIL, channel: 7 }} />);
    expect(html).toContain('data-channel-key="run=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&amp;layer=');
    expect(html).not.toContain(EVIL);
    const plain = renderToStaticMarkup(<ChannelCard {...base} />);
    expect(plain).toContain('data-channel-key="run=r%26x&amp;layer=conv3&amp;channel=7"');
  });
  it("shows each top input with its thumbnail and this channel overlaid", () => {
    const html = renderToStaticMarkup(<ChannelCard {...base} />);
    expect(html).toContain('data-testid="card-top-inputs" data-count="2"');
    expect(attrs(html, "data-index")).toEqual(["3", "11"]);
    expect(html.match(/data-testid="card-thumbnail"/g)?.length).toBe(2);
    expect(html).toContain('data-testid="card-overlay" src="/overlay?index=3&amp;channel=7"');
    expect(html).toContain('data-testid="card-overlay" src="/overlay?index=11&amp;channel=7"');
    expect(html).toContain("2. #11");
  });
  it("leaves overlays out when no maps were logged", () => {
    const html = renderToStaticMarkup(<ChannelCard {...base} hasMaps={false} />);
    expect(html).not.toContain("card-overlay");
    expect(html).toContain("No activation maps were logged");
  });
  it("lists class means, selectivity, ranks and metrics", () => {
    const html = renderToStaticMarkup(<ChannelCard {...base} taylor={0.003} gradNorm={null} />);
    expect(html).toContain(`selectivity 0.42 (prefers ${ESCAPED})`);
    expect(html).toMatch(/<li data-class="1" class="is-preferred">/);
    expect(html).toContain("32 / 64");
    expect(html).toContain("top 50%");
    expect(html).toContain("1 / 64");
    expect((html.match(/>n\/a</g) ?? []).length).toBe(2); // filter_norm and taylor ranks
    expect(html).toContain('data-testid="card-taylor">3.0e-3<');
    expect(html).toContain('data-testid="card-grad-norm">not logged<');
    expect(html).toContain('data-steps="3"');
    expect(html.match(/<circle/g)?.length).toBe(1); // the current step
  });
  it("draws the drift across steps when given", () => {
    const html = renderToStaticMarkup(<ChannelCard {...base} history={{ ...base.history, drift: [null, 0.3, 0.1] }} />);
    expect(html).toContain('data-testid="card-drift" data-points="2"');
    expect(html.slice(html.indexOf("card-drift")).match(/<circle/g)?.length).toBe(2); // a lone step still shows
    expect(html).toContain("0.10–0.30");
    expect(renderToStaticMarkup(<ChannelCard {...base} />)).not.toContain("card-drift");
  });
  it("omits the importance rows when the route has none", () => {
    const html = renderToStaticMarkup(<ChannelCard {...base} />);
    expect(html).not.toContain("card-taylor");
  });
});

describe("ChannelEmbeddingPanel", () => {
  const props = {
    points: [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ] as Array<[number, number]>,
    channels: [4, 5, 6, 7],
    preferred: [0, 2, null, 1],
    selectivity: [0.9, 0.2, 0.8, 0.5],
    classNames: names,
  };
  it("colours channels at or above the threshold by their preferred class", () => {
    const html = renderToStaticMarkup(<ChannelEmbeddingPanel {...props} threshold={0.5} selected={new Set([7])} />);
    expect(html).toContain('data-points="4"');
    expect(html).toContain('data-coloured="2"'); // channel 4 (0.9) and 7 (0.5); 6 has no class
    const fills = [...html.matchAll(/data-channel="(\d+)"[^>]*style="fill:([^"]+)"/g)].map((m) => [m[1], m[2]]);
    expect(fills).toEqual([
      ["4", CLASS_PALETTE[0]],
      ["5", "var(--ce-faint)"],
      ["6", "var(--ce-faint)"],
      ["7", CLASS_PALETTE[1]],
    ]);
    expect(html).toMatch(/data-channel="7" class="cep-chembed__pt is-selected"/);
    expect(html).toContain(ESCAPED); // legend names class 1
    expect(html).not.toContain(EVIL);
    expect(renderToStaticMarkup(<ChannelEmbeddingPanel {...props} threshold={0} />)).toContain('data-coloured="3"');
  });
  it("rejects arrays of different lengths", () => {
    expect(() => renderToStaticMarkup(<ChannelEmbeddingPanel {...props} preferred={[0]} threshold={0.5} />)).toThrow(
      /same length/,
    );
  });
});

describe("LayerEdgesPanel", () => {
  const props = {
    source: "conv2",
    target: EVIL,
    sourceClusters: [
      { id: 0, size: 3 },
      { id: 1, size: 5 },
    ],
    targetClusters: [
      { id: 0, size: 4 },
      { id: 1, size: 4 },
    ],
    bundles: [
      { source: 0, target: 0, abs: 4, positive: 4, negative: 0 },
      { source: 1, target: 1, abs: 1.3, positive: 1, negative: 0.3 },
      { source: 1, target: 0, abs: 0.3, positive: 0, negative: 0.3 },
    ],
  };
  it("draws positive and negative weights in separate panes", () => {
    const html = renderToStaticMarkup(<LayerEdgesPanel {...props} threshold={0.5} onThreshold={() => {}} />);
    expect(attrs(html, "data-sign")).toEqual(["positive", "negative"]);
    expect(attrs(html, "data-edges")).toEqual(["2", "2"]);
    const pos = html.slice(0, html.indexOf('data-sign="negative"'));
    expect(attrs(pos, "data-source")).toEqual(["0", "1"]);
    expect(pos).toMatch(/stroke-width="8"[^>]*data-source="0"/); // strongest of its sign: full width
    expect(html).toContain('aria-label="Edge threshold (fraction of the strongest bundle)"');
    expect(html).not.toContain(EVIL);
  });
  it("draws one |w| pane when the signs were not logged", () => {
    const html = renderToStaticMarkup(
      <LayerEdgesPanel
        {...props}
        bundles={[{ source: 0, target: 1, abs: 2, positive: null, negative: null }]}
        threshold={0.5}
      />,
    );
    expect(attrs(html, "data-sign")).toEqual(["abs"]);
    expect(html).toContain("|weights| · 1 bundle");
  });
  it("shows the reason instead of edges when the weights do not map channels", () => {
    const html = renderToStaticMarkup(
      <LayerEdgesPanel {...props} threshold={0.5} reason="conv3 is a depthwise convolution (groups = 32)" />,
    );
    expect(html).toContain('data-testid="edges-reason"');
    expect(html).toContain("depthwise convolution (groups = 32)");
    expect(html).not.toContain("<svg");
  });
});
