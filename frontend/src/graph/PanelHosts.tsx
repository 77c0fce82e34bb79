/**
 * Container components that mount E2's pure panels inside a layer node.
 *
 * Each container fetches its route through `api.ts` for the current side
 * (run, step, settings), shows loading / error states, wires the shared
 * selection (`state.ts`), and passes data and callbacks to the panel.
 */
import { useCallback, useState } from "react";
import { createPortal } from "react-dom";
import * as api from "../api";
import { AsyncView, ErrorBox } from "../components/Status";
import { useAsync } from "../components/useAsync";
import { usePanelSelection } from "../state";
import { HeatmapPanel, HierarchyPanel, JaccardPanel, ScatterPanel } from "../panels";
import type { HeatmapCell, JaccardParams, ScatterParams } from "../panels";
import type { HeatmapOrder, JaccardCellResponse } from "../types";
import { fnFor, useSide } from "./context";
import { DiffHost, TrajectoryHost } from "./TrendHosts";

/** The panels a layer node can show ("details inside"). */
export type PanelKind = "scatter" | "jaccard" | "heatmap" | "hierarchy" | "trajectory" | "diff";

export const PANEL_KINDS: PanelKind[] = ["scatter", "jaccard", "heatmap", "hierarchy", "trajectory", "diff"];

export const PANEL_LABELS: Record<PanelKind, { label: string; title: string }> = {
  scatter: { label: "Scatter", title: "Scatterplot: 2D projection of the inputs' channel summaries, with clusters" },
  jaccard: { label: "Jaccard", title: "Jaccard similarity of the inputs' top activated channels" },
  heatmap: { label: "Heatmap", title: "Channel x input activation heatmap; click a cell for its activation overlay" },
  hierarchy: { label: "Hierarchy", title: "Confusion hierarchy of classes built from shared top channels" },
  trajectory: {
    label: "Trajectory",
    title: "Animated scatterplot across steps (frames aligned); selected inputs show their trajectories",
  },
  diff: { label: "Diff", title: "Difference of the channel summaries between two (run, step) pairs, and rank changes" },
};

/** Inner width of a panel inside a node, in pixels. */
export const PANEL_WIDTH = 340;
/** Channels per heatmap page. */
export const HEATMAP_PAGE = 256;
/** Body height of each panel (fixed, so the graph layout knows node sizes). */
export const PANEL_HEIGHT: Record<PanelKind, number> = {
  scatter: 300,
  jaccard: 390,
  heatmap: 400,
  hierarchy: 300,
  trajectory: 330,
  diff: 420,
};

function useLayerQuery(layer: string, view: "scatter" | "jaccard" | "heatmap" | "hierarchy") {
  const side = useSide();
  return { run: side.run, step: side.step, layer, fn: fnFor(side.settings, view), stage: side.settings.stage };
}

/** Labels of the side's inputs (for per-class names and colours), cached per (run, step). */
function useLabels(): number[] | null {
  const side = useSide();
  const state = useAsync((signal) => api.inputs({ run: side.run, step: side.step }, signal), [side.run, side.step]);
  return state.data?.labels ?? null;
}

