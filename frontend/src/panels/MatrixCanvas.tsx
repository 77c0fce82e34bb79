/**
 * A class-grouped N x N matrix on a canvas (Jaccard and diff views).
 *
 * The matrix is rasterized once per data change (one pixel per cell) and
 * scaled onto the visible canvas; class groups get separator lines; the
 * panel draws its own marks on top (`drawMarks`) and renders its tooltip.
 * Mouse hover, click and the keyboard cursor (`useGridCursor`) are shared.
 */
import { useMemo, useState } from "react";
import type { ReactNode } from "react";
import { useGridCursor } from "../hooks/useGridCursor";
import type { GridCell } from "../hooks/useGridCursor";
import { renderMatrixRGBA } from "../transforms/color";
import type { ColorLut } from "../transforms/color";
import type { ColumnGroup } from "../transforms/groups";
import { squareCellAt } from "../transforms/matrix";
import { localXY, themeColor, useCanvasDraw, useOffscreen } from "./canvas";

/** A hovered cell and the pointer position inside the canvas (CSS px). */
export interface MatrixHover extends GridCell {
  x: number;
  y: number;
}

/** What `drawMarks` and `tooltip` get to work with. */
export interface MatrixState {
  /** Side of one cell in CSS px. */
  cellPx: number;
  hover: MatrixHover | null;
  cursor: GridCell | null;
}

export interface MatrixCanvasProps {
  matrix: ArrayLike<ArrayLike<number>>;
  /** Colour range [lo, hi] of the values. */
  range: [number, number];
  lut: ColorLut;
  /** Class groups of the rows (and columns): separators before every group but the first. */
  groups: ColumnGroup[];
  /** Side in CSS px. */
  size: number;
  /** Separator lines: a theme colour variable, line width, and whether lines snap to device pixels. */
  separator: { color: string; width: number; snap?: boolean };
  testId: string;
  ariaLabel: string;
  /** Click or Enter on a cell. */
  onCell?: (cell: GridCell) => void;
  /** Keyboard moves show the tooltip at the cursor too (otherwise it follows the mouse only). */
  keyboardHover?: boolean;
  /** Enter also leaves the cursor on the chosen cell; a click hides it. */
  cursorOnChoice?: boolean;
  /** Draws the panel's marks over the matrix. */
  drawMarks?: (ctx: CanvasRenderingContext2D, state: MatrixState, canvas: HTMLCanvasElement) => void;
  /** Values `drawMarks` reads from outside the state (redraws when they change). */
  marksDeps?: unknown[];
  /** The tooltip (absolutely placed by the caller), or null. */
  tooltip?: (state: MatrixState) => ReactNode;
}

/** The matrix canvas with its hover, click and keyboard cursor. */
export function MatrixCanvas(props: MatrixCanvasProps) {
  const { matrix, range, lut, groups, size, separator, onCell, drawMarks, tooltip } = props;
  const n = matrix.length;
  const pixels = useMemo(() => (n > 0 ? renderMatrixRGBA(matrix, range, lut) : null), [matrix, range, lut, n]);
  const off = useOffscreen(pixels, n, n);
  const [canvas, setCanvas] = useState<HTMLCanvasElement | null>(null);
  const [hover, setHover] = useState<MatrixHover | null>(null);
  const cellPx = n > 0 ? size / n : 0;
  const { cursor, setCursor, onKeyDown } = useGridCursor(n, n, {
    onEnter: onCell
      ? (cur) => {
          if (props.cursorOnChoice) setCursor(cur);
          onCell(cur);
        }
      : undefined,
    onMove: props.keyboardHover
      ? (next) => setHover({ ...next, x: (next.col + 0.5) * cellPx, y: (next.row + 0.5) * cellPx })
      : undefined,
  });
  const state: MatrixState = { cellPx, hover, cursor };

  useCanvasDraw(
    canvas,
    size,
    size,
    (ctx) => {
      if (off) ctx.drawImage(off, 0, 0, size, size);
      ctx.strokeStyle = themeColor(canvas, separator.color);
      ctx.lineWidth = separator.width;
      for (const g of groups.slice(1)) {
        const p = separator.snap ? Math.round(g.start * cellPx) + 0.5 : g.start * cellPx;
        ctx.beginPath();
        ctx.moveTo(p, 0);
        ctx.lineTo(p, size);
        ctx.moveTo(0, p);
        ctx.lineTo(size, p);
        ctx.stroke();
      }
      if (canvas) drawMarks?.(ctx, state, canvas);
    },
    [off, groups, cellPx, hover, cursor, separator.color, separator.width, separator.snap, ...(props.marksDeps ?? [])],
  );

  const hit = (e: React.MouseEvent<HTMLCanvasElement>): MatrixHover | null => {
    const [x, y] = localXY(e);
    const c = n ? squareCellAt(n, size, x, y) : null;
    return c ? { ...c, x, y } : null;
  };

  return (
    <div className="cep-canvas-wrap" style={{ width: size, height: size }} onMouseLeave={() => setHover(null)}>
      <canvas
        ref={setCanvas}
        data-testid={props.testId}
        data-n={n}
        style={{ width: size, height: size }}
        tabIndex={0}
        role="img"
        aria-label={props.ariaLabel}
        onClick={(e) => {
          const c = hit(e);
          if (!c || !onCell) return;
          if (props.cursorOnChoice) setCursor(null);
          onCell(c);
        }}
        onMouseMove={(e) => setHover(hit(e))}
        onKeyDown={onKeyDown}
        onBlur={() => (props.keyboardHover ? setHover(null) : setCursor(null))}
      />
      {n > 0 && tooltip?.(state)}
    </div>
  );
}
