/**
 * The channel and suspect routes of `api.ts`: the URLs they request (route
 * names and parameter names as `http_api.md` documents them).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { channelCard, channelClusters, channelEdges, channelEmbedding, setApiBase, suspects } from "./api";

/** Stubs fetch, returns the list of requested URLs. */
function recordFetch(): string[] {
  const urls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      urls.push(url);
      return new Response("{}", { status: 200, headers: { "Content-Type": "application/json" } });
    }),
  );
  return urls;
}

afterEach(() => {
  vi.unstubAllGlobals();
  setApiBase(null);
});

describe("channel routes", () => {
  it("request the documented routes and parameters", async () => {
    const urls = recordFetch();
    const layer = { run: "a b", step: 2, layer: "features.0", fn: "otsu" as const, stage: "pre" as const };
    await suspects({ ...layer, limit: 20 });
    await channelClusters({ ...layer, aspect: 1 / 3 }); // rounded, so the URL (and the cache key) stays short
    await channelClusters({ ...layer, k: 4 });
    await channelCard({ ...layer, channel: 7, topK: 9 });
    await channelEmbedding({ ...layer, method: "tsne", source: "weights", threshold: 0.3 });
    await channelEdges({ run: "a b", step: 2, source: "conv2", target: "conv3", threshold: 0.5 });
    expect(urls).toEqual([
      "suspects?fn=otsu&layer=features.0&limit=20&run=a%20b&stage=pre&step=2",
      "channel_clusters?aspect=0.3333&fn=otsu&layer=features.0&run=a%20b&stage=pre&step=2",
      "channel_clusters?fn=otsu&k=4&layer=features.0&run=a%20b&stage=pre&step=2",
      "channel_card?channel=7&fn=otsu&layer=features.0&run=a%20b&stage=pre&step=2&top_k=9",
      "channel_embedding?fn=otsu&layer=features.0&method=tsne&run=a%20b&source=weights&stage=pre&step=2&threshold=0.3",
      "channel_edges?run=a%20b&source=conv2&step=2&target=conv3&threshold=0.5",
    ]);
  });
  it("leave out what is not given (route defaults)", async () => {
    const urls = recordFetch();
    await channelClusters({ run: "r", layer: "l", k: null });
    await channelCard({ run: "r", layer: "l", channel: 0 });
    expect(urls).toEqual(["channel_clusters?layer=l&run=r", "channel_card?channel=0&layer=l&run=r"]);
  });
});
