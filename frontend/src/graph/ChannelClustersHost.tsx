/** Container of the channel-cluster panel of a layer node: fetches `/channel_clusters`, opens cards on click. */
import { useMemo } from "react";
import * as api from "../api";
import { AsyncView } from "../components/AsyncView";
import { useAsync } from "../components/useAsync";
import { selectedChannelsOf, useChannelFocus } from "../channelFocus";
import { ChannelClustersPanel, type ChannelClusterTile } from "../panels/ChannelClustersPanel";
import { byClassId } from "../transforms/channels";
import type { ChannelClustersResponse } from "../types";
import { useSide } from "./context";
import { useLayerQuery } from "./hostHooks";
import { PANEL_WIDTH } from "./panelKinds";

/** Height of the packed layout inside the node. */
export const CLUSTERS_BOX_H = 250;

/** The route's clusters as panel tiles (class means spread over every class id). */
export function clusterTiles(data: ChannelClustersResponse, nClasses: number): ChannelClusterTile[] {
  return data.clusters.map((c) => ({
    id: c.id,
    size: c.size,
    rect: c.rect,
    representatives: c.representatives,
    channels: c.members,
    classMeans: byClassId(data.classes, c.class_means, nClasses),
  }));
}

export function ChannelClustersHost({ layer }: { layer: string }) {
  const side = useSide();
  // The heatmap's summary function, so the clusters match its `cluster` order.
  const q = useLayerQuery(layer, "heatmap");
  const [focus, actions] = useChannelFocus();
  const state = useAsync(
    (signal) => api.channelClusters({ ...q, aspect: PANEL_WIDTH / CLUSTERS_BOX_H }, signal),
    [q.run, q.step, q.layer, q.fn, q.stage],
  );
  const tiles = useMemo(
    () => (state.data ? clusterTiles(state.data, side.classNames.length) : []),
    [state.data, side.classNames.length],
  );
  const open = focus.open && focus.open.run === side.run && focus.open.layer === layer ? focus.open.channel : null;
  return (
    <AsyncView state={state} label="Clustering channels…" compact>
      {(data) => (
        <ChannelClustersPanel
          clusters={tiles}
          classNames={side.classNames}
          onChannel={(channel) => actions.openChannel({ run: side.run, layer, channel })}
          highlighted={selectedChannelsOf(focus, side.run, layer)}
          activeChannel={open}
          note={
            data.k_auto
              ? `${data.n_clusters} clusters of ${data.channels} channels (k by silhouette); click a channel for its card`
              : `${data.n_clusters} clusters of ${data.channels} channels`
          }
          width={PANEL_WIDTH}
          height={CLUSTERS_BOX_H}
        />
      )}
    </AsyncView>
  );
}
