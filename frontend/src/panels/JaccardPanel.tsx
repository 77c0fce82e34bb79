/**
 * Jaccard similarity view (paper Sect. V-E): N x N similarity of the inputs'
 * top-A_eta channel sets, rows grouped by class with separators, an eta
 * slider, optional 1st–99th percentile normalization, and the clicked pair.
 * A step with more inputs than the server's matrix cap comes as a
 * class-stratified sample, said in a note; rows keep their input indices.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import type { JaccardCellResponse, JaccardResponse, ThumbnailUrl } from "../types";
import { colormapLut, lutGradient } from "../transforms/color";
import { groupsFromBoundaries } from "../transforms/groups";
import { fmt, themeColor } from "./canvas";
import { MatrixCanvas, type MatrixState } from "./MatrixCanvas";
import { ChannelLinks } from "./ChannelLinks";
import { SampledNote } from "./SampledNote";

/** Parameters of the `/jaccard` request the controls edit. */
export interface JaccardParams {
  /** Fraction of channels kept per input, in [0.05, 1]. */
  eta: number;
  /** Colour range from the 1st–99th percentile instead of min..max. */
  normalize: boolean;
}

export interface JaccardPanelProps {
  data: JaccardResponse;
  /** Current parameters; with `onParams` the slider and toggle are shown. */
  params?: JaccardParams;
  onParams?: (params: JaccardParams) => void;
  /** Click (or Enter) on a cell: the two input indices. */
  onCell?: (i: number, j: number) => void;
  /** Click on a channel the pair shares (opens its card). */
  onChannel?: (channel: number) => void;
  /** The fetched pair of the last clicked cell, or null. */
  cell?: JaccardCellResponse | null;
  /** Class names (default: `data.class_names`). */
  classNames?: string[];
  thumbnailUrl?: ThumbnailUrl;
  /** Selected inputs: marked on the matrix edges. */
  selected?: Set<number>;
  /** Matrix side in CSS pixels (default 300). */
  size?: number;
}

export const ETA_MIN = 0.05;
export const ETA_MAX = 1;
const LABELS_H = 14;

