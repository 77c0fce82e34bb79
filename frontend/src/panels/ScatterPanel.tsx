/**
 * Scatterplot view (paper Sect. V-D): 2D embedding of the inputs' channel
 * summaries, coloured by class, with X-Means / k-means cluster enclosures
 * (padded hull + Catmull–Rom), a class bar chart per cluster and outliers
 * ringed in red. Pure rendering: data and callbacks come from props.
 */
import {
  memo,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent,
  type MouseEvent,
  type PointerEvent,
} from "react";
import type { DRMethod, ScatterProgress, ScatterResponse, ThumbnailUrl } from "../types";
import { CLASS_PALETTE, classColor } from "../transforms/color";
import { hullPath, type Point } from "../transforms/hull";
import { clusterClassBars, clusterMembers, fitPoints, pointsInRect } from "../transforms/scatter";
import { parseK } from "../transforms/dataset";
import { SuspectRings } from "./SuspectRings";

/** Parameters of the `/scatter` request the controls edit. */
export interface ScatterParams {
  method: DRMethod;
  seed: number;
  /** Number of clusters; null = X-Means. */
  k: number | null;
}

export interface ScatterPanelProps {
  data: ScatterResponse;
  /** Class names, indexed by label (the `class_counts` keys are names). */
  classNames: string[];
  /** Selected input indices (shared across views). */
  selected: Set<number>;
  /** Replace the selection. */
  onSelect: (indices: number[]) => void;
  /** Current request parameters; with `onParams` the controls are shown. */
  params?: ScatterParams;
  /** Called with the changed parameters (method, seed on reseed, k). */
  onParams?: (change: Partial<ScatterParams>) => void;
  /** Thumbnail URL of an input; enables the "thumbnails" toggle. */
  thumbnailUrl?: ThumbnailUrl;
  /** Called by the "enlarge" button (button hidden when absent). */
  onEnlarge?: () => void;
  /** Inputs to ring as suspect labels, most suspect first. */
  suspects?: readonly number[];
  /** Total width and height in CSS pixels (controls included). */
  width?: number;
  height?: number;
  /** Set while `data` is the PCA preview of a slower `method` still computing. */
  preview?: { method: DRMethod; progress: ScatterProgress | null } | null;
}

export const DR_METHODS: DRMethod[] = ["pca", "mds", "tsne", "umap"];
const DR_LABELS: Record<DRMethod, string> = { pca: "PCA", mds: "MDS", tsne: "t-SNE", umap: "UMAP" };

const CONTROLS_H = 28;
const LEGEND_H = 18;
const POINT_R = 3;
const HULL_PAD = 9;
const THUMB = 18;
const BAR_W = 36;
const BAR_H = 3;

/** The preview banner: "PCA preview — t-SNE computing… 43%" (phase and seconds while no fraction is known). */
export function previewText(method: DRMethod, progress: ScatterProgress | null): string {
  const head = `PCA preview — ${DR_LABELS[method] ?? method} computing…`;
  if (!progress || progress.state !== "running") return head;
  if (progress.fraction !== null) return `${head} ${Math.floor(progress.fraction * 100)}%`;
  const secs = progress.elapsed_s === null ? "" : `, ${Math.round(progress.elapsed_s)} s`;
  return progress.phase ? `${head} (${progress.phase}${secs})` : head;
}

