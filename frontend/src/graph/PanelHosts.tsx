/**
 * Container components that mount the pure panels inside a layer node.
 *
 * Each container fetches its route through `api.ts` for the current side
 * (run, step, settings), shows loading / error states, wires the shared
 * selection (`state.ts`), and passes data and callbacks to the panel.
 */
import { ScatterHost } from "./ScatterHost";
import { JaccardHost } from "./JaccardHost";
import { HeatmapHost } from "./HeatmapHost";
import { HierarchyHost } from "./HierarchyHost";
import { TrendHost } from "./TrendHost";
import { ChannelClustersHost } from "./ChannelClustersHost";
import { ChannelEmbeddingHost } from "./ChannelEmbeddingHost";
import { LayerEdgesHost } from "./LayerEdgesHost";
import { PANEL_HEIGHT } from "./panelKinds";
import type { PanelKind } from "./panelKinds";

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
    case "clusters":
      return <ChannelClustersHost layer={layer} />;
    case "channels":
      return <ChannelEmbeddingHost layer={layer} height={PANEL_HEIGHT.channels} />;
    case "edges":
      return <LayerEdgesHost layer={layer} height={PANEL_HEIGHT.edges} />;
  }
}
