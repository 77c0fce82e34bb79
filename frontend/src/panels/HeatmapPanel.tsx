/**
 * Activation heatmap view (paper Sect. V-F): channels (rows) x inputs
 * (columns, grouped by class), thresholded at the 10th percentile by the
 * server, with the ordering metrics as green columns at the right, paging,
 * and activation overlays for a clicked cell and the top-3 channels of the
 * focused input.
 *
 * The matrix is rasterized once per data change (`renderHeatmapImage`, one
 * putImageData) and scaled with drawImage, so 2048 x 200 stays smooth.
 */
import { useMemo, useState, type MouseEvent } from "react";
import type { HeatmapOrder, HeatmapResponse, OverlayUrl } from "../types";
import { colormapLut, lutGradient } from "../transforms/color";
import { groupsFromBoundaries } from "../transforms/groups";
import {
  METRIC_LABELS,
  METRIC_SHORT,
  heatmapHit,
  heatmapLayout,
  presentMetrics,
  renderHeatmapImage,
  renderMetricColumns,
  topChannels,
  type HeatmapHit,
} from "../transforms/heatmap";
import { useGridCursor } from "../hooks/useGridCursor";
import { pageInfo } from "../transforms/paging";
import { fmt, localXY, themeColor, useCanvasDraw, useOffscreen } from "./canvas";
import { OverlayView } from "./OverlayView";
import { RowMarks } from "./RowMarks";

export interface HeatmapCell {
  channel: number;
  /** Input index. */
  index: number;
}

export interface HeatmapPanelProps {
  data: HeatmapResponse;
  /** Class names, indexed by label. */
  classNames: string[];
  /** Class of every input (by input index), to name the column groups. */
  labels?: number[] | null;
  /** Change the channel ordering (selector hidden when absent). */
  onOrder?: (order: HeatmapOrder) => void;
  /** Go to the page starting at `offset` (paging hidden when absent). */
  onPage?: (offset: number) => void;
  /** Click (or Enter) on a cell. */
  onCell?: (channel: number, index: number) => void;
  /** Controlled clicked cell; when undefined the panel keeps its own. */
  cell?: HeatmapCell | null;
  /** Overlay PNG URL; overlays are shown only when given. */
  overlayUrl?: OverlayUrl;
  /** False when the layer logged no activation maps. */
  hasMaps?: boolean;
  /** Selected inputs: marked above their columns; the first one in view gets top-3 overlays. */
  selected?: Set<number>;
  /** Channels to mark beside their rows (selected in another view). */
  markedChannels?: ReadonlySet<number>;
  /** Click on a column header marker selects that input. */
  onSelect?: (indices: number[]) => void;
  /** Width of the whole panel and maximum height of the matrix (CSS px). */
  width?: number;
  height?: number;
}

export const HEATMAP_ORDERS: HeatmapOrder[] = ["pairwise", "variance", "filter_norm", "taylor", "cluster"];
const ORDER_LABELS: Record<HeatmapOrder, string> = {
  pairwise: "class-pairwise distance",
  variance: "variance",
  filter_norm: "filter norm",
  taylor: "Taylor importance",
  cluster: "channel cluster",
};
const METRIC_W = 14;
const GAP = 6;
const MARK_H = 5;

