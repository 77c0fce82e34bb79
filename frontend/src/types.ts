/**
 * JSON shapes of the ChannelExplorer HTTP routes.
 *
 * One interface per route of `tensorboard_plugin_channelexplorer/http_api.md`;
 * keep both in sync. All routes live under `/data/plugin/channelexplorer/`.
 */

/** Summary function: `l2`, `otsu` (sum of threshold), `mean` |x|, `max` |x|. */
export type SummaryFn = 'l2' | 'otsu' | 'mean' | 'max';
/** Summarized before (`pre`) or after (`post`) the nonlinearity. */
export type Stage = 'pre' | 'post';
/** Dimensionality reduction method of the scatter view. */
export type DRMethod = 'pca' | 'mds' | 'tsne' | 'umap';
/** Channel ordering of the heatmap view. */
export type HeatmapOrder = 'pairwise' | 'variance' | 'filter_norm';

/** Error body of every 4xx answer. */
export interface ErrorResponse {
  error: string;
  parameter: string | null;
}

/** One run of `GET /runs`. */
export interface RunInfo {
  run: string;
  steps: number[];
  steps_written: number;
  /** True when TensorBoard's sampling dropped some written steps. */
  downsampled: boolean;
}

/** `GET /runs`. */
export interface RunsResponse {
  runs: RunInfo[];
}

/** One layer of the manifest (also of `GET /layers`). */
export interface LayerInfo {
  name: string;
  type: string;
  /** Per-input activation shape, e.g. `[C, H, W]` or `[C]`. */
  shape: number[];
  channels: number;
  stages: Stage[];
  functions: SummaryFn[];
  has_maps: boolean;
  has_filter_norm: boolean;
}

/** `GET /layers?run=&step=`. */
export interface LayersResponse {
  run: string;
  step: number;
  n_inputs: number;
  class_names: string[];
  layers: LayerInfo[];
}

/** A node of the model graph (`GET /graph`). */
export interface GraphNode {
  /** Module qualified name, e.g. `layer1.0.conv1`. */
  id: string;
  name: string;
  type: string;
  shape: number[];
  params: number;
  /** Whether summaries were logged for this node. */
  logged: boolean;
  /** Enclosing module path (`layer1.0`), `""` at top level. */
  parent: string;
}

/** A true data-flow edge of the model graph. */
export interface GraphEdge {
  source: string;
  target: string;
}

/** `GET /graph?run=&step=`. */
export interface GraphResponse {
  /** `fx` when torch.fx traced the model, `hooks` otherwise. */
  source: 'fx' | 'hooks';
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** `GET /inputs?run=&step=`. */
export interface InputsResponse {
  n: number;
  labels: number[];
  class_names: string[];
  /** Ids of the samples in their dataset (ints, or strings when logged so). */
  sample_ids: Array<number | string>;
  predictions: number[] | null;
  probabilities: number[] | null;
  has_thumbnails: boolean;
}

/** `GET /summaries?run=&step=&layer=&fn=&stage=`. */
export interface SummariesResponse {
  layer: string;
  fn: SummaryFn;
  stage: Stage;
  /** `[N, C]`. */
  shape: [number, number];
  values: number[][];
}

/** One cluster of the scatter view. */
export interface ClusterInfo {
  id: number;
  size: number;
  /** Class name -> number of members of that class. */
  class_counts: Record<string, number>;
}

/** `GET /scatter?run=&step=&layer=&fn=l2&stage=pre&method=&seed=&k=`. */
export interface ScatterResponse {
  method: DRMethod;
  seed: number;
  /** `points[i]` is the 2D embedding of input `i`. */
  points: Array<[number, number]>;
  /** `clusters[i]` is the cluster id of input `i`. */
  clusters: number[];
  cluster_info: ClusterInfo[];
  /** Input indices far from their cluster in the 2D projection. */
  outliers: number[];
  /** `labels[i]` is the class of input `i`. */
  labels: number[];
}

/** `GET /jaccard?run=&step=&layer=&fn=otsu&stage=pre&eta=&normalize=`. */
export interface JaccardResponse {
  eta: number;
  /** Number of top channels kept per input, ceil(eta * channels). */
  top: number;
  channels: number;
  /** Maps matrix rows/columns to input indices (grouped by class). */
  order: number[];
  /** `[N, N]` similarity, rows and columns in `order`. */
  matrix: number[][];
  /** Row offsets where each class group starts, plus the end (length classes+1). */
  class_boundaries: number[];
  class_names: string[];
  /** `[classes, classes]` mean similarity between class groups. */
  class_matrix: number[][];
  /** Colour-scale range `[lo, hi]` (percentile range when normalized). */
  range: [number, number];
}

/** `GET /jaccard_cell?...&i=&j=` (input indices). */
export interface JaccardCellResponse {
  i: number;
  j: number;
  shared: number;
  union: number;
  similarity: number;
  /** Labels of inputs `i` and `j`. */
  labels: [number, number];
}

/** A node of the confusion hierarchy (root, super class, class or sub class). */
export interface HierarchyNode {
  name: string;
  children?: HierarchyNode[];
  /** Super-class nodes: the classes they group. */
  classes?: number[];
  /** Class nodes: the class id. */
  class?: number;
  /** Sub-class (leaf) nodes: their member inputs. */
  inputs?: number[];
  /** Input indices that exemplify this node. */
  representatives?: number[];
}

/** `GET /hierarchy?run=&step=&layer=&fn=&stage=&eta=`. */
export interface HierarchyResponse {
  tree: HierarchyNode;
}

/** Per-channel metrics, aligned with `HeatmapResponse.channels`. */
export interface HeatmapMetrics {
  variance: number[];
  pairwise: number[];
  /** Absent or `null` when the layer logged no filter norms. */
  filter_norm?: number[] | null;
}

/** `GET /heatmap?run=&step=&layer=&fn=otsu&stage=pre&order=&offset=&limit=`. */
export interface HeatmapResponse {
  order: HeatmapOrder;
  total_channels: number;
  offset: number;
  limit: number;
  /** Channel index of each row of this page. */
  channels: number[];
  /** Input index of each column (grouped by class). */
  columns: number[];
  /** Column offsets where each class group starts. */
  class_boundaries: number[];
  /** `values[r][c]`: channel `channels[r]` for input `columns[c]`, thresholded. */
  values: number[][];
  /** The 10th-percentile threshold applied. */
  threshold: number;
  range: [number, number];
  metrics: HeatmapMetrics;
}

/** One class of `GET /dataset`. */
export interface DatasetClass {
  id: number;
  name: string;
  count: number;
  /** Similarity to the reference class (1.0 for the reference itself). */
  similarity: number;
}

/** `GET /dataset?run=&step=&reference=&k=`. */
export interface DatasetResponse {
  reference: number;
  classes: DatasetClass[];
  predictions: number[] | null;
  probabilities: number[] | null;
  accuracy: number | null;
  /** Representative input indices (X-Means, or k-means when `k` is given). */
  representatives: number[];
}

/** Shared selection props of all panels. */
export interface SelectionProps {
  /** Selected input indices. */
  selected: Set<number>;
  /** Replace the selection with these input indices. */
  onSelect: (indices: number[]) => void;
}

/** URL of the thumbnail PNG of input `index`. */
export type ThumbnailUrl = (index: number) => string;
/** URL of the overlay PNG of input `index` and `channel`. */
export type OverlayUrl = (index: number, channel: number) => string;
