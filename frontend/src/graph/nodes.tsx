/**
 * Custom React Flow nodes: logged layers (with toggles that mount panels
 * inside the node), small unlogged nodes, and collapsed module groups.
 */
import { memo } from "react";
import { Handle, Position } from "@xyflow/react";
import type { Node, NodeProps } from "@xyflow/react";
import type { GraphNode, LayerInfo } from "../types";
import type { Orientation } from "./layout";
import { PANEL_HEIGHT, PANEL_LABELS, PANEL_WIDTH } from "./panelKinds";
import { PanelHost } from "./PanelHosts";
import { ExportMenu } from "../export/ExportMenu";
import type { PanelKind } from "./panelKinds";
import {
  GROUP_HEIGHT,
  GROUP_WIDTH,
  LAYER_HEIGHT,
  SMALL_HEIGHT,
  SMALL_WIDTH,
  TOGGLE_ROW_HEIGHT,
  layerNodeSize,
  panelColumns,
} from "./sizes";

/** Toggle rows of a layer node: views of the shown step, then views across steps. */
const TOGGLE_ROWS: Array<{ label: string; hint: string | null; kinds: PanelKind[] }> = [
  { label: "Step", hint: null, kinds: ["scatter", "jaccard", "heatmap", "hierarchy"] },
  { label: "Across steps", hint: "across steps", kinds: ["trajectory", "diff"] },
  { label: "Channels", hint: "channels", kinds: ["clusters", "channels", "edges"] },
];

export type LayerNodeData = {
  node: GraphNode;
  layer: LayerInfo | null;
  open: PanelKind[];
  orientation: Orientation;
  highlighted: boolean;
  onToggle: (id: string, kind: PanelKind) => void;
};

export type GroupNodeData = {
  path: string;
  size: number;
  logged: number;
  loggedIds: string[];
  orientation: Orientation;
  onExpand: (path: string) => void;
};

export type LayerFlowNode = Node<LayerNodeData, "layer">;
export type SmallFlowNode = Node<LayerNodeData, "small">;
export type GroupFlowNode = Node<GroupNodeData, "group">;
export type FlowNode = LayerFlowNode | SmallFlowNode | GroupFlowNode;

function Handles({ orientation }: { orientation: Orientation }) {
  const tb = orientation === "TB";
  return (
    <>
      <Handle type="target" position={tb ? Position.Top : Position.Left} isConnectable={false} />
      <Handle type="source" position={tb ? Position.Bottom : Position.Right} isConnectable={false} />
    </>
  );
}

function shapeText(shape: number[] | null | undefined): string {
  return shape?.length ? shape.join("×") : "";
}

function formatParams(n: number): string {
  if (!n) return "";
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M params`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k params`;
  return `${n} params`;
}

