/**
 * Packed layout of channel clusters (CNNVis draws a layer's neuron clusters
 * as rectangles whose area is the cluster size): a squarified treemap from
 * d3-hierarchy, so tiles stay close to square and fit representative chips.
 */
import { hierarchy, treemap, treemapSquarify } from 'd3';

/** A cluster to pack: its id and its number of channels. */
export interface PackItem {
  id: number;
  size: number;
}

/** One packed tile, in the coordinates of the `width x height` box. */
export interface PackedTile {
  id: number;
  size: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Packs clusters into a `width x height` box, area proportional to size.
 *
 * Args:
 *   items: clusters with a positive integer size; ids must be unique.
 *   width: box width in pixels (> 0).
 *   height: box height in pixels (> 0).
 *   padding: gap between tiles in pixels (>= 0); with padding the areas are
 *     proportional to size only approximately.
 * Returns:
 *   One tile per item, largest cluster first (ties by id), so tile order is
 *   the same for equal inputs.
 */
export function packClusters(items: readonly PackItem[], width: number, height: number, padding = 0): PackedTile[] {
  if (!(width > 0) || !(height > 0) || !Number.isFinite(width) || !Number.isFinite(height)) {
    throw new RangeError(`packClusters: width and height must be finite and > 0, got ${width} x ${height}`);
  }
  if (!(padding >= 0) || !Number.isFinite(padding)) {
    throw new RangeError(`packClusters: padding must be a finite number >= 0, got ${padding}`);
  }
  const seen = new Set<number>();
  for (const it of items) {
    if (!Number.isInteger(it.size) || it.size < 1) {
      throw new RangeError(`packClusters: size of cluster ${it.id} must be a positive integer, got ${it.size}`);
    }
    if (seen.has(it.id)) throw new RangeError(`packClusters: duplicate cluster id ${it.id}`);
    seen.add(it.id);
  }
  if (items.length === 0) return [];
  const sorted = [...items].sort((a, b) => b.size - a.size || a.id - b.id);
  type Datum = { id: number; size: number; children?: Datum[] };
  const root = hierarchy<Datum>({ id: -1, size: 0, children: sorted.map((it) => ({ id: it.id, size: it.size })) })
    .sum((d) => (d.children ? 0 : d.size))
    // Keep our order: d3's treemap lays children out in the given order.
    .sort(() => 0);
  const laid = treemap<Datum>().tile(treemapSquarify).size([width, height]).round(false)(root);
  // Inset each tile inside its own cell rather than using d3's paddingInner,
  // which lets tiles thinner than the padding collapse onto a point outside
  // the box; an inset cell can never leave its cell or touch a neighbour.
  const half = padding / 2;
  return (laid.children ?? []).map((n) => {
    const ix = Math.min(half, (n.x1 - n.x0) / 2);
    const iy = Math.min(half, (n.y1 - n.y0) / 2);
    return { id: n.data.id, size: n.data.size, x0: n.x0 + ix, y0: n.y0 + iy, x1: n.x1 - ix, y1: n.y1 - iy };
  });
}

/**
 * How many chips of `chipW x chipH` pixels (with `gap` between them) fit in a
 * tile below a header strip of `header` pixels.
 */
export function chipCapacity(tile: PackedTile, chipW: number, chipH: number, gap = 2, header = 0): number {
  if (!(chipW > 0) || !(chipH > 0)) throw new RangeError(`chipCapacity: chip size must be > 0, got ${chipW} x ${chipH}`);
  const w = tile.x1 - tile.x0;
  const h = tile.y1 - tile.y0 - header;
  if (w < chipW || h < chipH) return 0;
  const perRow = Math.floor((w + gap) / (chipW + gap));
  const rows = Math.floor((h + gap) / (chipH + gap));
  return perRow * rows;
}
