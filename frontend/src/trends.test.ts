/** URLs and errors of the across-steps routes (`timeline`, `trajectory`, `diff`). */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, buildUrl, diff, timeline, trajectory } from "./api";

afterEach(() => vi.unstubAllGlobals());

function mockFetch(body: unknown = {}, status = 200) {
  const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => new Response(JSON.stringify(body), { status }));
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

describe("across-steps routes", () => {
  it("repeats array parameters in their order, encoded", () => {
    expect(buildUrl("timeline", { run: ["b run", "a&c"], fn: "l2" })).toBe("timeline?fn=l2&run=b%20run&run=a%26c");
  });
  it("timeline sends one run= per run", async () => {
    const f = mockFetch({ score: "knn_loo", runs: [] });
    await timeline({ runs: ["r1", "r2"], fn: "l2", stage: "pre" });
    expect(f.mock.calls[0][0]).toBe("timeline?fn=l2&run=r1&run=r2&stage=pre");
  });
  it("timeline rejects an empty run list without fetching", async () => {
    const f = mockFetch();
    await expect(timeline({ runs: [] })).rejects.toThrow(/at least one run/);
    expect(f).not.toHaveBeenCalled();
  });
  it("trajectory joins steps with commas and leaves out absent options", async () => {
    const f = mockFetch();
    await trajectory({ run: "r", layer: "conv3", method: "pca", align: "procrustes", seed: 0, steps: [0, 2, 4] });
    expect(f.mock.calls[0][0]).toBe("trajectory?align=procrustes&layer=conv3&method=pca&run=r&seed=0&steps=0%2C2%2C4");
    await trajectory({ run: "r", layer: "l", steps: [] });
    expect(f.mock.calls[1][0]).toBe("trajectory?layer=l&run=r");
  });
  it("diff names side B run_b / step_b", async () => {
    const f = mockFetch();
    await diff({ run: "r", step: 0, layer: "l", runB: "s", stepB: 4, fn: "otsu", eta: 0.2, order: "pairwise" });
    expect(f.mock.calls[0][0]).toBe("diff?eta=0.2&fn=otsu&layer=l&order=pairwise&run=r&run_b=s&step=0&step_b=4");
  });
  it("turns a 400 into an ApiError naming the parameter", async () => {
    mockFetch({ error: "step_b 9 not found", parameter: "step_b" }, 400);
    const err = await diff({ run: "r", step: 0, layer: "l", runB: "r", stepB: 9 }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.parameter).toBe("step_b");
    expect(err.message).toBe("step_b 9 not found");
  });
});
