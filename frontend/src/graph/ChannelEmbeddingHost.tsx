/** Container of the channel-embedding panel of a layer node: fetches `/channel_embedding`, selects channels. */
import { useState } from "react";
import * as api from "../api";
import { AsyncView } from "../components/AsyncView";
import { useAsync } from "../components/useAsync";
import { selectedChannelsOf, useChannelFocus } from "../channelFocus";
import { ChannelEmbeddingPanel } from "../panels/ChannelEmbeddingPanel";
import type { ChannelSource } from "../types";
import { useSide } from "./context";
import { useLayerQuery } from "./hostHooks";
import { PANEL_WIDTH } from "./panelKinds";

/** Default selectivity threshold for colouring (the route's default). */
const DEFAULT_THRESHOLD = 0.3;

export function ChannelEmbeddingHost({ layer, height }: { layer: string; height: number }) {
  const side = useSide();
  const q = useLayerQuery(layer, "heatmap");
  const [focus, actions] = useChannelFocus();
  const [source, setSource] = useState<ChannelSource>("activations");
  const [threshold, setThreshold] = useState(DEFAULT_THRESHOLD);
  const method = side.settings.method;
  // Colours follow the slider at once from the per-channel selectivity; no refetch.
  const state = useAsync(
    (signal) => api.channelEmbedding({ ...q, method, source }, signal),
    [q.run, q.step, q.layer, q.fn, q.stage, method, source],
  );
  const hasWeights = side.layers.get(layer)?.has_filter_norm ?? false;
  return (
    <div className="ce-col" data-testid="channel-embedding-host">
      <label className="ce-inline">
        from
        <select
          aria-label="What the channel embedding is computed from"
          value={source}
          onChange={(e) => setSource(e.target.value as ChannelSource)}
        >
          <option value="activations">activation profiles</option>
          <option value="weights" disabled={!hasWeights}>
            filter weights
          </option>
        </select>
      </label>
      <AsyncView state={state} label="Embedding channels…" compact>
        {(data) => (
          <ChannelEmbeddingPanel
            points={data.points}
            preferred={data.preferred_class}
            selectivity={data.selectivity}
            threshold={threshold}
            onThreshold={setThreshold}
            classNames={side.classNames}
            selected={selectedChannelsOf(focus, side.run, layer)}
            onSelect={(channels) => actions.selectChannels(side.run, layer, channels)}
            onChannel={(channel) => actions.openChannel({ run: side.run, layer, channel })}
            caption={`${data.method.toUpperCase()} of the channels' ${data.source === "weights" ? "filter weights" : "activation profiles"}`}
            width={PANEL_WIDTH}
            height={height - 26}
          />
        )}
      </AsyncView>
    </div>
  );
}
