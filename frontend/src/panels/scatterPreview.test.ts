import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { previewText } from "./ScatterPanel";
import { loadScatter, type ScatterPreviewState } from "./useScatterPreview";
import type { ScatterQuery } from "../api";
import type { ScatterProgress, ScatterResponse } from "../types";

/** A promise resolved from outside. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const layout = (method: string) => ({ method, points: [[0, 0]] }) as unknown as ScatterResponse;
const running = (fraction: number | null): ScatterProgress => ({
  state: "running",
  fraction,
  phase: "optimising",
  elapsed_s: 2,
});

/** A fake API whose /scatter answers are released by the test, per method. */
function fakeApi() {
  const answers = new Map<string, ReturnType<typeof deferred<ScatterResponse>>>();
  const answer = (q: ScatterQuery) => {
    const key = `${q.layer}/${q.method}`;
    if (!answers.has(key)) answers.set(key, deferred<ScatterResponse>());
    return answers.get(key)!;
  };
  const calls = {
    scatter: vi.fn((q: ScatterQuery) => answer(q).promise),
    scatterProgress: vi.fn(async () => running(0.43)),
  };
  return {
    calls,
    release: (layer: string, method: string) =>
      answer({ run: "r", layer, method } as ScatterQuery).resolve(layout(`${layer}/${method}`)),
  };
}

function store() {
  let state: ScatterPreviewState = { data: null, error: null, loading: true, preview: false, progress: null };
  return {
    update: (f: (s: ScatterPreviewState) => ScatterPreviewState) => (state = f(state)),
    get: () => state,
  };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("loadScatter", () => {
  it("shows the PCA preview with progress, then replaces it and stops polling", async () => {
    const { calls, release } = fakeApi();
    const s = store();
    loadScatter({ run: "r", layer: "a", method: "tsne" }, new AbortController().signal, s.update, calls, 500);
    release("a", "pca");
    await flush();
    expect(s.get()).toMatchObject({ preview: true, loading: true, data: layout("a/pca") });
    await vi.advanceTimersByTimeAsync(1100);
    expect(calls.scatterProgress).toHaveBeenCalledTimes(2);
    expect(s.get().progress).toEqual(running(0.43));
    release("a", "tsne");
    await flush();
    expect(s.get()).toEqual({ data: layout("a/tsne"), error: null, loading: false, preview: false, progress: null });
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls.scatterProgress).toHaveBeenCalledTimes(2);
  });

  it("drops a late preview and the responses of an aborted query", async () => {
    const { calls, release } = fakeApi();
    const s = store();
    const first = new AbortController();
    loadScatter({ run: "r", layer: "a", method: "umap" }, first.signal, s.update, calls, 500);
    first.abort(); // the user picked another layer
    loadScatter({ run: "r", layer: "b", method: "umap" }, new AbortController().signal, s.update, calls, 500);
    release("b", "umap");
    release("a", "umap");
    release("a", "pca");
    release("b", "pca"); // after the final layout: must not replace it
    await flush();
    expect(s.get().data).toEqual(layout("b/umap"));
    expect(s.get().preview).toBe(false);
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls.scatterProgress).not.toHaveBeenCalled();
  });

  it("stops polling when the layout arrives while a poll is in flight", async () => {
    const { calls, release } = fakeApi();
    calls.scatterProgress.mockImplementation(() => new Promise((r) => setTimeout(() => r(running(0.5)), 100)));
    const s = store();
    loadScatter({ run: "r", layer: "a", method: "tsne" }, new AbortController().signal, s.update, calls, 500);
    await vi.advanceTimersByTimeAsync(550); // the first poll is now in flight
    release("a", "tsne");
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls.scatterProgress).toHaveBeenCalledTimes(1);
    expect(s.get().progress).toBeNull();
  });

  it("asks no preview for PCA itself", async () => {
    const { calls } = fakeApi();
    loadScatter({ run: "r", layer: "a", method: "pca" }, new AbortController().signal, store().update, calls, 500);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls.scatter).toHaveBeenCalledTimes(1);
    expect(calls.scatterProgress).not.toHaveBeenCalled();
  });
});

describe("previewText", () => {
  it("names the method and the percentage, or the phase before there is one", () => {
    expect(previewText("tsne", running(0.437))).toBe("PCA preview — t-SNE computing… 43%");
    expect(previewText("umap", { ...running(null), phase: "neighbours" })).toBe(
      "PCA preview — UMAP computing… (neighbours, 2 s)",
    );
    expect(previewText("mds", null)).toBe("PCA preview — MDS computing…");
  });
});