export function JaccardPanel(props: JaccardPanelProps) {
  const { data, params, onParams, onCell, cell, thumbnailUrl, selected, onChannel } = props;
  const size = props.size ?? 300;
  const names = props.classNames ?? data.class_names;
  const n = data.order.length;
  const lut = colormapLut("viridis", true); // darker = more similar (paper Fig. 8)
  const rowOf = useMemo(() => {
    const m = new Map<number, number>();
    data.order.forEach((idx, r) => m.set(idx, r));
    return m;
  }, [data.order]);
  const labelOf = (row: number) => {
    // Row r lies in the class group containing it.
    const g = groups.findIndex((grp) => row >= grp.start && row < grp.end);
    return Math.max(0, g);
  };
  const groups = useMemo(() => groupsFromBoundaries(data.class_boundaries, n), [data.class_boundaries, n]);
  const cellPx = n > 0 ? size / n : 0;
  const picked = cell ? { row: rowOf.get(cell.i), col: rowOf.get(cell.j) } : null;

  const drawMarks = (ctx: CanvasRenderingContext2D, { cursor }: MatrixState, el: HTMLCanvasElement) => {
    const box = (r: number, c: number, color: string) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      const s = Math.max(cellPx, 4);
      ctx.strokeRect(c * cellPx + cellPx / 2 - s / 2, r * cellPx + cellPx / 2 - s / 2, s, s);
    };
    const mark = themeColor(el, "--ce-mark", "#D55E00");
    if (picked && picked.row !== undefined && picked.col !== undefined) box(picked.row, picked.col, mark);
    if (cursor) box(cursor.row, cursor.col, themeColor(el, "--ce-cursor", "#E69F00"));
    if (selected && selected.size > 0) {
      ctx.fillStyle = mark;
      for (const idx of selected) {
        const r = rowOf.get(idx);
        if (r === undefined) continue;
        ctx.fillRect(0, r * cellPx, 3, Math.max(1, cellPx));
        ctx.fillRect(r * cellPx, 0, Math.max(1, cellPx), 3);
      }
    }
  };

  // Slider value while dragging; committed after a short pause.
  const [eta, setEta] = useState(params?.eta ?? data.eta);
  useEffect(() => setEta(params?.eta ?? data.eta), [params?.eta, data.eta]);
  // Latest callback in a ref, so a new function identity each render does not restart the timer.
  const onParamsRef = useRef(onParams);
  onParamsRef.current = onParams;
  const curEta = params?.eta;
  const curNormalize = params?.normalize ?? false;
  useEffect(() => {
    if (curEta === undefined || Math.abs(eta - curEta) < 1e-9) return;
    const t = setTimeout(() => onParamsRef.current?.({ eta, normalize: curNormalize }), 300);
    return () => clearTimeout(t);
  }, [eta, curEta, curNormalize]);

  const name = (cls: number) => names[cls] ?? `class ${cls}`;
  // Groups follow `data.class_names` (the classes present, in row order).
  const groupName = (g: number) => data.class_names[g] ?? `group ${g}`;
  const [lo, hi] = data.range;

  return (
    <div className="cep-panel cep-jaccard" style={{ width: size }}>
      {params && onParams && (
        <div className="cep-controls">
          <label className="cep-slider">
            η {eta.toFixed(2)}
            <input
              type="range"
              min={ETA_MIN}
              max={ETA_MAX}
              step={0.05}
              value={eta}
              aria-label="Fraction eta of top channels compared per input"
              aria-valuetext={`eta ${eta.toFixed(2)}, top ${Math.ceil(eta * data.channels)} of ${data.channels} channels`}
              onChange={(e) => setEta(Number(e.target.value))}
            />
          </label>
          <label className="cep-toggle" title="Colour range from the 1st–99th percentile">
            <input
              type="checkbox"
              aria-label="Normalize colours to the 1st to 99th percentile"
              checked={params.normalize}
              onChange={(e) => onParams({ eta: params.eta, normalize: e.target.checked })}
            />
            pct. norm
          </label>
        </div>
      )}
      <SampledNote sampled={data.sampled} />
      <div className="cep-group-labels" style={{ height: LABELS_H }} aria-hidden="true">
        {groups.map((g, k) => (
          <span key={k} title={groupName(k)} style={{ left: g.start * cellPx, width: (g.end - g.start) * cellPx }}>
            {groupName(k)}
          </span>
        ))}
      </div>
      <MatrixCanvas
        matrix={data.matrix}
        range={data.range}
        lut={lut}
        groups={groups}
        size={size}
        separator={{ color: "--ce-panel", width: 1.5 }}
        testId="jaccard"
        ariaLabel={`Jaccard similarity of ${n} inputs over the top ${data.top} of ${data.channels} channels; arrow keys move, Enter compares two inputs`}
        onCell={(c) => onCell?.(data.order[c.row], data.order[c.col])}
        keyboardHover
        cursorOnChoice
        drawMarks={drawMarks}
        marksDeps={[picked?.row, picked?.col, selected, rowOf]}
        tooltip={({ hover }) =>
          hover && (
            <div
              className="cep-tooltip"
              data-testid="jaccard-tooltip"
              style={{ left: Math.min(hover.x + 12, size - 150), top: Math.min(hover.y + 12, size - 70) }}
            >
              {thumbnailUrl && (
                <span className="cep-thumbs">
                  <img src={thumbnailUrl(data.order[hover.row])} alt="" width={28} height={28} />
                  <img src={thumbnailUrl(data.order[hover.col])} alt="" width={28} height={28} />
                </span>
              )}
              <span>
                #{data.order[hover.row]} ({groupName(labelOf(hover.row))}) vs #{data.order[hover.col]} (
                {groupName(labelOf(hover.col))}): {fmt(data.matrix[hover.row][hover.col])}
              </span>
            </div>
          )
        }
      />
      <div className="cep-colorbar">
        <span>{fmt(lo)}</span>
        <span className="cep-colorbar__ramp" style={{ background: lutGradient(lut) }} aria-hidden="true" />
        <span>{fmt(hi)}</span>
        <span className="cep-muted">
          {params?.normalize ? "percentile-normalized" : "similarity"} · darker = more shared
        </span>
      </div>
      {cell && (
        <div className="cep-pair" data-testid="jaccard-cell" data-i={cell.i} data-j={cell.j}>
          {[0, 1].map((k) => {
            const idx = k === 0 ? cell.i : cell.j;
            return (
              <figure key={k}>
                {thumbnailUrl && <img src={thumbnailUrl(idx)} alt={`input ${idx}`} width={48} height={48} />}
                <figcaption>
                  #{idx} · {name(cell.labels[k])}
                </figcaption>
              </figure>
            );
          })}
          <p>
            shares {cell.shared} channels (similarity {cell.similarity.toFixed(2)})
            <span className="cep-muted"> · union {cell.union}</span>
            {onChannel && cell.shared_channels && cell.shared_channels.length > 0 && (
              <ChannelLinks channels={cell.shared_channels} onChannel={onChannel} />
            )}
          </p>
        </div>
      )}
    </div>
  );
}
