/**
 * The `/jaccard?matrix=counts` answer read back into the similarity matrix.
 *
 * The server sends the exact integers Eq. 1 is computed from (shared-channel
 * counts as one base64 block, and the set sizes) instead of N x N decimal
 * floats: at 4,096 inputs that is 21 MiB of JSON instead of 143 MiB.
 */

import type { CountsBlock } from "../types";

const BYTES: Record<CountsBlock["dtype"], number> = { uint8: 1, uint16: 2, uint32: 4 };

/** The integers of `block`, row-major (throws on an unknown dtype or a length that does not match `shape`). */
export function decodeCounts(block: CountsBlock): Uint32Array {
  const size = BYTES[block.dtype];
  if (!size) throw new RangeError(`unknown counts dtype ${JSON.stringify(block.dtype)}`);
  const [rows, cols] = block.shape;
  const bin = atob(block.base64);
  if (bin.length !== rows * cols * size) {
    throw new RangeError(`counts block holds ${bin.length} bytes, shape ${rows}x${cols} of ${block.dtype} needs ${rows * cols * size}`);
  }
  const out = new Uint32Array(rows * cols);
  for (let i = 0, b = 0; i < out.length; i++, b += size) {
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = v * 256 + bin.charCodeAt(b + k);
    out[i] = v;
  }
  return out;
}

/**
 * Jaccard rows from shared counts and set sizes: `shared / (size_r + size_c - shared)`,
 * 0 where that union is 0, 1 on the diagonal (the server's rule).
 */
export function jaccardFromCounts(block: CountsBlock, setSizes: ArrayLike<number>): Float32Array[] {
  const [n, m] = block.shape;
  if (n !== m || setSizes.length !== n) {
    throw new RangeError(`counts must be square with one set size per row, got ${n}x${m} and ${setSizes.length} sizes`);
  }
  const shared = decodeCounts(block);
  const rows: Float32Array[] = [];
  for (let r = 0; r < n; r++) {
    const row = new Float32Array(n);
    const sr = setSizes[r];
    for (let c = 0; c < n; c++) {
      const s = shared[r * n + c];
      const union = sr + setSizes[c] - s;
      row[c] = r === c ? 1 : union > 0 ? s / union : 0;
    }
    rows.push(row);
  }
  return rows;
}

/** A `/jaccard` answer with `matrix` filled in: counts answers are decoded, values answers pass through. */
export function withJaccardMatrix<T extends { matrix?: ArrayLike<ArrayLike<number>>; shared?: CountsBlock; set_sizes?: number[] }>(
  body: T,
): T & { matrix: ArrayLike<ArrayLike<number>> } {
  if (body.matrix) return body as T & { matrix: ArrayLike<ArrayLike<number>> };
  if (!body.shared || !body.set_sizes) throw new RangeError("a /jaccard answer needs matrix, or shared and set_sizes");
  return { ...body, matrix: jaccardFromCounts(body.shared, body.set_sizes) };
}