function ScatterHost({ layer }: { layer: string }) {
  const side = useSide();
  const q = useLayerQuery(layer, "scatter");
  const sel = usePanelSelection(`scatter:${layer}`);
  const [params, setParams] = useState<ScatterParams>({ method: side.settings.method, seed: 0, k: null });
  // The toolbar's projection method applies to every open scatterplot.
  const [lastGlobal, setLastGlobal] = useState(side.settings.method);
  if (lastGlobal !== side.settings.method) {
    setLastGlobal(side.settings.method);
    setParams((p) => ({ ...p, method: side.settings.method }));
  }
  const state = useAsync(
    (signal) => api.scatter({ ...q, method: params.method, seed: params.seed, k: params.k }, signal),
    [q.run, q.step, q.layer, q.fn, q.stage, params.method, params.seed, params.k],
  );
  const thumb = useCallback((i: number) => api.thumbnailUrl(side, i), [side]);
  const [enlarged, setEnlarged] = useState(false);
  // The in-node and the enlarged plot share everything but their size.
  const shared = {
    classNames: side.classNames,
    selected: sel.selected,
    onSelect: sel.onSelect,
    params,
    onParams: (change: Partial<ScatterParams>) => setParams((p) => ({ ...p, ...change })),
    thumbnailUrl: thumb,
  };
  return (
    <>
    <AsyncView state={state} label="Projecting…" compact>
      {(data) => (
        <ScatterPanel
          data={data}
          {...shared}
          onEnlarge={() => setEnlarged(true)}
          width={PANEL_WIDTH}
          height={PANEL_HEIGHT.scatter - 4}
        />
      )}
    </AsyncView>
    {enlarged &&
      state.data &&
      createPortal(
        <section className="ce-lineup__item" data-testid="scatter-enlarged" aria-label={`Enlarged scatterplot of ${layer}`}>
          <header>
            <span title={`${side.run} · step ${side.step ?? ""}`}>{layer}</span>
            <button type="button" aria-label={`Close the enlarged scatterplot of ${layer}`} title="Close" onClick={() => setEnlarged(false)}>
              ×
            </button>
          </header>
          <ScatterPanel data={state.data} {...shared} width={ENLARGED.width} height={ENLARGED.height} />
        </section>,
        lineupRoot(),
      )}
    </>
  );
}

/** Enlarged scatterplots line up side by side in a dock at the bottom of the tab. */
const ENLARGED = { width: 520, height: 470 };

function lineupRoot(): HTMLElement {
  let el = document.getElementById("ce-lineup");
  if (!el) {
    el = document.createElement("div");
    el.id = "ce-lineup";
    el.setAttribute("aria-label", "Enlarged scatterplots");
    document.body.appendChild(el);
  }
  return el;
}

function JaccardHost({ layer }: { layer: string }) {
  const side = useSide();
  const q = useLayerQuery(layer, "jaccard");
  const sel = usePanelSelection(`jaccard:${layer}`);
  const [params, setParams] = useState<JaccardParams>({ eta: side.settings.eta, normalize: false });
  const [lastGlobal, setLastGlobal] = useState(side.settings.eta);
  if (lastGlobal !== side.settings.eta) {
    setLastGlobal(side.settings.eta);
    setParams((p) => ({ ...p, eta: side.settings.eta }));
  }
  const [pick, setPick] = useState<{ i: number; j: number } | null>(null);
  const state = useAsync(
    (signal) => api.jaccard({ ...q, eta: params.eta, normalize: params.normalize }, signal),
    [q.run, q.step, q.layer, q.fn, q.stage, params.eta, params.normalize],
  );
  const cell = useAsync<JaccardCellResponse>(
    pick ? (signal) => api.jaccardCell({ ...q, eta: params.eta, i: pick.i, j: pick.j }, signal) : null,
    [q.run, q.step, q.layer, q.fn, q.stage, params.eta, pick?.i, pick?.j],
  );
  const thumb = useCallback((i: number) => api.thumbnailUrl(side, i), [side]);
  return (
    <AsyncView state={state} label="Computing similarity…" compact>
      {(data) => (
        <div className="ce-col" data-testid="jaccard-host">
          <JaccardPanel
            data={data}
            params={params}
            onParams={setParams}
            onCell={(i, j) => {
              setPick({ i, j });
              sel.onSelect(i === j ? [i] : [i, j]);
            }}
            cell={cell.data}
            classNames={side.classNames}
            thumbnailUrl={thumb}
            selected={sel.selected}
            size={PANEL_WIDTH - 60}
          />
          {cell.error && <ErrorBox error={cell.error} title="Could not compare the pair" />}
          {!pick && <p className="ce-hint">Click a cell to compare two inputs.</p>}
        </div>
      )}
    </AsyncView>
  );
}