export function ScatterPanel(props: ScatterPanelProps) {
  const { data, classNames, selected, onSelect, params, onParams, thumbnailUrl, onEnlarge, suspects } = props;
  const width = props.width ?? 340;
  const height = props.height ?? 300;
  const n = data.points.length;
  const [thumbs, setThumbs] = useState(false);
  const [brush, setBrush] = useState<{ a: Point; b: Point } | null>(null);
  const svgRef = useRef<SVGSVGElement>(null);

  const showControls = Boolean(params && onParams) || Boolean(thumbnailUrl) || Boolean(onEnlarge);
  const plotH = Math.max(60, height - (showControls ? CONTROLS_H : 0) - LEGEND_H);

  const screen = useMemo<Point[]>(() => {
    const t = fitPoints(data.points, width, plotH, HULL_PAD + 8);
    return data.points.map((p) => t.apply(p));
  }, [data.points, width, plotH]);

  const clusters = useMemo(() => {
    const members = clusterMembers(data.clusters);
    return data.cluster_info.map((info) => {
      const idx = members.get(info.id) ?? [];
      const pts = idx.map((i) => screen[i]).filter(Boolean);
      const bars = clusterClassBars(info, classNames);
      let x0 = Infinity;
      let y0 = Infinity;
      for (const [x, y] of pts) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
      }
      const top = bars[0];
      return {
        info,
        idx,
        path: hullPath(pts, HULL_PAD),
        bars,
        color: top && top.cls >= 0 ? classColor(top.cls) : "var(--ce-panel-muted)",
        barX: Number.isFinite(x0) ? Math.max(1, Math.min(width - BAR_W - 1, x0 - HULL_PAD)) : 0,
        barY: Number.isFinite(y0) ? Math.max(1, y0 - HULL_PAD - bars.length * (BAR_H + 1) - 2) : 0,
      };
    });
  }, [data.clusters, data.cluster_info, screen, classNames, width]);

  const outliers = useMemo(() => new Set(data.outliers), [data.outliers]);
  const presentClasses = useMemo(() => [...new Set(data.labels)].sort((a, b) => a - b), [data.labels]);
  const className = (c: number) => classNames[c] ?? `class ${c}`;

  // Local text of the K field; committed on Enter / blur.
  const [kText, setKText] = useState(params?.k == null ? "" : String(params.k));
  useEffect(() => setKText(params?.k == null ? "" : String(params.k)), [params?.k]);
  const kValue = parseK(kText);
  const kInvalid = Number.isNaN(kValue) || (kValue !== null && kValue > n);
  // Enter then blur must not send the same K twice before the parent updates `params`.
  const lastK = useRef<number | null | undefined>(undefined);
  useEffect(() => {
    lastK.current = undefined;
  }, [params?.k]);
  const commitK = () => {
    if (!onParams || kInvalid || kValue === (params?.k ?? null) || kValue === lastK.current) return;
    lastK.current = kValue;
    onParams({ k: kValue });
  };

  const toLocal = (e: PointerEvent): Point => {
    const r = svgRef.current?.getBoundingClientRect();
    return r ? [e.clientX - r.left, e.clientY - r.top] : [0, 0];
  };
  const onPointerDown = (e: PointerEvent<SVGRectElement>) => {
    if (e.button !== 0) return;
    const p = toLocal(e);
    setBrush({ a: p, b: p });
    (e.currentTarget as Element).setPointerCapture?.(e.pointerId);
  };
  const onPointerMove = (e: PointerEvent<SVGRectElement>) => {
    if (brush) setBrush({ a: brush.a, b: toLocal(e) });
  };
  const onPointerUp = (e: PointerEvent<SVGRectElement>) => {
    if (!brush) return;
    const b = toLocal(e);
    setBrush(null);
    const dragged = Math.abs(b[0] - brush.a[0]) + Math.abs(b[1] - brush.a[1]) > 3;
    if (!dragged) {
      if (!e.shiftKey) onSelect([]);
      return;
    }
    const hit = pointsInRect(screen, brush.a, b);
    onSelect(e.shiftKey ? [...new Set([...selected, ...hit])] : hit);
  };
  const clickPoint = useCallback(
    (i: number, additive: boolean) => {
      if (!additive) onSelect([i]);
      else if (selected.has(i)) onSelect([...selected].filter((s) => s !== i));
      else onSelect([...selected, i]);
    },
    [selected, onSelect],
  );
  const selectCluster = (idx: number[], additive: boolean) =>
    onSelect(additive ? [...new Set([...selected, ...idx])] : idx);
  const keySelect = (e: KeyboardEvent, fn: () => void) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      fn();
    }
  };

  return (
    <div className="cep-panel cep-scatter" style={{ width }}>
      {showControls && (
        <div className="cep-controls" style={{ height: CONTROLS_H }}>
          {params && onParams && (
            <>
              <select
                aria-label="Dimensionality reduction method"
                value={params.method}
                onChange={(e) => onParams({ method: e.target.value as DRMethod })}
              >
                {DR_METHODS.map((m) => (
                  <option key={m} value={m}>
                    {DR_LABELS[m]}
                  </option>
                ))}
              </select>
              <button
                type="button"
                aria-label="Recompute the projection with a new random seed"
                title={`seed ${params.seed}`}
                onClick={() => onParams({ seed: params.seed + 1 })}
              >
                reseed
              </button>
              <label className="cep-k">
                K
                <input
                  type="text"
                  inputMode="numeric"
                  size={3}
                  aria-label="Number of clusters K (empty for X-Means)"
                  aria-invalid={kInvalid}
                  placeholder="auto"
                  value={kText}
                  onChange={(e) => setKText(e.target.value)}
                  onBlur={commitK}
                  onKeyDown={(e) => e.key === "Enter" && commitK()}
                />
              </label>
            </>
          )}
          {thumbnailUrl && (
            <label className="cep-toggle">
              <input
                type="checkbox"
                aria-label="Show input thumbnails instead of points"
                checked={thumbs}
                onChange={(e) => setThumbs(e.target.checked)}
              />
              images
            </label>
          )}
          {onEnlarge && (
            <button type="button" aria-label="Enlarge scatterplot" title="Enlarge" onClick={onEnlarge}>
              ⤢
            </button>
          )}
        </div>
      )}
      {props.preview && (
        <div className="cep-scatter__preview" role="status" data-testid="scatter-preview">
          {previewText(props.preview.method, props.preview.progress)}
        </div>
      )}
      <svg
        ref={svgRef}
        width={width}
        height={plotH}
        data-testid="scatter"
        data-points={n}
        data-method={data.method}
        data-clusters={data.cluster_info.length}
        role="img"
        aria-label={`${DR_LABELS[data.method] ?? data.method} projection of ${n} inputs in ${data.cluster_info.length} clusters`}
        className="cep-scatter__svg"
      >
        <rect
          className="cep-brush-area"
          width={width}
          height={plotH}
          fill="transparent"
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
        />
        <g className="cep-hulls">
          {clusters.map((c) =>
            c.path ? (
              <path
                key={c.info.id}
                d={c.path}
                fill={c.color}
                fillOpacity={0.07}
                stroke={c.color}
                strokeOpacity={0.8}
                strokeWidth={1.2}
                data-cluster={c.info.id}
                // Only the outline is clickable, so brushing can start inside a hull.
                pointerEvents="visibleStroke"
                onClick={(e) => selectCluster(c.idx, e.shiftKey)}
              >
                <title>{`cluster ${c.info.id}: ${c.info.size} inputs`}</title>
              </path>
            ) : null,
          )}
        </g>
        <PointsLayer
          screen={screen}
          labels={data.labels}
          clusters={data.clusters}
          outliers={outliers}
          selected={selected}
          classNames={classNames}
          thumbs={thumbs && Boolean(thumbnailUrl)}
          thumbnailUrl={thumbnailUrl}
          brushing={brush !== null}
          onPoint={clickPoint}
        />
        {suspects && <SuspectRings screen={screen} indices={suspects} r={(thumbs ? THUMB / 2 : POINT_R) + 5} />}
        <g className="cep-outliers" pointerEvents="none">
          {data.outliers.map((i) =>
            screen[i] ? (
              <circle
                key={i}
                data-outlier={i}
                cx={screen[i][0]}
                cy={screen[i][1]}
                r={(thumbs ? THUMB / 2 : POINT_R) + 3}
                fill="none"
                stroke="var(--ce-outlier)"
                strokeWidth={1.5}
              />
            ) : null,
          )}
        </g>
        <g className="cep-bars">
          {clusters.map((c) => (
            <g
              key={c.info.id}
              transform={`translate(${c.barX},${c.barY})`}
              tabIndex={0}
              role="button"
              aria-label={`Select cluster ${c.info.id}: ${c.info.size} inputs, ${c.bars
                .map((b) => `${b.count} ${b.name}`)
                .join(", ")}`}
              onClick={(e) => selectCluster(c.idx, e.shiftKey)}
              onKeyDown={(e) => keySelect(e, () => selectCluster(c.idx, e.shiftKey))}
              className="cep-bar"
            >
              <title>{`cluster ${c.info.id} (${c.info.size}): ${c.bars.map((b) => `${b.name} ${b.count}`).join(", ")}`}</title>
              <rect width={BAR_W} height={c.bars.length * (BAR_H + 1) + 1} fill="var(--ce-panel)" fillOpacity={0.8} />
              {c.bars.map((b, k) => (
                <rect
                  key={k}
                  x={0}
                  y={1 + k * (BAR_H + 1)}
                  width={Math.max(1, b.fraction * BAR_W)}
                  height={BAR_H}
                  fill={b.cls >= 0 ? classColor(b.cls) : "var(--ce-unknown-class)"}
                />
              ))}
            </g>
          ))}
        </g>
        {brush && (
          <rect
            className="cep-brush"
            x={Math.min(brush.a[0], brush.b[0])}
            y={Math.min(brush.a[1], brush.b[1])}
            width={Math.abs(brush.b[0] - brush.a[0])}
            height={Math.abs(brush.b[1] - brush.a[1])}
            fill="var(--ce-brush-fill)"
            stroke="var(--ce-link)"
            strokeDasharray="3 2"
            pointerEvents="none"
          />
        )}
      </svg>
      <ul className="cep-legend" style={{ height: LEGEND_H }} aria-label="Classes">
        {presentClasses.map((c) => (
          <li key={c}>
            <span className="cep-swatch" style={{ background: classColor(c) }} aria-hidden="true" />
            {className(c)}
          </li>
        ))}
      </ul>
    </div>
  );
}

