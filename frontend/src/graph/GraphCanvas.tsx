/** The model graph of one side drawn with React Flow: layout, collapsing, open panels, layout export. */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  Panel,
  ReactFlow,
  useEdgesState,
  useNodesState,
  useReactFlow,
} from "@xyflow/react";
import type { Edge } from "@xyflow/react";
import { ErrorBox } from "../components/ErrorBox";
import type { GraphResponse } from "../types";
import { useSide } from "./context";
import { defaultCollapsed, expandGroup, GROUP_PREFIX, revealNode, visibleGraph } from "./grouping";
import type { FocusRequest } from "./context";
import { exportLayout, layoutGraph, parseLayout } from "./layout";
import type { Orientation, Position, Size } from "./layout";
import { nodeTypes } from "./nodes";
import type { FlowNode } from "./nodes";
import type { PanelKind } from "./panelKinds";
import { GROUP_HEIGHT, GROUP_WIDTH, SMALL_HEIGHT, SMALL_WIDTH, layerNodeSize } from "./sizes";
import { useOpenPanels } from "./openPanels";
import { useTheme } from "../host/theme";

/** Fitting leaves room for the graph toolbar above the first node. */
const FIT = { padding: { top: "52px", bottom: 0.08, left: 0.08, right: 0.08 }, maxZoom: 1.2 } as const;

function revealAll(graph: GraphResponse, collapsed: ReadonlySet<string>, ids: Iterable<string>): Set<string> {
  let next = new Set(collapsed);
  for (const id of ids) next = revealNode(graph, next, id);
  return next;
}

export const EMPTY: PanelKind[] = [];

/** Stable signature of a graph's structure (resets grouping when it changes). */
export function graphKey(g: GraphResponse): string {
  return `${g.nodes.length}:${g.edges.length}:${g.nodes.map((n) => n.id).join("|")}`;
}

