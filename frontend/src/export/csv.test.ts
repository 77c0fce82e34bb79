import { describe, expect, it } from "vitest";
import { csvParseRows } from "d3";
import { csvCell, flatten, toCsv } from "./csv";

describe("csvCell / toCsv", () => {
  it("quotes per RFC 4180 and defuses formula-like text", () => {
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell("=SUM(A1)")).toBe("'=SUM(A1)");
    expect(csvCell(-1.5)).toBe("-1.5");
    expect(csvCell(NaN)).toBe("");
    expect(csvCell(null)).toBe("");
    expect(csvCell(true)).toBe("1");
  });
  it("round-trips through d3's CSV parser", () => {
    const rows = [
      ["x,y", 'q"uote', "plain"],
      ["line\r\nbreak", 3, 0.25],
    ];
    const text = toCsv({ header: ["a", "b", "c"], rows });
    expect(text.endsWith("\r\n")).toBe(true);
    // d3 keeps a trailing empty row for the final line end; drop it.
    const parsed = csvParseRows(text).filter((r) => r.length > 1);
    expect(parsed).toEqual([
      ["a", "b", "c"],
      ["x,y", 'q"uote', "plain"],
      ["line\r\nbreak", "3", "0.25"],
    ]);
  });
});

describe("flatten", () => {
  it("scatter: one row per input, outliers flagged (golden)", () => {
    const body = {
      method: "pca",
      seed: 0,
      points: [
        [0.5, -1],
        [2, 3],
      ],
      clusters: [1, 0],
      cluster_info: [],
      outliers: [1],
      labels: [7, 4],
    };
    expect(toCsv(flatten("scatter", body))).toBe(
      "input,x,y,label,cluster,outlier\r\n0,0.5,-1,7,1,0\r\n1,2,3,4,0,1\r\n",
    );
  });
  it("jaccard: matrix rows and columns labelled by input in the response's order (golden)", () => {
    const body = {
      order: [2, 0],
      matrix: [
        [1, 0.25],
        [0.25, 1],
      ],
    };
    expect(toCsv(flatten("jaccard", body))).toBe("input,input_2,input_0\r\n2,1,0.25\r\n0,0.25,1\r\n");
  });
  it("heatmap: one row per channel of the page, one column per input (golden)", () => {
    const body = {
      channels: [5, 3],
      columns: [9, 1, 4],
      values: [
        [0, 1, 2],
        [3, 4, 5],
      ],
    };
    expect(toCsv(flatten("heatmap", body))).toBe("channel,input_9,input_1,input_4\r\n5,0,1,2\r\n3,3,4,5\r\n");
  });
  it("diff: rows and columns labelled by sample id in order (golden)", () => {
    const body = {
      sample_ids: ["s0", "s1"],
      order: [1, 0],
      diff: [
        [0, -0.5],
        [-0.5, 0],
      ],
    };
    expect(toCsv(flatten("diff", body))).toBe("sample,sample_s1,sample_s0\r\ns1,0,-0.5\r\ns0,-0.5,0\r\n");
  });
  it("hierarchy: one row per node, depth first, with its path (golden)", () => {
    const tree = {
      name: "root",
      classes: [0, 1, 2],
      children: [
        {
          name: "a",
          classes: [0, 1],
          children: [
            { name: "0", class: 0, inputs: [1, 2] },
            { name: "1", class: 1, inputs: [3] },
          ],
        },
        { name: "2", class: 2, inputs: [4, 5, 6] },
      ],
    };
    expect(flatten("hierarchy", { tree }).rows).toEqual([
      ["root", 0, "root", "", "0 1 2", ""],
      ["root/a", 1, "a", "", "0 1", ""],
      ["root/a/0", 2, "0", 0, "", 2],
      ["root/a/1", 2, "1", 1, "", 1],
      ["root/2", 1, "2", 2, "", 3],
    ]);
  });
  it("trajectory: one row per (step, sample)", () => {
    const body = {
      sample_ids: [10, 11],
      labels: [0, 1],
      frames: [
        {
          step: 0,
          points: [
            [0, 0],
            [1, 1],
          ],
        },
        {
          step: 5,
          points: [
            [2, 2],
            [3, 3],
          ],
        },
      ],
    };
    const t = flatten("trajectory", body);
    expect(t.header).toEqual(["step", "sample", "label", "x", "y"]);
    expect(t.rows).toEqual([
      [0, 10, 0, 0, 0],
      [0, 11, 1, 1, 1],
      [5, 10, 0, 2, 2],
      [5, 11, 1, 3, 3],
    ]);
  });
  it("channel views: one row per channel; edges: one row per bundle", () => {
    const clusters = flatten("channel_clusters", {
      assignment: [1, 0, 1],
      channel_selectivity: [0.1, 0.2, 0.3],
      channel_preferred_class: [2, 2, 0],
    });
    expect(clusters.rows).toEqual([
      [0, 1, 0.1, 2],
      [1, 0, 0.2, 2],
      [2, 1, 0.3, 0],
    ]);
    const emb = flatten("channel_embedding", {
      points: [[1, 2]],
      preferred_class: [3],
      selectivity: [0.5],
      color_class: [-1],
    });
    expect(emb.rows).toEqual([[0, 1, 2, 3, 0.5, -1]]);
    const edges = flatten("channel_edges", {
      bundles: [
        { source: 0, target: 1, connections: 4, abs: 2, mean_abs: 0.5, strength: 1, positive: null, negative: 0.5 },
      ],
    });
    expect(toCsv(edges).split("\r\n")[1]).toBe("0,1,4,2,0.5,1,,0.5");
  });
  it("dataset: one row per class; timeline: one row per (run, layer, step) (golden)", () => {
    const dataset = {
      classes: [
        { id: 0, name: "zero", count: 5, similarity: 1 },
        { id: 1, name: "one", count: 4, similarity: 0.5 },
      ],
    };
    expect(toCsv(flatten("dataset", dataset))).toBe("class,name,count,similarity\r\n0,zero,5,1\r\n1,one,4,0.5\r\n");
    const timeline = {
      runs: [
        {
          run: "r",
          steps: [0, 10],
          layers: ["a", "b"],
          scores: [
            [0.1, 0.2],
            [0.3, null],
          ],
          accuracy: [0.5, null],
        },
      ],
    };
    expect(toCsv(flatten("timeline", timeline))).toBe(
      "run,layer,step,score,accuracy\r\nr,a,0,0.1,0.5\r\nr,a,10,0.2,\r\nr,b,0,0.3,0.5\r\nr,b,10,,\r\n",
    );
  });
  it("any other route: key,value with nested values as JSON; non-objects are rejected", () => {
    expect(flatten("runs", { n: 2, list: [1, "a"] }).rows).toEqual([
      ["n", 2],
      ["list", '[1,"a"]'],
    ]);
    expect(() => flatten("scatter", null)).toThrow(/body of "scatter" must be an object/);
  });
});
