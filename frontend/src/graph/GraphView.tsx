/**
 * The model graph of one side: React Flow canvas with dagre layout, zoom / pan /
 * fit, draggable nodes, TB/LR orientation, MiniMap, module-group collapsing and
 * layout export / import.
 */
import { ReactFlowProvider } from "@xyflow/react";
import * as api from "../api";
import { ErrorBox } from "../components/ErrorBox";
import { Loading } from "../components/Loading";
import { useAsync } from "../components/useAsync";
import type { GraphNode, GraphResponse, LayerInfo } from "../types";
import { useSide } from "./context";
import type { FocusRequest } from "./context";
import { GraphCanvas } from "./GraphCanvas";

/**
 * A chain of the manifest's layers, used when no graph was logged for the step
 * (the writer could not trace the model): the tab stays usable.
 */
export function fallbackGraph(layers: Iterable<LayerInfo>): GraphResponse {
  const nodes: GraphNode[] = [];
  for (const l of layers) {
    nodes.push({ id: l.name, name: l.name, type: l.type, shape: l.shape, params: 0, logged: true, parent: "" });
  }
  const edges = nodes.slice(1).map((n, i) => ({ source: nodes[i].id, target: n.id }));
  return { source: "hooks", nodes, edges };
}

/** Loads the graph of the current side and shows it. */
export function GraphView({ onPerf, focus }: { onPerf?: (ms: number) => void; focus?: FocusRequest | null }) {
  const side = useSide();
  const state = useAsync(
    async (signal) => {
      try {
        return { graph: await api.graph({ run: side.run, step: side.step }, signal), fallback: false };
      } catch (err) {
        if (err instanceof api.ApiError && err.status === 404)
          return { graph: fallbackGraph(side.layers.values()), fallback: true };
        throw err;
      }
    },
    [side.run, side.step],
  );
  if (state.error) return <ErrorBox error={state.error} title="Could not load the model graph" />;
  if (!state.data) return <Loading label="Loading model graph…" />;
  if (!state.data.graph.nodes.length) {
    return <p className="ce-hint ce-pad">This step has no logged layers.</p>;
  }
  return (
    <div
      className="ce-graph"
      data-testid="graph"
      data-side={side.side}
      data-fallback={state.data.fallback ? "true" : "false"}
    >
      {state.data.fallback && (
        <p className="ce-graph-note" role="note">
          No model graph was logged for this step: layers are shown in logging order.
        </p>
      )}
      <ReactFlowProvider>
        <GraphCanvas graph={state.data.graph} onPerf={onPerf} focus={focus} />
      </ReactFlowProvider>
    </div>
  );
}
