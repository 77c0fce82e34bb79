/**
 * The timeline mode: how class separability evolves over training.
 *
 * One run: a layer x step heatmap of the separability score (rows in graph
 * order) under an accuracy strip; clicking a cell opens that layer at that
 * step in the graph; choosing a row shows the layer's animated trajectory and
 * its difference between two steps below. Several runs: one line per run of a
 * chosen layer's score over steps, accuracy dashed.
 */
import { useState } from "react";
import { TimelineExport } from "../export/ExportMenu";
import * as api from "../api";
import { AsyncView } from "../components/AsyncView";
import { useAsync } from "../components/useAsync";
import type { ViewSettings } from "../graph/context";
import type { RunInfo } from "../types";
import { OpenLayer } from "./format";
import { RunChecklist } from "./RunChecklist";
import { TimelineBody } from "./TimelineBody";

/**
 * The timeline mode.
 *
 * Args (props):
 *   runs: every run of `/runs`.
 *   selected: runs shown (one: heatmap; several: lines).
 *   onSelected: change the runs shown.
 *   settings: toolbar settings (summary function and stage).
 *   onOpen: open a layer at a step in the graph mode.
 *   version: changes when the runs gain steps (scores are fetched again).
 */
export function TimelineView({
  runs,
  selected,
  onSelected,
  settings,
  onOpen,
  version = "",
}: {
  runs: RunInfo[];
  selected: string[];
  onSelected: (runs: string[]) => void;
  settings: ViewSettings;
  onOpen: OpenLayer;
  version?: string;
}) {
  const fn = settings.fn === "auto" ? "l2" : settings.fn;
  const key = selected.join("\u0000");
  const state = useAsync(
    (signal) => api.timeline({ runs: selected, fn, stage: settings.stage }, signal),
    [key, fn, settings.stage, version],
  );
  const [layer, setLayer] = useState<string | null>(null);
  const single = selected.length === 1;
  const manifest = useAsync(single ? (signal) => api.layers({ run: selected[0] }, signal) : null, [
    single ? selected[0] : "",
  ]);
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
        <TimelineExport />
      </div>
      <AsyncView state={state} label="Scoring layers at every step…">
        {(data) => (
          <TimelineBody
            data={data}
            order={order}
            single={single}
            layer={layer}
            onLayer={setLayer}
            settings={settings}
            onOpen={onOpen}
          />
        )}
      </AsyncView>
    </div>
  );
}
