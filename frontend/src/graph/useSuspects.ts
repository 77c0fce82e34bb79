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
 */
export function useLayerSuspects(layer: string): SuspectInfo[] {
  const side = useSide();
  // The scatter's summary function: suspects live in the same space as its points.
  const fn = fnFor(side.settings, "scatter");
  const state = useAsync(
    (signal) =>
      api.suspects(
        { run: side.run, step: side.step, layer, fn, stage: side.settings.stage, limit: LAYER_SUSPECTS },
        signal,
      ),
    [side.run, side.step, layer, fn, side.settings.stage],
  );
  return useMemo(() => {
    const mine = state.data?.layers.find((l) => l.layer === layer);
    return mine ? mine.suspects.filter((s) => s.flagged) : [];
  }, [state.data, layer]);
}
