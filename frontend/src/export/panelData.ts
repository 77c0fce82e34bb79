/** Which recorded response a layer node's panel shows, and its file names. */
import type { PanelKind } from "../graph/panelKinds";
import { lastResponse } from "./snapshot";
import { safeFileName } from "./download";

/** Route of each panel kind, and the query parameter that names the panel's layer. */
export const PANEL_ROUTES: Record<PanelKind, { route: string; layerParam: string; byStep: boolean }> = {
  scatter: { route: "scatter", layerParam: "layer", byStep: true },
  jaccard: { route: "jaccard", layerParam: "layer", byStep: true },
  heatmap: { route: "heatmap", layerParam: "layer", byStep: true },
  hierarchy: { route: "hierarchy", layerParam: "layer", byStep: true },
  trajectory: { route: "trajectory", layerParam: "layer", byStep: false },
  diff: { route: "diff", layerParam: "layer", byStep: false },
  clusters: { route: "channel_clusters", layerParam: "layer", byStep: true },
  channels: { route: "channel_embedding", layerParam: "layer", byStep: true },
  edges: { route: "channel_edges", layerParam: "target", byStep: true },
};

/** The latest response of the panel `kind` of `layer` on side (run, step), or `null`. */
export function panelResponse(kind: PanelKind, run: string, step: number | null, layer: string) {
  const spec = PANEL_ROUTES[kind];
  if (!spec) throw new Error(`panelResponse: unknown panel kind ${JSON.stringify(kind)}`);
  const hit = lastResponse(spec.route, { run, step: spec.byStep ? step : null, [spec.layerParam]: layer });
  return hit ? { route: spec.route, ...hit } : null;
}

/** `run_step3_layer_kind.ext`, safe as a file name. */
export function panelFileName(run: string, step: number | null, layer: string, kind: string, ext: string): string {
  return `${safeFileName([run, step === null ? "" : `step${step}`, layer, kind].filter(Boolean).join("_"))}.${ext}`;
}
