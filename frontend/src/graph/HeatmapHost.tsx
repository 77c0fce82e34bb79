/** Container of the channel x input heatmap panel of a layer node. */
import { useCallback, useState } from "react";
import * as api from "../api";
import { AsyncView } from "../components/AsyncView";
import { useAsync } from "../components/useAsync";
import { usePanelSelection } from "../state";
import { HeatmapPanel } from "../panels";
import type { HeatmapCell } from "../panels";
import type { HeatmapOrder } from "../types";
import { selectedChannelsOf, useChannelFocus } from "../channelFocus";
import { useSide } from "./context";
import { PANEL_WIDTH, HEATMAP_PAGE } from "./panelKinds";
import { useLayerQuery, useLabels } from "./hostHooks";

export function HeatmapHost({ layer }: { layer: string }) {
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
  const [focus, channels] = useChannelFocus();
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
          onCell={(channel, index) => {
            setCell({ channel, index });
            channels.openChannel({ run: side.run, layer, channel });
          }}
          cell={cell}
          overlayUrl={overlay}
          hasMaps={info ? info.has_maps : true}
          selected={sel.selected}
          markedChannels={selectedChannelsOf(focus, side.run, layer)}
          onSelect={sel.onSelect}
          width={PANEL_WIDTH}
          height={220}
        />
      )}
    </AsyncView>
  );
}
