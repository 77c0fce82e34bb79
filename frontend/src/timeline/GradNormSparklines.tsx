/**
 * Per-layer mean gradient norm over steps, one sparkline per layer, under the
 * separability timeline: shows which layers are still learning.
 */
import { line, scaleLinear } from "d3";
import { timelineGrid } from "../transforms/timeline";
import type { TimelineRun } from "../types";

/** One sparkline row: a layer and its gradient norm per step (`null` where not logged). */
export interface GradNormRow {
  layer: string;
  values: Array<number | null>;
}

/**
 * The rows of layers that logged a gradient norm at some step, in `order`.
 *
 * Args:
 *   run: a `/timeline` run; its `grad_norm[l][s]` is aligned with `layers` and `steps`.
 *   order: layer order of the heatmap (graph order); unknown layers go last.
 *
 * Returns:
 *   Rows with at least one finite value; empty when the run logged none.
 */
export function gradNormRows(run: TimelineRun, order?: readonly string[]): GradNormRow[] {
  if (!run.grad_norm) return [];
  const grid = timelineGrid({ ...run, scores: run.grad_norm }, order);
  return grid.layers
    .map((layer, r) => ({ layer, values: grid.values[r] }))
    .filter((row) => row.values.some((v) => v !== null));
}

/**
 * SVG path of one sparkline, scaled to the row's own range (gaps where not logged).
 *
 * Args:
 *   values: one value per step, `null` where absent.
 *   width: width in px (> 0).
 *   height: height in px (> 0).
 */
export function sparklinePath(values: ReadonlyArray<number | null>, width: number, height: number): string {
  if (!(width > 0) || !(height > 0)) throw new RangeError(`width and height must be > 0, got ${width} and ${height}`);
  const finite = values.filter((v): v is number => v !== null);
  if (!finite.length) return "";
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const x = scaleLinear([0, Math.max(1, values.length - 1)], [1, width - 1]);
  // A flat row sits in the middle rather than on an edge.
  const y = scaleLinear(hi > lo ? [lo, hi] : [lo - 1, lo + 1], [height - 1, 1]);
  const path = line<number | null>()
    .defined((v) => v !== null)
    .x((_, i) => x(i))
    .y((v) => y(v as number));
  return path([...values]) ?? "";
}

const fmt = (v: number | null) => (v === null ? "–" : v.toPrecision(3));

/** A card of per-layer gradient-norm sparklines, or a hint when the run logged none. */
export function GradNormSparklines({ run, order }: { run: TimelineRun; order?: readonly string[] }) {
  const rows = gradNormRows(run, order);
  const W = 160;
  const H = 18;
  return (
    <section className="ce-card" aria-label={`Mean gradient norm per layer of ${run.run}`} data-testid="grad-norm">
      <h3 className="ce-card__title">
        Mean gradient norm per layer over steps <span className="ce-muted">{run.run}</span>
      </h3>
      {rows.length ? (
        <table className="ce-gradnorm">
          <thead>
            <tr>
              <th scope="col">layer</th>
              <th scope="col">
                steps {run.steps[0]}–{run.steps[run.steps.length - 1]}{" "}
                <span className="ce-muted">(each row on its own scale)</span>
              </th>
              <th scope="col">first</th>
              <th scope="col">last</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const finite = row.values.filter((v): v is number => v !== null);
              return (
                <tr key={row.layer} data-layer={row.layer}>
                  <th scope="row">{row.layer}</th>
                  <td>
                    <svg width={W} height={H} role="img" aria-label={`gradient norm of ${row.layer} over steps`}>
                      <path d={sparklinePath(row.values, W, H)} fill="none" stroke="currentColor" strokeWidth={1.5} />
                    </svg>
                  </td>
                  <td>{fmt(finite[0] ?? null)}</td>
                  <td>{fmt(finite[finite.length - 1] ?? null)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className="ce-hint">No gradient norms logged in this run (log with importance=True).</p>
      )}
    </section>
  );
}
