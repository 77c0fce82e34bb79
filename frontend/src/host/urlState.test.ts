import { describe, expect, it } from "vitest";
import {
  compressIndices,
  decodeUrlState,
  encodeUrlState,
  expandIndices,
  readPluginData,
  writePluginData,
} from "./urlState";

describe("url state", () => {
  it("writes a golden hash and keeps TensorBoard's own entries", () => {
    const data = encodeUrlState({
      run: "runs/a b",
      step: 3,
      mode: "timeline",
      open: [
        ["features.0", ["scatter", "jaccard"]],
        ["fc", ["heatmap"]],
      ],
      eta: 0.3,
      selection: [4, 1, 2, 3, 9],
    });
    const hash = writePluginData("#channelexplorer&smoothing=0.6&p.channelexplorer.old=1", data);
    expect(hash).toBe(
      "#channelexplorer&smoothing=0.6&p.channelexplorer.run=runs%2Fa%20b&p.channelexplorer.step=3" +
        "&p.channelexplorer.mode=timeline&p.channelexplorer.open=features.0%3Ascatter%2Bjaccard%2Cfc%3Aheatmap" +
        "&p.channelexplorer.eta=0.3&p.channelexplorer.selection=1-4%2C9",
    );
  });

  it("reads back what it wrote", () => {
    const state = {
      run: "r:1,2",
      step: 0,
      compare: true,
      runB: "b&c",
      stepB: 7,
      open: [["a:b,c", ["diff", "trajectory"]]] as Array<[string, Array<"diff" | "trajectory">]>,
      method: "umap" as const,
      order: "variance" as const,
      fn: "otsu" as const,
      stage: "post" as const,
      selection: [0, 5, 6],
      timeline: ["x,y", "z"],
    };
    const hash = writePluginData("#channelexplorer", encodeUrlState(state));
    expect(decodeUrlState(readPluginData(hash))).toEqual(state);
  });

  it("leaves defaults out", () => {
    expect(
      encodeUrlState({ mode: "graph", method: "tsne", eta: 0.2, order: "pairwise", fn: "auto", stage: "pre" }),
    ).toEqual({});
    expect(writePluginData("", {})).toBe("#channelexplorer");
  });

  it("drops malformed values from a link", () => {
    expect(
      decodeUrlState({
        step: "-1",
        stepB: "1e3",
        mode: "3d",
        projection: "lda",
        eta: "2",
        order: "x",
        fn: "sum",
        stage: "mid",
        open: "conv1:nope,:scatter,conv2:heatmap+heatmap",
        selection: "a,3-1,5,7-8",
        compare: "yes",
      }),
    ).toEqual({ open: [["conv2", ["heatmap"]]], selection: [5, 7, 8] });
  });

  it("compresses index ranges", () => {
    expect(compressIndices([9, 1, 2, 3, 3, 5])).toBe("1-3,5,9");
    expect(expandIndices("1-3,5,9")).toEqual([1, 2, 3, 5, 9]);
    expect(expandIndices("0-99999999", 10)).toHaveLength(10);
  });
});
