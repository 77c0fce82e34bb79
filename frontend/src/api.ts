/**
 * The only module of the tab that talks to the backend.
 *
 * TensorBoard loads the bundle from `/data/plugin_entry.html?name=channelexplorer`,
 * a page whose `<base href="plugin/channelexplorer/">` makes `/data/plugin/channelexplorer/`
 * the document base. Every URL here is therefore RELATIVE (`runs?...`), resolved
 * against that base, so the tab works behind any TensorBoard path prefix
 * (`--path_prefix`) and under the iframe's same-origin CSP.
 */
import type {
  DatasetResponse,
  DRMethod,
  GraphResponse,
  HeatmapOrder,
  HeatmapResponse,
  HierarchyResponse,
  InputsResponse,
  JaccardCellResponse,
  JaccardResponse,
  LayersResponse,
  RunsResponse,
  ScatterProgress,
  ScatterResponse,
  Stage,
  SummariesResponse,
  SummaryFn,
  AlignMethod,
  DiffResponse,
  TimelineResponse,
  TrajectoryResponse,
  SuspectsResponse,
  ChannelClustersResponse,
  ChannelCardResponse,
  ChannelEmbeddingResponse,
  ChannelEdgesResponse,
  ChannelSource,
} from "./types";
import { recordResponse, snapshotImageUrl, snapshotLookup } from "./export/snapshot";
import { withJaccardMatrix } from "./transforms/jaccard";

/** Error raised for a non-2xx answer; `message` is the backend's `error` text. */
export class ApiError extends Error {
  /** HTTP status code (0 for a network failure). */
  readonly status: number;
  /** The offending query parameter named by the backend, if any. */
  readonly parameter: string | null;
  /** The route that failed, e.g. `scatter`. */
  readonly route: string;

  constructor(message: string, status: number, route: string, parameter: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.route = route;
    this.parameter = parameter;
  }
}

type ParamValue = string | number | boolean | null | undefined | ReadonlyArray<string | number>;
/**
 * Query parameters; `null`/`undefined` values are left out (backend default),
 * arrays repeat the key (`run=a&run=b`) in their given order.
 */
export type Params = Record<string, ParamValue>;

let baseOverride: string | null = null;

/**
 * Overrides the base URL of the routes (tests, benchmarks, a standalone page).
 *
 * Args:
 *   base: absolute or relative URL ending with `/`, or `null` to restore the default.
 */
export function setApiBase(base: string | null): void {
  if (base !== null && !base.endsWith("/")) {
    throw new Error(`setApiBase: base must end with "/", got ${JSON.stringify(base)}`);
  }
  baseOverride = base;
}

/** Builds `route?k=v&...` with every key and value URL-encoded, keys sorted for cache hits. */
export function buildUrl(route: string, params: Params = {}): string {
  if (!/^[a-z_]+$/.test(route)) {
    throw new Error(`buildUrl: invalid route ${JSON.stringify(route)}`);
  }
  const parts: string[] = [];
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) {
      for (const v of value as ReadonlyArray<string | number>) {
        parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`);
      }
      continue;
    }
    const text = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(text)}`);
  }
  const path = (baseOverride ?? "") + route;
  return parts.length ? `${path}?${parts.join("&")}` : path;
}

async function errorFrom(response: Response, route: string): Promise<ApiError> {
  let message = `${route}: HTTP ${response.status} ${response.statusText}`.trim();
  let parameter: string | null = null;
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text) as { error?: unknown; parameter?: unknown };
      if (body && typeof body.error === "string" && body.error) message = body.error;
      if (body && typeof body.parameter === "string") parameter = body.parameter;
    } catch {
      if (text && text.length < 300 && !text.trimStart().startsWith("<")) message = `${message}: ${text.trim()}`;
    }
  } catch {
    // Body unreadable: keep the status line.
  }
  return new ApiError(message, response.status, route, parameter);
}

