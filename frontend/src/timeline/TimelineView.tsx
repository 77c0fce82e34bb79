/**
 * The timeline mode: how class separability evolves over training.
 *
 * One run: a layer x step heatmap of the separability score (rows in graph
 * order) under an accuracy strip; clicking a cell opens that layer at that
 * step in the graph; choosing a row shows the layer's animated trajectory and
 * its difference between two steps below. Several runs: one line per run of a
 * chosen layer's score over steps, accuracy dashed.
 */
import { useMemo, useState, type KeyboardEvent } from "react";
import { line, scaleLinear, schemeTableau10 } from "d3";
import * as api from "../api";
import { AsyncView, ErrorBox, Loading } from "../components/Status";
import { useAsync } from "../components/useAsync";
import type { ViewSettings } from "../graph/context";
import { DiffHost, TrajectoryHost } from "../graph/TrendHosts";
import { colormapLut, lutColor, lutGradient } from "../transforms/color";
import { moveCursor } from "../transforms/matrix";
import { layerSeries, scoreDomain, timelineGrid, unionLayers } from "../transforms/timeline";
import type { TimelineGrid } from "../transforms/timeline";
import type { RunInfo, TimelineResponse, TimelineRun } from "../types";

/** Opens `layer` of `run` at `step` in the graph mode. */
export type OpenLayer = (run: string, step: number, layer: string) => void;

const SCORE_NAMES: Record<string, string> = {
  knn_loo: "kNN leave-one-out accuracy",
};

/** Human name of a score id (the id itself when unknown). */
export function scoreName(score: string): string {
  return SCORE_NAMES[score] ?? score;
}

function fmt(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}

/** The notice shown when TensorBoard's sampling dropped steps. */
export function DownsampleNotice({ run, kept, written }: { run: string; kept: number; written: number }) {
  return (
    <p className="ce-notice" role="note" data-testid="downsampled-notice">
      <b>{run}</b>: TensorBoard kept {kept} of {written} logged steps; start tensorboard with{" "}
      <code>--samples_per_plugin channelexplorer=0</code> to keep all.
    </p>
  );
}

const LABEL_W = 150;
const ACC_H = 52;
const HEAD_H = 18;

