/** The suspect labels of one layer of the current side (for the scatterplot's rings and the hierarchy). */
import { useMemo } from "react";
import * as api from "../api";
import { useAsync } from "../components/useAsync";
import type { SuspectInfo } from "../types";
import { fnFor, useSide } from "./context";

/** Suspects fetched per layer: enough for the rings and the per-class lists. */
export const LAYER_SUSPECTS = 50;

/**
 * Flagged suspects of `layer`, most suspect first (empty while loading, on
 * error, or when the route is not served: these views only add to the panel).
 *
 * Args:
 *   layer: the layer.
 *   view: whose summary function to score in (the scatter's by default, so
 *     the rings sit in the space of its points; the hierarchy's for its lists).
 *   predictions: combine with the logged predictions (the hierarchy's own
 *     class-node suspects are scored without them).
 */
export function useLayerSuspects(
  layer: string,
  view: "scatter" | "hierarchy" = "scatter",
  predictions = true,
): SuspectInfo[] {
  const side = useSide();
  const fn = fnFor(side.settings, view);
  const state = useAsync(
    (signal) =>
      api.suspects(
        { run: side.run, step: side.step, layer, fn, stage: side.settings.stage, limit: LAYER_SUSPECTS, predictions },
        signal,
      ),
    [side.run, side.step, layer, fn, side.settings.stage, predictions],
  );
  return useMemo(() => {
    const mine = state.data?.layers.find((l) => l.layer === layer);
    return mine ? mine.suspects.filter((s) => s.flagged) : [];
  }, [state.data, layer]);
}
