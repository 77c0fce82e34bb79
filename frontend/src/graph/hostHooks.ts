/** Hooks shared by the panel containers of a layer node. */
import * as api from "../api";
import { useAsync } from "../components/useAsync";
import { fnFor, useSide } from "./context";

export function useLayerQuery(layer: string, view: "scatter" | "jaccard" | "heatmap" | "hierarchy") {
  const side = useSide();
  return { run: side.run, step: side.step, layer, fn: fnFor(side.settings, view), stage: side.settings.stage };
}

/** Labels of the side's inputs (for per-class names and colours), cached per (run, step). */
export function useLabels(): number[] | null {
  const side = useSide();
  const state = useAsync((signal) => api.inputs({ run: side.run, step: side.step }, signal), [side.run, side.step]);
  return state.data?.labels ?? null;
}
