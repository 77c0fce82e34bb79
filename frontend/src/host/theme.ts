/**
 * Light or dark, following TensorBoard: its app puts `dark-mode` on its body
 * (the parent frame); standalone (or a parent of another origin) the
 * system's `prefers-color-scheme` decides. The choice is `data-theme` on the
 * tab's `<html>`, which the theme's CSS variables key on.
 */
import { useSyncExternalStore } from "react";
import { createStore } from "../state";

export type Theme = "light" | "dark";

const store = createStore<Theme>("light");

/** The theme now; re-renders on change (canvases redraw with it). */
export function useTheme(): Theme {
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

function parentBody(win: Window): HTMLElement | null {
  try {
    if (win.parent !== win && win.parent.location.origin === win.location.origin) return win.parent.document.body;
  } catch {
    // A parent of another origin.
  }
  return null;
}

/**
 * Keeps `doc`'s `data-theme` (and the theme store) in step with TensorBoard
 * or the system. Returns a function that stops following.
 */
export function followTheme(doc: Document = document): () => void {
  const win = doc.defaultView ?? window;
  const body = parentBody(win);
  const media = typeof win.matchMedia === "function" ? win.matchMedia("(prefers-color-scheme: dark)") : null;
  const update = () => {
    const dark = body ? body.classList.contains("dark-mode") : !!media?.matches;
    const theme: Theme = dark ? "dark" : "light";
    doc.documentElement.dataset.theme = theme;
    store.set(theme);
  };
  update();
  if (body) {
    const obs = new MutationObserver(update);
    obs.observe(body, { attributes: true, attributeFilter: ["class"] });
    return () => obs.disconnect();
  }
  media?.addEventListener("change", update);
  return () => media?.removeEventListener("change", update);
}
