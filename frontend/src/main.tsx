/**
 * Entry of the ES module TensorBoard loads in the tab's iframe
 * (`/data/plugin_entry.html?name=channelexplorer` runs `import("./index.js")`
 * and calls `render()`).
 */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import type { Root } from "react-dom/client";
import { App } from "./App";
import { followTheme } from "./host/theme";
import { TAB_CSS } from "./styles";

let root: Root | null = null;
let stopTheme: (() => void) | null = null;

function injectStyles(doc: Document) {
  if (doc.getElementById("channelexplorer-styles")) return;
  // The iframe's CSP allows inline styles but no external stylesheet hosts, so
  // the CSS travels inside the bundle.
  const style = doc.createElement("style");
  style.id = "channelexplorer-styles";
  style.textContent = TAB_CSS;
  doc.head.appendChild(style);
}

/**
 * Builds the tab inside the current document (the plugin iframe).
 *
 * Safe to call twice: the second call re-renders into the same root.
 */
export async function render(): Promise<void> {
  const doc = document;
  injectStyles(doc);
  if (!doc.querySelector('meta[name="viewport"]')) {
    const meta = doc.createElement("meta");
    meta.name = "viewport";
    meta.content = "width=device-width, initial-scale=1";
    doc.head.appendChild(meta);
  }
  let container = doc.getElementById("channelexplorer-root");
  if (!container) {
    container = doc.createElement("div");
    container.id = "channelexplorer-root";
    doc.body.appendChild(container);
  }
  doc.documentElement.classList.add("ce-doc");
  stopTheme ??= followTheme(doc);
  performance.mark("ce:render-start");
  root ??= createRoot(container);
  root.render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
