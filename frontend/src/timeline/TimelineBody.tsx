/** The timeline's content once scored: one run's heatmap and details, or several runs' lines. */
import { useMemo } from "react";
import type { ViewSettings } from "../graph/context";
import { keptInFull, scoreDomain, timelineGrid, unionLayers } from "../transforms/timeline";
import type { TimelineResponse, TimelineRun } from "../types";
import { OpenLayer } from "./format";
import { DownsampleNotice } from "./DownsampleNotice";
import { FullStepsNote } from "./FullStepsNote";
import { TimelineHeatmap } from "./TimelineHeatmap";
import { ColorLegend } from "./ColorLegend";
import { TimelineLines } from "./TimelineLines";
import { LayerDetails } from "./LayerDetails";
import { GradNormSparklines } from "./GradNormSparklines";

export function TimelineBody({
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
  const fullSteps = useMemo(() => data.runs.map((r) => ({ run: r, full: keptInFull(r) })), [data]);
  if (!data.runs.length || !run || !grid) return <p className="ce-hint ce-pad">No run selected.</p>;
  // The details below need per-step data: the latest step kept in full.
  const full = fullSteps[0]?.full ?? null;
  const lastStep = full ? full[full.length - 1] : run.steps[run.steps.length - 1];
  return (
    <div className="ce-timeline__body">
      {notices.map((r) => (
        <DownsampleNotice key={r.run} run={r.run} kept={r.steps.length} written={r.steps_written} />
      ))}
      {fullSteps.map(({ run: r, full: kept }) =>
        kept ? <FullStepsNote key={r.run} run={r.run} full={kept} total={r.steps.length} /> : null,
      )}
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
                    fullSteps={full}
                  />
                </div>
                <ColorLegend domain={domain} score={data.score} />
              </>
            ) : (
              <p className="ce-hint">This run has no scored layers.</p>
            )}
          </section>
          <GradNormSparklines run={run} order={order} />
          {active && lastStep !== undefined && (
            <LayerDetails run={run.run} layer={active} step={lastStep} settings={settings} />
          )}
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
