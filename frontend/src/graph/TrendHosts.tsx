/**
 * Containers of the across-steps panels (trajectory, diff). Unlike the other
 * panel hosts they take their (run, step, settings) as props, so the same
 * container serves a layer node (through `PanelHosts`) and the timeline mode.
 * Each fetches through `api.ts`, shows loading / error states and maps the
 * shared selection (input indices of the shown step) to the route's inputs
 * by sample id.
 */
import { useCallback, useId, useMemo, useState } from "react";
import * as api from "../api";
import { AsyncView, ErrorBox, Loading } from "../components/Status";
import { useAsync } from "../components/useAsync";
import { usePanelSelection } from "../state";
import { DiffPanel, TrajectoryPanel } from "../panels";
import type { TrajectoryParams } from "../panels";
import type { RunInfo } from "../types";
import type { ViewSettings } from "./context";
import { fnFor } from "./context";

/** What the across-steps hosts need to know about where they are shown. */
export interface TrendProps {
  run: string;
  /** The step the surrounding view shows (the trajectory starts there; diff B defaults to it). */
  step: number;
  layer: string;
  settings: ViewSettings;
  classNames: string[];
  width: number;
  /** Height of the trajectory panel, or side of the diff matrix. */
  height: number;
}

/**
 * Maps between the input indices of (run, step) — the shared selection — and
 * rows of a route answer listed by `sample_ids`.
 */
function useIdMapping(run: string, step: number, sampleIds: ReadonlyArray<number | string> | undefined) {
  const inputs = useAsync((signal) => api.inputs({ run, step }, signal), [run, step]);
  return useMemo(() => {
    const ids = inputs.data?.sample_ids;
    const rowOfId = new Map<string, number>();
    (sampleIds ?? []).forEach((id, r) => rowOfId.set(String(id), r));
    const inputOfId = new Map<string, number>();
    (ids ?? []).forEach((id, i) => {
      if (!inputOfId.has(String(id))) inputOfId.set(String(id), i);
    });
    return {
      /** Input indices -> rows (inputs not matched are left out). */
      toRows(indices: Iterable<number>): Set<number> {
        const out = new Set<number>();
        if (!ids) return out;
        for (const i of indices) {
          const r = i >= 0 && i < ids.length ? rowOfId.get(String(ids[i])) : undefined;
          if (r !== undefined) out.add(r);
        }
        return out;
      },
      /** Rows -> input indices of the step. */
      toInputs(rows: Iterable<number>): number[] {
        const out: number[] = [];
        for (const r of rows) {
          const id = sampleIds?.[r];
          const i = id === undefined ? undefined : inputOfId.get(String(id));
          if (i !== undefined) out.push(i);
        }
        return out;
      },
    };
  }, [inputs.data, sampleIds]);
}

/** The animated aligned scatterplot of a layer across the run's steps. */
export function TrajectoryHost({ run, step, layer, settings, classNames, width, height }: TrendProps) {
  const [params, setParams] = useState<TrajectoryParams>({ method: "pca", align: "procrustes" });
  const fn = fnFor(settings, "scatter");
  const state = useAsync(
    (signal) =>
      api.trajectory({ run, layer, method: params.method, align: params.align, seed: 0, fn, stage: settings.stage }, signal),
    [run, layer, params.method, params.align, fn, settings.stage],
  );
  const sel = usePanelSelection(`trajectory:${layer}`);
  const mapping = useIdMapping(run, step, state.data?.sample_ids);
  const selectedRows = useMemo(() => mapping.toRows(sel.selected), [mapping, sel.selected]);
  const onSelect = useCallback((rows: number[]) => sel.onSelect(mapping.toInputs(rows)), [sel, mapping]);
  return (
    <AsyncView state={state} label="Projecting every step…" compact>
      {(data) => (
        <TrajectoryPanel
          // A new layer or run starts at the surrounding view's step.
          key={`${run}/${layer}`}
          data={data}
          classNames={classNames}
          selected={selectedRows}
          onSelect={onSelect}
          params={params}
          onParams={(change) => setParams((p) => ({ ...p, ...change }))}
          initialFrame={Math.max(0, data.steps.indexOf(step))}
          width={width}
          height={height}
        />
      )}
    </AsyncView>
  );
}

