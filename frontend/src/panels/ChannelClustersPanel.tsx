/**
 * Channel clusters of one layer as a packed layout (CNNVis): one rectangle
 * per cluster of channels with similar activation profiles, placed by the
 * route's squarified treemap (area = the cluster's size), showing the representative channels (nearest to the
 * centroid, as clickable chips) and the cluster's per-class mean as bars.
 * Channels selected elsewhere (e.g. the channel embedding) are marked.
 */
import { useMemo } from "react";
import { classColor } from "../transforms/color";
import { chipCapacity, classBars, tileFromRect } from "../transforms/channels";

/** One cluster as the panel draws it. */
export interface ChannelClusterTile {
  id: number;
  /** Number of channels in the cluster. */
  size: number;
  /** `[x, y, w, h]` of its treemap cell in the unit square (area proportional to size). */
  rect: readonly number[];
  /** Channels nearest to the centroid first. */
  representatives: readonly number[];
  /** Every member channel (for highlighting); representatives when absent. */
  channels?: readonly number[];
  /** Mean activation of the cluster's channels per class (null: class without inputs). */
  classMeans?: ReadonlyArray<number | null>;
}

export interface ChannelClustersPanelProps {
  clusters: readonly ChannelClusterTile[];
  /** Class names, indexed by label. */
  classNames: readonly string[];
  /** Click on a channel chip (opens its card). */
  onChannel?: (channel: number) => void;
  /** Channels to mark (selected in another view). */
  highlighted?: ReadonlySet<number>;
  /** The channel whose card is open. */
  activeChannel?: number | null;
  /** Note under the layout, e.g. how the number of clusters was chosen. */
  note?: string | null;
  width?: number;
  height?: number;
}

const HEADER_H = 13;
const BARS_H = 12;
const CHIP_W = 26;
const CHIP_H = 14;
const GAP = 2;
const PAD = 3;

export function ChannelClustersPanel(props: ChannelClustersPanelProps) {
  const { clusters, classNames, onChannel, highlighted, activeChannel, note } = props;
  const width = props.width ?? 340;
  const height = props.height ?? 260;
  const tiles = useMemo(
    () => clusters.map((c) => ({ id: c.id, c, ...tileFromRect(c.rect, width, height, 3) })),
    [clusters, width, height],
  );
  const total = clusters.reduce((s, c) => s + c.size, 0);
  return (
    <div className="cep-panel cep-chclusters" data-testid="channel-clusters" data-clusters={clusters.length}>
      <div className="cep-chclusters__box" style={{ width, height }} role="list" aria-label="Channel clusters">
        {tiles.map((t) => {
          const c = t.c;
          const w = t.x1 - t.x0;
          const h = t.y1 - t.y0;
          const members = c.channels ?? c.representatives;
          const marked = highlighted ? members.filter((ch) => highlighted.has(ch)).length : 0;
          const bars = c.classMeans ? classBars(c.classMeans, classNames) : [];
          const showBars = bars.length > 0 && h >= HEADER_H + BARS_H + CHIP_H;
          const room = chipCapacity(t, CHIP_W + PAD, CHIP_H, GAP, HEADER_H + (showBars ? BARS_H : 0) + PAD);
          const reps = c.representatives.slice(0, Math.max(0, room));
          const pref = bars.find((b) => b.preferred);
          return (
            <div
              key={t.id}
              role="listitem"
              className={marked ? "cep-chcluster is-marked" : "cep-chcluster"}
              data-cluster={t.id}
              data-size={c.size}
              data-marked={marked}
              style={{ left: t.x0, top: t.y0, width: w, height: h }}
              title={`cluster ${t.id}: ${c.size} of ${total} channels${pref ? `, strongest for ${pref.name}` : ""}`}
            >
              {h >= HEADER_H && (
                <div className="cep-chcluster__head">
                  <span>#{t.id}</span> <span className="cep-muted">{c.size} ch</span>
                </div>
              )}
              {showBars && (
                <div className="cep-chcluster__bars" aria-label={`per-class mean of cluster ${t.id}`} role="img">
                  {bars.map((b) => (
                    <span
                      key={b.cls}
                      className={b.preferred ? "is-preferred" : undefined}
                      title={`${b.name}: ${b.mean === null ? "no inputs" : b.mean.toPrecision(3)}`}
                      style={{ height: `${Math.round(b.fraction * 100)}%`, background: classColor(b.cls) }}
                    />
                  ))}
                </div>
              )}
              <div className="cep-chcluster__chips">
                {reps.map((ch) => (
                  <button
                    key={ch}
                    type="button"
                    data-channel={ch}
                    className={[
                      "cep-chip",
                      highlighted?.has(ch) ? "is-marked" : "",
                      activeChannel === ch ? "is-active" : "",
                    ]
                      .filter(Boolean)
                      .join(" ")}
                    aria-label={`Open channel ${ch} (cluster ${t.id})`}
                    disabled={!onChannel}
                    onClick={() => onChannel?.(ch)}
                  >
                    {ch}
                  </button>
                ))}
                {c.size > reps.length && reps.length > 0 && <span className="cep-muted">+{c.size - reps.length}</span>}
              </div>
            </div>
          );
        })}
      </div>
      {note && <p className="cep-muted cep-chclusters__note">{note}</p>}
    </div>
  );
}