function HeatmapHost({ layer }: { layer: string }) {
  const side = useSide();
  const q = useLayerQuery(layer, "heatmap");
  const info = side.layers.get(layer);
  const labels = useLabels();
  const sel = usePanelSelection(`heatmap:${layer}`);
  const [order, setOrder] = useState<HeatmapOrder>(side.settings.heatmapOrder);
  const [lastGlobal, setLastGlobal] = useState(side.settings.heatmapOrder);
  if (lastGlobal !== side.settings.heatmapOrder) {
    setLastGlobal(side.settings.heatmapOrder);
    setOrder(side.settings.heatmapOrder);
  }
  const [offset, setOffset] = useState(0);
  const [cell, setCell] = useState<HeatmapCell | null>(null);
  const state = useAsync(
    (signal) => api.heatmap({ ...q, order, offset, limit: HEATMAP_PAGE }, signal),
    [q.run, q.step, q.layer, q.fn, q.stage, order, offset],
  );
  const overlay = useCallback(
    (index: number, channel: number) => api.overlayUrl({ run: side.run, step: side.step, layer }, index, channel),
    [side.run, side.step, layer],
  );
  return (
    <AsyncView state={state} label="Loading heatmap…" compact>
      {(data) => (
        <HeatmapPanel
          data={data}
          classNames={side.classNames}
          labels={labels}
          onOrder={(o) => {
            setOrder(o);
            setOffset(0);
          }}
          onPage={setOffset}
          onCell={(channel, index) => setCell({ channel, index })}
          cell={cell}
          overlayUrl={overlay}
          hasMaps={info ? info.has_maps : true}
          selected={sel.selected}
          onSelect={sel.onSelect}
          width={PANEL_WIDTH}
          height={220}
        />
      )}
    </AsyncView>
  );
}

function HierarchyHost({ layer }: { layer: string }) {
  const side = useSide();
  const q = useLayerQuery(layer, "hierarchy");
  const sel = usePanelSelection(`hierarchy:${layer}`);
  const state = useAsync(
    (signal) => api.hierarchy({ ...q, eta: side.settings.eta }, signal),
    [q.run, q.step, q.layer, q.fn, q.stage, side.settings.eta],
  );
  const thumb = useCallback((i: number) => api.thumbnailUrl(side, i), [side]);
  return (
    <AsyncView state={state} label="Building hierarchy…" compact>
      {(data) => (
        <HierarchyPanel
          data={data}
          classNames={side.classNames}
          thumbnailUrl={thumb}
          selected={sel.selected}
          onSelect={sel.onSelect}
          width={PANEL_WIDTH - 4}
          height={PANEL_HEIGHT.hierarchy - 12}
        />
      )}
    </AsyncView>
  );
}

function TrendHost({ kind, layer }: { kind: "trajectory" | "diff"; layer: string }) {
  const side = useSide();
  const props = { run: side.run, step: side.step, layer, settings: side.settings, classNames: side.classNames, width: PANEL_WIDTH };
  return kind === "trajectory" ? (
    <TrajectoryHost {...props} height={PANEL_HEIGHT.trajectory - 4} />
  ) : (
    <DiffHost {...props} height={210} />
  );
}

/** Mounts the container of one panel kind for a layer. */
export function PanelHost({ kind, layer }: { kind: PanelKind; layer: string }) {
  switch (kind) {
    case "scatter":
      return <ScatterHost layer={layer} />;
    case "jaccard":
      return <JaccardHost layer={layer} />;
    case "heatmap":
      return <HeatmapHost layer={layer} />;
    case "hierarchy":
      return <HierarchyHost layer={layer} />;
    case "trajectory":
    case "diff":
      return <TrendHost kind={kind} layer={layer} />;
  }
}