/** GETs a JSON route; throws `ApiError` with the backend's message on 4xx/5xx. */
export async function getJson<T>(route: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  const url = buildUrl(route, params);
  // A shared file answers from its inlined snapshot and never fetches (see export/snapshot.ts).
  const snap = snapshotLookup(url);
  if (snap) {
    if (!snap.hit) throw new ApiError(`${route}: not part of this shared snapshot`, 404, route);
    recordResponse(url, snap.body);
    return snap.body as T;
  }
  let response: Response;
  try {
    response = await fetch(url, { signal, credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch (err) {
    if ((err as Error)?.name === "AbortError") throw err;
    throw new ApiError(`${route}: network error (${(err as Error)?.message ?? err})`, 0, route);
  }
  if (!response.ok) throw await errorFrom(response, route);
  const body = (await response.json()) as T;
  recordResponse(url, body);
  return body;
}

/** Common (run, step) address; `step` omitted means the run's latest step. */
export interface RunStep {
  run: string;
  step?: number | null;
}

/** (run, step, layer, fn, stage) address of a per-layer view. */
export interface LayerQuery extends RunStep {
  layer: string;
  fn?: SummaryFn;
  stage?: Stage;
}

function rs(q: RunStep): Params {
  return { run: q.run, step: q.step ?? undefined };
}

function lq(q: LayerQuery): Params {
  return { ...rs(q), layer: q.layer, fn: q.fn, stage: q.stage };
}

/** `GET /runs`: runs that hold ChannelExplorer data, with their steps. */
export function runs(signal?: AbortSignal): Promise<RunsResponse> {
  return getJson<RunsResponse>("runs", {}, signal);
}

/** `GET /layers`: the manifest's layers of a step. */
export function layers(q: RunStep, signal?: AbortSignal): Promise<LayersResponse> {
  return getJson<LayersResponse>("layers", rs(q), signal);
}

/** `GET /graph`: the model graph of a step. */
export function graph(q: RunStep, signal?: AbortSignal): Promise<GraphResponse> {
  return getJson<GraphResponse>("graph", rs(q), signal);
}

/** `GET /inputs`: labels, ids and predictions of the logged inputs. */
export function inputs(q: RunStep, signal?: AbortSignal): Promise<InputsResponse> {
  return getJson<InputsResponse>("inputs", rs(q), signal);
}

/** `GET /summaries`: the raw `[N, C]` channel summaries of a layer. */
export function summaries(q: LayerQuery, signal?: AbortSignal): Promise<SummariesResponse> {
  return getJson<SummariesResponse>("summaries", lq(q), signal);
}

/** Options of `scatter`. */
export interface ScatterQuery extends LayerQuery {
  method?: DRMethod;
  seed?: number;
  /** Number of clusters; `null`/omitted runs X-Means. */
  k?: number | null;
}

/** `GET /scatter`: 2D projection and clusters of a layer's inputs. */
export function scatter(q: ScatterQuery, signal?: AbortSignal): Promise<ScatterResponse> {
  return getJson<ScatterResponse>("scatter", scatterParams(q), signal);
}

function scatterParams(q: ScatterQuery): Params {
  return { ...lq(q), method: q.method, seed: q.seed, k: q.k ?? undefined };
}

/** `GET /scatter_progress`: progress of the `/scatter` request with the same query (computes nothing). */
export function scatterProgress(q: ScatterQuery, signal?: AbortSignal): Promise<ScatterProgress> {
  return getJson<ScatterProgress>("scatter_progress", scatterParams(q), signal);
}

/** Options of `jaccard`. */
export interface JaccardQuery extends LayerQuery {
  eta?: number;
  normalize?: boolean;
  /** Seed of the class-stratified sample a step with more inputs than the matrix cap is shown as. */
  seed?: number;
}

/**
 * `GET /jaccard`: input-by-input top-channel Jaccard similarity. Asks for the
 * exact counts (a fraction of the bytes of decimal values) and fills in `matrix`.
 */
export function jaccard(q: JaccardQuery, signal?: AbortSignal): Promise<JaccardResponse> {
  const params = { ...lq(q), eta: q.eta, normalize: q.normalize, seed: q.seed, matrix: "counts" };
  return getJson<JaccardResponse>("jaccard", params, signal).then(withJaccardMatrix);
}

/** `GET /jaccard_cell`: the shared top channels of inputs `i` and `j`. */
export function jaccardCell(
  q: LayerQuery & { eta?: number; i: number; j: number },
  signal?: AbortSignal,
): Promise<JaccardCellResponse> {
  return getJson<JaccardCellResponse>("jaccard_cell", { ...lq(q), eta: q.eta, i: q.i, j: q.j }, signal);
}

/** `GET /hierarchy`: the confusion hierarchy of a layer. */
export function hierarchy(q: LayerQuery & { eta?: number }, signal?: AbortSignal): Promise<HierarchyResponse> {
  return getJson<HierarchyResponse>("hierarchy", { ...lq(q), eta: q.eta }, signal);
}

/** Options of `heatmap`. */
export interface HeatmapQuery extends LayerQuery {
  order?: HeatmapOrder;
  offset?: number;
  limit?: number;
}

/** `GET /heatmap`: a page of the channel-by-input activation heatmap. */
export function heatmap(q: HeatmapQuery, signal?: AbortSignal): Promise<HeatmapResponse> {
  return getJson<HeatmapResponse>("heatmap", { ...lq(q), order: q.order, offset: q.offset, limit: q.limit }, signal);
}

/** `GET /dataset`: class similarity to a reference class and representatives. */
export function dataset(
  q: RunStep & { reference?: number; k?: number | null },
  signal?: AbortSignal,
): Promise<DatasetResponse> {
  return getJson<DatasetResponse>("dataset", { ...rs(q), reference: q.reference, k: q.k ?? undefined }, signal);
}

/** URL of the thumbnail PNG of input `index` (for `<img src>`). */
export function thumbnailUrl(q: RunStep, index: number): string {
  return snapshotImageUrl(buildUrl("thumbnail", { ...rs(q), index }));
}

/** URL of the activation-overlay PNG (Eq. 2) of input `index`, channel `channel`. */
export function overlayUrl(q: RunStep & { layer: string }, index: number, channel: number, alpha?: number): string {
  return snapshotImageUrl(buildUrl("overlay", { ...rs(q), layer: q.layer, index, channel, alpha }));
}

/** Options of `timeline`. */
export interface TimelineQuery {
  /** One or more runs (one line each in the multi-run chart). */
  runs: readonly string[];
  fn?: SummaryFn;
  stage?: Stage;
}

/** `GET /timeline`: separability score of every layer at every step, per run, with accuracy. */
export function timeline(q: TimelineQuery, signal?: AbortSignal): Promise<TimelineResponse> {
  if (!q.runs.length) return Promise.reject(new Error("timeline: at least one run is required"));
  return getJson<TimelineResponse>("timeline", { run: q.runs, fn: q.fn, stage: q.stage }, signal);
}

/** Options of `trajectory`. */
export interface TrajectoryQuery {
  run: string;
  layer: string;
  method?: DRMethod;
  align?: AlignMethod;
  seed?: number;
  fn?: SummaryFn;
  stage?: Stage;
  /** Subset of steps; omitted means every step of the run. */
  steps?: readonly number[] | null;
}

/** `GET /trajectory`: aligned 2D projections of a layer's inputs at each step. */
export function trajectory(q: TrajectoryQuery, signal?: AbortSignal): Promise<TrajectoryResponse> {
  return getJson<TrajectoryResponse>(
    "trajectory",
    {
      run: q.run,
      layer: q.layer,
      method: q.method,
      align: q.align,
      seed: q.seed,
      fn: q.fn,
      stage: q.stage,
      steps: q.steps && q.steps.length ? q.steps.join(",") : undefined,
    },
    signal,
  );
}

/** Options of `diff`: side A is (run, step), side B is (run_b, step_b). */
export interface DiffQuery {
  run: string;
  step: number;
  layer: string;
  runB: string;
  stepB: number;
  fn?: SummaryFn;
  stage?: Stage;
  eta?: number;
  order?: HeatmapOrder;
}

/** `GET /diff`: B minus A of a layer's channel summaries over the matched inputs. */
export function diff(q: DiffQuery, signal?: AbortSignal): Promise<DiffResponse> {
  return getJson<DiffResponse>(
    "diff",
    {
      run: q.run,
      step: q.step,
      layer: q.layer,
      run_b: q.runB,
      step_b: q.stepB,
      fn: q.fn,
      stage: q.stage,
      eta: q.eta,
      order: q.order,
    },
    signal,
  );
}

/** Options of `suspects`; `layer` omitted scores every layer summarized at `stage`. */
export interface SuspectsQuery extends RunStep {
  layer?: string;
  fn?: SummaryFn;
  stage?: Stage;
  /** Neighbours per class (route default when omitted). */
  k?: number;
  /** Score above which an input is flagged, in [0, 1]. */
  threshold?: number;
  /** Most suspects returned per layer, highest score first. */
  limit?: number;
  /** Combine with the logged predictions (route default: yes). */
  predictions?: boolean;
}

/** `GET /suspects`: per-input scores that the given label is wrong, ranked per layer. */
export function suspects(q: SuspectsQuery, signal?: AbortSignal): Promise<SuspectsResponse> {
  return getJson<SuspectsResponse>(
    "suspects",
    {
      ...rs(q),
      layer: q.layer,
      fn: q.fn,
      stage: q.stage,
      k: q.k,
      threshold: q.threshold,
      limit: q.limit,
      predictions: q.predictions,
    },
    signal,
  );
}

/** Options of `channelClusters`. */
export interface ChannelClustersQuery extends LayerQuery {
  /** Number of clusters; omitted chooses it by the silhouette. */
  k?: number | null;
  /** Width / height of the box the treemap is laid out for. */
  aspect?: number;
}

/** `GET /channel_clusters`: clusters of a layer's channels with a treemap layout. */
export function channelClusters(q: ChannelClustersQuery, signal?: AbortSignal): Promise<ChannelClustersResponse> {
  return getJson<ChannelClustersResponse>(
    "channel_clusters",
    { ...lq(q), k: q.k ?? undefined, aspect: q.aspect === undefined ? undefined : Number(q.aspect.toFixed(4)) },
    signal,
  );
}

/** `GET /channel_card`: everything the card of one channel shows. */
export function channelCard(
  q: LayerQuery & { channel: number; topK?: number },
  signal?: AbortSignal,
): Promise<ChannelCardResponse> {
  return getJson<ChannelCardResponse>("channel_card", { ...lq(q), channel: q.channel, top_k: q.topK }, signal);
}

/** Options of `channelEmbedding`. */
export interface ChannelEmbeddingQuery extends LayerQuery {
  method?: DRMethod;
  seed?: number;
  source?: ChannelSource;
  threshold?: number;
}

/** `GET /channel_embedding`: 2D embedding whose points are the layer's channels. */
export function channelEmbedding(q: ChannelEmbeddingQuery, signal?: AbortSignal): Promise<ChannelEmbeddingResponse> {
  return getJson<ChannelEmbeddingResponse>(
    "channel_embedding",
    { ...lq(q), method: q.method, seed: q.seed, source: q.source, threshold: q.threshold },
    signal,
  );
}

/** Options of `channelEdges`: from the clusters of `source` to those of `target`. */
export interface ChannelEdgesQuery extends RunStep {
  source: string;
  target: string;
  fn?: SummaryFn;
  stage?: Stage;
  threshold?: number;
}

/** `GET /channel_edges`: bundled weights between two layers' channel clusters (or why not). */
export function channelEdges(q: ChannelEdgesQuery, signal?: AbortSignal): Promise<ChannelEdgesResponse> {
  return getJson<ChannelEdgesResponse>(
    "channel_edges",
    { ...rs(q), source: q.source, target: q.target, fn: q.fn, stage: q.stage, threshold: q.threshold },
    signal,
  );
}