/** A logged layer: name, type, shape and panel toggles; open panels inside. */
export const LayerNodeView = memo(function LayerNodeView({ id, data, selected }: NodeProps<LayerFlowNode>) {
  const { node, layer, open } = data;
  const size = layerNodeSize(open);
  const tip = [
    node.id,
    `${node.type}${node.shape?.length ? ` · output ${shapeText(node.shape)}` : ""}`,
    layer ? `${layer.channels} channels · ${layer.stages.join("/")} · ${layer.functions.join(", ")}` : "",
    formatParams(node.params),
  ]
    .filter(Boolean)
    .join("\n");
  return (
    <div
      className={`ce-node ce-node--layer${open.length ? " ce-node--open" : ""}${selected ? " is-selected" : ""}${data.highlighted ? " is-highlighted" : ""}`}
      style={{ width: size.width, minHeight: size.height }}
      data-testid="layer-node"
      data-layer={node.id}
    >
      <Handles orientation={data.orientation} />
      <div className="ce-node__head" title={tip} style={{ height: LAYER_HEIGHT - 2 * TOGGLE_ROW_HEIGHT - 2 }}>
        <span className="ce-node__name">{node.name || node.id}</span>
        <span className="ce-node__meta">
          {node.type}
          {layer ? ` · ${layer.channels} ch` : ""}
          {node.shape?.length ? ` · ${shapeText(node.shape)}` : ""}
        </span>
      </div>
      {TOGGLE_ROWS.map((row) => (
        <div
          key={row.label}
          className="ce-node__toggles nodrag"
          role="group"
          aria-label={`${row.label} panels of ${node.id}`}
        >
          {row.hint && <span className="ce-node__toggles-hint">{row.hint}</span>}
          {row.kinds.map((k) => (
            <button
              key={k}
              type="button"
              className="ce-chip"
              aria-pressed={open.includes(k)}
              title={PANEL_LABELS[k].title}
              data-testid={`toggle-${k}`}
              onClick={(e) => {
                e.stopPropagation();
                data.onToggle(id, k);
              }}
            >
              {PANEL_LABELS[k].label}
            </button>
          ))}
        </div>
      ))}
      {open.length > 0 && (
        <div
          className="ce-node__panels"
          style={{ gridTemplateColumns: `repeat(${panelColumns(open.length)}, ${PANEL_WIDTH}px)` }}
        >
          {open.map((k) => (
            <section
              key={k}
              className="ce-node__panel nodrag nowheel"
              data-testid={`panel-${k}`}
              aria-label={`${PANEL_LABELS[k].label} of ${node.id}`}
            >
              <header className="ce-node__panel-title">
                <span>{PANEL_LABELS[k].label}</span>
                <ExportMenu kind={k} layer={node.id} label={`${PANEL_LABELS[k].label} of ${node.id}`} />
                <button
                  type="button"
                  className="ce-icon-btn"
                  title={`Close ${PANEL_LABELS[k].label}`}
                  aria-label={`Close ${PANEL_LABELS[k].label}`}
                  onClick={() => data.onToggle(id, k)}
                >
                  ×
                </button>
              </header>
              <div className="ce-node__panel-body" style={{ height: PANEL_HEIGHT[k] }}>
                <PanelHost kind={k} layer={node.id} />
              </div>
            </section>
          ))}
        </div>
      )}
    </div>
  );
});

/** An unlogged node (input, activation, pooling...): small, no panels. */
export const SmallNodeView = memo(function SmallNodeView({ data }: NodeProps<SmallFlowNode>) {
  const { node } = data;
  return (
    <div
      className="ce-node ce-node--small"
      style={{ width: SMALL_WIDTH, height: SMALL_HEIGHT }}
      title={`${node.id}\n${node.type}${node.shape?.length ? ` · ${shapeText(node.shape)}` : ""}\n(not logged)`}
      data-testid="small-node"
      data-layer={node.id}
    >
      <Handles orientation={data.orientation} />
      <span className="ce-node__name">{node.name || node.id}</span>
      <span className="ce-node__type">{node.type}</span>
    </div>
  );
});

/** A collapsed module group; click (or Enter) expands it. */
export const GroupNodeView = memo(function GroupNodeView({ data }: NodeProps<GroupFlowNode>) {
  return (
    <div
      className="ce-node ce-node--group"
      style={{ width: GROUP_WIDTH, height: GROUP_HEIGHT }}
      data-testid="group-node"
      data-group={data.path}
    >
      <Handles orientation={data.orientation} />
      <button
        type="button"
        className="ce-node__expand"
        title={`Expand module ${data.path}: ${data.size} nodes, ${data.logged} logged${data.loggedIds.length ? ` (${data.loggedIds.join(", ")}${data.logged > data.loggedIds.length ? ", …" : ""})` : ""}`}
        onClick={(e) => {
          e.stopPropagation();
          data.onExpand(data.path);
        }}
      >
        <span className="ce-node__name">▸ {data.path}</span>
        <span className="ce-node__meta">
          {data.size} nodes · {data.logged} logged
        </span>
      </button>
    </div>
  );
});

export const nodeTypes = { layer: LayerNodeView, small: SmallNodeView, group: GroupNodeView };
