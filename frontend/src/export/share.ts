/**
 * "Share": one self-contained HTML file of the current view.
 *
 * The file holds the tab's bundle (base64, so no byte of it can close a
 * `<script>`), the recorded responses as `window.__CE_SNAPSHOT__` (JSON with
 * `<` escaped) and the view's `p.channelexplorer.*` hash. Opened from disk, a
 * small loader installs the snapshot, puts the hash in the file's URL, imports
 * the bundle from a Blob URL and calls `render()`; `api.ts` then answers every
 * request from the snapshot, so no server is needed.
 */
import { readPluginData, writePluginData, PLUGIN } from "../host/urlState";
import { urlWindow } from "../host/useHost";
import { inSnapshot, parseApiUrl, recordedResponses } from "./snapshot";
import type { Snapshot } from "./snapshot";

/** Id of the element that carries the base64 bundle in a shared file. */
export const BUNDLE_ID = "ce-bundle";
/** Id of the element that carries the snapshot JSON in a shared file. */
export const SNAPSHOT_ID = "ce-snapshot";
/** Image routes whose `<img>`s are inlined as `data:` URLs. */
const IMAGE_ROUTES = new Set(["thumbnail", "overlay"]);

/** Base64 of the UTF-8 bytes of `text` (chunked: `String.fromCharCode` takes limited arguments). */
export function utf8ToBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** JSON that is safe inside a `<script>` element (`<` as `\u003c`, which JSON.parse reads back). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Inputs of `buildShareHtml`. */
export interface ShareParts {
  /** The bundle's source (`index.js`). */
  bundle: string;
  snapshot: Snapshot;
  /** The file's URL hash, e.g. `#channelexplorer&p.channelexplorer.run=a`. */
  hash: string;
  title: string;
}

/**
 * The shared HTML file.
 *
 * Raises:
 *   Error: when `bundle` does not export `render` or `hash` does not start with `#`.
 */
export function buildShareHtml({ bundle, snapshot, hash, title }: ShareParts): string {
  if (!/\brender\b/.test(bundle)) throw new Error("buildShareHtml: bundle does not export render()");
  if (!hash.startsWith("#")) throw new Error(`buildShareHtml: hash must start with "#", got ${JSON.stringify(hash)}`);
  const loader = `
const text = (id) => document.getElementById(id).textContent;
window.__CE_SNAPSHOT__ = JSON.parse(text(${JSON.stringify(SNAPSHOT_ID)}));
const hash = ${scriptJson(hash)};
if (!location.hash) { try { history.replaceState(null, "", hash); } catch { location.hash = hash; } }
const bytes = Uint8Array.from(atob(text(${JSON.stringify(BUNDLE_ID)}).trim()), (c) => c.charCodeAt(0));
const url = URL.createObjectURL(new Blob([bytes], { type: "text/javascript" }));
import(url).then((m) => m.render());
`;
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<meta name="generator" content="ChannelExplorer share">',
    "</head>",
    "<body>",
    `<script type="application/json" id="${SNAPSHOT_ID}">${scriptJson(snapshot)}</script>`,
    `<script type="text/plain" id="${BUNDLE_ID}">${utf8ToBase64(bundle)}</script>`,
    `<script type="module">${loader}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

/** The bundle's source: from the shared file when inside one, else from the server. */
async function bundleSource(): Promise<string> {
  const el = document.getElementById(BUNDLE_ID);
  if (el?.textContent) {
    const bytes = Uint8Array.from(atob(el.textContent.trim()), (c) => c.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  }
  const r = await fetch(import.meta.url, { credentials: "same-origin" });
  if (!r.ok) throw new Error(`share: could not read the bundle (HTTP ${r.status})`);
  return r.text();
}

function blobToDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const fr = new FileReader();
    fr.onload = () => resolve(String(fr.result));
    fr.onerror = () => reject(fr.error);
    fr.readAsDataURL(blob);
  });
}

/** The images of the routes shown now, as `data:` URLs keyed by their request URL. */
async function inlineImages(doc: Document): Promise<Snapshot> {
  const out: Snapshot = {};
  const srcs = new Set<string>();
  for (const img of doc.querySelectorAll("img, image")) {
    const src = img.getAttribute("src") ?? img.getAttribute("href") ?? "";
    if (/^[a-z]+:/i.test(src)) continue;
    if (IMAGE_ROUTES.has(parseApiUrl(src).route)) srcs.add(src);
  }
  await Promise.all(
    [...srcs].map(async (src) => {
      const r = await fetch(src, { credentials: "same-origin" }).catch(() => null);
      if (r?.ok) out[src] = await blobToDataUrl(await r.blob());
    }),
  );
  return out;
}

/**
 * The shared file of the view shown now.
 *
 * Returns:
 *   The HTML text and how many responses it carries.
 */
export async function shareCurrentView(title: string): Promise<{ html: string; responses: number }> {
  const snapshot: Snapshot = { ...(inSnapshot() ? window.__CE_SNAPSHOT__ : {}) };
  for (const [url, body] of recordedResponses()) snapshot[url] = body;
  Object.assign(snapshot, await inlineImages(document));
  const hash = writePluginData(`#${PLUGIN}`, readPluginData(urlWindow().location.hash));
  const html = buildShareHtml({ bundle: await bundleSource(), snapshot, hash, title });
  return { html, responses: Object.keys(snapshot).length };
}
