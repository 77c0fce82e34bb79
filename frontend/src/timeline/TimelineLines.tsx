/** Several runs: one line per run of a layer's score over steps, accuracy dashed. */
import { useMemo } from "react";
import { line, scaleLinear, schemeTableau10 } from "d3";
import { layerSeries } from "../transforms/timeline";
import type { TimelineResponse } from "../types";
import { OpenLayer, scoreName, fmt } from "./format";

export const RUN_COLORS = schemeTableau10;

/** Score of one layer over steps, one line per run; accuracy dashed. */
export function TimelineLines({
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
            <line x1={m.left} x2={width - m.right} y1={y(t)} y2={y(t)} stroke="var(--ce-border-soft)" />
            <text x={m.left - 6} y={y(t)} textAnchor="end" dominantBaseline="middle" className="ce-timeline__small">
              {t.toFixed(1)}
            </text>
          </g>
        ))}
        <line x1={m.left} x2={width - m.right} y1={height - m.bottom} y2={height - m.bottom} stroke="var(--ce-faint)" />
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
              <path
                d={path(s.accuracy) ?? ""}
                fill="none"
                stroke={color}
                strokeWidth={1.5}
                strokeDasharray="5 4"
                opacity={0.8}
              />
              <path d={path(s.score) ?? ""} fill="none" stroke={color} strokeWidth={2.2} />
              {s.score.map((p) => (
                <circle
                  key={p.step}
                  cx={x(p.step)}
                  cy={y(p.value)}
                  r={4}
                  fill={color}
                  stroke="var(--ce-panel)"
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
            <span
              className="ce-timeline__swatch"
              style={{ background: RUN_COLORS[k % RUN_COLORS.length] }}
              aria-hidden="true"
            />
            {s.run}
            {!s.score.length && <span className="ce-muted"> (layer not logged)</span>}
          </li>
        ))}
        <li className="ce-muted">solid: {scoreName(data.score)} · dashed: accuracy</li>
      </ul>
    </div>
  );
}