/** A (run, step) pair of the diff view. */
export interface DiffSide {
  run: string;
  step: number;
}

/** Default A and B: first step vs the shown step (the last one when the shown step is the first). */
export function defaultDiffSides(run: string, step: number, steps: readonly number[]): { a: DiffSide; b: DiffSide } {
  const first = steps.length ? steps[0] : step;
  const last = steps.length ? steps[steps.length - 1] : step;
  return { a: { run, step: first }, b: { run, step: step === first && last !== first ? last : step } };
}

function SidePick({
  label,
  side,
  runs,
  onChange,
  testId,
}: {
  label: string;
  side: DiffSide;
  runs: RunInfo[];
  onChange: (s: DiffSide) => void;
  testId: string;
}) {
  const id = useId();
  const info = runs.find((r) => r.run === side.run);
  const steps = info?.steps ?? [side.step];
  return (
    <span className="ce-diff-pick" role="group" aria-labelledby={id}>
      <b id={id}>{label}</b>
      <select
        aria-label={`Run of ${label}`}
        value={side.run}
        data-testid={`${testId}-run`}
        onChange={(e) => {
          const r = runs.find((x) => x.run === e.target.value);
          if (r) onChange({ run: r.run, step: r.steps.includes(side.step) ? side.step : r.steps[r.steps.length - 1] ?? 0 });
        }}
      >
        {runs.map((r) => (
          <option key={r.run} value={r.run}>
            {r.run}
          </option>
        ))}
      </select>
      <select
        aria-label={`Step of ${label}`}
        value={String(side.step)}
        data-testid={`${testId}-step`}
        onChange={(e) => onChange({ run: side.run, step: Number(e.target.value) })}
      >
        {steps.map((s) => (
          <option key={s} value={String(s)}>
            step {s}
          </option>
        ))}
      </select>
    </span>
  );
}

/** The B − A difference of a layer, with A / B pickers (run + step each). */
export function DiffHost({ run, step, layer, settings, classNames, width, height }: TrendProps) {
  const runsState = useAsync((signal) => api.runs(signal), []);
  const runs = runsState.data?.runs ?? [];
  const info = runs.find((r) => r.run === run);
  const [chosen, setChosen] = useState<{ a: DiffSide | null; b: DiffSide | null }>({ a: null, b: null });
  const defaults = defaultDiffSides(run, step, info?.steps ?? []);
  const a = chosen.a ?? defaults.a;
  const b = chosen.b ?? defaults.b;
  const fn = fnFor(settings, "heatmap");
  const ready = runsState.data !== null;
  const state = useAsync(
    ready
      ? (signal) =>
          api.diff(
            {
              run: a.run,
              step: a.step,
              layer,
              runB: b.run,
              stepB: b.step,
              fn,
              stage: settings.stage,
              eta: settings.eta,
              order: settings.heatmapOrder,
            },
            signal,
          )
      : null,
    [ready, a.run, a.step, b.run, b.step, layer, fn, settings.stage, settings.eta, settings.heatmapOrder],
  );
  const sel = usePanelSelection(`diff:${layer}`);
  const mapping = useIdMapping(run, step, state.data?.sample_ids);
  const onPair = useCallback((i: number, j: number) => sel.onSelect(mapping.toInputs(i === j ? [i] : [i, j])), [sel, mapping]);
  if (runsState.error) return <ErrorBox error={runsState.error} title="Could not list runs" />;
  if (!ready) return <Loading label="Loading runs…" compact />;
  return (
    <div className="ce-col ce-diff-host" data-testid="diff-host">
      <div className="ce-diff-picks">
        <SidePick label="A" side={a} runs={runs} testId="diff-a" onChange={(s) => setChosen((c) => ({ ...c, a: s }))} />
        <SidePick label="B" side={b} runs={runs} testId="diff-b" onChange={(s) => setChosen((c) => ({ ...c, b: s }))} />
      </div>
      <AsyncView state={state} label="Comparing…" compact>
        {(data) => <DiffPanel data={data} classNames={classNames} onPair={onPair} width={width} size={height} />}
      </AsyncView>
    </div>
  );
}
