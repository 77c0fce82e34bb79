/** The panels a layer node can show, their labels and fixed sizes (the graph layout needs them). */
/** The panels a layer node can show ("details inside"). */
export type PanelKind =
  | "scatter"
  | "jaccard"
  | "heatmap"
  | "hierarchy"
  | "trajectory"
  | "diff"
  | "clusters"
  | "channels"
  | "edges";

export const PANEL_KINDS: PanelKind[] = [
  "scatter",
  "jaccard",
  "heatmap",
  "hierarchy",
  "trajectory",
  "diff",
  "clusters",
  "channels",
  "edges",
];

export const PANEL_LABELS: Record<PanelKind, { label: string; title: string }> = {
  scatter: { label: "Scatter", title: "Scatterplot: 2D projection of the inputs' channel summaries, with clusters" },
  jaccard: { label: "Jaccard", title: "Jaccard similarity of the inputs' top activated channels" },
  heatmap: { label: "Heatmap", title: "Channel x input activation heatmap; click a cell for its activation overlay" },
  hierarchy: { label: "Hierarchy", title: "Confusion hierarchy of classes built from shared top channels" },
  trajectory: {
    label: "Trajectory",
    title: "Animated scatterplot across steps (frames aligned); selected inputs show their trajectories",
  },
  diff: { label: "Diff", title: "Difference of the channel summaries between two (run, step) pairs, and rank changes" },
  clusters: {
    label: "Clusters",
    title: "Channels clustered by their activation profiles; click a channel for its card",
  },
  channels: { label: "Embedding", title: "2D embedding of the channels, coloured by preferred class; brush to select" },
  edges: { label: "Edges", title: "Bundled weights from a lower layer's channel clusters to this layer's" },
};

/** Inner width of a panel inside a node, in pixels. */
export const PANEL_WIDTH = 340;

/** Channels per heatmap page. */
export const HEATMAP_PAGE = 256;

/** Body height of each panel (fixed, so the graph layout knows node sizes). */
export const PANEL_HEIGHT: Record<PanelKind, number> = {
  scatter: 300,
  jaccard: 390,
  heatmap: 400,
  hierarchy: 390,
  trajectory: 330,
  diff: 420,
  clusters: 290,
  channels: 340,
  edges: 260,
};
