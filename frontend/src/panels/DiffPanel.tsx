/**
 * Difference view of one layer between two (run, step) pairs A and B: the
 * input x input Jaccard similarity of B minus A (inputs matched by sample id,
 * grouped by class, with separators) on a symmetric diverging RdBu scale
 * (blue: less similar in B, red: more similar in B), and a table of the
 * channels whose importance rank moved most.
 * Pure rendering: data and callbacks come from props.
 */
import { useMemo } from "react";
import type { DiffResponse } from "../types";
import { classColor, lutGradient } from "../transforms/color";
import { divergingLut, symmetricRange } from "../transforms/diverging";
import { groupsFromBoundaries } from "../transforms/groups";
import { fmt, themeColor } from "./canvas";
import { MatrixCanvas, type MatrixState } from "./MatrixCanvas";
import { SampledNote } from "./SampledNote";

export interface DiffPanelProps {
  data: DiffResponse;
  /** Class names, indexed by label. */
  classNames: string[];
  /** Click (or Enter) on a cell: the two inputs, as indices into `data.sample_ids`. */
  onPair?: (i: number, j: number) => void;
  /** Width of the panel (CSS px). */
  width?: number;
  /** Side of the square matrix (CSS px); defaults to fit the width. */
  size?: number;
  /** Rows of the rank-change table. */
  maxRankRows?: number;
  /** Click on a channel of the rank-change table (opens its card). */
  onChannel?: (channel: number) => void;
}

const LABEL_W = 14;

