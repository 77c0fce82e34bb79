/**
 * The keyboard cursor of a grid view (heatmap, Jaccard and diff matrices,
 * timeline): arrow keys, Home and End move a (row, col) cursor clamped to the
 * grid, Enter or Space act on the cell under it.
 */
import { useState } from "react";
import type { KeyboardEvent } from "react";
import { moveCursor } from "../transforms/matrix";

/** A cell of the grid. */
export interface GridCell {
  row: number;
  col: number;
}

export interface GridCursorOptions {
  /** Where the first key press starts when no cursor is shown (default: the top-left cell). */
  start?: GridCell;
  /** Enter or Space on a cell; without it those keys are left to the browser. */
  onEnter?: (cell: GridCell) => void;
  /** The cursor moved to a cell. */
  onMove?: (cell: GridCell) => void;
}

/**
 * Cursor state and the key handler of a `rows x cols` grid.
 *
 * Args:
 *   rows, cols: grid size; keys do nothing while either is 0.
 *   options: start cell and callbacks (see `GridCursorOptions`).
 *
 * Returns:
 *   `cursor` (null while hidden), `setCursor` (e.g. null on a mouse click or
 *   blur), and `onKeyDown` for the focusable grid element.
 */
export function useGridCursor(rows: number, cols: number, options: GridCursorOptions = {}) {
  const [cursor, setCursor] = useState<GridCell | null>(null);
  const onKeyDown = (e: KeyboardEvent<Element>) => {
    if (rows <= 0 || cols <= 0) return;
    const cur = cursor ?? options.start ?? { row: 0, col: 0 };
    if (e.key === "Enter" || e.key === " ") {
      if (!options.onEnter) return;
      e.preventDefault();
      options.onEnter(cur);
      return;
    }
    const next = moveCursor(cur, e.key, rows, cols);
    if (next) {
      e.preventDefault();
      setCursor(next);
      options.onMove?.(next);
    }
  };
  return { cursor, setCursor, onKeyDown };
}
