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
  }
}
