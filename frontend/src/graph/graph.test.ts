import { describe, expect, it } from "vitest";
import type { GraphResponse } from "../types";
import {
  collapseGroup,
  defaultCollapsed,
  expandGroup,
  GROUP_PREFIX,
  pathPrefixes,
  revealNode,
  visibleGraph,
} from "./grouping";
import { exportLayout, layoutGraph, parseLayout } from "./layout";
import { fallbackGraph, loadGraph, settle } from "./GraphView";
import { ApiError } from "../api";
import type { LayerInfo } from "../types";
import { layerNodeSize } from "./sizes";

/** A ResNet-like chain: stem + `blocks` blocks of 3 convs each with a skip edge. */
function resnetLike(blocks: number): GraphResponse {
  const nodes: GraphResponse["nodes"] = [
    { id: "input", name: "input", type: "Input", shape: [3, 8, 8], params: 0, logged: false, parent: "" },
  ];
  const edges: GraphResponse["edges"] = [];
  let prev = "input";
  for (let b = 0; b < blocks; b++) {
    const stage = `layer${1 + Math.floor(b / 4)}`;
    const blk = `${stage}.${b % 4}`;
    const start = prev;
    for (const c of ["conv1", "conv2", "conv3"]) {
      const id = `${blk}.${c}`;
      nodes.push({ id, name: id, type: "Conv2d", shape: [16, 8, 8], params: 10, logged: true, parent: blk });
      edges.push({ source: prev, target: id });
      prev = id;
    }
    const add = `${blk}.add`;
    nodes.push({ id: add, name: add, type: "add", shape: [16, 8, 8], params: 0, logged: false, parent: blk });
    edges.push({ source: prev, target: add }, { source: start, target: add });
    prev = add;
  }
  return { source: "fx", nodes, edges };
}

describe("grouping", () => {
  it("revealing a node expands every enclosing collapsed group", () => {
    const g = resnetLike(16);
    // Expanding layer2 with a small threshold collapses its blocks: the node needs two levels opened.
    const start = expandGroup(g, defaultCollapsed(g), "layer2", 2);
    expect(start.has("layer2.1")).toBe(true);
    const c = revealNode(g, defaultCollapsed(g), "layer2.1.conv2");
    const v = visibleGraph(g, c);
    expect(v.nodes.some((n) => n.kind === "layer" && n.id === "layer2.1.conv2")).toBe(true);
    expect(c.has("layer1")).toBe(true); // other groups stay collapsed
    expect(revealNode(g, c, "no.such.node")).toEqual(c);
  });
  it("path prefixes", () => {
    expect(pathPrefixes("")).toEqual([]);
    expect(pathPrefixes("a.b.c")).toEqual(["a", "a.b", "a.b.c"]);
  });
  it("small graphs start expanded, large ones collapse top-level modules", () => {
    expect(defaultCollapsed(resnetLike(2)).size).toBe(0);
    const g = resnetLike(16); // 65 nodes
    const c = defaultCollapsed(g);
    expect([...c].sort()).toEqual(["layer1", "layer2", "layer3", "layer4"]);
    const v = visibleGraph(g, c);
    expect(v.nodes.map((n) => n.id)).toEqual([
      "input",
      ...["layer1", "layer2", "layer3", "layer4"].map((p) => GROUP_PREFIX + p),
    ]);
    // Edges are re-pointed to groups, de-duplicated, without self-loops.
    expect(v.edges).toEqual([
      { source: "input", target: "group:layer1" },
      { source: "group:layer1", target: "group:layer2" },
      { source: "group:layer2", target: "group:layer3" },
      { source: "group:layer3", target: "group:layer4" },
    ]);
    const grp = v.nodes[1];
    expect(grp.kind === "group" && grp.size === 16 && grp.logged === 12).toBe(true);
  });
  it("expanding a group shows its nodes; a big group collapses its children", () => {
    const g = resnetLike(16);
    const c = expandGroup(g, defaultCollapsed(g), "layer2", 100);
    const v = visibleGraph(g, c);
    expect(v.nodes.filter((n) => n.kind === "layer" && n.node.parent.startsWith("layer2")).length).toBe(16);
    const c2 = expandGroup(g, defaultCollapsed(g), "layer2", 8);
    expect([...c2].filter((p) => p.startsWith("layer2.")).sort()).toEqual([
      "layer2.0",
      "layer2.1",
      "layer2.2",
      "layer2.3",
    ]);
    const c3 = collapseGroup(c2, "layer2");
    expect([...c3].filter((p) => p.startsWith("layer2")).sort()).toEqual(["layer2"]);
  });
  it("every edge of the visible graph joins visible nodes", () => {
    const g = resnetLike(40);
    for (const c of [new Set<string>(), defaultCollapsed(g), expandGroup(g, defaultCollapsed(g), "layer3")]) {
      const v = visibleGraph(g, c);
      const ids = new Set(v.nodes.map((n) => n.id));
      expect(v.edges.every((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target)).toBe(true);
    }
  });
});

describe("layout", () => {
  it("layers nodes along the orientation without overlap", () => {
    const g = resnetLike(3);
    const ids = g.nodes.map((n) => n.id);
    const sizes = new Map(ids.map((id) => [id, { width: 100, height: 40 }]));
    const tb = layoutGraph(ids, g.edges, sizes, "TB");
    const lr = layoutGraph(ids, g.edges, sizes, "LR");
    for (const e of g.edges) {
      expect(tb.get(e.target)!.y).toBeGreaterThan(tb.get(e.source)!.y);
      expect(lr.get(e.target)!.x).toBeGreaterThan(lr.get(e.source)!.x);
    }
    const boxes = ids.map((id) => tb.get(id)!);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i],
          b = boxes[j];
        const overlap = a.x < b.x + 100 && b.x < a.x + 100 && a.y < b.y + 40 && b.y < a.y + 40;
        expect(overlap).toBe(false);
      }
    expect(() => layoutGraph(ids, g.edges, sizes, "BT" as "TB")).toThrow(/orientation/);
  });
  it("is deterministic", () => {
    const g = resnetLike(8);
    const ids = g.nodes.map((n) => n.id);
    const sizes = new Map(ids.map((id) => [id, { width: 120, height: 50 }]));
    expect([...layoutGraph(ids, g.edges, sizes)]).toEqual([...layoutGraph(ids, g.edges, sizes)]);
  });
  it("exports and re-imports positions", () => {
    const text = exportLayout(
      "run",
      "LR",
      new Set(["b", "a"]),
      new Map([
        ["n2", { x: 1.4, y: 2 }],
        ["n1", { x: 3, y: 4.6 }],
      ]),
    );
    const parsed = parseLayout(text);
    expect(parsed.orientation).toBe("LR");
    expect(parsed.collapsed).toEqual(["a", "b"]);
    expect(parsed.positions).toEqual({ n1: { x: 3, y: 5 }, n2: { x: 1, y: 2 } });
    expect(Object.keys(JSON.parse(text).positions)).toEqual(["n1", "n2"]);
  });
  it("rejects malformed layout files with a message naming the field", () => {
    expect(() => parseLayout("nope")).toThrow(/not JSON/);
    expect(() => parseLayout("{}")).toThrow(/format/);
    const ok = JSON.parse(exportLayout("r", "TB", [], { a: { x: 0, y: 0 } }));
    expect(() => parseLayout(JSON.stringify({ ...ok, orientation: "XY" }))).toThrow(/orientation/);
    expect(() => parseLayout(JSON.stringify({ ...ok, positions: { a: { x: "1", y: 0 } } }))).toThrow(/position of "a"/);
  });
  it("node sizes grow with open panels", () => {
    const closed = layerNodeSize([]);
    const one = layerNodeSize(["scatter"]);
    const two = layerNodeSize(["scatter", "heatmap"]);
    expect(one.height).toBeGreaterThan(closed.height);
    expect(two.width).toBeGreaterThan(one.width);
  });
  it("falls back to a chain of logged layers", () => {
    const g = fallbackGraph([
      {
        name: "a",
        type: "Conv2d",
        shape: [4],
        channels: 4,
        stages: ["pre"],
        functions: ["l2"],
        has_maps: false,
        has_filter_norm: false,
      },
      {
        name: "b",
        type: "Conv2d",
        shape: [4],
        channels: 4,
        stages: ["pre"],
        functions: ["l2"],
        has_maps: false,
        has_filter_norm: false,
      },
    ]);
    expect(g.nodes.map((n) => n.id)).toEqual(["a", "b"]);
    expect(g.edges).toEqual([{ source: "a", target: "b" }]);
  });
});

