/**
 * What every view of one compare side needs: run, step, view settings and the
 * manifest of that step (layers, class names).
 */
import { createContext, useContext } from "react";
import type { DRMethod, HeatmapOrder, LayerInfo, Stage, SummaryFn } from "../types";

/** View settings chosen in the toolbar (shared by both compare sides). */
export interface ViewSettings {
  /** Summary function; `auto` uses each view's paper default (l2 for scatter, otsu otherwise). */
  fn: SummaryFn | "auto";
  stage: Stage;
  method: DRMethod;
  /** Top-channel fraction of the Jaccard and hierarchy views. */
  eta: number;
  heatmapOrder: HeatmapOrder;
}

export const DEFAULT_SETTINGS: ViewSettings = {
  fn: "auto",
  stage: "pre",
  method: "tsne",
  eta: 0.2,
  heatmapOrder: "pairwise",
};

/** Context of one side (A or B) of the tab. */
export interface SideContext {
  side: "a" | "b";
  run: string;
  /** The resolved step (never null once the run's steps are known). */
  step: number;
  settings: ViewSettings;
  /** Manifest layers by name (from `/layers`). */
  layers: Map<string, LayerInfo>;
  classNames: string[];
  nInputs: number;
}

export const SideCtx = createContext<SideContext | null>(null);

/** The current side's context; throws outside a side. */
export function useSide(): SideContext {
  const ctx = useContext(SideCtx);
  if (!ctx) throw new Error("useSide must be used inside <SideCtx.Provider>");
  return ctx;
}

/** Resolves the `auto` summary function of a view. */
export function fnFor(settings: ViewSettings, view: "scatter" | "jaccard" | "heatmap" | "hierarchy"): SummaryFn {
  if (settings.fn !== "auto") return settings.fn;
  return view === "scatter" ? "l2" : "otsu";
}

/**
 * A request to reveal a layer node and open one of its panels (from the
 * timeline mode). `nonce` changes with every request, so the same layer can
 * be asked for twice.
 */
export interface FocusRequest {
  layer: string;
  panel: "scatter" | "jaccard" | "heatmap" | "hierarchy" | "trajectory" | "diff";
  nonce: number;
}
