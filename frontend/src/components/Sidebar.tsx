/**
 * The Dataset View side bar: the Dataset panel (class similarity to a
 * reference class, accuracy, representatives) plus the shared selection.
 */
import { useCallback, useState } from "react";
import * as api from "../api";
import { useSide } from "../graph/context";
import { useSelection } from "../state";
import { DatasetPanel } from "../panels";
import type { DatasetResponse } from "../types";
import { AsyncView } from "./AsyncView";
import { useAsync } from "./useAsync";
import { SelectionSummary } from "./SelectionSummary";
import { SuspectSection } from "./SuspectSection";
import { DatasetExport } from "../export/ExportMenu";

/** Fills missing class `name`s from the manifest's class names. */
function withClassNames(d: DatasetResponse, names: string[]): DatasetResponse {
  if (d.classes.every((c) => typeof c.name === "string")) return d;
  return { ...d, classes: d.classes.map((c) => ({ ...c, name: c.name ?? names[c.id] ?? String(c.id) })) };
}

/** Inner width of the side bar's panels. */
const SIDEBAR_INNER = 276;

/** The Dataset View for the current side (the Dataset panel, linked to the selection). */
export function DatasetSidebar() {
  const side = useSide();
  const [selection, actions] = useSelection();
  const [reference, setReference] = useState(0);
  const [k, setK] = useState<number | null>(null);
  const rs = { run: side.run, step: side.step };
  const ref = Math.min(reference, Math.max(0, side.classNames.length - 1));
  const inputs = useAsync((signal) => api.inputs(rs, signal), [side.run, side.step]);
  const dataset = useAsync(
    (signal) => api.dataset({ ...rs, reference: ref, k }, signal),
    [side.run, side.step, ref, k],
  );
  const thumb = useCallback((i: number) => api.thumbnailUrl(side, i), [side]);
  const both = {
    data: dataset.data && inputs.data ? { d: dataset.data, i: inputs.data } : null,
    error: dataset.error ?? inputs.error,
    loading: dataset.loading || inputs.loading,
  };
  const selectClasses = (classes: number[], labels: number[]) => {
    const set = new Set(classes);
    actions.selectClasses(classes, "dataset");
    actions.selectInputs(
      labels.flatMap((l, i) => (set.has(l) ? [i] : [])),
      "dataset",
    );
  };
  return (
    <aside className="ce-sidebar" aria-label="Dataset view">
      <section className="ce-side-section">
        <header className="ce-side-title">
          <span>Dataset</span>
          <span className="ce-muted" title="Run and step shown in this side bar">
            {side.run} · step {side.step}
          </span>
          <DatasetExport />
        </header>
        <AsyncView state={both} label="Loading dataset…" compact>
          {({ d, i }) => (
            <DatasetPanel
              data={withClassNames(d, side.classNames)}
              labels={i.labels}
              onReference={setReference}
              activeClasses={selection.classes.size ? (selection.classes as Set<number>) : undefined}
              onClasses={(classes) => selectClasses(classes, i.labels)}
              k={k}
              onK={setK}
              onSelect={(indices) => actions.selectInputs(indices, "dataset")}
              thumbnailUrl={thumb}
              width={SIDEBAR_INNER}
            />
          )}
        </AsyncView>
      </section>
      <SuspectSection width={SIDEBAR_INNER} />
      <SelectionSummary />
    </aside>
  );
}
