/**
 * Class groups of matrix rows/columns (heatmap columns, Jaccard rows).
 */

/** A run of consecutive columns of one class. */
export interface ColumnGroup {
  /** Class id of the group (or -1 when unknown). */
  cls: number;
  /** First column (inclusive). */
  start: number;
  /** Last column + 1 (exclusive). */
  end: number;
}

/**
 * Groups from the route's `class_boundaries`.
 *
 * Accepts boundaries with or without the final `n` (the API examples show
 * both) and ignores empty groups.
 *
 * Args:
 *   boundaries: ascending start offsets, first one 0.
 *   n: total number of columns.
 *   classOf: optional class id of each column (to label groups); when absent
 *     groups are numbered 0, 1, ...
 */
export function groupsFromBoundaries(
  boundaries: readonly number[],
  n: number,
  classOf?: (column: number) => number,
): ColumnGroup[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  const cuts = boundaries.filter((b) => Number.isInteger(b) && b > 0 && b < n);
  for (let i = 1; i < cuts.length; i++) {
    if (cuts[i] < cuts[i - 1]) throw new RangeError("class_boundaries must be ascending");
  }
  const edges = [0, ...cuts, n];
  const out: ColumnGroup[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const start = edges[i];
    const end = edges[i + 1];
    if (end <= start) continue;
    out.push({ cls: classOf ? classOf(start) : out.length, start, end });
  }
  return out;
}

/**
 * Groups consecutive columns that share a label.
 *
 * Args:
 *   columns: input index of each column (already ordered by the server).
 *   labels: class of every input (indexed by input index).
 * Returns:
 *   Runs of equal class; a label repeated non-consecutively yields two groups.
 */
export function groupColumnsByClass(columns: readonly number[], labels: readonly number[]): ColumnGroup[] {
  const out: ColumnGroup[] = [];
  for (let c = 0; c < columns.length; c++) {
    const idx = columns[c];
    if (!Number.isInteger(idx) || idx < 0 || idx >= labels.length) {
      throw new RangeError(`column ${c} names input ${idx}, outside 0..${labels.length - 1}`);
    }
    const cls = labels[idx];
    const last = out[out.length - 1];
    if (last && last.cls === cls) last.end = c + 1;
    else out.push({ cls, start: c, end: c + 1 });
  }
  return out;
}

/** Interior separator offsets of groups (the starts of all but the first). */
export function separators(groups: readonly ColumnGroup[]): number[] {
  return groups.slice(1).map((g) => g.start);
}
