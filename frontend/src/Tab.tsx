/**
 * The tab's container: toolbar (run / step pickers, compare mode, view
 * settings), one or two model-graph sides, the timeline mode.
 */
import { useState } from "react";
import * as api from "./api";
import { Segmented } from "./components/Segmented";
import { EmptyState } from "./components/EmptyState";
import { ErrorBox } from "./components/ErrorBox";
import { Loading } from "./components/Loading";
import { useAsync } from "./components/useAsync";
import { DEFAULT_SETTINGS } from "./graph/context";
import type { FocusRequest, ViewSettings } from "./graph/context";
import { DownsampleNotice } from "./timeline/DownsampleNotice";
import { TimelineView } from "./timeline/TimelineView";
import { SideChoice, resolveStep } from "./sideChoice";
import { SidePicker } from "./components/SidePicker";
import { Side } from "./graph/Side";
import { SettingsBar } from "./components/SettingsBar";

export function Tab() {
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
  const choiceA: SideChoice | null =
    a && runs.some((r) => r.run === a.run) ? a : runs[0] ? { run: runs[0].run, step: null } : null;
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
  const stepA = choiceA
    ? resolveStep(
        runs.find((r) => r.run === choiceA.run),
        choiceA.step,
      )
    : null;
  const stepB = choiceB
    ? resolveStep(
        runs.find((r) => r.run === choiceB.run),
        choiceB.step,
      )
    : null;
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
              {
                value: "timeline",
                label: "Timeline",
                title: "Separability of every layer over steps, trajectories and diffs",
              },
            ]}
          />
        )}
        {mode === "graph" && runs.length > 0 && choiceA && (
          <>
            <SidePicker runs={runs} choice={choiceA} onChange={setA} prefix="a" />
            <label className="ce-check" title="Show two (run, step) pairs side by side">
              <input
                type="checkbox"
                checked={compare}
                onChange={(e) => setCompare(e.target.checked)}
                data-testid="compare-toggle"
              />
              Compare
            </label>
            {compare && choiceB && <SidePicker runs={runs} choice={choiceB} onChange={setB} prefix="b" />}
          </>
        )}
        <span className="ce-spacer" />
        {runsState.loading && <span className="ce-spinner" role="status" aria-label="Loading runs" />}
        <button
          type="button"
          className="ce-btn"
          onClick={() => setReload((r) => r + 1)}
          title="Reload the list of runs and steps"
        >
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
          <TimelineView
            runs={runs}
            selected={tlRuns}
            onSelected={setTimelineRuns}
            settings={settings}
            onOpen={openLayer}
          />
        ) : (
          <>
            <Side
              side="a"
              run={choiceA.run}
              step={stepA}
              settings={settings}
              withSidebar={!compare}
              key="a"
              focus={focus}
            />
            {compare && choiceB && stepB !== null && (
              <Side side="b" run={choiceB.run} step={stepB} settings={settings} withSidebar key="b" />
            )}
          </>
        )}
      </main>
    </div>
  );
}