export function DiffPanel(props: DiffPanelProps) {
  const { data, classNames, onPair, onChannel } = props;
  const width = props.width ?? 340;
  const maxRows = props.maxRankRows ?? 5;
  const n = data.diff.length;
  const size = Math.max(40, Math.min(props.size ?? width - LABEL_W - 2, width - LABEL_W - 2));
  const range = useMemo<[number, number]>(() => {
    const [lo, hi] = data.range ?? [0, 0];
    return Number.isFinite(lo) && Number.isFinite(hi) && hi > lo ? [lo, hi] : symmetricRange(data.diff);
  }, [data.range, data.diff]);
  const lut = divergingLut();
  const rowInput = (r: number) => data.order[r] ?? r;
  const groups = useMemo(
    () => groupsFromBoundaries(data.class_boundaries ?? [], n, (r) => data.labels[data.order[r] ?? r] ?? -1),
    [data.class_boundaries, data.labels, data.order, n],
  );
  const cell = n ? size / n : 0;
  const drawMarks = (ctx: CanvasRenderingContext2D, { hover, cursor, cellPx }: MatrixState, el: HTMLCanvasElement) => {
    const mark = hover ?? cursor;
    if (!mark) return;
    ctx.strokeStyle = themeColor(el, "--ce-matrix-mark", "#000");
    ctx.lineWidth = 1.5;
    ctx.strokeRect(mark.col * cellPx, mark.row * cellPx, Math.max(2, cellPx), Math.max(2, cellPx));
  };
  const className = (c: number) => (c >= 0 ? (classNames[c] ?? `class ${c}`) : "?");
  const ranks = useMemo(
    () => [...(data.rank_changes ?? [])].sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta)).slice(0, maxRows),
    [data.rank_changes, maxRows],
  );
  const m = range[1];
  const dropped = data.dropped ? data.dropped.a + data.dropped.b : 0;

  return (
    <div className="cep-panel cep-diff" style={{ width }}>
      <SampledNote sampled={data.sampled} what="matched inputs" />
      <div className="cep-diff__head">
        <span>
          Jaccard <b>B − A</b> · {data.matched} matched{dropped ? ` (${dropped} dropped)` : ""} · mean |Δ|{" "}
          {fmt(data.mean_abs_diff)}
        </span>
      </div>
      <div className="cep-diff__matrix" style={{ width, height: size }}>
        <div className="cep-diff__rowlabels" style={{ width: LABEL_W, height: size }} aria-hidden="true">
          {groups.map((g) => (
            <span
              key={g.start}
              style={{
                top: g.start * cell,
                height: (g.end - g.start) * cell,
                background: g.cls >= 0 ? classColor(g.cls) : "var(--ce-tooltip-border)",
              }}
              title={className(g.cls)}
              className="cep-diff__classbar"
              data-cls={g.cls}
            />
          ))}
        </div>
        <MatrixCanvas
          matrix={data.diff}
          range={range}
          lut={lut}
          groups={groups}
          size={size}
          separator={{ color: "--ce-matrix-separator", width: 1, snap: true }}
          testId="diff"
          ariaLabel={`Jaccard similarity of ${n} inputs, ${data.b.run} step ${data.b.step} minus ${data.a.run} step ${data.a.step}; blue less similar in B, red more similar in B. Arrow keys move, Enter selects the pair.`}
          onCell={onPair ? (c) => onPair(rowInput(c.row), rowInput(c.col)) : undefined}
          drawMarks={drawMarks}
          tooltip={({ hover, cursor, cellPx }) => {
            const shown = hover ?? cursor;
            if (!shown) return null;
            return (
              <div
                className="cep-tooltip"
                style={{
                  left: Math.min(size - 170, (hover?.x ?? shown.col * cellPx) + 10),
                  top: Math.min(size - 34, (hover?.y ?? shown.row * cellPx) + 10),
                }}
                role="status"
              >
                {String(data.sample_ids[rowInput(shown.row)])} ({className(data.labels[rowInput(shown.row)] ?? -1)}) ×{" "}
                {String(data.sample_ids[rowInput(shown.col)])} ({className(data.labels[rowInput(shown.col)] ?? -1)}): Δ{" "}
                {fmt(data.diff[shown.row]?.[shown.col] ?? NaN)}
              </div>
            );
          }}
        />
      </div>
      <div className="cep-colorbar" aria-label={`Colour scale from ${fmt(-m)} to ${fmt(m)}`}>
        <span>{fmt(-m)}</span>
        <span className="cep-colorbar__ramp" style={{ background: lutGradient(lut, 8), width: 90 }} />
        <span>+{fmt(m)}</span>
        <span className="cep-muted">blue: less similar in B · red: more</span>
      </div>
      <table className="cep-classes cep-ranks" data-testid="rank-changes">
        <caption className="cep-muted">
          Channels whose rank{data.rank_order ? ` (${data.rank_order.replace("_", " ")})` : ""} changed most
        </caption>
        <thead>
          <tr>
            <th scope="col">channel</th>
            <th scope="col" className="cep-num">
              rank A
            </th>
            <th scope="col" className="cep-num">
              rank B
            </th>
            <th scope="col" className="cep-num">
              change
            </th>
          </tr>
        </thead>
        <tbody>
          {ranks.map((r) => (
            <tr key={r.channel} data-channel={r.channel}>
              <td>
                {onChannel ? (
                  <button
                    type="button"
                    className="cep-link"
                    aria-label={`Open channel ${r.channel}`}
                    onClick={() => onChannel(r.channel)}
                  >
                    #{r.channel}
                  </button>
                ) : (
                  `#${r.channel}`
                )}
              </td>
              <td className="cep-num">{r.rank_a}</td>
              <td className="cep-num">{r.rank_b}</td>
              <td
                className={`cep-num ${r.rank_b < r.rank_a ? "cep-up" : r.rank_b > r.rank_a ? "cep-down" : ""}`}
                title={
                  r.rank_b < r.rank_a
                    ? "more important in B"
                    : r.rank_b > r.rank_a
                      ? "less important in B"
                      : "unchanged"
                }
              >
                {r.rank_b < r.rank_a ? "▲ " : r.rank_b > r.rank_a ? "▼ " : ""}
                {Math.abs(r.delta)}
              </td>
            </tr>
          ))}
          {!ranks.length && (
            <tr>
              <td colSpan={4} className="cep-muted">
                {data.rank_changes === null
                  ? `channel counts differ (${data.channels?.join(" vs ") ?? "?"}): ranks not comparable`
                  : "no rank changes"}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
