/**
 * Jaccard similarity view (paper Sect. V-E): N x N similarity of the inputs'
 * top-A_eta channel sets, rows grouped by class with separators, an eta
 * slider, optional 1st–99th percentile normalization, and the clicked pair.
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import type { JaccardCellResponse, JaccardResponse, ThumbnailUrl } from '../types';
import { colormapLut, lutGradient, renderMatrixRGBA } from '../transforms/color';
import { groupsFromBoundaries } from '../transforms/groups';
import { moveCursor, squareCellAt } from '../transforms/matrix';
import { fmt, localXY, useCanvasDraw, useOffscreen } from './canvas';

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
  const { data, params, onParams, onCell, cell, thumbnailUrl, selected } = props;
  const size = props.size ?? 300;
  const names = props.classNames ?? data.class_names;
  const n = data.order.length;
  const [canvas, setCanvas] = useState<HTMLCanvasElement | null>(null);
  const [hover, setHover] = useState<{ row: number; col: number; x: number; y: number } | null>(null);
  const [cursor, setCursor] = useState<{ row: number; col: number } | null>(null);

  const lut = colormapLut('viridis', true); // darker = more similar (paper Fig. 8)
  const pixels = useMemo(() => (n > 0 ? renderMatrixRGBA(data.matrix, data.range, lut) : null), [data, lut, n]);
  const off = useOffscreen(pixels, n, n);
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
  const groups = useMemo(
    () => groupsFromBoundaries(data.class_boundaries, n),
    [data.class_boundaries, n],
  );
  const cellPx = n > 0 ? size / n : 0;
  const picked = cell ? { row: rowOf.get(cell.i), col: rowOf.get(cell.j) } : null;

  useCanvasDraw(
    canvas,
    size,
    size,
    (ctx) => {
      if (off) ctx.drawImage(off, 0, 0, size, size);
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (const g of groups.slice(1)) {
        const p = g.start * cellPx;
        ctx.moveTo(p, 0);
        ctx.lineTo(p, size);
        ctx.moveTo(0, p);
        ctx.lineTo(size, p);
      }
      ctx.stroke();
      const box = (r: number, c: number, color: string) => {
        ctx.strokeStyle = color;
        ctx.lineWidth = 2;
        const s = Math.max(cellPx, 4);
        ctx.strokeRect(c * cellPx + cellPx / 2 - s / 2, r * cellPx + cellPx / 2 - s / 2, s, s);
      };
      if (picked && picked.row !== undefined && picked.col !== undefined) box(picked.row, picked.col, '#D55E00');
      if (cursor) box(cursor.row, cursor.col, '#E69F00');
      if (selected && selected.size > 0) {
        ctx.fillStyle = '#D55E00';
        for (const idx of selected) {
          const r = rowOf.get(idx);
          if (r === undefined) continue;
          ctx.fillRect(0, r * cellPx, 3, Math.max(1, cellPx));
          ctx.fillRect(r * cellPx, 0, Math.max(1, cellPx), 3);
        }
      }
    },
    [off, groups, cellPx, picked?.row, picked?.col, cursor, selected, rowOf],
  );

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

  const choose = (row: number, col: number) => onCell?.(data.order[row], data.order[col]);
  const onClick = (e: MouseEvent<HTMLCanvasElement>) => {
    const [x, y] = localXY(e);
    const hit = squareCellAt(n, size, x, y);
    if (!hit) return;
    setCursor(null);
    choose(hit.row, hit.col);
  };
  const onMove = (e: MouseEvent<HTMLCanvasElement>) => {
    const [x, y] = localXY(e);
    const hit = squareCellAt(n, size, x, y);
    setHover(hit ? { ...hit, x, y } : null);
  };
  const onKey = (e: KeyboardEvent<HTMLCanvasElement>) => {
    if (n === 0) return;
    const cur = cursor ?? { row: 0, col: 0 };
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      setCursor(cur);
      choose(cur.row, cur.col);
      return;
    }
    const next = moveCursor(cur, e.key, n, n);
    if (next) {
      e.preventDefault();
      setCursor(next);
      setHover({ ...next, x: (next.col + 0.5) * cellPx, y: (next.row + 0.5) * cellPx });
    }
  };
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
      <div className="cep-group-labels" style={{ height: LABELS_H }} aria-hidden="true">
        {groups.map((g, k) => (
          <span
            key={k}
            title={groupName(k)}
            style={{ left: g.start * cellPx, width: (g.end - g.start) * cellPx }}
          >
            {groupName(k)}
          </span>
        ))}
      </div>
      <div className="cep-canvas-wrap" style={{ width: size, height: size }} onMouseLeave={() => setHover(null)}>
        <canvas
          ref={setCanvas}
          data-testid="jaccard"
          data-n={n}
          style={{ width: size, height: size }}
          tabIndex={0}
          role="img"
          aria-label={`Jaccard similarity of ${n} inputs over the top ${data.top} of ${data.channels} channels; arrow keys move, Enter compares two inputs`}
          onClick={onClick}
          onMouseMove={onMove}
          onKeyDown={onKey}
          onBlur={() => setHover(null)}
        />
        {hover && n > 0 && (
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
        )}
      </div>
      <div className="cep-colorbar">
        <span>{fmt(lo)}</span>
        <span className="cep-colorbar__ramp" style={{ background: lutGradient(lut) }} aria-hidden="true" />
        <span>{fmt(hi)}</span>
        <span className="cep-muted">
          {params?.normalize ? 'percentile-normalized' : 'similarity'} · darker = more shared
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
          </p>
        </div>
      )}
    </div>
  );
}
