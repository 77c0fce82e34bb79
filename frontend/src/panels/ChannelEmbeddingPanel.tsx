/**
 * Channel embedding (ReVACNN's t-SNE of filters): one point per channel of
 * a layer, placed by a 2D embedding of the channels' activation profiles (or
 * filter weights), coloured by the class each channel prefers when its class
 * selectivity reaches the threshold, grey otherwise. Brushing selects
 * channels (highlighted in the heatmap and the cluster view); a click opens
 * the channel's card.
 */
import { useMemo, useRef, useState, type PointerEvent } from "react";
import { classColor } from "../transforms/color";
import { selectivityColor } from "../transforms/channels";
import { fitPoints, pointsInRect } from "../transforms/scatter";
import type { Point } from "../transforms/hull";
import { BrushRect, ThresholdSlider } from "./ChannelControls";

export interface ChannelEmbeddingPanelProps {
  /** 2D position of each channel. */
  points: ReadonlyArray<readonly [number, number]>;
  /** Channel index of each point (default: the point's position in `points`). */
  channels?: readonly number[];
  /** Preferred class of each point (null: none). */
  preferred: ReadonlyArray<number | null>;
  /** Class-selectivity index of each point in [0, 1] (null: unknown). */
  selectivity: ReadonlyArray<number | null>;
  /** Minimum selectivity to colour a channel, in [0, 1]. */
  threshold: number;
  /** Change the threshold (slider hidden when absent). */
  onThreshold?: (threshold: number) => void;
  classNames: readonly string[];
  /** Selected channels. */
  selected?: ReadonlySet<number>;
  /** Replace the selected channels (brush; empty click clears). */
  onSelect?: (channels: number[]) => void;
  /** Click on a point: open the channel's card. */
  onChannel?: (channel: number) => void;
  /** What the embedding was computed from, e.g. "t-SNE of activation profiles". */
  caption?: string | null;
  width?: number;
  height?: number;
}

const CONTROLS_H = 24;
const LEGEND_H = 16;
const CAPTION_H = 14;
const R = 3.2;
const NEUTRAL = "var(--ce-faint)";

export function ChannelEmbeddingPanel(props: ChannelEmbeddingPanelProps) {
  const { points, preferred, selectivity, threshold, onThreshold, classNames, selected, onSelect, onChannel, caption } =
    props;
  const width = props.width ?? 340;
  const height = props.height ?? 300;
  const plotH = Math.max(60, height - CONTROLS_H - LEGEND_H - (caption ? CAPTION_H : 0));
  const channels = useMemo(() => props.channels ?? points.map((_, i) => i), [props.channels, points]);
  if (channels.length !== points.length || preferred.length !== points.length || selectivity.length !== points.length) {
    throw new RangeError(
      `ChannelEmbeddingPanel: points (${points.length}), channels (${channels.length}), preferred (${preferred.length}) and selectivity (${selectivity.length}) must have the same length`,
    );
  }
  const screen = useMemo<Point[]>(() => {
    const t = fitPoints(points, width, plotH, 10);
    return points.map((p) => t.apply(p));
  }, [points, width, plotH]);
  const colors = useMemo(
    () => points.map((_, i) => selectivityColor(preferred[i], selectivity[i], threshold)),
    [points, preferred, selectivity, threshold],
  );
  const coloured = colors.filter((c) => c !== null).length;
  const legend = useMemo(() => {
    const seen = new Set<number>();
    colors.forEach((c, i) => {
      if (c !== null && preferred[i] !== null) seen.add(preferred[i] as number);
    });
    return [...seen].sort((a, b) => a - b);
  }, [colors, preferred]);

  const svgRef = useRef<SVGSVGElement>(null);
  const [brush, setBrush] = useState<{ a: Point; b: Point } | null>(null);
  const toLocal = (e: PointerEvent): Point => {
    const r = svgRef.current?.getBoundingClientRect();
    return r ? [e.clientX - r.left, e.clientY - r.top] : [0, 0];
  };
  const onPointerUp = (e: PointerEvent<SVGRectElement>) => {
    if (!brush) return;
    const b = toLocal(e);
    setBrush(null);
    if (!onSelect) return;
    const dragged = Math.abs(b[0] - brush.a[0]) + Math.abs(b[1] - brush.a[1]) > 3;
    onSelect(dragged ? pointsInRect(screen, brush.a, b).map((i) => channels[i]) : []);
  };

  return (
    <div
      className="cep-panel cep-chembed"
      style={{ width }}
      data-testid="channel-embedding"
      data-points={points.length}
      data-coloured={coloured}
    >
      <div className="cep-controls" style={{ height: CONTROLS_H }}>
        {onThreshold && (
          <ThresholdSlider
            label="selectivity ≥"
            ariaLabel="Selectivity threshold for colouring channels"
            title="Channels whose class selectivity is below this stay grey"
            value={threshold}
            onChange={onThreshold}
          />
        )}
        <span className="cep-muted">
          {coloured} / {points.length} selective
        </span>
      </div>
      <svg
        ref={svgRef}
        className="cep-chembed__svg"
        width={width}
        height={plotH}
        role="img"
        aria-label={caption ?? "channel embedding"}
      >
        <rect
          width={width}
          height={plotH}
          fill="transparent"
          onPointerDown={(e) => {
            if (e.button !== 0) return;
            const p = toLocal(e);
            setBrush({ a: p, b: p });
            (e.currentTarget as Element).setPointerCapture?.(e.pointerId);
          }}
          onPointerMove={(e) => brush && setBrush({ a: brush.a, b: toLocal(e) })}
          onPointerUp={onPointerUp}
        />
        {screen.map(([x, y], i) => {
          const ch = channels[i];
          const isSel = selected?.has(ch) ?? false;
          return (
            <circle
              key={ch}
              cx={x}
              cy={y}
              r={isSel ? R + 1.5 : R}
              data-channel={ch}
              className={isSel ? "cep-chembed__pt is-selected" : "cep-chembed__pt"}
              style={{ fill: colors[i] ?? NEUTRAL }}
              onClick={() => onChannel?.(ch)}
            >
              <title>
                {`channel ${ch}`}
                {preferred[i] !== null ? ` · prefers ${classNames[preferred[i] as number] ?? preferred[i]}` : ""}
                {selectivity[i] !== null ? ` · selectivity ${(selectivity[i] as number).toFixed(2)}` : ""}
              </title>
            </circle>
          );
        })}
        {brush && <BrushRect a={brush.a} b={brush.b} />}
      </svg>
      <ul className="cep-legend" style={{ height: LEGEND_H }}>
        {legend.map((c) => (
          <li key={c}>
            <span className="cep-swatch" style={{ background: classColor(c) }} aria-hidden="true" />
            {classNames[c] ?? `class ${c}`}
          </li>
        ))}
        <li>
          <span className="cep-swatch" style={{ background: NEUTRAL }} aria-hidden="true" />
          not selective
        </li>
      </ul>
      {caption && <p className="cep-muted cep-chembed__caption">{caption}</p>}
    </div>
  );
}