interface PointsLayerProps {
  screen: Point[];
  labels: number[];
  clusters: number[];
  outliers: Set<number>;
  selected: Set<number>;
  classNames: string[];
  thumbs: boolean;
  thumbnailUrl?: ThumbnailUrl;
  brushing: boolean;
  onPoint: (i: number, additive: boolean) => void;
}

/** The points (or thumbnails); memoized so brushing does not re-render thousands of nodes. */
const PointsLayer = memo(function PointsLayer(props: PointsLayerProps) {
  const { screen, labels, clusters, outliers, selected, classNames, thumbs, thumbnailUrl, brushing, onPoint } = props;
  const anySelected = selected.size > 0;
  // Selected points last, so they are drawn (and clickable) on top.
  const drawOrder = useMemo(() => {
    const idx = screen.map((_, i) => i);
    return anySelected ? [...idx.filter((i) => !selected.has(i)), ...idx.filter((i) => selected.has(i))] : idx;
  }, [screen, selected, anySelected]);
  return (
    <g className="cep-points" style={{ pointerEvents: brushing ? "none" : undefined }}>
      {drawOrder.map((i) => {
        const [x, y] = screen[i];
        const cls = labels[i];
        const isSel = selected.has(i);
        const title = `#${i} · ${classNames[cls] ?? `class ${cls}`} · cluster ${clusters[i]}${outliers.has(i) ? " · outlier" : ""}`;
        const opacity = anySelected && !isSel ? 0.3 : 1;
        const onClick = (e: MouseEvent) => onPoint(i, e.shiftKey || e.metaKey || e.ctrlKey);
        if (thumbs && thumbnailUrl) {
          return (
            <image
              key={i}
              data-index={i}
              href={thumbnailUrl(i)}
              x={x - THUMB / 2}
              y={y - THUMB / 2}
              width={THUMB}
              height={THUMB}
              opacity={opacity}
              className={isSel ? "cep-selected" : undefined}
              onClick={onClick}
            >
              <title>{title}</title>
            </image>
          );
        }
        // Colours repeat after the palette: later rounds get a dark (then dashed) outline.
        const round = Math.floor(cls / CLASS_PALETTE.length);
        return (
          <circle
            key={i}
            data-index={i}
            data-label={cls}
            cx={x}
            cy={y}
            r={isSel ? POINT_R + 1.5 : POINT_R}
            fill={classColor(cls)}
            opacity={opacity}
            stroke={isSel ? "var(--ce-strong)" : round > 0 ? "var(--ce-tree-text)" : "var(--ce-panel)"}
            strokeWidth={isSel ? 1.5 : round > 0 ? 1.2 : 0.6}
            strokeDasharray={round > 1 ? "1.5 1" : undefined}
            className={isSel ? "cep-selected" : undefined}
            onClick={onClick}
          >
            <title>{title}</title>
          </circle>
        );
      })}
    </g>
  );
});
