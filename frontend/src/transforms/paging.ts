/**
 * Paging math of the heatmap's channel rows.
 */

export interface PageInfo {
  /** Zero-based page number. */
  page: number;
  /** Number of pages (>= 1). */
  pages: number;
  /** First row shown (1-based, for labels), 0 when empty. */
  from: number;
  /** Last row shown (1-based, inclusive). */
  to: number;
  /** Offset of the previous page, or null on the first page. */
  prevOffset: number | null;
  /** Offset of the next page, or null on the last page. */
  nextOffset: number | null;
  /** Offset of the last page. */
  lastOffset: number;
}

/**
 * Page of `limit` rows starting at `offset` out of `total`.
 *
 * Args:
 *   total: number of channels (>= 0).
 *   offset: first row (>= 0); beyond the end it is clamped to the last page.
 *   limit: rows per page (>= 1).
 */
export function pageInfo(total: number, offset: number, limit: number): PageInfo {
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`total must be >= 0, got ${total}`);
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`offset must be >= 0, got ${offset}`);
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be >= 1, got ${limit}`);
  const pages = Math.max(1, Math.ceil(total / limit));
  const lastOffset = (pages - 1) * limit;
  const start = Math.min(offset, lastOffset);
  const page = Math.floor(start / limit);
  const to = Math.min(total, start + limit);
  return {
    page,
    pages,
    from: total === 0 ? 0 : start + 1,
    to,
    prevOffset: start > 0 ? Math.max(0, start - limit) : null,
    nextOffset: start + limit < total ? start + limit : null,
    lastOffset,
  };
}
