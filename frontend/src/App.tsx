/**
 * The tab: toolbar (run / step pickers, compare mode, view settings), one or two
 * model-graph sides, and the Dataset View side bar.
 */
import { useMemo, useState } from "react";
import * as api from "./api";
import { LabeledSelect, RunSelect, Segmented, StepPicker } from "./components/Controls";
import { DatasetSidebar } from "./components/Sidebar";
import { EmptyState, ErrorBox, Loading } from "./components/Status";
import { useAsync } from "./components/useAsync";
import { DEFAULT_SETTINGS, SideCtx } from "./graph/context";
import type { FocusRequest, SideContext, ViewSettings } from "./graph/context";
import { GraphView } from "./graph/GraphView";
import { SelectionProvider } from "./state";
import { DownsampleNotice, TimelineView } from "./timeline/TimelineView";
import type { DRMethod, HeatmapOrder, RunInfo, Stage, SummaryFn } from "./types";

/** A (run, step) pair; `step` null follows the run's latest step. */
interface SideChoice {
  run: string;
  step: number | null;
}

function resolveStep(info: RunInfo | undefined, step: number | null): number | null {
  if (!info || !info.steps.length) return null;
  if (step !== null && info.steps.includes(step)) return step;
  return info.steps[info.steps.length - 1];
}

function SidePicker({
  runs,
  choice,
  onChange,
  prefix,
}: {
  runs: RunInfo[];
  choice: SideChoice;
  onChange: (c: SideChoice) => void;
  prefix: "a" | "b";
}) {
  const info = runs.find((r) => r.run === choice.run);
  return (
    <span className="ce-sidepicker" data-side={prefix}>
      <RunSelect
        runs={runs}
        value={choice.run}
        label={prefix === "a" ? "Run" : "Run B"}
        testId={`run-select-${prefix}`}
        onChange={(run) => onChange({ run, step: null })}
      />
      <StepPicker
        steps={info?.steps ?? []}
        value={resolveStep(info, choice.step)}
        downsampled={info?.downsampled}
        testId={`step-select-${prefix}`}
        onChange={(step) => onChange({ run: choice.run, step })}
      />
    </span>
  );
}

/** Loads the manifest of a (run, step) and provides the side context. */
function Side({
  side,
  run,
  step,
  settings,
  withSidebar,
  focus,
}: {
  side: "a" | "b";
  run: string;
  step: number;
  settings: ViewSettings;
  withSidebar: boolean;
  focus?: FocusRequest | null;
}) {
  const state = useAsync((signal) => api.layers({ run, step }, signal), [run, step]);
  const ctx = useMemo<SideContext | null>(() => {
    if (!state.data) return null;
    return {
      side,
      run,
      step,
      settings,
      layers: new Map(state.data.layers.map((l) => [l.name, l])),
      classNames: state.data.class_names,
      nInputs: state.data.n_inputs,
    };
  }, [state.data, side, run, step, settings]);
  if (state.error) return <ErrorBox error={state.error} title={`Could not load ${run} at step ${step}`} />;
  if (!ctx) return <Loading label={`Loading ${run}…`} />;
  return (
    <SideCtx.Provider value={ctx}>
      <div className="ce-side" data-testid={`side-${side}`} data-run={run} data-step={step}>
        {state.loading && <div className="ce-progress" role="progressbar" aria-label="Loading" />}
        <GraphView focus={focus} />
        {withSidebar && <DatasetSidebar />}
      </div>
    </SideCtx.Provider>
  );
}

const FN_OPTIONS: Array<{ value: SummaryFn | "auto"; label: string }> = [
  { value: "auto", label: "paper default" },
  { value: "l2", label: "L2 norm" },
  { value: "otsu", label: "Otsu sum" },
  { value: "mean", label: "mean |x|" },
  { value: "max", label: "max |x|" },
];

function SettingsBar({ settings, onChange }: { settings: ViewSettings; onChange: (s: ViewSettings) => void }) {
  const set = <K extends keyof ViewSettings>(k: K, v: ViewSettings[K]) => onChange({ ...settings, [k]: v });
  return (
    <div className="ce-settings" role="group" aria-label="View settings">
      <LabeledSelect
        label="Summary"
        value={settings.fn}
        options={FN_OPTIONS}
        onChange={(v) => set("fn", v)}
        title="Channel summary function. Paper default: L2 for the scatterplot, Otsu sum for Jaccard, heatmap, hierarchy"
        testId="fn-select"
      />
      <LabeledSelect<Stage>
        label="Stage"
        value={settings.stage}
        options={[
          { value: "pre", label: "pre-activation" },
          { value: "post", label: "post-activation" },
        ]}
        onChange={(v) => set("stage", v)}
        title="Summaries taken before or after the nonlinearity (post only when logged)"
      />
      <LabeledSelect<DRMethod>
        label="Projection"
        value={settings.method}
        options={[
          { value: "tsne", label: "t-SNE" },
          { value: "umap", label: "UMAP" },
          { value: "pca", label: "PCA" },
          { value: "mds", label: "MDS" },
        ]}
        onChange={(v) => set("method", v)}
        title="Dimensionality reduction of the scatterplot"
      />
      <LabeledSelect<number>
        label="η"
        value={settings.eta}
        options={[0.05, 0.1, 0.2, 0.3, 0.5].map((v) => ({ value: v, label: `${Math.round(v * 100)}%` }))}
        onChange={(v) => set("eta", v)}
        title="η: fraction of top channels per input used by Jaccard similarity and the hierarchy"
      />
      <LabeledSelect<HeatmapOrder>
        label="Channel order"
        value={settings.heatmapOrder}
        options={[
          { value: "pairwise", label: "class separation" },
          { value: "variance", label: "variance" },
          { value: "filter_norm", label: "filter norm" },
        ]}
        onChange={(v) => set("heatmapOrder", v)}
        title="Order of heatmap rows: pairwise class separation (Eq. 3), variance, or filter norm"
      />
    </div>
  );
}

