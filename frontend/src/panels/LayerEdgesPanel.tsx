/**
 * Edges between two consecutive layers' channel clusters (CNNVis's edge
 * aggregation): each bundle's weight is the summed |weight| of the filters
 * connecting a lower-layer cluster to an upper-layer cluster. Positive and
 * negative weights are drawn apart (stroke widths scaled per sign); the
 * route keeps only bundles above its strength threshold. When the weights do not map channel to channel
 * (depthwise, grouped or transposed convolutions, layers in between) the
 * panel shows the reason instead of edges.
 */
import { useMemo } from "react";
import { columnLayout, signedEdges, type RouteBundle } from "../transforms/channels";
import { ThresholdSlider } from "./ChannelControls";

export interface LayerEdgesPanelProps {
  /** Lower and upper layer names. */
  source: string;
  target: string;
  /** Why no edges can be drawn; when set, only this text is shown. */
  reason?: string | null;
  sourceClusters: ReadonlyArray<{ id: number; size: number }>;
  targetClusters: ReadonlyArray<{ id: number; size: number }>;
  /** Bundles as the route returns them (already thresholded there). */
  bundles: readonly RouteBundle[];
  /** The route's threshold: the strength (fraction of the strongest bundle) a bundle needs, in [0, 1]. */
  threshold: number;
  onThreshold?: (threshold: number) => void;
  /** Click on a cluster node. */
  onCluster?: (side: "source" | "target", id: number) => void;
  width?: number;
  height?: number;
}

const NODE_W = 10;
const SIGN_LABELS = { positive: "positive weights", negative: "negative weights", abs: "|weights|" } as const;

export function LayerEdgesPanel(props: LayerEdgesPanelProps) {
  const { source, target, reason, sourceClusters, targetClusters, bundles, threshold, onThreshold, onCluster } = props;
  const width = props.width ?? 340;
  const height = props.height ?? 200;
  const panes = useMemo(() => signedEdges(bundles), [bundles]);
  const paneW = Math.floor((width - 8 * (panes.length - 1)) / panes.length);
  const plotH = Math.max(40, height - 40);
  const layouts = useMemo(
    () =>
      reason
        ? null
        : panes.map(({ sign, edges }) => ({
            sign,
            ...columnLayout(sourceClusters, targetClusters, edges, paneW, plotH, { nodeWidth: NODE_W }),
          })),
    [reason, sourceClusters, targetClusters, panes, paneW, plotH],
  );
  return (
    <div className="cep-panel cep-edges" style={{ width }} data-testid="layer-edges">
      <p className="cep-edges__title">
        <span title={source}>{source}</span>
        <span aria-hidden="true"> → </span>
        <span title={target}>{target}</span>
      </p>
      {reason ? (
        <p className="cep-edges__reason" role="note" data-testid="edges-reason">
          {reason}
        </p>
      ) : (
        <>
          {onThreshold && (
            <div className="cep-controls">
              <ThresholdSlider
                label="threshold"
                ariaLabel="Edge threshold (fraction of the strongest bundle)"
                title="Show bundles whose mean |w| per connection is at least this fraction of the strongest bundle's"
                value={threshold}
                onChange={onThreshold}
              />
            </div>
          )}
          <div className="cep-edges__panes">
            {layouts?.map(({ sign, nodes, edges: drawn }) => (
              <figure key={sign} className={`cep-edges__pane is-${sign}`} data-sign={sign} data-edges={drawn.length}>
                <figcaption>
                  {SIGN_LABELS[sign]} · {drawn.length} bundle{drawn.length === 1 ? "" : "s"}
                </figcaption>
                <svg
                  width={paneW}
                  height={plotH}
                  role="img"
                  aria-label={`${SIGN_LABELS[sign]} bundles from ${source} to ${target}`}
                >
                  {drawn.map((e) => (
                    <path
                      key={`${e.source}-${e.target}`}
                      d={e.path}
                      className="cep-edges__edge"
                      strokeWidth={e.width}
                      data-source={e.source}
                      data-target={e.target}
                    >
                      <title>{`cluster ${e.source} → cluster ${e.target}: Σ|w| = ${e.weight.toPrecision(3)}`}</title>
                    </path>
                  ))}
                  {nodes.map((n) => (
                    <rect
                      key={`${n.side}-${n.id}`}
                      x={n.x}
                      y={n.y0}
                      width={NODE_W}
                      height={Math.max(1, n.y1 - n.y0)}
                      className="cep-edges__node"
                      data-side={n.side}
                      data-cluster={n.id}
                      onClick={() => onCluster?.(n.side, n.id)}
                    >
                      <title>{`${n.side === "source" ? source : target} cluster ${n.id}: ${n.size} channels`}</title>
                    </rect>
                  ))}
                </svg>
              </figure>
            ))}
          </div>
        </>
      )}
    </div>
  );
}
