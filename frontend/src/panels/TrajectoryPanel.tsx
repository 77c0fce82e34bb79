/**
 * Animated, aligned scatterplot across steps: the 2D projection of a layer's
 * inputs at each logged step (frames aligned by Procrustes), a step slider with
 * play / pause that interpolates between frames with requestAnimationFrame,
 * points coloured by class, and the trajectories of the selected inputs as
 * Catmull–Rom polylines through their positions at every step.
 * Pure rendering: data and callbacks come from props.
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { curveCatmullRom, line } from "d3";
import type { AlignMethod, DRMethod, TrajectoryResponse } from "../types";
import { classColor } from "../transforms/color";
import type { Point } from "../transforms/hull";
import { fitPoints } from "../transforms/scatter";
import { advance, allFramePoints, frameIndex, pointsAt, trajectories } from "../transforms/trajectory";

/** Parameters of the `/trajectory` request the controls edit. */
export interface TrajectoryParams {
  method: DRMethod;
  align: AlignMethod;
}

export interface TrajectoryPanelProps {
  data: TrajectoryResponse;
  /** Class names, indexed by label. */
  classNames: string[];
  /** Selected inputs, as indices into `data.sample_ids`. */
  selected: Set<number>;
  /** Replace the selection (indices into `data.sample_ids`). */
  onSelect: (indices: number[]) => void;
  params?: TrajectoryParams;
  onParams?: (change: Partial<TrajectoryParams>) => void;
  /** Frame shown first (defaults to the last one). */
  initialFrame?: number;
  /** Frames per second of playback. */
  fps?: number;
  width?: number;
  height?: number;
}

const METHODS: Array<{ value: DRMethod; label: string }> = [
  { value: "pca", label: "PCA" },
  { value: "mds", label: "MDS" },
  { value: "tsne", label: "t-SNE" },
  { value: "umap", label: "UMAP" },
];
const CONTROLS_H = 26;
const PLAYER_H = 28;
const FOOT_H = 16;
const POINT_R = 3;

const smooth = line<Point>()
  .x((p) => p[0])
  .y((p) => p[1])
  .curve(curveCatmullRom.alpha(0.5));

function fmt(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(3);
}

