/** Container of the diff view of a layer between two (run, step) pairs. */
import { useCallback, useState } from "react";
import * as api from "../api";
import { AsyncView } from "../components/AsyncView";
import { ErrorBox } from "../components/ErrorBox";
import { Loading } from "../components/Loading";
import { useAsync } from "../components/useAsync";
import { usePanelSelection } from "../state";
import { DiffPanel } from "../panels";
import { useChannelFocus } from "../channelFocus";
import { fnFor } from "./context";
import { TrendProps, useIdMapping, DiffSide, defaultDiffSides } from "./trendProps";
import { SidePick } from "./DiffSidePick";
import { openableSteps } from "../sideChoice";

/** The B − A difference of a layer, with A / B pickers (run + step each). */
export function DiffHost({ run, step, layer, settings, classNames, width, height }: TrendProps) {
  const runsState = useAsync((signal) => api.runs(signal), []);
  const runs = runsState.data?.runs ?? [];
  const info = runs.find((r) => r.run === run);
  const [chosen, setChosen] = useState<{ a: DiffSide | null; b: DiffSide | null }>({ a: null, b: null });
  const defaults = defaultDiffSides(run, step, openableSteps(info));
  const a = chosen.a ?? defaults.a;
  const b = chosen.b ?? defaults.b;
  const fn = fnFor(settings, "heatmap");
  const [, channels] = useChannelFocus();
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
  const onPair = useCallback(
    (i: number, j: number) => sel.onSelect(mapping.toInputs(i === j ? [i] : [i, j])),
    [sel, mapping],
  );
  if (runsState.error) return <ErrorBox error={runsState.error} title="Could not list runs" />;
  if (!ready) return <Loading label="Loading runs…" compact />;
  return (
    <div className="ce-col ce-diff-host" data-testid="diff-host">
      <div className="ce-diff-picks">
        <SidePick label="A" side={a} runs={runs} testId="diff-a" onChange={(s) => setChosen((c) => ({ ...c, a: s }))} />
        <SidePick label="B" side={b} runs={runs} testId="diff-b" onChange={(s) => setChosen((c) => ({ ...c, b: s }))} />
      </div>
      <AsyncView state={state} label="Comparing…" compact>
        {(data) => (
          <DiffPanel
            data={data}
            classNames={classNames}
            onPair={onPair}
            onChannel={(channel) => channels.openChannel({ run: a.run, layer, channel })}
            width={width}
            size={height}
          />
        )}
      </AsyncView>
    </div>
  );
}
