/**
 * Marks beside the rows of a matrix (e.g. the heatmap's channels selected in
 * the channel embedding), as DOM elements so they stay crisp at any zoom.
 */

export interface RowMarksProps {
  /** Row positions to mark (0 = top row). */
  rows: readonly number[];
  /** Height of one row in CSS pixels. */
  rowHeight: number;
  /** Left offset of the mark column in CSS pixels. */
  left: number;
  /** Height of the matrix in CSS pixels. */
  height: number;
  /** Tooltip of each mark, by row. */
  title?: (row: number) => string;
}

export function RowMarks({ rows, rowHeight, left, height, title }: RowMarksProps) {
  return (
    <div
      className="cep-rowmarks"
      data-testid="row-marks"
      data-marked={rows.length}
      style={{ left, height }}
      aria-hidden="true"
    >
      {rows.map((r) => (
        <span key={r} data-row={r} title={title?.(r)} style={{ top: r * rowHeight, height: Math.max(2, rowHeight) }} />
      ))}
    </div>
  );
}
