// Browser half of bench_frontend.py. Usage: node bench_frontend.mjs <url> <paint|heatmap>
// Prints one JSON line with the measurement (milliseconds, page clock).
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromiumOptions } from "../tests/browser/util.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { chromium } = createRequire(join(repo, "frontend", "package.json"))("playwright-core");
const [url, mode] = process.argv.slice(2);
if (!url || !["paint", "heatmap"].includes(mode)) throw new Error("usage: bench_frontend.mjs <url> <paint|heatmap>");

const dir = mkdtempSync(join(tmpdir(), "ce-bench-"));
const ctx = await chromium.launchPersistentContext(dir, chromiumOptions());
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  // Time of the first frame painted after the first graph node exists (navigation start = 0).
  await page.addInitScript(() => {
    const sel = '[data-testid="layer-node"], [data-testid="group-node"]';
    const obs = new MutationObserver(() => {
      if (document.querySelector(sel)) {
        obs.disconnect();
        requestAnimationFrame(() => setTimeout(() => (window.__ceFirstNode = performance.now()), 0));
      }
    });
    obs.observe(document, { childList: true, subtree: true });
  });
  await page.goto(url, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.__ceFirstNode !== undefined, null, { timeout: 60000 });
  if (mode === "paint") {
    const res = await page.evaluate(() => ({
      first_paint_ms: window.__ceFirstNode,
      nodes: document.querySelectorAll('[data-testid="layer-node"], [data-testid="group-node"], [data-testid="small-node"]').length,
    }));
    console.log(JSON.stringify(res));
  } else {
    await page.locator('[data-testid="layer-node"][data-layer="big"]').waitFor();
    const res = await page.evaluate(async () => {
      const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const btn = document.querySelector('[data-testid="layer-node"][data-layer="big"] [data-testid="toggle-heatmap"]');
      const t0 = performance.now();
      btn.click();
      for (let i = 0; i < 2000 && !document.querySelector('canvas[data-testid="heatmap"]'); i++) await frame();
      await frame();
      const t1 = performance.now();
      const entry = performance.getEntriesByType("resource").find((e) => e.name.includes("heatmap?"));
      const c = document.querySelector('canvas[data-testid="heatmap"]');
      return { total_ms: t1 - t0, draw_ms: entry ? t1 - entry.responseEnd : t1 - t0, rows: c?.dataset.rows, cols: c?.dataset.cols };
    });
    if (res.rows !== "2048" || res.cols !== "200") throw new Error(`heatmap drawn at ${res.rows} x ${res.cols}`);
    console.log(JSON.stringify(res));
  }
} finally {
  await ctx.close();
  rmSync(dir, { recursive: true, force: true });
}
