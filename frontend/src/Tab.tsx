/**
 * The tab's container: toolbar (run / step pickers, compare mode, view
 * settings), one or two model-graph sides, the timeline mode.
 *
 * TensorBoard's reloads refresh the runs and steps (a side that follows the
 * newest step moves on, open panels stay), and the view lives in
 * TensorBoard's URL hash: a link restores it, back / forward move through it.
 */
import { useCallback, useEffect, useMemo, useState } from "react";
import * as api from "./api";
import { Segmented } from "./components/Segmented";
import { EmptyState } from "./components/EmptyState";
import { ErrorBox } from "./components/ErrorBox";
import { Loading } from "./components/Loading";
import { useAsync } from "./components/useAsync";
import { DEFAULT_SETTINGS } from "./graph/context";
import type { FocusRequest, ViewSettings } from "./graph/context";
import { createOpenPanelsStore, OpenPanelsProvider } from "./graph/openPanels";
import type { OpenPanels } from "./graph/openPanels";
import type { PanelKind } from "./graph/panelKinds";
import { GET_URL_PLUGIN_DATA, hostChannel } from "./host/channel";
import { readUrlState, urlWindow, useHostReload, useUrlSync } from "./host/useHost";
import { decodeUrlState } from "./host/urlState";
import type { UrlState } from "./host/urlState";
import { useSelection } from "./state";
import { DownsampleNotice } from "./timeline/DownsampleNotice";
import { TimelineView } from "./timeline/TimelineView";
import { SideChoice, nearestOpenableStep, resolveStep } from "./sideChoice";
import { SidePicker } from "./components/SidePicker";
import { Side } from "./graph/Side";
import { SettingsBar } from "./components/SettingsBar";
import { ShareButton } from "./export/ShareButton";

type Mode = "graph" | "timeline";

function settingsOf(u: UrlState): ViewSettings {
  return {
    fn: u.fn ?? DEFAULT_SETTINGS.fn,
    stage: u.stage ?? DEFAULT_SETTINGS.stage,
    method: u.method ?? DEFAULT_SETTINGS.method,
    eta: u.eta ?? DEFAULT_SETTINGS.eta,
    heatmapOrder: u.order ?? DEFAULT_SETTINGS.heatmapOrder,
  };
}

function openOf(u: UrlState): OpenPanels["a"] {
  return new Map((u.open ?? []).map(([l, ps]) => [l, ps as PanelKind[]]));
}

/** A side's choice from a link; a step without a run applies to the first run. */
function choiceOf(run: string | undefined, step: number | undefined): SideChoice | null {
  return run || step !== undefined ? { run: run ?? "", step: step ?? null } : null;
}

export function Tab() {
  // The view a link asks for, read once before the first render.
  const [initial] = useState<UrlState>(() => readUrlState());
  const [reload, setReload] = useState(0);
  const runsState = useAsync((signal) => api.runs(signal), [reload]);
  const [a, setA] = useState<SideChoice | null>(() => choiceOf(initial.run, initial.step));
  const [b, setB] = useState<SideChoice | null>(() => choiceOf(initial.runB, initial.stepB));
  const [compare, setCompare] = useState(initial.compare ?? false);
  const [settings, setSettings] = useState<ViewSettings>(() => settingsOf(initial));
  const [mode, setMode] = useState<Mode>(initial.mode ?? "graph");
  const [timelineRuns, setTimelineRuns] = useState<string[] | null>(initial.timeline ?? null);
  const [focus, setFocus] = useState<FocusRequest | null>(null);
  const [openStore] = useState(() => createOpenPanelsStore({ a: openOf(initial), b: new Map() }));
  const [selection, selectionActions] = useSelection();

  useHostReload(() => setReload((r) => r + 1));

  const apply = useCallback(
    (u: UrlState) => {
      setA(choiceOf(u.run, u.step));
      setB(choiceOf(u.runB, u.stepB));
      setCompare(u.compare ?? false);
      setSettings(settingsOf(u));
      setMode(u.mode ?? "graph");
      setTimelineRuns(u.timeline ?? null);
      openStore.set((prev) => ({ ...prev, a: openOf(u) }));
      selectionActions.selectInputs(u.selection ?? [], u.selection ? "link" : null);
    },
    [openStore, selectionActions],
  );

  useEffect(() => {
    if (initial.selection) selectionActions.selectInputs(initial.selection, "link");
    // A parent of another origin: ask TensorBoard for the hash instead of reading it.
    const ch = hostChannel();
    if (!ch || urlWindow() !== window) return;
    ch.send(GET_URL_PLUGIN_DATA)
      .then(
        (d) =>
          d && typeof d === "object" && Object.keys(d).length && apply(decodeUrlState(d as Record<string, string>)),
      )
      .catch(() => undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const runs = runsState.data?.runs ?? [];
  const choiceA: SideChoice | null =
    a && runs.some((r) => r.run === a.run)
      ? a
      : runs[0]
        ? { run: runs[0].run, step: a && !a.run ? a.step : null }
        : null;
  const choiceB: SideChoice | null =
    b && runs.some((r) => r.run === b.run)
      ? b
      : choiceA
        ? (() => {
            // Default comparison: the same run at its first step (training progress).
            const info = runs.find((r) => r.run === choiceA.run)!;
            return { run: choiceA.run, step: b && !b.run ? b.step : (info.steps[0] ?? null) };
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

  const [open, setOpenTick] = useState(openStore.get());
  useEffect(() => openStore.subscribe(() => setOpenTick(openStore.get())), [openStore]);
  const urlState = useMemo<UrlState>(
    () => ({
      run: choiceA?.run,
      step: choiceA?.step ?? undefined,
      compare,
      runB: choiceB?.run,
      stepB: choiceB?.step ?? undefined,
      mode,
      open: [...open.a].filter(([, ps]) => ps.length) as UrlState["open"],
      method: settings.method,
      eta: settings.eta,
      order: settings.heatmapOrder,
      fn: settings.fn,
      stage: settings.stage,
      selection: [...selection.inputs],
      timeline: timelineRuns ?? undefined,
    }),
    [choiceA?.run, choiceA?.step, compare, choiceB?.run, choiceB?.step, mode, open, settings, selection, timelineRuns],
  );
  useUrlSync(urlState, apply, runsState.data !== null);
  // What changes when a reload brings new steps (the timeline scores them again).
  const dataVersion = runs.map((r) => `${r.run}:${r.steps.length}:${r.steps[r.steps.length - 1] ?? ""}`).join("|");

  /**
   * Timeline cell click: the graph mode, side A at (run, step), the layer revealed with its scatterplot open.
   * A compact step has no per-step data: the nearest step kept in full opens (the cell's tooltip says which).
   */
  const openLayer = (run: string, step: number, layer: string) => {
    setA({
      run,
      step:
        nearestOpenableStep(
          runs.find((r) => r.run === run),
          step,
        ) ?? step,
    });
    setFocus((f) => ({ layer, panel: "scatter", nonce: (f?.nonce ?? 0) + 1 }));
    setMode("graph");
  };

  return (
    <OpenPanelsProvider store={openStore}>
      <div className="ce-app" data-testid="ce-app" data-reloads={reload}>
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
          {runs.length > 0 && <ShareButton />}
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
              version={dataVersion}
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
    </OpenPanelsProvider>
  );
}
