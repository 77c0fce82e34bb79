/**
 * JSON shapes of the ChannelExplorer HTTP routes.
 *
 * One interface per route of `tensorboard_plugin_channelexplorer/http_api.md`;
 * keep both in sync. All routes live under `/data/plugin/channelexplorer/`.
 */

/** Summary function: `l2`, `otsu` (sum of threshold), `mean` |x|, `max` |x|. */
export type SummaryFn = "l2" | "otsu" | "mean" | "max";
/** Summarized before (`pre`) or after (`post`) the nonlinearity. */
export type Stage = "pre" | "post";
/** Dimensionality reduction method of the scatter view. */
export type DRMethod = "pca" | "mds" | "tsne" | "umap";
/** Channel ordering of the heatmap view. */
export type HeatmapOrder = "pairwise" | "variance" | "filter_norm" | "taylor" | "cluster";

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
  /** Steps that open in full (every blob kept); the others are on the timeline only. */
  full_steps?: number[];
  /** Steps the writer wrote compact on purpose (`full_every`): timeline record only. */
  compact_steps?: number[];
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
  /** Output shape without the batch dimension; null where the shape pass could not run. */
  shape: number[] | null;
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
  source: "fx" | "hooks";
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

/** `GET /scatter_progress` (same parameters as `/scatter`): how far that computation is. */
export interface ScatterProgress {
  state: "running" | "done" | "idle";
  /** Share of the embedding's iterations done, null before they start; never decreases. */
  fraction: number | null;
  /** e.g. `neighbours`, `optimising`, `clustering`; null when idle. */
  phase: string | null;
  elapsed_s: number | null;
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

/** Which inputs a similarity view was computed from, when not all of them (`sampled`). */
export interface SampleInfo {
  n_total: number;
  n_shown: number;
  /** How they were picked, e.g. "stratified by class, seed 0". */
  how: string;
  seed: number;
  per_class: { class: number; total: number; shown: number }[];
}

/** `GET /jaccard?run=&step=&layer=&fn=otsu&stage=pre&eta=&normalize=&seed=&matrix=counts`. */
/** Non-negative integers `[rows, cols]`, row-major little-endian, base64 (`/jaccard?matrix=counts`'s `shared`). */
export interface CountsBlock {
  dtype: "uint8" | "uint16" | "uint32";
  shape: [number, number];
  base64: string;
}

export interface JaccardResponse {
  eta: number;
  /** Number of top channels kept per input, ceil(eta * channels). */
  top: number;
  channels: number;
  /** Maps matrix rows/columns to input indices (grouped by class). */
  order: number[];
  /** `[N, N]` similarity, rows and columns in `order` (decoded from `shared` by `api.jaccard`). */
  matrix: ArrayLike<number>[];
  /** `matrix=counts` answers: shared-channel counts and set sizes, in `order` (`transforms/jaccard`). */
  shared?: CountsBlock;
  set_sizes?: number[];
  /** Row offsets where each class group starts, plus the end (length classes+1). */
  class_boundaries: number[];
  class_names: string[];
  /** `[classes, classes]` mean similarity between class groups. */
  class_matrix: number[][];
  /** Colour-scale range `[lo, hi]` (percentile range when normalized). */
  range: [number, number];
  /** Null (or absent) when every input is shown; `order` holds original input indices either way. */
  sampled?: SampleInfo | null;
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
  /** The top channels both inputs share. */
  shared_channels?: number[];
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
  /** False when the class similarities come from a sample (`sampled`). */
  exact?: boolean;
  sampled?: SampleInfo | null;
}

/** Per-channel metrics, aligned with `HeatmapResponse.channels`. */
export interface HeatmapMetrics {
  variance: number[];
  pairwise: number[];
  /** Absent or `null` when the layer logged no filter norms. */
  filter_norm?: number[] | null;
  /** Taylor importance; absent or `null` when not logged. */
  taylor?: number[] | null;
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
  /** The inputs the class similarities were computed from, when not all. */
  sampled?: SampleInfo | null;
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

/** Alignment of the trajectory frames: Procrustes onto the previous frame, or none. */
export type AlignMethod = "procrustes" | "none";

/** One run of `GET /timeline`. */
export interface TimelineRun {
  run: string;
  steps: number[];
  /** Layers in graph (logging) order. */
  layers: string[];
  /** `scores[l][s]`: separability of `layers[l]` at `steps[s]`; `null` where absent. */
  scores: Array<Array<number | null>>;
  /** Accuracy per step; `null` where no predictions were logged. */
  accuracy: Array<number | null>;
  /** Chance level per step (majority-class fraction), when known. */
  chance?: Array<number | null>;
  steps_written: number;
  /** True when TensorBoard's sampling dropped some written steps. */
  downsampled: boolean;
  /** Steps that open in full; as in `RunInfo`. */
  full_steps?: number[];
  /** Steps written compact (timeline record only); as in `RunInfo`. */
  compact_steps?: number[];
  /** `layer_mean[l][s]`: mean of the summary over inputs and channels, from the compact records. */
  layer_mean?: Array<Array<number | null>>;
  /** `grad_norm[l][s]`: mean RMS gradient norm (logged with `importance=True`). */
  grad_norm?: Array<Array<number | null>>;
}

/** `GET /timeline?run=R[&run=R2 ...]&fn=l2&stage=pre`. */
export interface TimelineResponse {
  /** Name of the separability score, e.g. `knn_loo`. */
  score: string;
  /** Neighbours of the kNN score. */
  k?: number;
  fn: SummaryFn;
  stage: Stage;
  runs: TimelineRun[];
}

/** One frame (step) of `GET /trajectory`. */
export interface TrajectoryFrame {
  step: number;
  /** 2D points in the order of `sample_ids`. */
  points: Array<[number, number]>;
}

/** `GET /trajectory?run=&layer=&method=&align=&seed=&fn=&stage=[&steps=]`. */
export interface TrajectoryResponse {
  layer: string;
  method: DRMethod;
  align: AlignMethod;
  steps: number[];
  /** Inputs present at every step (matched by sample id). */
  sample_ids: Array<number | string>;
  labels: number[];
  matched: number;
  /** Step -> number of inputs dropped there (not present at every step). */
  dropped: Record<string, number>;
  frames: TrajectoryFrame[];
  /** Mean displacement between consecutive frames (after alignment). */
  mean_displacement: number[];
  /** The same without alignment. */
  mean_displacement_unaligned: number[];
}

/** A channel whose importance rank changed between A and B. */
export interface RankChange {
  channel: number;
  rank_a: number;
  rank_b: number;
  delta: number;
}

/** `GET /diff?run=&step=&layer=&run_b=&step_b=&fn=&stage=&eta=&order=`. */
export interface DiffResponse {
  a: { run: string; step: number };
  b: { run: string; step: number };
  /** Inputs present at both sides (matched by sample id). */
  matched: number;
  /** Inputs of each side left out. */
  dropped?: { a: number; b: number };
  sample_ids: Array<number | string>;
  /** Class (of side A) of each matched input, in `sample_ids` order. */
  labels: number[];
  /** Row indices into `sample_ids`, grouped by class: the order of `diff`'s rows and columns. */
  order: number[];
  classes?: number[];
  /** Offsets in `order` where each class group starts (plus the end). */
  class_boundaries: number[];
  /** `[M, M]` Jaccard similarity of B minus A, rows and columns in `order`. */
  diff: number[][];
  /** Symmetric colour range `[-m, m]`. */
  range: [number, number];
  /** Mean |diff| over pairs i != j. */
  mean_abs_diff: number;
  /** `[K, K]` difference of the class-mean Jaccard matrices. */
  class_diff?: number[][];
  /** Matched inputs whose label differs between A and B. */
  label_changes?: number;
  /** Channels of the layer at A and B. */
  channels?: [number, number];
  /** Largest rank changes; `null` when A and B have different channel counts. */
  rank_changes: RankChange[] | null;
  /** Channel ordering used for the ranks. */
  rank_order?: HeatmapOrder;
  /** Past the matrix cap: which of the matched inputs are shown (null or absent: all). */
  sampled?: SampleInfo | null;
  eta?: number;
  class_names?: string[];
}

/** One input of `GET /suspects`, ranked by `score` (highest first). */
export interface SuspectInfo {
  index: number;
  /** The logged label. */
  given: number;
  /** The class nearest in the layer (the given one unless another is closer). */
  likely: number;
  /** In [0, 1]: how probably the given label is wrong. */
  score: number;
  flagged: boolean;
  /** The layer part of the score. */
  neighbour_score?: number;
  /** The prediction part (null without predictions). */
  model_score?: number | null;
}

/** The suspects of one layer in `GET /suspects`. */
export interface SuspectLayer {
  layer: string;
  /** `neighbours`, or `neighbours+model` with logged predictions. */
  method: string;
  k: number;
  threshold: number;
  n_inputs: number;
  /** Flagged inputs of the layer, also those past `limit`. */
  n_flagged: number;
  truncated: boolean;
  suspects: SuspectInfo[];
}

/** `GET /suspects?run=&step=&layer=&fn=l2&stage=pre&k=10&threshold=0.5&limit=50&predictions=1`. */
export interface SuspectsResponse {
  /** One entry per requested layer (every layer summarized at `stage` when none is named). */
  layers: SuspectLayer[];
  class_names?: string[];
  fn?: SummaryFn;
  stage?: Stage;
}

/** One cluster of `GET /channel_clusters`. */
export interface ChannelClusterInfo {
  id: number;
  size: number;
  /** Member channels, in the seriation order. */
  members: number[];
  /** Up to 4 members nearest the cluster centre, nearest first. */
  representatives: number[];
  /** `class_means[k]`: members' mean summary for class `classes[k]`. */
  class_means: number[];
  selectivity: number;
  preferred_class: number;
  /** `[x, y, w, h]` in the unit square (squarified treemap). */
  rect: [number, number, number, number];
}

/** `GET /channel_clusters?run=&step=&layer=&fn=otsu&stage=pre&k=&aspect=1`. */
export interface ChannelClustersResponse {
  channels: number;
  n_clusters: number;
  /** True when `k` was chosen by the silhouette. */
  k_auto: boolean;
  /** `k` -> mean silhouette of the tried `k`. */
  silhouette: Record<string, number>;
  /** The seriation (the heatmap's `cluster` order). */
  order: number[];
  /** Cluster id of each channel. */
  assignment: number[];
  classes: number[];
  clusters: ChannelClusterInfo[];
  channel_selectivity: number[];
  channel_preferred_class: number[];
  layer?: string;
  class_names?: string[];
}

/** `GET /channel_card?run=&step=&layer=&channel=&fn=otsu&stage=pre&top_k=9`. */
export interface ChannelCardResponse {
  id: { run: string; layer: string; channel: number };
  channel: number;
  /** Channels of the layer. */
  channels: number;
  top_inputs: number[];
  top_values: number[];
  classes: number[];
  class_means: number[];
  selectivity: number;
  preferred_class: number;
  mean: number;
  max: number;
  metrics: {
    pairwise: number | null;
    variance: number | null;
    filter_norm: number | null;
    taylor: number | null;
    grad_norm: number | null;
  };
  /** Order -> the channel's row in `/heatmap?order=` (0 = first), null where unavailable. */
  ranks: Record<string, number | null>;
  cluster: number | null;
  has_maps: boolean;
  history: {
    steps: number[];
    mean: Array<number | null>;
    classes: number[];
    class_means: Array<Array<number | null>>;
    /** `1 - r` of the channel's profile with the previous present step (null where undefined). */
    drift?: Array<number | null>;
  } | null;
  step: number;
  layer?: string;
  class_names?: string[];
}

/** What a channel embedding is computed from. */
export type ChannelSource = "activations" | "weights";

/** `GET /channel_embedding?run=&step=&layer=&fn=&stage=&method=&seed=&source=&threshold=`. */
export interface ChannelEmbeddingResponse {
  method: DRMethod;
  source: ChannelSource;
  seed: number;
  /** `points[c]`: 2D position of channel `c`. */
  points: Array<[number, number]>;
  preferred_class: number[];
  selectivity: number[];
  /** Preferred class where selective enough, else -1. */
  color_class: number[];
  threshold: number;
  layer?: string;
}

/** One bundle of `GET /channel_edges`. */
export interface ChannelEdgeBundle {
  source: number;
  target: number;
  connections: number;
  abs: number;
  mean_abs: number;
  strength: number;
  positive: number | null;
  negative: number | null;
}

/** `GET /channel_edges?run=&step=&source=&target=&fn=&stage=&threshold=`. */
export interface ChannelEdgesResponse {
  available: boolean;
  /** Why no edges are drawn (null when available). */
  reason: string | null;
  source_clusters: number;
  target_clusters: number;
  threshold: number;
  max_mean_abs: number | null;
  bundles: ChannelEdgeBundle[];
  sources: Array<{ id: number; size: number }>;
  targets: Array<{ id: number; size: number }>;
  source_layer: string;
  target_layer: string;
  step?: number;
}
