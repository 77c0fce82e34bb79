import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, buildUrl, getJson, overlayUrl, scatter, setApiBase, thumbnailUrl } from "./api";

/** The ApiError a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    return e as ApiError;
  }
  throw new Error("expected a rejection");
}

afterEach(() => {
  vi.unstubAllGlobals();
  setApiBase(null);
});

describe("buildUrl", () => {
  it("encodes every key and value, sorts keys and drops null/undefined", () => {
    const url = buildUrl("summaries", {
      run: "exp 1/a&b=c",
      step: 3,
      layer: "layer1.0.conv1",
      fn: undefined,
      stage: null,
    });
    expect(url).toBe("summaries?layer=layer1.0.conv1&run=exp%201%2Fa%26b%3Dc&step=3");
  });
  it("maps booleans to 1/0", () => {
    expect(buildUrl("jaccard", { normalize: true })).toBe("jaccard?normalize=1");
    expect(buildUrl("jaccard", { normalize: false })).toBe("jaccard?normalize=0");
  });
  it("is relative by default and honours setApiBase", () => {
    expect(buildUrl("runs")).toBe("runs");
    setApiBase("/data/plugin/channelexplorer/");
    expect(buildUrl("runs")).toBe("/data/plugin/channelexplorer/runs");
  });
  it("rejects bad routes and bases", () => {
    expect(() => buildUrl("../runs")).toThrow(/invalid route/);
    expect(() => setApiBase("/no-slash")).toThrow(/must end with/);
  });
  it("builds image URLs", () => {
    expect(thumbnailUrl({ run: "r", step: 2 }, 5)).toBe("thumbnail?index=5&run=r&step=2");
    expect(overlayUrl({ run: "r", layer: "a b" }, 1, 7)).toBe("overlay?channel=7&index=1&layer=a%20b&run=r");
  });
});

describe("getJson", () => {
  it("returns parsed JSON on 200", async () => {
    const fetchMock = vi.fn(
      async (_url: string, _init?: RequestInit) => new Response(JSON.stringify({ runs: [] }), { status: 200 }),
    );
    vi.stubGlobal("fetch", fetchMock);
    await expect(getJson("runs")).resolves.toEqual({ runs: [] });
    expect(fetchMock).toHaveBeenCalledWith("runs", expect.anything());
  });
  it("throws ApiError with the backend's message on 4xx", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(
        async () => new Response(JSON.stringify({ error: "unknown layer 'x'", parameter: "layer" }), { status: 400 }),
      ),
    );
    const err = await rejection(scatter({ run: "r", layer: "x" }));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe("unknown layer 'x'");
    expect(err.status).toBe(400);
    expect(err.parameter).toBe("layer");
    expect(err.route).toBe("scatter");
  });
  it("keeps the status line when the error body is not JSON", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response("<html>boom</html>", { status: 500, statusText: "Internal" })),
    );
    const err = await rejection(getJson("runs"));
    expect(err.message).toContain("HTTP 500");
  });
  it("reports network failures as ApiError status 0", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))),
    );
    const err = await rejection(getJson("runs"));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
  });
  it("passes the scatter options", async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => new Response("{}", { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    await scatter({ run: "r", step: 1, layer: "l", fn: "l2", method: "pca", seed: 3, k: null });
    expect(fetchMock.mock.calls[0][0]).toBe("scatter?fn=l2&layer=l&method=pca&run=r&seed=3&step=1");
  });
});
