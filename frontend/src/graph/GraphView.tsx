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

/** The outcome of a request started earlier, kept without an unhandled rejection. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Wraps a promise so that its rejection is held as a value until someone awaits it. */
export function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/**
 * The graph to show: the prefetched `/graph` response when there is one, else
 * `fetchGraph()`; a 404 (no graph logged for the step) gives the fallback
 * chain of `layers`, any other error is thrown.
 */
export async function loadGraph(
  prefetched: Promise<Settled<GraphResponse>> | null,
  fetchGraph: () => Promise<GraphResponse>,
  layers: Iterable<LayerInfo>,
): Promise<{ graph: GraphResponse; fallback: boolean }> {
  try {
    let graph: GraphResponse;
    if (prefetched) {
      const got = await prefetched;
      if (!got.ok) throw got.error;
      graph = got.value;
    } else {
      graph = await fetchGraph();
    }
    return { graph, fallback: false };
  } catch (err) {
    if (err instanceof api.ApiError && err.status === 404) return { graph: fallbackGraph(layers), fallback: true };
    throw err;
  }
}

/**
 * Loads the graph of the current side and shows it.
 *
 * `graph`, when given, is the `/graph` request of this side's (run, step)
 * already in flight (started beside the manifest); else it is fetched here.
 */
export function GraphView({
  onPerf,
  focus,
  graph,
}: {
  onPerf?: (ms: number) => void;
  focus?: FocusRequest | null;
  graph?: Promise<Settled<GraphResponse>>;
}) {
  const side = useSide();
  const state = useAsync(
    (signal) => loadGraph(graph ?? null, () => api.graph({ run: side.run, step: side.step }, signal), side.layers.values()),
    [side.run, side.step, graph],
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
