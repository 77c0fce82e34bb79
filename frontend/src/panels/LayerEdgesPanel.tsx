/**
 * Edges between two consecutive layers' channel clusters (CNNVis's edge
 * aggregation): each bundle's weight is the summed |weight| of the filters
 * connecting a lower-layer cluster to an upper-layer cluster. Positive and
 * negative weights are drawn apart, each thresholded against its own
 * strongest bundle. When the weights do not map channel to channel
 * (depthwise, grouped or transposed convolutions, layers in between) the
 * panel shows the reason instead of edges.
 */
import { useMemo } from 'react';
import { columnLayout, strongEdges, type EdgeBundle } from '../transforms/channels';
import { ThresholdSlider } from './ChannelControls';

export interface LayerEdgesPanelProps {
  /** Lower and upper layer names. */
  source: string;
  target: string;
  /** Why no edges can be drawn; when set, only this text is shown. */
  reason?: string | null;
  sourceClusters: ReadonlyArray<{ id: number; size: number }>;
  targetClusters: ReadonlyArray<{ id: number; size: number }>;
  edges: readonly EdgeBundle[];
  /** Fraction of the strongest bundle (per sign) an edge needs to show, in [0, 1]. */
  threshold: number;
  onThreshold?: (threshold: number) => void;
  /** Click on a cluster node. */
  onCluster?: (side: 'source' | 'target', id: number) => void;
  width?: number;
  height?: number;
}

const NODE_W = 10;
const SIGNS = ['positive', 'negative'] as const;

export function LayerEdgesPanel(props: LayerEdgesPanelProps) {
  const { source, target, reason, sourceClusters, targetClusters, edges, threshold, onThreshold, onCluster } = props;
  const width = props.width ?? 340;
  const height = props.height ?? 200;
  const kept = useMemo(() => strongEdges(edges, threshold), [edges, threshold]);
  const paneW = Math.floor((width - 8) / 2);
  const plotH = Math.max(40, height - 40);
  const layouts = useMemo(
    () =>
      reason
        ? null
        : SIGNS.map((sign) => ({
            sign,
            ...columnLayout(sourceClusters, targetClusters, kept[sign], paneW, plotH, { nodeWidth: NODE_W }),
          })),
    [reason, sourceClusters, targetClusters, kept, paneW, plotH],
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
                title="Show bundles at least this fraction of the strongest bundle of their sign"
                value={threshold}
                onChange={onThreshold}
              />
            </div>
          )}
          <div className="cep-edges__panes">
            {layouts?.map(({ sign, nodes, edges: drawn }) => (
              <figure key={sign} className={`cep-edges__pane is-${sign}`} data-sign={sign} data-edges={drawn.length}>
                <figcaption>
                  {sign} weights · {drawn.length} bundle{drawn.length === 1 ? '' : 's'}
                </figcaption>
                <svg width={paneW} height={plotH} role="img" aria-label={`${sign} weight bundles from ${source} to ${target}`}>
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
                      <title>{`${n.side === 'source' ? source : target} cluster ${n.id}: ${n.size} channels`}</title>
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