export function HeatmapPanel(props: HeatmapPanelProps) {
  const { data, classNames, labels, onOrder, onPage, overlayUrl, selected, onSelect } = props;
  const width = props.width ?? 340;
  const maxH = props.height ?? 240;
  const rows = data.channels.length;
  const cols = data.columns.length;
  const [heatCanvas, setHeatCanvas] = useState<HTMLCanvasElement | null>(null);
  const [metricCanvas, setMetricCanvas] = useState<HTMLCanvasElement | null>(null);
  const [hover, setHover] = useState<{ hit: HeatmapHit; x: number; y: number } | null>(null);
  const {
    cursor,
    setCursor,
    onKeyDown: onKey,
  } = useGridCursor(rows, cols, {
    onEnter: (cur) => {
      setCursor(cur);
      choose(cur.row, cur.col);
    },
    onMove: (next) =>
      setHover({
        hit: { kind: "cell", ...next },
        x: (next.col + 0.5) * layout.cellW,
        y: (next.row + 0.5) * layout.cellH,
      }),
  });
  const [ownCell, setOwnCell] = useState<HeatmapCell | null>(null);
  const cell = props.cell !== undefined ? props.cell : ownCell;

  const metricKeys = useMemo(() => presentMetrics(data.metrics, rows), [data.metrics, rows]);
  const layout = useMemo(
    () =>
      heatmapLayout({ rows, cols, metrics: metricKeys.length, width, maxHeight: maxH, metricW: METRIC_W, gap: GAP }),
    [rows, cols, metricKeys.length, width, maxH],
  );
  const lut = colormapLut("blues");
  const pixels = useMemo(
    () => (rows > 0 && cols > 0 ? renderHeatmapImage(data.values, data.range) : null),
    [data.values, data.range, rows, cols],
  );
  const metricPixels = useMemo(
    () =>
      rows > 0 && metricKeys.length > 0
        ? renderMetricColumns(metricKeys.map((k) => data.metrics[k] as number[]))
        : null,
    [data.metrics, metricKeys, rows],
  );
  const heatOff = useOffscreen(pixels, cols, rows);
  const metricOff = useOffscreen(metricPixels, metricKeys.length, rows);
  const groups = useMemo(
    () =>
      groupsFromBoundaries(data.class_boundaries, cols, (c) => {
        const idx = data.columns[c];
        return labels && idx < labels.length ? labels[idx] : -1;
      }),
    [data.class_boundaries, data.columns, cols, labels],
  );
  const colOf = useMemo(() => {
    const m = new Map<number, number>();
    data.columns.forEach((idx, c) => m.set(idx, c));
    return m;
  }, [data.columns]);
  const rowOfChannel = useMemo(() => {
    const m = new Map<number, number>();
    data.channels.forEach((ch, r) => m.set(ch, r));
    return m;
  }, [data.channels]);

  const markedRows = useMemo(
    () =>
      props.markedChannels?.size ? data.channels.flatMap((ch, r) => (props.markedChannels?.has(ch) ? [r] : [])) : [],
    [props.markedChannels, data.channels],
  );
  const cellRow = cell ? rowOfChannel.get(cell.channel) : undefined;
  const cellCol = cell ? colOf.get(cell.index) : undefined;

  useCanvasDraw(
    heatCanvas,
    layout.heatW,
    layout.heatH,
    (ctx) => {
      if (heatOff) ctx.drawImage(heatOff, 0, 0, layout.heatW, layout.heatH);
      ctx.strokeStyle = themeColor(heatCanvas, "--ce-mark", "#D55E00");
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (const g of groups.slice(1)) {
        const x = Math.round(g.start * layout.cellW) + 0.5;
        ctx.moveTo(x, 0);
        ctx.lineTo(x, layout.heatH);
      }
      ctx.stroke();
      const box = (r: number, c: number, color: string) => {
        ctx.strokeStyle = color;
        ctx.lineWidth = 1.5;
        const w = Math.max(layout.cellW, 4);
        const h = Math.max(layout.cellH, 4);
        ctx.strokeRect((c + 0.5) * layout.cellW - w / 2, (r + 0.5) * layout.cellH - h / 2, w, h);
      };
      if (cellRow !== undefined && cellCol !== undefined)
        box(cellRow, cellCol, themeColor(heatCanvas, "--ce-mark", "#D55E00"));
      if (cursor) box(cursor.row, cursor.col, themeColor(heatCanvas, "--ce-cursor", "#E69F00"));
    },
    [heatOff, groups, layout, cellRow, cellCol, cursor],
  );
  const metricsW = metricKeys.length * METRIC_W;
  useCanvasDraw(
    metricCanvas,
    Math.max(1, metricsW),
    layout.heatH,
    (ctx) => {
      if (metricOff) ctx.drawImage(metricOff, 0, 0, metricsW, layout.heatH);
      ctx.strokeStyle = themeColor(metricCanvas, "--ce-panel", "#fff");
      ctx.beginPath();
      for (let m = 1; m < metricKeys.length; m++) {
        ctx.moveTo(m * METRIC_W + 0.5, 0);
        ctx.lineTo(m * METRIC_W + 0.5, layout.heatH);
      }
      ctx.stroke();
    },
    [metricOff, metricsW, metricKeys.length, layout.heatH],
  );

  const choose = (row: number, col: number) => {
    const next = { channel: data.channels[row], index: data.columns[col] };
    setOwnCell(next);
    props.onCell?.(next.channel, next.index);
  };
  const onHeatClick = (e: MouseEvent<HTMLCanvasElement>) => {
    const [x, y] = localXY(e);
    const hit = heatmapHit(layout, x, y);
    if (hit?.kind === "cell") {
      setCursor(null);
      choose(hit.row, hit.col);
    }
  };
  const onHeatMove = (e: MouseEvent<HTMLCanvasElement>) => {
    const [x, y] = localXY(e);
    const hit = heatmapHit(layout, x, y);
    setHover(hit ? { hit, x, y } : null);
  };
  const onMetricMove = (e: MouseEvent<HTMLCanvasElement>) => {
    const [x, y] = localXY(e);
    const hit = heatmapHit(layout, x + layout.metricX, y);
    setHover(hit ? { hit, x: x + layout.metricX, y } : null);
  };

  const name = (cls: number) => (cls >= 0 ? (classNames[cls] ?? `class ${cls}`) : "");
  const inputClass = (idx: number) => (labels && idx < labels.length ? name(labels[idx]) : "");

  // Input whose top channels are overlaid: the clicked cell's, else the first selected in view.
  const focusInput = cell && colOf.has(cell.index) ? cell.index : [...(selected ?? [])].find((i) => colOf.has(i));
  const top = useMemo(
    () => (focusInput === undefined ? [] : topChannels(data.values, colOf.get(focusInput)!, data.channels, 3)),
    [focusInput, data.values, data.channels, colOf],
  );
  const page = pageInfo(data.total_channels, data.offset, Math.max(1, data.limit));
  const showOverlays = Boolean(overlayUrl) && props.hasMaps !== false;

  return (
    <div className="cep-panel cep-heatmap" style={{ width }}>
      {(onOrder || (onPage && page.pages > 1)) && (
        <div className="cep-controls">
          {onOrder && (
            <select
              aria-label="Order channels by"
              value={data.order}
              onChange={(e) => onOrder(e.target.value as HeatmapOrder)}
            >
              {HEATMAP_ORDERS.map((o) => (
                <option key={o} value={o} disabled={(o === "filter_norm" || o === "taylor") && !data.metrics[o]}>
                  {ORDER_LABELS[o]}
                </option>
              ))}
            </select>
          )}
          {onPage && page.pages > 1 && (
            <span className="cep-paging" data-testid="heatmap-paging">
              <button
                type="button"
                aria-label="Previous channels"
                disabled={page.prevOffset === null}
                onClick={() => page.prevOffset !== null && onPage(page.prevOffset)}
              >
                ‹
              </button>
              <span>
                {page.from}–{page.to} / {data.total_channels}
              </span>
              <button
                type="button"
                aria-label="Next channels"
                disabled={page.nextOffset === null}
                onClick={() => page.nextOffset !== null && onPage(page.nextOffset)}
              >
                ›
              </button>
            </span>
          )}
        </div>
      )}
      <div className="cep-heatmap__head" style={{ height: MARK_H + 12 }}>
        <div className="cep-group-labels" style={{ width: layout.heatW }} aria-hidden="true">
          {groups.map((g, k) => (
            <span
              key={k}
              title={name(g.cls) || `group ${k}`}
              style={{ left: g.start * layout.cellW, width: (g.end - g.start) * layout.cellW }}
            >
              {name(g.cls) || `group ${k}`}
            </span>
          ))}
        </div>
        <div className="cep-metric-heads" style={{ left: layout.metricX }}>
          {metricKeys.map((k) => (
            <span
              key={k}
              title={METRIC_LABELS[k]}
              style={{ width: METRIC_W }}
              className={k === data.order ? "cep-active" : undefined}
            >
              {METRIC_SHORT[k]}
            </span>
          ))}
        </div>
        {selected && selected.size > 0 && (
          <div className="cep-marks" style={{ width: layout.heatW, height: MARK_H }}>
            {[...selected].map((idx) =>
              colOf.has(idx) ? (
                <span
                  key={idx}
                  title={`input #${idx}`}
                  style={{ left: colOf.get(idx)! * layout.cellW, width: Math.max(2, layout.cellW) }}
                />
              ) : null,
            )}
          </div>
        )}
      </div>
      <div
        className="cep-canvas-wrap cep-heatmap__body"
        style={{ height: layout.heatH, width: layout.width }}
        onMouseLeave={() => setHover(null)}
      >
        <canvas
          ref={setHeatCanvas}
          data-testid="heatmap"
          data-rows={rows}
          data-cols={cols}
          style={{ width: layout.heatW, height: layout.heatH }}
          tabIndex={0}
          role="img"
          aria-label={`Activation heatmap of ${rows} channels by ${cols} inputs, ordered by ${ORDER_LABELS[data.order]}; arrow keys move, Enter shows the overlay`}
          onClick={onHeatClick}
          onMouseMove={onHeatMove}
          onKeyDown={onKey}
          onBlur={() => setHover(null)}
        />
        {markedRows.length > 0 && (
          <RowMarks
            rows={markedRows}
            rowHeight={layout.cellH}
            left={layout.heatW + 1}
            height={layout.heatH}
            title={(r) => `channel ${data.channels[r]} (selected)`}
          />
        )}
        {metricKeys.length > 0 && (
          <canvas
            ref={setMetricCanvas}
            data-testid="heatmap-metrics"
            className="cep-heatmap__metrics"
            style={{ left: layout.metricX, width: metricsW, height: layout.heatH }}
            aria-hidden="true"
            onMouseMove={onMetricMove}
          />
        )}
        {hover && (
          <div
            className="cep-tooltip"
            data-testid="heatmap-tooltip"
            style={{
              left: Math.min(hover.x + 12, width - 170),
              top: Math.min(hover.y + 12, Math.max(0, layout.heatH - 40)),
            }}
          >
            {hover.hit.kind === "cell" ? (
              <span>
                channel {data.channels[hover.hit.row]} · input #{data.columns[hover.hit.col]}{" "}
                {inputClass(data.columns[hover.hit.col])}: {fmt(data.values[hover.hit.row][hover.hit.col])}
              </span>
            ) : (
              <span>
                channel {data.channels[hover.hit.row]} · {METRIC_LABELS[metricKeys[hover.hit.metric]]}:{" "}
                {fmt((data.metrics[metricKeys[hover.hit.metric]] as number[])[hover.hit.row])}
              </span>
            )}
          </div>
        )}
      </div>
      <div className="cep-colorbar">
        <span>{fmt(data.range[0])}</span>
        <span className="cep-colorbar__ramp" style={{ background: lutGradient(lut) }} aria-hidden="true" />
        <span>{fmt(data.range[1])}</span>
        <span className="cep-muted">below 10th pct. ({fmt(data.threshold)}) cleared</span>
      </div>
      {showOverlays && overlayUrl && (cell || focusInput !== undefined) && (
        <div className="cep-overlays" data-testid="heatmap-overlays">
          {cell && (
            <OverlayView
              src={overlayUrl(cell.index, cell.channel)}
              channel={cell.channel}
              index={cell.index}
              size={96}
            />
          )}
          {focusInput !== undefined && top.length > 0 && (
            <div className="cep-top3" aria-label={`Top ${top.length} channels of input ${focusInput}`}>
              {top.map((t, k) => (
                <OverlayView
                  key={t.channel}
                  src={overlayUrl(focusInput, t.channel)}
                  channel={t.channel}
                  index={focusInput}
                  size={64}
                  testId="overlay-top"
                  caption={`top ${k + 1}: ch ${t.channel}`}
                />
              ))}
            </div>
          )}
        </div>
      )}
      {overlayUrl && props.hasMaps === false && cell && (
        <p className="cep-muted" role="note">
          No activation maps were logged for this layer.
        </p>
      )}
      {onSelect && cell && (
        <button
          type="button"
          className="cep-link"
          onClick={() => onSelect([cell.index])}
          aria-label={`Select input ${cell.index}`}
        >
          select input #{cell.index}
        </button>
      )}
    </div>
  );
}
