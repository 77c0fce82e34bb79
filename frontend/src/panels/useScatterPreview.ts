/**
 * `useScatterPreview`: loads a scatterplot, showing the fast PCA layout first
 * while a slow method (t-SNE, UMAP, MDS) computes, and polls its progress.
 * The loading logic is `loadScatter`, free of React so that it can be tested
 * without a DOM.
 */
import { useEffect, useRef, useState } from "react";
import * as api from "../api";
import type { ScatterProgress, ScatterResponse } from "../types";

/** State of one scatterplot load. */
export interface ScatterPreviewState {
  /** The layout shown: the requested one, the PCA preview, or the former one while reloading. */
  data: ScatterResponse | null;
  error: Error | null;
  /** True until the requested layout has arrived (or failed). */
  loading: boolean;
  /** True when `data` is the PCA preview of the current request. */
  preview: boolean;
  /** Latest `/scatter_progress` of the requested layout while it computes. */
  progress: ScatterProgress | null;
}

/** Milliseconds between two progress polls. */
export const PROGRESS_POLL_MS = 500;

/** The two API calls `loadScatter` makes (injectable for tests). */
export interface ScatterApi {
  scatter: typeof api.scatter;
  scatterProgress: typeof api.scatterProgress;
}

type Update = (change: (s: ScatterPreviewState) => ScatterPreviewState) => void;

/**
 * Loads `/scatter` for `query`; for a method other than PCA also the PCA
 * layout (shown until the requested one arrives) and the requested one's
 * progress every `pollMs`. Once `signal` aborts, nothing more is requested
 * and late responses are dropped; the polling also stops when the layout
 * arrives or fails.
 */
export function loadScatter(
  query: api.ScatterQuery,
  signal: AbortSignal,
  update: Update,
  calls: ScatterApi = api,
  pollMs: number = PROGRESS_POLL_MS,
): void {
  let arrived = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = () => !signal.aborted && !arrived;
  const stop = () => {
    arrived = true;
    clearTimeout(timer);
  };
  signal.addEventListener("abort", () => clearTimeout(timer));
  update((s) => ({ data: s.data, error: null, loading: true, preview: false, progress: null }));
  calls.scatter(query, signal).then(
    (data) => {
      if (signal.aborted) return;
      stop();
      update(() => ({ data, error: null, loading: false, preview: false, progress: null }));
    },
    (error: unknown) => {
      if (signal.aborted) return;
      stop();
      const err = error instanceof Error ? error : new Error(String(error));
      update(() => ({ data: null, error: err, loading: false, preview: false, progress: null }));
    },
  );
  if ((query.method ?? "tsne") === "pca") return;
  calls.scatter({ ...query, method: "pca" }, signal).then(
    (data) => {
      if (pending()) update((s) => ({ ...s, data, preview: true }));
    },
    () => undefined, // the preview is optional; the requested layout reports errors
  );
  const poll = () => {
    calls
      .scatterProgress(query, signal)
      .then(
        (progress) => {
          if (pending()) update((s) => ({ ...s, progress }));
        },
        () => undefined,
      )
      .finally(() => {
        if (pending()) timer = setTimeout(poll, pollMs);
      });
  };
  timer = setTimeout(poll, pollMs);
}

/** `loadScatter` as a hook: reloads when a field of `q` changes, aborting the former load. */
export function useScatterPreview(q: api.ScatterQuery): ScatterPreviewState {
  const [state, setState] = useState<ScatterPreviewState>({
    data: null,
    error: null,
    loading: true,
    preview: false,
    progress: null,
  });
  const qRef = useRef(q);
  qRef.current = q;
  const key = JSON.stringify([q.run, q.step, q.layer, q.fn, q.stage, q.method, q.seed, q.k ?? null]);
  useEffect(() => {
    const controller = new AbortController();
    loadScatter(qRef.current, controller.signal, setState);
    return () => controller.abort();
  }, [key]);
  return state;
}
