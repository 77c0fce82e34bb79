import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, buildUrl, getJson, thumbnailUrl } from "../api";
import {
  MAX_RECORDED,
  clearRecorded,
  lastResponse,
  parseApiUrl,
  recordResponse,
  recordedResponses,
  snapshotLookup,
} from "./snapshot";
import { panelFileName, panelResponse } from "./panelData";

afterEach(() => {
  clearRecorded();
  vi.unstubAllGlobals();
  delete (globalThis as { __CE_SNAPSHOT__?: unknown }).__CE_SNAPSHOT__;
});

describe("recorder", () => {
  it("parses buildUrl URLs back into route and parameters", () => {
    const url = buildUrl("scatter", { run: "exp 1/a&b", step: 3, layer: "l.0", steps: [1, 2] });
    const p = parseApiUrl(`/base/${url}`);
    expect(p.route).toBe("scatter");
    expect(p.params.get("run")).toEqual(["exp 1/a&b"]);
    expect(p.params.get("steps")).toEqual(["1", "2"]);
  });
  it("returns the newest response matching run, step and layer", () => {
    recordResponse(buildUrl("scatter", { run: "a", step: 1, layer: "c1", seed: 0 }), { v: 1 });
    recordResponse(buildUrl("scatter", { run: "a", step: 1, layer: "c1", seed: 1 }), { v: 2 });
    recordResponse(buildUrl("scatter", { run: "a", step: 2, layer: "c1" }), { v: 3 });
    recordResponse(buildUrl("jaccard", { run: "a", step: 1, layer: "c1" }), { v: 4 });
    expect(lastResponse("scatter", { run: "a", step: 1, layer: "c1" })?.body).toEqual({ v: 2 });
    expect(lastResponse("scatter", { run: "a", step: null, layer: "c1" })?.body).toEqual({ v: 3 });
    expect(lastResponse("scatter", { run: "b", layer: "c1" })).toBeNull();
    // Re-recording an old URL makes it the newest again.
    recordResponse(buildUrl("scatter", { run: "a", step: 1, layer: "c1", seed: 0 }), { v: 5 });
    expect(lastResponse("scatter", { run: "a", step: 1, layer: "c1" })?.body).toEqual({ v: 5 });
  });
  it("maps panels to their routes (edges by target layer) and drops the oldest beyond the cap", () => {
    recordResponse(buildUrl("channel_edges", { run: "r", step: 0, source: "c1", target: "c2" }), { e: 1 });
    expect(panelResponse("edges", "r", 0, "c2")?.body).toEqual({ e: 1 });
    expect(panelResponse("edges", "r", 0, "c1")).toBeNull();
    for (let i = 0; i < MAX_RECORDED + 5; i++) recordResponse(`runs?i=${i}`, i);
    const urls = recordedResponses().map(([u]) => u);
    expect(urls).toHaveLength(MAX_RECORDED);
    expect(urls[0]).toBe("runs?i=5");
  });
  it("names files safely", () => {
    expect(panelFileName("exp 1/a", 3, "layer1.0.conv", "scatter", "csv")).toBe(
      "exp_1_a_step3_layer1.0.conv_scatter.csv",
    );
  });
});

describe("snapshot hook of api.ts", () => {
  it("getJson records what it fetched", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(JSON.stringify({ runs: [] }), { status: 200 })),
    );
    await getJson("runs");
    expect(recordedResponses()).toEqual([["runs", { runs: [] }]]);
  });
  it("answers from window.__CE_SNAPSHOT__ without fetching; a missing URL is a 404 ApiError", async () => {
    const fetchMock = vi.fn(async () => {
      throw new Error("must not fetch");
    });
    vi.stubGlobal("fetch", fetchMock);
    const url = buildUrl("layers", { run: "a", step: 2 });
    const thumb = buildUrl("thumbnail", { run: "a", step: 2, index: 4 });
    (globalThis as { __CE_SNAPSHOT__?: unknown }).__CE_SNAPSHOT__ = {
      [url]: { layers: ["x"] },
      [thumb]: "data:image/png;base64,AAAA",
    };
    expect(snapshotLookup(url)).toEqual({ hit: true, body: { layers: ["x"] } });
    await expect(getJson("layers", { run: "a", step: 2 })).resolves.toEqual({ layers: ["x"] });
    // Recorded too, so a panel of a shared file can still export its data.
    expect(recordedResponses()).toEqual([[url, { layers: ["x"] }]]);
    const err = await getJson("layers", { run: "a", step: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(404);
    expect(thumbnailUrl({ run: "a", step: 2 }, 4)).toBe("data:image/png;base64,AAAA");
    expect(thumbnailUrl({ run: "a", step: 2 }, 5)).toBe(buildUrl("thumbnail", { run: "a", step: 2, index: 5 }));
    expect(fetchMock).not.toHaveBeenCalled();
  });
  it("no snapshot: lookups say so and image URLs stay as built", () => {
    expect(snapshotLookup("runs")).toBeNull();
    expect(thumbnailUrl({ run: "a" }, 1)).toBe("thumbnail?index=1&run=a");
  });
});