/** Layer x step heatmap of one run, with an accuracy strip above. */
function TimelineHeatmap({
  run,
  grid,
  domain,
  score,
  maxWidth,
  activeLayer,
  onLayer,
  onOpen,
}: {
  run: string;
  grid: TimelineGrid;
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
  const [cursor, setCursor] = useState<{ row: number; col: number } | null>(null);
  const hasAcc = grid.accuracy.some((a) => a !== null);
  const accY = scaleLinear().domain([0, 1]).range([ACC_H - 8, 8]);
  const accPath = useMemo(() => {
    const pts = grid.accuracy
      .map((a, c) => (a === null ? null : ([LABEL_W + (c + 0.5) * cellW, accY(a)] as [number, number])))
      .filter((p): p is [number, number] => p !== null);
    return line()(pts) ?? "";
  }, [grid.accuracy, cellW, accY]);
  const chancePath = useMemo(() => {
    const pts = grid.chance
      .map((a, c) => (a === null ? null : ([LABEL_W + (c + 0.5) * cellW, accY(a)] as [number, number])))
      .filter((p): p is [number, number] => p !== null);
    return line()(pts) ?? "";
  }, [grid.chance, cellW, accY]);
  // Label every k-th step so numbers never overlap.
  const every = Math.max(1, Math.ceil(34 / cellW));
  const showValues = cellW >= 34 && cellH >= 18;

  const onKey = (e: KeyboardEvent<SVGSVGElement>) => {
    if (!rows || !cols) return;
    const cur = cursor ?? { row: 0, col: cols - 1 };
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      onOpen(run, grid.steps[cur.col], grid.layers[cur.row]);
      return;
    }
    const next = moveCursor(cur, e.key, rows, cols);
    if (next) {
      e.preventDefault();
      setCursor(next);
      onLayer(grid.layers[next.row]);
    }
  };

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
        <line x1={LABEL_W} x2={LABEL_W + cols * cellW} y1={accY(0)} y2={accY(0)} stroke="#e0e0e0" />
        <line x1={LABEL_W} x2={LABEL_W + cols * cellW} y1={accY(1)} y2={accY(1)} stroke="#eeeeee" strokeDasharray="2 3" />
        {hasAcc ? (
          <>
            {grid.chance.some((c) => c !== null) && (
              <path
                d={chancePath}
                fill="none"
                stroke="#bdbdbd"
                strokeWidth={1}
                strokeDasharray="1 3"
                data-testid="timeline-chance"
              >
                <title>chance level (share of the most frequent class)</title>
              </path>
            )}
            <path d={accPath} fill="none" stroke="#616161" strokeWidth={1.5} strokeDasharray="5 3" />
            {grid.accuracy.map((a, c) =>
              a === null ? null : (
                <g key={c}>
                  <circle cx={LABEL_W + (c + 0.5) * cellW} cy={accY(a)} r={2.5} fill="#424242">
                    <title>{`step ${grid.steps[c]}: accuracy ${fmt(a, 3)}`}</title>
                  </circle>
                  {cellW >= 34 && (
                    <text x={LABEL_W + (c + 0.5) * cellW} y={accY(a) - 5} textAnchor="middle" className="ce-timeline__small">
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
            <text key={s} x={LABEL_W + (c + 0.5) * cellW} y={ACC_H + HEAD_H - 5} textAnchor="middle" className="ce-timeline__small">
              {s}
            </text>
          ) : null,
        )}
      </g>
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
                  fill={v === null ? "#eeeeee" : lutColor(lut, tv)}
                  className="ce-timeline__cell"
                  data-testid="timeline-cell"
                  data-layer={layer}
                  data-step={grid.steps[c]}
                  data-value={v === null ? "" : v}
                  onClick={() => onOpen(run, grid.steps[c], layer)}
                >
                  <title>{`${layer} at step ${grid.steps[c]}: ${v === null ? "not logged" : `${scoreName(score)} ${fmt(v, 3)}`}\nclick to open in the graph`}</title>
                </rect>
                {showValues && v !== null && (
                  <text
                    x={x + cellW / 2}
                    y={y + cellH / 2}
                    textAnchor="middle"
                    dominantBaseline="central"
                    pointerEvents="none"
                    className="ce-timeline__value"
                    fill={tv > 0.6 ? "#212121" : "#ffffff"}
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
          stroke="#1976d2"
          strokeWidth={2}
          pointerEvents="none"
        />
      )}
    </svg>
  );
}

function ColorLegend({ domain, score }: { domain: [number, number]; score: string }) {
  const lut = colormapLut("viridis");
  return (
    <div className="ce-timeline__legend" aria-label={`Colour scale of ${scoreName(score)} from ${fmt(domain[0])} to ${fmt(domain[1])}`}>
      <span className="ce-muted">{scoreName(score)}</span>
      <span>{fmt(domain[0])}</span>
      <span className="ce-timeline__ramp" style={{ background: lutGradient(lut, 10) }} />
      <span>{fmt(domain[1])}</span>
      <span className="ce-timeline__missing" aria-hidden="true" />
      <span className="ce-muted">not logged</span>
    </div>
  );
}

const RUN_COLORS = schemeTableau10;

/** Score of one layer over steps, one line per run; accuracy dashed. */
function TimelineLines({
  data,
  layer,
  domain,
  width,
  onOpen,
}: {
  data: TimelineResponse;
  layer: string;
  domain: [number, number];
  width: number;
  onOpen: OpenLayer;
}) {
  const height = 320;
  const m = { top: 14, right: 20, bottom: 34, left: 48 };
  const series = useMemo(() => layerSeries(data, layer), [data, layer]);
  const allSteps = data.runs.flatMap((r) => r.steps);
  const x = scaleLinear()
    .domain(allSteps.length ? [Math.min(...allSteps), Math.max(...allSteps)] : [0, 1])
    .range([m.left, width - m.right]);
  if (x.domain()[0] === x.domain()[1]) x.domain([x.domain()[0] - 1, x.domain()[1] + 1]);
  const y = scaleLinear()
    .domain([Math.min(domain[0], 0), Math.max(domain[1], 1)])
    .range([height - m.bottom, m.top])
    .nice();
  const path = line<{ step: number; value: number }>()
    .x((p) => x(p.step))
    .y((p) => y(p.value));
  const xTicks = x.ticks(Math.min(10, Math.max(2, allSteps.length))).filter((t) => Number.isInteger(t));
  return (
    <div className="ce-col">
      <svg
        width={width}
        height={height}
        className="ce-timeline__lines"
        data-testid="timeline-lines"
        data-runs={series.length}
        data-layer={layer}
        role="img"
        aria-label={`${scoreName(data.score)} of layer ${layer} over steps for ${series.length} runs; accuracy dashed`}
      >
        {y.ticks(5).map((t) => (
          <g key={t}>
            <line x1={m.left} x2={width - m.right} y1={y(t)} y2={y(t)} stroke="#eeeeee" />
            <text x={m.left - 6} y={y(t)} textAnchor="end" dominantBaseline="middle" className="ce-timeline__small">
              {t.toFixed(1)}
            </text>
          </g>
        ))}
        <line x1={m.left} x2={width - m.right} y1={height - m.bottom} y2={height - m.bottom} stroke="#9e9e9e" />
        {xTicks.map((t) => (
          <text key={t} x={x(t)} y={height - m.bottom + 14} textAnchor="middle" className="ce-timeline__small">
            {t}
          </text>
        ))}
        <text x={(m.left + width - m.right) / 2} y={height - 4} textAnchor="middle" className="ce-timeline__label">
          step
        </text>
        {series.map((s, k) => {
          const color = RUN_COLORS[k % RUN_COLORS.length];
          return (
            <g key={s.run} data-run={s.run}>
              <path d={path(s.accuracy) ?? ""} fill="none" stroke={color} strokeWidth={1.5} strokeDasharray="5 4" opacity={0.8} />
              <path d={path(s.score) ?? ""} fill="none" stroke={color} strokeWidth={2.2} />
              {s.score.map((p) => (
                <circle
                  key={p.step}
                  cx={x(p.step)}
                  cy={y(p.value)}
                  r={4}
                  fill={color}
                  stroke="#fff"
                  strokeWidth={1.2}
                  tabIndex={0}
                  role="button"
                  className="ce-timeline__point"
                  data-testid="timeline-point"
                  aria-label={`${s.run}, step ${p.step}: ${fmt(p.value, 3)}. Open ${layer} at this step`}
                  onClick={() => onOpen(s.run, p.step, layer)}
                  onKeyDown={(e) => {
                    if (e.key === "Enter" || e.key === " ") {
                      e.preventDefault();
                      onOpen(s.run, p.step, layer);
                    }
                  }}
                >
                  <title>{`${s.run} · step ${p.step}: ${fmt(p.value, 3)}`}</title>
                </circle>
              ))}
            </g>
          );
        })}
      </svg>
      <ul className="ce-timeline__runs-legend" aria-label="Runs">
        {series.map((s, k) => (
          <li key={s.run}>
            <span className="ce-timeline__swatch" style={{ background: RUN_COLORS[k % RUN_COLORS.length] }} aria-hidden="true" />
            {s.run}
            {!s.score.length && <span className="ce-muted"> (layer not logged)</span>}
          </li>
        ))}
        <li className="ce-muted">solid: {scoreName(data.score)} · dashed: accuracy</li>
      </ul>
    </div>
  );
}

/** The layer's trajectory and diff, side by side, under the single-run heatmap. */
function LayerDetails({ run, layer, step, settings }: { run: string; layer: string; step: number; settings: ViewSettings }) {
  const manifest = useAsync((signal) => api.layers({ run, step }, signal), [run, step]);
  if (manifest.error) return <ErrorBox error={manifest.error} title={`Could not load ${run}`} />;
  if (!manifest.data) return <Loading label="Loading layer…" compact />;
  const common = { run, step, layer, settings, classNames: manifest.data.class_names };
  return (
    <div className="ce-timeline__details" data-testid="timeline-details" data-layer={layer}>
      <section className="ce-card" aria-label={`Trajectory of ${layer}`}>
        <h3 className="ce-card__title">
          Trajectory <span className="ce-muted">{layer}</span>
        </h3>
        <div style={{ height: 390 }}>
          <TrajectoryHost {...common} width={440} height={380} />
        </div>
      </section>
      <section className="ce-card" aria-label={`Diff of ${layer}`}>
        <h3 className="ce-card__title">
          Diff <span className="ce-muted">{layer}</span>
        </h3>
        <DiffHost {...common} width={440} height={300} />
      </section>
    </div>
  );
}

function RunChecklist({ runs, selected, onChange }: { runs: RunInfo[]; selected: string[]; onChange: (runs: string[]) => void }) {
  return (
    <fieldset className="ce-timeline__runpick" data-testid="timeline-runs">
      <legend>Runs</legend>
      {runs.map((r) => (
        <label key={r.run} className="ce-check">
          <input
            type="checkbox"
            checked={selected.includes(r.run)}
            data-run={r.run}
            onChange={(e) => {
              const next = e.target.checked ? [...selected, r.run] : selected.filter((x) => x !== r.run);
              // Keep the runs' listing order, and never an empty choice.
              if (next.length) onChange(runs.map((x) => x.run).filter((x) => next.includes(x)));
            }}
          />
          {r.run}
        </label>
      ))}
    </fieldset>
  );
}

/**
 * The timeline mode.
 *
 * Args (props):
 *   runs: every run of `/runs`.
 *   selected: runs shown (one: heatmap; several: lines).
 *   onSelected: change the runs shown.
 *   settings: toolbar settings (summary function and stage).
 *   onOpen: open a layer at a step in the graph mode.
 */
export function TimelineView({
  runs,
  selected,
  onSelected,
  settings,
  onOpen,
}: {
  runs: RunInfo[];
  selected: string[];
  onSelected: (runs: string[]) => void;
  settings: ViewSettings;
  onOpen: OpenLayer;
}) {
  const fn = settings.fn === "auto" ? "l2" : settings.fn;
  const key = selected.join("\u0000");
  const state = useAsync((signal) => api.timeline({ runs: selected, fn, stage: settings.stage }, signal), [key, fn, settings.stage]);
  const [layer, setLayer] = useState<string | null>(null);
  const single = selected.length === 1;
  const manifest = useAsync(
    single ? (signal) => api.layers({ run: selected[0] }, signal) : null,
    [single ? selected[0] : ""],
  );
  const order = manifest.data?.layers.map((l) => l.name);

  return (
    <div className="ce-timeline" data-testid="timeline" data-runs={selected.length}>
      <div className="ce-timeline__bar">
        <RunChecklist runs={runs} selected={selected} onChange={onSelected} />
        <span className="ce-muted">
          {single
            ? "Click a cell to open that layer at that step; click a layer name for its trajectory and diff."
            : "Click a point to open that layer at that step."}
        </span>
      </div>
      <AsyncView state={state} label="Scoring layers at every step…">
        {(data) => (
          <TimelineBody data={data} order={order} single={single} layer={layer} onLayer={setLayer} settings={settings} onOpen={onOpen} />
        )}
      </AsyncView>
    </div>
  );
}

function TimelineBody({
  data,
  order,
  single,
  layer,
  onLayer,
  settings,
  onOpen,
}: {
  data: TimelineResponse;
  order: string[] | undefined;
  single: boolean;
  layer: string | null;
  onLayer: (l: string) => void;
  settings: ViewSettings;
  onOpen: OpenLayer;
}) {
  const run: TimelineRun | undefined = data.runs[0];
  const grid = useMemo(() => (run ? timelineGrid(run, order) : null), [run, order]);
  const domain = useMemo(() => scoreDomain(data.runs.flatMap((r) => r.scores)), [data]);
  const layers = useMemo(() => {
    const all = unionLayers(data);
    if (!order) return all;
    const rank = new Map(order.map((l, i) => [l, i]));
    return [...all].sort((a, b) => (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity));
  }, [data, order]);
  // Default layer: the last one (deepest) — where separability matters most.
  const active = layer && layers.includes(layer) ? layer : (layers[layers.length - 1] ?? null);
  const notices = data.runs.filter((r) => r.downsampled);
  if (!data.runs.length || !run || !grid) return <p className="ce-hint ce-pad">No run selected.</p>;
  const lastStep = run.steps[run.steps.length - 1];
  return (
    <div className="ce-timeline__body">
      {notices.map((r) => (
        <DownsampleNotice key={r.run} run={r.run} kept={r.steps.length} written={r.steps_written} />
      ))}
      {single ? (
        <>
          <section className="ce-card" aria-label={`Separability timeline of ${run.run}`}>
            <h3 className="ce-card__title">
              Separability per layer and step <span className="ce-muted">{run.run}</span>
            </h3>
            {grid.layers.length && grid.steps.length ? (
              <>
                <div className="ce-timeline__scroll">
                  <TimelineHeatmap
                    run={run.run}
                    grid={grid}
                    domain={domain}
                    score={data.score}
                    maxWidth={1100}
                    activeLayer={active}
                    onLayer={onLayer}
                    onOpen={onOpen}
                  />
                </div>
                <ColorLegend domain={domain} score={data.score} />
              </>
            ) : (
              <p className="ce-hint">This run has no scored layers.</p>
            )}
          </section>
          {active && lastStep !== undefined && <LayerDetails run={run.run} layer={active} step={lastStep} settings={settings} />}
        </>
      ) : (
        <section className="ce-card" aria-label="Separability of a layer across runs">
          <h3 className="ce-card__title">
            Separability of{" "}
            <select
              aria-label="Layer"
              value={active ?? ""}
              onChange={(e) => onLayer(e.target.value)}
              data-testid="timeline-layer-select"
            >
              {layers.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>{" "}
            <span className="ce-muted">across {data.runs.length} runs</span>
          </h3>
          {active ? <TimelineLines data={data} layer={active} domain={domain} width={900} onOpen={onOpen} /> : null}
        </section>
      )}
    </div>
  );
}
