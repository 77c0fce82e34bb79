/**
 * Hit testing and keyboard cursor of square matrices (Jaccard view).
 */

/** Cell (row, col) under (x, y) in a `size x size` drawing of an `n x n` matrix. */
export function squareCellAt(n: number, size: number, x: number, y: number): { row: number; col: number } | null {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!(size > 0)) throw new RangeError(`size must be > 0, got ${size}`);
  if (n === 0 || !(x >= 0) || !(y >= 0) || x >= size || y >= size) return null;
  const cell = size / n;
  return { row: Math.min(n - 1, Math.floor(y / cell)), col: Math.min(n - 1, Math.floor(x / cell)) };
}

/** Arrow-key step of a cell cursor, clamped to `rows x cols`; null for other keys. */
export function moveCursor(
  cursor: { row: number; col: number },
  key: string,
  rows: number,
  cols: number,
): { row: number; col: number } | null {
  const d: Record<string, [number, number]> = {
    ArrowUp: [-1, 0],
    ArrowDown: [1, 0],
    ArrowLeft: [0, -1],
    ArrowRight: [0, 1],
    Home: [0, -Infinity],
    End: [0, Infinity],
  };
  const step = d[key];
  if (!step || rows <= 0 || cols <= 0) return null;
  const clamp = (v: number, n: number) => Math.max(0, Math.min(n - 1, v));
  return { row: clamp(cursor.row + step[0], rows), col: clamp(cursor.col + step[1], cols) };
}