export function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function GraphCanvas({
  graph,
  onPerf,
  focus,
}: {
  graph: GraphResponse;
  onPerf?: (n: number) => void;
  focus?: FocusRequest | null;
}) {
  const side = useSide();
  const theme = useTheme();
  const flow = useReactFlow();
  const key = useMemo(() => graphKey(graph), [graph]);
  const [orientation, setOrientation] = useState<Orientation>("TB");
  const [open, setOpen] = useOpenPanels(side.side);
  // Layers opened by a link or by back / forward are shown even when their group starts collapsed.
  const [collapsed, setCollapsed] = useState<Set<string>>(() => revealAll(graph, defaultCollapsed(graph), open.keys()));
  const [importError, setImportError] = useState<Error | null>(null);
  const manual = useRef<Map<string, Position>>(new Map());
  const fitPending = useRef(true);
  // A node whose panels just opened: the view moves to it after the layout.
  const focusNode = useRef<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const [nodes, setNodes, onNodesChange] = useNodesState<FlowNode>([]);
  const [edges, setEdges, onEdgesChange] = useEdgesState<Edge>([]);

  // A different model (not just another step) resets grouping and panels.
  const lastKey = useRef(key);
  useEffect(() => {
    if (lastKey.current === key) return;
    lastKey.current = key;
    manual.current.clear();
    fitPending.current = true;
    setCollapsed(defaultCollapsed(graph));
    setOpen(new Map());
  }, [key, graph, setOpen]);

  useEffect(() => {
    setCollapsed((prev) => {
      const next = revealAll(graph, prev, open.keys());
      if (next.size === prev.size) return prev;
      manual.current.clear();
      return next;
    });
  }, [open, graph]);

  // A layer asked for by the timeline: reveal it, open the panel, move the view to it.
  const doneFocus = useRef<number | null>(null);
  useEffect(() => {
    if (!focus || doneFocus.current === focus.nonce) return;
    if (!graph.nodes.some((n) => n.id === focus.layer)) return;
    doneFocus.current = focus.nonce;
    setCollapsed((prev) => {
      const next = revealNode(graph, prev, focus.layer);
      if (next.size !== prev.size) manual.current.clear();
      return next;
    });
    setOpen((prev) => {
      const next = new Map(prev);
      const cur = prev.get(focus.layer) ?? EMPTY;
      next.set(focus.layer, cur.includes(focus.panel) ? cur : [...cur, focus.panel]);
      return next;
    });
    focusNode.current = focus.layer;
  }, [focus, graph, setOpen]);

  const onToggle = useCallback(
    (id: string, kind: PanelKind) => {
      setOpen((prev) => {
        const next = new Map(prev);
        const cur = prev.get(id) ?? EMPTY;
        const upd = cur.includes(kind) ? cur.filter((k) => k !== kind) : [...cur, kind];
        if (!cur.includes(kind)) focusNode.current = id;
        if (upd.length) next.set(id, upd);
        else next.delete(id);
        return next;
      });
    },
    [setOpen],
  );

  const onExpand = useCallback(
    (path: string) => {
      manual.current.clear();
      fitPending.current = true;
      setCollapsed((prev) => expandGroup(graph, prev, path));
    },
    [graph],
  );

  const visible = useMemo(() => visibleGraph(graph, collapsed), [graph, collapsed]);

  useEffect(() => {
    const t0 = performance.now();
    const sizes = new Map<string, Size>();
    for (const v of visible.nodes) {
      if (v.kind === "group") sizes.set(v.id, { width: GROUP_WIDTH, height: GROUP_HEIGHT });
      else if (v.node.logged) sizes.set(v.id, layerNodeSize(open.get(v.id) ?? EMPTY));
      else sizes.set(v.id, { width: SMALL_WIDTH, height: SMALL_HEIGHT });
    }
    const pos = layoutGraph(
      visible.nodes.map((v) => v.id),
      visible.edges,
      sizes,
      orientation,
    );
    const flowNodes: FlowNode[] = visible.nodes.map((v) => {
      const position = manual.current.get(v.id) ?? pos.get(v.id) ?? { x: 0, y: 0 };
      if (v.kind === "group") {
        return {
          id: v.id,
          type: "group",
          position,
          data: { path: v.path, size: v.size, logged: v.logged, loggedIds: v.loggedIds, orientation, onExpand },
        };
      }
      const logged = v.node.logged;
      return {
        id: v.id,
        type: logged ? "layer" : "small",
        position,
        data: {
          node: v.node,
          layer: side.layers.get(v.id) ?? null,
          open: open.get(v.id) ?? EMPTY,
          orientation,
          highlighted: false,
          onToggle,
        },
      } as FlowNode;
    });
    setNodes(flowNodes);
    setEdges(
      visible.edges.map((e) => ({
        id: `${e.source}->${e.target}`,
        source: e.source,
        target: e.target,
        markerEnd: { type: MarkerType.ArrowClosed, width: 14, height: 14, color: "var(--ce-faint)" },
        style: { stroke: "var(--ce-faint)", strokeWidth: 1.2 },
        focusable: false,
      })),
    );
    onPerf?.(performance.now() - t0);
    // Focus a node only once its panels are open (a timeline request opens them a render later).
    const focusReady = focusNode.current !== null && (open.get(focusNode.current)?.length ?? 0) > 0;
    if (fitPending.current && !focusReady) {
      fitPending.current = false;
      requestAnimationFrame(() => requestAnimationFrame(() => void flow.fitView({ ...FIT, duration: 0 })));
    } else if (focusNode.current && focusReady) {
      fitPending.current = false;
      const id = focusNode.current;
      focusNode.current = null;
      requestAnimationFrame(() =>
        requestAnimationFrame(() => void flow.fitView({ nodes: [{ id }], padding: 0.06, maxZoom: 1, duration: 0 })),
      );
    }
  }, [visible, open, orientation, side.layers, onToggle, onExpand, setNodes, setEdges, flow, onPerf]);

  const exportNow = () => {
    const positions = new Map<string, Position>();
    for (const n of flow.getNodes()) positions.set(n.id, n.position);
    const safeRun = side.run.replace(/[^A-Za-z0-9._-]+/g, "_") || "run";
    download(`channelexplorer-layout-${safeRun}.json`, exportLayout(side.run, orientation, collapsed, positions));
  };

  const importFile = async (file: File) => {
    try {
      const layout = parseLayout(await file.text());
      manual.current = new Map(Object.entries(layout.positions));
      fitPending.current = true;
      setOrientation(layout.orientation);
      setCollapsed(new Set(layout.collapsed));
      setImportError(null);
    } catch (err) {
      setImportError(err as Error);
    }
  };

  const groupsCollapsed = collapsed.size;
  const nLogged = graph.nodes.filter((n) => n.logged).length;

  return (
    <ReactFlow
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      onNodesChange={onNodesChange}
      onEdgesChange={onEdgesChange}
      onNodeDragStop={(_e, _n, dragged) => {
        for (const n of dragged) manual.current.set(n.id, n.position);
      }}
      onNodeClick={(_e, n) => {
        if (n.id.startsWith(GROUP_PREFIX)) onExpand(n.id.slice(GROUP_PREFIX.length));
      }}
      nodesConnectable={false}
      edgesFocusable={false}
      minZoom={0.05}
      maxZoom={2.5}
      onlyRenderVisibleElements={visible.nodes.length > 120}
      proOptions={{ hideAttribution: true }}
      deleteKeyCode={null}
      fitView
      fitViewOptions={FIT}
      colorMode={theme}
    >
      <Background gap={24} size={1} color="var(--ce-grid-dots)" />
      <Controls showInteractive={false} position="bottom-left" />
      <MiniMap
        pannable
        zoomable
        position="bottom-right"
        nodeColor={(n) =>
          n.type === "group"
            ? "var(--ce-minimap-group)"
            : n.type === "layer"
              ? "var(--ce-accent)"
              : "var(--ce-node-border)"
        }
        nodeStrokeWidth={0}
        maskColor="var(--ce-minimap-mask)"
        ariaLabel="Minimap of the model graph"
      />
      <Panel position="top-left" className="ce-graph-toolbar">
        <span className="ce-segmented" role="group" aria-label="Orientation">
          {(["TB", "LR"] as const).map((o) => (
            <button
              key={o}
              type="button"
              className="ce-segmented__btn"
              aria-pressed={orientation === o}
              data-testid={`orientation-${o}`}
              title={o === "TB" ? "Lay the graph out top to bottom" : "Lay the graph out left to right"}
              onClick={() => {
                manual.current.clear();
                fitPending.current = true;
                setOrientation(o);
              }}
            >
              {o === "TB" ? "↓ TB" : "→ LR"}
            </button>
          ))}
        </span>
        <button
          type="button"
          className="ce-btn ce-btn--small"
          title="Re-run the automatic layout (drops dragged positions)"
          onClick={() => {
            manual.current.clear();
            fitPending.current = true;
            setOpen((o) => new Map(o));
          }}
        >
          Re-layout
        </button>
        {graph.nodes.length > 1 && (
          <button
            type="button"
            className="ce-btn ce-btn--small"
            title={groupsCollapsed ? "Expand every module group" : "Collapse module groups"}
            data-testid="toggle-groups"
            onClick={() => {
              manual.current.clear();
              fitPending.current = true;
              setCollapsed((prev) => {
                if (prev.size) return new Set();
                const d = defaultCollapsed(graph, 0);
                return d.size ? d : prev;
              });
            }}
          >
            {groupsCollapsed ? "Expand all" : "Group modules"}
          </button>
        )}
        <button
          type="button"
          className="ce-btn ce-btn--small"
          title="Download node positions as JSON"
          onClick={exportNow}
        >
          Export layout
        </button>
        <button
          type="button"
          className="ce-btn ce-btn--small"
          title="Load node positions from a JSON file exported earlier"
          onClick={() => fileInput.current?.click()}
        >
          Import layout
        </button>
        <input
          ref={fileInput}
          type="file"
          accept="application/json,.json"
          hidden
          data-testid="import-layout"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void importFile(f);
            e.target.value = "";
          }}
        />
        <span className="ce-muted" title={`Graph from ${graph.source === "fx" ? "torch.fx tracing" : "forward hooks"}`}>
          {graph.nodes.length} nodes · {nLogged} logged{groupsCollapsed ? ` · ${groupsCollapsed} groups collapsed` : ""}
        </span>
      </Panel>
      {importError && (
        <Panel position="top-center">
          <ErrorBox error={importError} title="Layout not imported" onRetry={() => setImportError(null)} />
        </Panel>
      )}
    </ReactFlow>
  );
}
