/**
 * Saving a file from inside the tab's iframe.
 *
 * TensorBoard mounts the tab in an iframe without a `sandbox` attribute, and its
 * CSP does not govern downloads, so a Blob URL clicked through `<a download>`
 * saves the file. A frame sandboxed without `allow-downloads` would drop that
 * click silently; there the Blob URL is opened in a new window instead, where
 * the user can save it.
 */

/** `text` made safe as a file name: runs of other characters become `_`. */
export function safeFileName(text: string): string {
  const s = text.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+|_+$/g, "");
  return s || "channelexplorer";
}

/** Whether `win`'s frame may start downloads (false in a sandbox without `allow-downloads`). */
export function downloadsAllowed(win: Window = window): boolean {
  let frame: Element | null = null;
  try {
    frame = win.frameElement;
  } catch {
    // A frame of another origin: its attributes are unreadable; try the download.
    return true;
  }
  if (!frame || !frame.hasAttribute("sandbox")) return true;
  return (frame.getAttribute("sandbox") ?? "").split(/\s+/).includes("allow-downloads");
}

/**
 * Saves `blob` as `filename`.
 *
 * Returns:
 *   `"download"` when an `<a download>` click was used, `"window"` when the
 *   Blob URL was opened in a new window (sandboxed frame).
 */
export function saveBlob(blob: Blob, filename: string, win: Window = window): "download" | "window" {
  if (!filename) throw new Error("saveBlob: filename must be a non-empty string");
  const url = URL.createObjectURL(blob);
  // Revoked later, not at once: the browser reads the Blob after the click returns.
  win.setTimeout(() => URL.revokeObjectURL(url), 60_000);
  if (!downloadsAllowed(win)) {
    win.open(url, "_blank", "noopener");
    return "window";
  }
  const a = win.document.createElement("a");
  a.href = url;
  a.download = filename;
  a.rel = "noopener";
  a.style.display = "none";
  win.document.body.appendChild(a);
  a.click();
  a.remove();
  return "download";
}
