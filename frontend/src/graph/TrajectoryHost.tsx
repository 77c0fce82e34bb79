/** Container of the animated trajectory of a layer across steps. */
import { useCallback, useMemo, useState } from "react";
import * as api from "../api";
import { AsyncView } from "../components/AsyncView";
import { useAsync } from "../components/useAsync";
import { usePanelSelection } from "../state";
import { TrajectoryPanel } from "../panels";
import type { TrajectoryParams } from "../panels";
import { fnFor } from "./context";
import { TrendProps, useIdMapping } from "./trendProps";

/** The animated aligned scatterplot of a layer across the run's steps. */
export function TrajectoryHost({ run, step, layer, settings, classNames, width, height }: TrendProps) {
  const [params, setParams] = useState<TrajectoryParams>({ method: "pca", align: "procrustes" });
  const fn = fnFor(settings, "scatter");
  const state = useAsync(
    (signal) =>
      api.trajectory(
        { run, layer, method: params.method, align: params.align, seed: 0, fn, stage: settings.stage },
        signal,
      ),
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
