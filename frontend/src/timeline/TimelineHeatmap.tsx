/**
 * Layer x step heatmap of one run's separability score under an accuracy
 * strip; a cell click (or Enter on the keyboard cursor) opens that layer at
 * that step in the graph, a layer name chooses the row shown below.
 */
import { line, scaleLinear } from "d3";
import { colormapLut, lutColor } from "../transforms/color";
import { useGridCursor } from "../hooks/useGridCursor";
import type { TimelineGrid } from "../transforms/timeline";
import { nearestStep } from "../sideChoice";
import { OpenLayer, scoreName, fmt } from "./format";

export const LABEL_W = 150;

export const ACC_H = 52;

export const HEAD_H = 18;

/** Layer x step heatmap of one run, with an accuracy strip above. */
export function TimelineHeatmap({
  run,
  grid,
  domain,
  score,
  maxWidth,
  activeLayer,
  onLayer,
  onOpen,
  fullSteps = null,
}: {
  run: string;
  grid: TimelineGrid;
  /** Steps kept in full when some are compact (`keptInFull`): marked under their numbers; null: all full. */
  fullSteps?: number[] | null;
  domain: [number, number];
  score: string;
  maxWidth: number;
  activeLayer: string | null;
  onLayer: (layer: string) => void;
  onOpen: OpenLayer;
}) {
  const rows = grid.layers.length;
  const cols = grid.steps.length;
  const cellW = Math.max(6, Math.min(64, Math.floor((maxWidth - LABEL_W - 12) / Math.max(1, cols))));
  const cellH = rows > 40 ? 12 : 24;
  const width = LABEL_W + cols * cellW + 12;
  const height = ACC_H + HEAD_H + rows * cellH + 2;
  const y0 = ACC_H + HEAD_H;
  const lut = colormapLut("viridis");
  const t = (v: number) => (domain[1] > domain[0] ? (v - domain[0]) / (domain[1] - domain[0]) : 0);
  const {
    cursor,
    setCursor,
    onKeyDown: onKey,
  } = useGridCursor(rows, cols, {
    start: { row: 0, col: cols - 1 },
    onEnter: (cur) => onOpen(run, grid.steps[cur.col], grid.layers[cur.row]),
    onMove: (next) => onLayer(grid.layers[next.row]),
  });
  const hasAcc = grid.accuracy.some((a) => a !== null);
  const accY = scaleLinear()
    .domain([0, 1])
    .range([ACC_H - 8, 8]);
  // One point per logged step, joined across steps where the value is missing.
  const stripPath = (values: Array<number | null>) =>
    line()(
      values
        .map((a, c) => (a === null ? null : ([LABEL_W + (c + 0.5) * cellW, accY(a)] as [number, number])))
        .filter((p): p is [number, number] => p !== null),
    ) ?? "";
  const accPath = stripPath(grid.accuracy);
  const chancePath = stripPath(grid.chance);
  // Label every k-th step so numbers never overlap.
  const every = Math.max(1, Math.ceil(34 / cellW));
  const showValues = cellW >= 34 && cellH >= 18;
  const full = fullSteps ? new Set(fullSteps) : null;
  // What a click on a column opens: the nearest step kept in full (the step itself when it is full).
  const opens = fullSteps ? grid.steps.map((s) => nearestStep(fullSteps, s) ?? s) : grid.steps;

  return (
    <svg
      width={width}
      height={height}
      className="ce-timeline__grid"
      data-testid="timeline-grid"
      data-run={run}
      data-rows={rows}
      data-cols={cols}
      tabIndex={0}
      role="grid"
      aria-label={`${scoreName(score)} of ${rows} layers at ${cols} steps of ${run}. Arrow keys move, Enter opens the layer at that step.`}
      onKeyDown={onKey}
      onBlur={() => setCursor(null)}
    >
      {/* accuracy strip */}
      <g className="ce-timeline__acc">
        <text x={LABEL_W - 8} y={ACC_H / 2} textAnchor="end" dominantBaseline="middle" className="ce-timeline__label">
          accuracy
        </text>
        <line x1={LABEL_W} x2={LABEL_W + cols * cellW} y1={accY(0)} y2={accY(0)} stroke="var(--ce-border)" />
        <line
          x1={LABEL_W}
          x2={LABEL_W + cols * cellW}
          y1={accY(1)}
          y2={accY(1)}
          stroke="var(--ce-border-soft)"
          strokeDasharray="2 3"
        />
        {hasAcc ? (
          <>
            {grid.chance.some((c) => c !== null) && (
              <path
                d={chancePath}
                fill="none"
                stroke="var(--ce-border-strong)"
                strokeWidth={1}
                strokeDasharray="1 3"
                data-testid="timeline-chance"
              >
                <title>chance level (share of the most frequent class)</title>
              </path>
            )}
            <path d={accPath} fill="none" stroke="var(--ce-muted)" strokeWidth={1.5} strokeDasharray="5 3" />
            {grid.accuracy.map((a, c) =>
              a === null ? null : (
                <g key={c}>
                  <circle cx={LABEL_W + (c + 0.5) * cellW} cy={accY(a)} r={2.5} fill="var(--ce-acc-point)">
                    <title>{`step ${grid.steps[c]}: accuracy ${fmt(a, 3)}`}</title>
                  </circle>
                  {cellW >= 34 && (
                    <text
                      x={LABEL_W + (c + 0.5) * cellW}
                      y={accY(a) - 5}
                      textAnchor="middle"
                      className="ce-timeline__small"
                    >
                      {fmt(a)}
                    </text>
                  )}
                </g>
              ),
            )}
          </>
        ) : (
          <text x={LABEL_W + 4} y={ACC_H / 2} dominantBaseline="middle" className="ce-timeline__small">
            not logged (log predictions to see it)
          </text>
        )}
      </g>
      {/* step header */}
      <g>
        {grid.steps.map((s, c) =>
          c % every === 0 || c === cols - 1 ? (
            <text
              key={s}
              x={LABEL_W + (c + 0.5) * cellW}
              y={ACC_H + HEAD_H - 5}
              textAnchor="middle"
              className="ce-timeline__small"
            >
              {s}
            </text>
          ) : null,
        )}
      </g>
      {/* steps kept in full: a bar under their number (only when some steps are compact) */}
      {full && (
        <g data-testid="timeline-full-steps" data-steps={fullSteps?.join(",")}>
          {grid.steps.map((s, c) =>
            full.has(s) ? (
              <rect
                key={s}
                x={LABEL_W + c * cellW + 1}
                y={y0 - 3}
                width={Math.max(2, cellW - 2)}
                height={2.5}
                className="ce-timeline__full"
                data-testid="timeline-full-step"
                data-step={s}
              >
                <title>{`step ${s} is kept in full: it opens in the graph`}</title>
              </rect>
            ) : null,
          )}
        </g>
      )}
      {/* rows */}
      {grid.layers.map((layer, r) => (
        <g key={layer} data-row={r}>
          <text
            x={LABEL_W - 8}
            y={y0 + (r + 0.5) * cellH}
            textAnchor="end"
            dominantBaseline="middle"
            className={`ce-timeline__label ce-timeline__layer${layer === activeLayer ? " is-active" : ""}`}
            data-testid="timeline-layer"
            data-layer={layer}
            onClick={() => onLayer(layer)}
          >
            <title>{`${layer}: click to show its trajectory and diff below`}</title>
            {layer.length > 22 ? `…${layer.slice(-21)}` : layer}
          </text>
          {grid.values[r].map((v, c) => {
            const x = LABEL_W + c * cellW;
            const y = y0 + r * cellH;
            const tv = v === null ? 0 : t(v);
            return (
              <g key={c}>
                <rect
                  x={x + 0.5}
                  y={y + 0.5}
                  width={cellW - 1}
                  height={cellH - 1}
                  rx={2}
                  fill={v === null ? "var(--ce-border-soft)" : lutColor(lut, tv)}
                  className="ce-timeline__cell"
                  data-testid="timeline-cell"
                  data-layer={layer}
                  data-step={grid.steps[c]}
                  data-value={v === null ? "" : v}
                  data-opens={opens[c]}
                  onClick={() => onOpen(run, grid.steps[c], layer)}
                >
                  <title>{`${layer} at step ${grid.steps[c]}: ${v === null ? "not logged" : `${scoreName(score)} ${fmt(v, 3)}`}\n${
                    opens[c] === grid.steps[c]
                      ? "click to open in the graph"
                      : `compact step (timeline record only): click opens step ${opens[c]}, the nearest kept in full`
                  }`}</title>
                </rect>
                {showValues && v !== null && (
                  <text
                    x={x + cellW / 2}
                    y={y + cellH / 2}
                    textAnchor="middle"
                    dominantBaseline="central"
                    pointerEvents="none"
                    className="ce-timeline__value"
                    fill={tv > 0.6 ? "var(--ce-on-light)" : "var(--ce-on-dark)"}
                  >
                    {fmt(v)}
                  </text>
                )}
              </g>
            );
          })}
        </g>
      ))}
      {cursor && (
        <rect
          x={LABEL_W + cursor.col * cellW}
          y={y0 + cursor.row * cellH}
          width={cellW}
          height={cellH}
          fill="none"
          stroke="var(--ce-focus)"
          strokeWidth={2}
          pointerEvents="none"
        />
      )}
    </svg>
  );
}
