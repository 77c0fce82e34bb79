/**
 * React side of the TensorBoard host: its reloads, and the tab's state in its
 * URL hash (with back / forward).
 */
import { useEffect, useRef } from "react";
import { DATA_RELOADED, hostChannel } from "./channel";
import { decodeUrlState, encodeUrlState, readPluginData, writePluginData } from "./urlState";
import type { UrlState } from "./urlState";

/** Calls `onReload` after every TensorBoard data reload (auto-reload or its reload button). */
export function useHostReload(onReload: () => void): void {
  const ref = useRef(onReload);
  ref.current = onReload;
  useEffect(() => {
    const ch = hostChannel();
    return ch?.listen(DATA_RELOADED, () => ref.current());
  }, []);
}

/**
 * The window whose URL holds the state: TensorBoard's (the parent frame, same
 * origin) when inside it, else the tab's own (standalone or a shared file).
 */
export function urlWindow(win: Window = window): Window {
  try {
    if (win.parent !== win && win.parent.location.origin === win.location.origin) return win.parent;
  } catch {
    // A parent of another origin: its URL is not ours to read.
  }
  return win;
}

/** The state in the URL now. */
export function readUrlState(win: Window = urlWindow()): UrlState {
  return decodeUrlState(readPluginData(win.location.hash));
}

/** How long a change waits before it becomes a history entry (a slider drag makes one). */
const PUSH_DELAY_MS = 400;

/**
 * Keeps the URL hash in step with `state`, and `apply`s the URL's state on
 * back / forward.
 *
 * The first write after the tab opens replaces the history entry (opening
 * the tab is not a step back); later changes push one entry each, after a
 * short pause.
 */
export function useUrlSync(state: UrlState, apply: (s: UrlState) => void, ready: boolean): void {
  const applyRef = useRef(apply);
  applyRef.current = apply;
  const wrote = useRef(false);
  const popped = useRef(false);
  const text = JSON.stringify(encodeUrlState(state));

  useEffect(() => {
    const win = urlWindow();
    const onPop = () => {
      // What back / forward restores is written back in place, never as a new entry
      // (that would cut off the forward history).
      popped.current = true;
      applyRef.current(readUrlState(win));
    };
    win.addEventListener("popstate", onPop);
    return () => win.removeEventListener("popstate", onPop);
  }, []);

  useEffect(() => {
    if (!ready) return;
    const win = urlWindow();
    const data = JSON.parse(text) as Record<string, string>;
    const write = () => {
      const replace = !wrote.current || popped.current;
      popped.current = false;
      wrote.current = true;
      // Compared by content: TensorBoard may spell the same hash differently.
      if (JSON.stringify(readPluginData(win.location.hash)) === JSON.stringify(data)) return;
      const url = win.location.pathname + win.location.search + writePluginData(win.location.hash, data);
      if (replace) win.history.replaceState(win.history.state, "", url);
      else win.history.pushState(win.history.state, "", url);
    };
    if (!wrote.current) return write();
    const t = setTimeout(write, PUSH_DELAY_MS);
    return () => clearTimeout(t);
  }, [text, ready]);
}