export function TrajectoryPanel(props: TrajectoryPanelProps) {
  const { data, classNames, selected, onSelect, params, onParams } = props;
  const width = props.width ?? 340;
  const height = props.height ?? 330;
  const fps = props.fps ?? 1.5;
  const nFrames = data.frames.length;
  const n = data.sample_ids.length;
  const plotH = Math.max(80, height - (params && onParams ? CONTROLS_H : 0) - PLAYER_H - FOOT_H);
  const last = Math.max(0, nFrames - 1);
  const [position, setPosition] = useState(() => Math.min(last, Math.max(0, props.initialFrame ?? last)));
  const [playing, setPlaying] = useState(false);
  const posRef = useRef(position);
  posRef.current = position;

  // A new response (other layer, method, alignment) keeps the frame when it still exists.
  useEffect(() => {
    setPosition((p) => Math.min(p, last));
  }, [last]);

  useEffect(() => {
    if (!playing || nFrames < 2) return;
    let raf = 0;
    let prev = performance.now();
    // Restart from the first frame when play is pressed on the last one.
    if (posRef.current >= last) setPosition(0);
    const tick = (now: number) => {
      const { position: next, done } = advance(posRef.current >= last ? 0 : posRef.current, now - prev, fps, nFrames);
      prev = now;
      setPosition(next);
      if (done) setPlaying(false);
      else raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame((t) => {
      prev = t;
      raf = requestAnimationFrame(tick);
    });
    return () => cancelAnimationFrame(raf);
  }, [playing, nFrames, last, fps]);

  // One transform for all frames, so the camera stays still while points move.
  const transform = useMemo(
    () => fitPoints(allFramePoints(data.frames), width, plotH, 14),
    [data.frames, width, plotH],
  );
  const screen = useMemo<Point[]>(
    () => (nFrames ? pointsAt(data.frames, position).map((p) => transform.apply(p)) : []),
    [data.frames, position, transform, nFrames],
  );
  const paths = useMemo(
    () =>
      trajectories(data.frames, selected).map((t) => ({
        index: t.index,
        d: smooth(t.points.map((p) => transform.apply(p))) ?? "",
        stops: t.points.map((p) => transform.apply(p)),
      })),
    [data.frames, selected, transform],
  );
  const frame = frameIndex(position, nFrames);
  const step = data.frames[frame]?.step;
  const anySelected = selected.size > 0;
  const order = useMemo(() => {
    const idx = Array.from({ length: n }, (_, i) => i);
    return anySelected ? [...idx.filter((i) => !selected.has(i)), ...idx.filter((i) => selected.has(i))] : idx;
  }, [n, selected, anySelected]);
  const className = (c: number) => classNames[c] ?? `class ${c}`;
  const droppedTotal = Object.values(data.dropped ?? {}).reduce((a, b) => a + b, 0);
  // Displacement into the shown frame (from the previous one).
  const disp = frame > 0 ? data.mean_displacement[frame - 1] : undefined;
  const dispRaw = frame > 0 ? data.mean_displacement_unaligned[frame - 1] : undefined;

  const goTo = (f: number) => {
    setPlaying(false);
    setPosition(Math.max(0, Math.min(last, f)));
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === " " || e.key === "k") {
      e.preventDefault();
      setPlaying((p) => !p);
    }
  };
  const clickPoint = (i: number, additive: boolean) => {
    if (!additive) onSelect(selected.size === 1 && selected.has(i) ? [] : [i]);
    else if (selected.has(i)) onSelect([...selected].filter((s) => s !== i));
    else onSelect([...selected, i]);
  };

  return (
    <div className="cep-panel cep-trajectory" style={{ width }} onKeyDown={onKey}>
      {params && onParams && (
        <div className="cep-controls" style={{ height: CONTROLS_H }}>
          <select
            aria-label="Projection method of the trajectory"
            value={params.method}
            onChange={(e) => onParams({ method: e.target.value as DRMethod })}
            data-testid="trajectory-method"
          >
            {METHODS.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
          <label
            className="cep-toggle"
            title="Rotate each frame onto the previous one (orthogonal Procrustes) so only real movement shows"
          >
            <input
              type="checkbox"
              checked={params.align === "procrustes"}
              onChange={(e) => onParams({ align: e.target.checked ? "procrustes" : "none" })}
              data-testid="trajectory-align"
            />
            align
          </label>
          <span className="cep-muted" title="Inputs present at every step (matched by sample id)">
            {data.matched} matched{droppedTotal ? ` · ${droppedTotal} dropped` : ""}
          </span>
        </div>
      )}
      <div className="cep-player" style={{ height: PLAYER_H }}>
        <button
          type="button"
          className="cep-play"
          onClick={() => setPlaying((p) => !p)}
          disabled={nFrames < 2}
          aria-label={playing ? "Pause the animation" : "Play the animation across steps"}
          aria-pressed={playing}
          data-testid="trajectory-play"
        >
          {playing ? "❚❚" : "▶"}
        </button>
        <input
          type="range"
          min={0}
          max={last}
          step={1}
          value={frame}
          disabled={nFrames < 2}
          aria-label="Trajectory step"
          aria-valuetext={`step ${step ?? ""}`}
          data-testid="trajectory-slider"
          onChange={(e) => goTo(Number(e.target.value))}
        />
        <span className="cep-step" aria-live="polite">
          step {step ?? "–"}
          <span className="cep-muted">
            {" "}
            ({frame + 1}/{nFrames})
          </span>
        </span>
      </div>
      <svg
        width={width}
        height={plotH}
        className="cep-scatter__svg"
        data-testid="trajectory"
        data-frame={frame}
        data-step={step}
        data-points={n}
        data-trajectories={paths.length}
        role="img"
        aria-label={`${data.method} projection of ${n} inputs at step ${step ?? ""}, frame ${frame + 1} of ${nFrames}${paths.length ? `, ${paths.length} trajectories` : ""}`}
      >
        <rect width={width} height={plotH} fill="transparent" onClick={(e) => !e.shiftKey && onSelect([])} />
        <g className="cep-trails" pointerEvents="none">
          {paths.map((p) => {
            const color = classColor(Math.max(0, data.labels[p.index] ?? 0));
            return (
              <g key={p.index} data-trajectory={p.index}>
                <path d={p.d} fill="none" stroke="var(--ce-panel)" strokeWidth={3.5} strokeOpacity={0.8} />
                <path d={p.d} fill="none" stroke={color} strokeWidth={1.6} />
                {p.stops.map(([x, y], k) => (
                  <circle
                    key={k}
                    cx={x}
                    cy={y}
                    r={k === frame ? 0 : 1.8}
                    fill="var(--ce-panel)"
                    stroke={color}
                    strokeWidth={1}
                  />
                ))}
              </g>
            );
          })}
        </g>
        <g>
          {order.map((i) => {
            const p = screen[i];
            if (!p) return null;
            const cls = Math.max(0, data.labels[i] ?? 0);
            const isSel = selected.has(i);
            return (
              <circle
                key={i}
                data-index={i}
                cx={p[0]}
                cy={p[1]}
                r={isSel ? POINT_R + 1.5 : POINT_R}
                fill={classColor(cls)}
                opacity={anySelected && !isSel ? 0.35 : 0.9}
                stroke={isSel ? "var(--ce-strong)" : "var(--ce-panel)"}
                strokeWidth={isSel ? 1.5 : 0.6}
                onClick={(e) => clickPoint(i, e.shiftKey)}
              >
                <title>{`input ${String(data.sample_ids[i])} · ${className(cls)}`}</title>
              </circle>
            );
          })}
        </g>
      </svg>
      <div className="cep-foot" style={{ height: FOOT_H }}>
        {frame > 0 ? (
          <span title="Mean distance each input moved since the previous step, with and without alignment (frames normalized to unit RMS radius)">
            mean shift {fmt(disp)}
            <span className="cep-muted"> (unaligned {fmt(dispRaw)})</span>
          </span>
        ) : (
          <span className="cep-muted">
            {anySelected ? `${paths.length} trajectories` : "click points to follow them across steps"}
          </span>
        )}
      </div>
    </div>
  );
}