describe("loadGraph (the /graph request started beside the manifest)", () => {
  const layers: LayerInfo[] = [
    { name: "conv1", type: "Conv2d", shape: [8, 4, 4] } as LayerInfo,
    { name: "conv2", type: "Conv2d", shape: [8, 2, 2] } as LayerInfo,
  ];
  const logged = resnetLike(1);
  const never = () => Promise.reject(new Error("must not fetch: a prefetched request was given"));

  it("uses the prefetched response and does not fetch again", async () => {
    let fetched = 0;
    const got = await loadGraph(settle(Promise.resolve(logged)), () => (fetched++, never()), layers);
    expect(got).toEqual({ graph: logged, fallback: false });
    expect(fetched).toBe(0);
  });

  it("fetches when nothing was prefetched", async () => {
    const got = await loadGraph(null, () => Promise.resolve(logged), layers);
    expect(got.graph).toBe(logged);
  });

  it("falls back to the layer chain on a prefetched 404, as on a fetched one", async () => {
    const notFound = new ApiError("no graph", 404, "graph");
    for (const got of [
      await loadGraph(settle(Promise.reject(notFound)), never, layers),
      await loadGraph(null, () => Promise.reject(notFound), layers),
    ]) {
      expect(got.fallback).toBe(true);
      expect(got.graph.nodes.map((n) => n.id)).toEqual(["conv1", "conv2"]);
      expect(got.graph.edges).toEqual([{ source: "conv1", target: "conv2" }]);
    }
  });

  it("rethrows any other prefetched error", async () => {
    const boom = new ApiError("server error", 500, "graph");
    await expect(loadGraph(settle(Promise.reject(boom)), never, layers)).rejects.toBe(boom);
  });

  it("settle holds a rejection as a value (no unhandled rejection before anyone awaits)", async () => {
    const held = settle(Promise.reject(new Error("later")));
    await new Promise((r) => setTimeout(r, 0));
    const got = await held;
    expect(got.ok).toBe(false);
  });
});
