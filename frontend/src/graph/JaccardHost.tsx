/** Container of the Jaccard panel of a layer node. */
import { useCallback, useState } from "react";
import * as api from "../api";
import { AsyncView } from "../components/AsyncView";
import { ErrorBox } from "../components/ErrorBox";
import { useAsync } from "../components/useAsync";
import { usePanelSelection } from "../state";
import { JaccardPanel } from "../panels";
import type { JaccardParams } from "../panels";
import type { JaccardCellResponse } from "../types";
import { useChannelFocus } from "../channelFocus";
import { useSide } from "./context";
import { PANEL_WIDTH } from "./panelKinds";
import { useLayerQuery } from "./hostHooks";

export function JaccardHost({ layer }: { layer: string }) {
  const side = useSide();
  const [, channels] = useChannelFocus();
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
            onChannel={(channel) => channels.openChannel({ run: side.run, layer, channel })}
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
