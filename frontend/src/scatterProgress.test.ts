import { afterEach, describe, expect, it, vi } from "vitest";
import { scatter, scatterProgress } from "./api";

afterEach(() => vi.unstubAllGlobals());

describe("scatterProgress", () => {
  it("asks /scatter_progress with exactly the parameters of /scatter", async () => {
    const body = { state: "running", fraction: 0.43, phase: "optimising", elapsed_s: 4.1 };
    const fetchMock = vi.fn(async () => new Response(JSON.stringify(body), { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    const q = { run: "r 1", step: 2, layer: "l", fn: "l2" as const, method: "tsne" as const, seed: 3, k: 4 };
    await expect(scatterProgress(q)).resolves.toEqual(body);
    await scatter(q);
    const [progressUrl, scatterUrl] = fetchMock.mock.calls.map((c) => String((c as unknown[])[0]));
    expect(progressUrl).toBe("scatter_progress?fn=l2&k=4&layer=l&method=tsne&run=r%201&seed=3&step=2");
    expect(progressUrl.replace("scatter_progress?", "scatter?")).toBe(scatterUrl);
  });
});
