/**
 * Responses the tab has received, and the snapshot a shared file replays.
 *
 * `api.ts` hands every JSON answer to `recordResponse`, so a panel's export
 * menu can download the data the panel shows and "Share" can inline what the
 * current view needs. A shared file sets `window.__CE_SNAPSHOT__` (request URL
 * -> response JSON, or a `data:` URL for an image route) before the bundle
 * runs; `api.ts` then answers from it and never fetches.
 */

/** Request URL (as `buildUrl` spells it) -> JSON body, or `data:` URL of an image. */
export type Snapshot = Record<string, unknown>;

declare global {
  interface Window {
    __CE_SNAPSHOT__?: Snapshot;
  }
}

/** Most responses kept; the oldest are dropped first (a long session must not grow without bound). */
export const MAX_RECORDED = 300;

const recorded = new Map<string, unknown>();

/** Remembers `body` as the latest answer to `url` (moved to the newest position). */
export function recordResponse(url: string, body: unknown): void {
  recorded.delete(url);
  recorded.set(url, body);
  while (recorded.size > MAX_RECORDED) recorded.delete(recorded.keys().next().value as string);
}

/** Every recorded (url, body), oldest first. */
export function recordedResponses(): Array<[string, unknown]> {
  return [...recorded.entries()];
}

/** Forgets every recorded response (tests). */
export function clearRecorded(): void {
  recorded.clear();
}

/** The route and decoded query parameters of a `buildUrl` URL (base and all). */
export function parseApiUrl(url: string): { route: string; params: Map<string, string[]> } {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const route = path.slice(path.lastIndexOf("/") + 1);
  const params = new Map<string, string[]>();
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(url.slice(q + 1))) params.set(k, [...(params.get(k) ?? []), v]);
  }
  return { route, params };
}

/**
 * The latest recorded answer of `route` whose query has every `match` entry.
 *
 * Args:
 *   route: route name, e.g. `scatter`.
 *   match: parameter -> required value; a `null` value only requires the
 *     parameter to be absent or anything (it is skipped).
 *
 * Returns:
 *   `{ url, body }` of the newest match, or `null`.
 */
export function lastResponse(
  route: string,
  match: Record<string, string | number | null | undefined>,
): { url: string; body: unknown } | null {
  const entries = recordedResponses();
  for (let i = entries.length - 1; i >= 0; i--) {
    const [url, body] = entries[i];
    const p = parseApiUrl(url);
    if (p.route !== route) continue;
    const ok = Object.entries(match).every(
      ([k, v]) => v === null || v === undefined || (p.params.get(k)?.length === 1 && p.params.get(k)![0] === String(v)),
    );
    if (ok) return { url, body };
  }
  return null;
}

function activeSnapshot(): Snapshot | null {
  const snap = (globalThis as { __CE_SNAPSHOT__?: unknown }).__CE_SNAPSHOT__;
  return snap && typeof snap === "object" ? (snap as Snapshot) : null;
}

/** Whether the tab runs from a shared file (a snapshot is installed). */
export function inSnapshot(): boolean {
  return activeSnapshot() !== null;
}

/**
 * The snapshot's answer to `url`.
 *
 * Returns:
 *   `{ hit: true, body }` when the snapshot holds `url`, `{ hit: false }` when
 *   a snapshot is installed but lacks it, `null` when there is no snapshot.
 */
export function snapshotLookup(url: string): { hit: true; body: unknown } | { hit: false } | null {
  const snap = activeSnapshot();
  if (!snap) return null;
  return Object.prototype.hasOwnProperty.call(snap, url) ? { hit: true, body: snap[url] } : { hit: false };
}

/** `url` of an image route, or its inlined `data:` URL when a snapshot holds it. */
export function snapshotImageUrl(url: string): string {
  const hit = snapshotLookup(url);
  return hit && hit.hit && typeof hit.body === "string" ? hit.body : url;
}