function Tab() {
  const [reload, setReload] = useState(0);
  const runsState = useAsync((signal) => api.runs(signal), [reload]);
  const [a, setA] = useState<SideChoice | null>(null);
  const [b, setB] = useState<SideChoice | null>(null);
  const [compare, setCompare] = useState(false);
  const [settings, setSettings] = useState<ViewSettings>(DEFAULT_SETTINGS);
  const [mode, setMode] = useState<"graph" | "timeline">("graph");
  const [timelineRuns, setTimelineRuns] = useState<string[] | null>(null);
  const [focus, setFocus] = useState<FocusRequest | null>(null);

  const runs = runsState.data?.runs ?? [];
  const choiceA: SideChoice | null = a && runs.some((r) => r.run === a.run) ? a : runs[0] ? { run: runs[0].run, step: null } : null;
  const choiceB: SideChoice | null =
    b && runs.some((r) => r.run === b.run)
      ? b
      : choiceA
        ? (() => {
            // Default comparison: the same run at its first step (training progress).
            const info = runs.find((r) => r.run === choiceA.run)!;
            return { run: choiceA.run, step: info.steps[0] ?? null };
          })()
        : null;
  const stepA = choiceA ? resolveStep(runs.find((r) => r.run === choiceA.run), choiceA.step) : null;
  const stepB = choiceB ? resolveStep(runs.find((r) => r.run === choiceB.run), choiceB.step) : null;
  const shownTimelineRuns = (timelineRuns ?? []).filter((r) => runs.some((x) => x.run === r));
  const tlRuns = shownTimelineRuns.length ? shownTimelineRuns : choiceA ? [choiceA.run] : [];
  const infoA = choiceA ? runs.find((r) => r.run === choiceA.run) : undefined;

  /** Timeline cell click: the graph mode, side A at (run, step), the layer revealed with its scatterplot open. */
  const openLayer = (run: string, step: number, layer: string) => {
    setA({ run, step });
    setFocus((f) => ({ layer, panel: "scatter", nonce: (f?.nonce ?? 0) + 1 }));
    setMode("graph");
  };

  return (
    <div className="ce-app" data-testid="ce-app">
      <header className="ce-toolbar">
        <span className="ce-title" title="ChannelExplorer: class separability across layers and channels">
          ChannelExplorer
        </span>
        {runs.length > 0 && (
          <Segmented<"graph" | "timeline">
            label="View mode"
            value={mode}
            testId="mode-switch"
            onChange={setMode}
            options={[
              { value: "graph", label: "Graph", title: "The model graph with per-layer panels at one step" },
              { value: "timeline", label: "Timeline", title: "Separability of every layer over steps, trajectories and diffs" },
            ]}
          />
        )}
        {mode === "graph" && runs.length > 0 && choiceA && (
          <>
            <SidePicker runs={runs} choice={choiceA} onChange={setA} prefix="a" />
            <label className="ce-check" title="Show two (run, step) pairs side by side">
              <input type="checkbox" checked={compare} onChange={(e) => setCompare(e.target.checked)} data-testid="compare-toggle" />
              Compare
            </label>
            {compare && choiceB && <SidePicker runs={runs} choice={choiceB} onChange={setB} prefix="b" />}
          </>
        )}
        <span className="ce-spacer" />
        {runsState.loading && <span className="ce-spinner" role="status" aria-label="Loading runs" />}
        <button type="button" className="ce-btn" onClick={() => setReload((r) => r + 1)} title="Reload the list of runs and steps">
          Refresh
        </button>
      </header>
      {runs.length > 0 && <SettingsBar settings={settings} onChange={setSettings} />}
      {mode === "graph" && infoA?.downsampled && (
        <DownsampleNotice run={infoA.run} kept={infoA.steps.length} written={infoA.steps_written} />
      )}
      <main className={`ce-main${compare ? " ce-main--compare" : ""}`}>
        {runsState.error ? (
          <ErrorBox error={runsState.error} title="Could not list runs" onRetry={() => setReload((r) => r + 1)} />
        ) : !runsState.data ? (
          <Loading label="Loading runs…" />
        ) : !runs.length || !choiceA || stepA === null ? (
          <EmptyState />
        ) : mode === "timeline" ? (
          <TimelineView runs={runs} selected={tlRuns} onSelected={setTimelineRuns} settings={settings} onOpen={openLayer} />
        ) : (
          <>
            <Side side="a" run={choiceA.run} step={stepA} settings={settings} withSidebar={!compare} key="a" focus={focus} />
            {compare && choiceB && stepB !== null && (
              <Side side="b" run={choiceB.run} step={stepB} settings={settings} withSidebar key="b" />
            )}
          </>
        )}
      </main>
    </div>
  );
}

/** The root component. */
export function App() {
  return (
    <SelectionProvider>
      <Tab />
    </SelectionProvider>
  );
}
