/** Container of the confusion-hierarchy panel of a layer node. */
import { useCallback } from "react";
import * as api from "../api";
import { AsyncView } from "../components/AsyncView";
import { useAsync } from "../components/useAsync";
import { usePanelSelection } from "../state";
import { HierarchyPanel } from "../panels";
import { useSide } from "./context";
import { PANEL_WIDTH, PANEL_HEIGHT } from "./panelKinds";
import { useLayerQuery } from "./hostHooks";
import { useLayerSuspects } from "./useSuspects";
import { SuspectsByClass } from "../panels/SuspectsByClass";

export function HierarchyHost({ layer }: { layer: string }) {
  const side = useSide();
  const q = useLayerQuery(layer, "hierarchy");
  const sel = usePanelSelection(`hierarchy:${layer}`);
  const state = useAsync(
    (signal) => api.hierarchy({ ...q, eta: side.settings.eta }, signal),
    [q.run, q.step, q.layer, q.fn, q.stage, side.settings.eta],
  );
  const thumb = useCallback((i: number) => api.thumbnailUrl(side, i), [side]);
  // Scored as the hierarchy's own class-node suspects are: its summary function, no predictions.
  const suspects = useLayerSuspects(layer, "hierarchy", false);
  return (
    <>
      <AsyncView state={state} label="Building hierarchy…" compact>
        {(data) => (
          <HierarchyPanel
            data={data}
            classNames={side.classNames}
            thumbnailUrl={thumb}
            selected={sel.selected}
            onSelect={sel.onSelect}
            width={PANEL_WIDTH - 4}
            height={PANEL_HEIGHT.hierarchy - 102}
          />
        )}
      </AsyncView>
      <SuspectsByClass suspects={suspects} classNames={side.classNames} thumbnailUrl={thumb} onSelect={sel.onSelect} />
    </>
  );
}
