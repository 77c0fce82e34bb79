// Browser half of bench_frontend.py. Usage: node bench_frontend.mjs <url> <paint|heatmap|tb>
// Prints one JSON line with the measurement (milliseconds, page clock).
// `tb`: <url> is a real TensorBoard; times the tab's graph first paint, the
// expansion of the largest module group and "Expand all", and reads the tab's
// JS heap (CDP Performance.getMetrics) and the renderer processes' RSS.
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromiumOptions } from "../tests/browser/util.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { chromium } = createRequire(join(repo, "frontend", "package.json"))("playwright-core");
const [url, mode] = process.argv.slice(2);
if (!url || !["paint", "heatmap", "tb"].includes(mode)) throw new Error("usage: bench_frontend.mjs <url> <paint|heatmap|tb>");

const NODE_SEL = '[data-testid="layer-node"], [data-testid="group-node"], [data-testid="small-node"]';

/**
 * Memory of the Chromium started with user data dir `dir` (Linux /proc), MiB:
 * RSS of its renderer processes, and PSS summed over all its processes (RSS
 * would count the shared pages once per process).
 */
function chromiumMemory(dir) {
  const procs = new Map();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      // Chromium rewrites its children's argv into one string: match on the joined line.
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      const kib = (file, key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/${file}`, "utf8"))?.[1] ?? 0);
      procs.set(Number(pid), { ppid, cmd, rss: kib("status", "VmRSS") / 1024, pss: kib("smaps_rollup", "Pss") / 1024 });
    } catch {
      // The process ended while being read.
    }
  }
  const roots = [...procs].filter(([, p]) => p.cmd.includes(`--user-data-dir=${dir}`) && !p.cmd.includes("--type=")).map(([pid]) => pid);
  const inTree = (pid) => {
    for (let p = pid, i = 0; p > 1 && i < 64; p = procs.get(p)?.ppid ?? 0, i++) if (roots.includes(p)) return true;
    return false;
  };
  const out = { renderer_rss_mib: 0, renderers: 0, largest_renderer_rss_mib: 0, chromium_pss_mib: 0, processes: 0 };
  for (const [pid, p] of procs) {
    if (!inTree(pid)) continue;
    out.processes += 1;
    out.chromium_pss_mib += p.pss;
    if (p.cmd.includes("--type=renderer")) {
      out.renderers += 1;
      out.renderer_rss_mib += p.rss;
      out.largest_renderer_rss_mib = Math.max(out.largest_renderer_rss_mib, p.rss);
    }
  }
  return out;
}

/** JS heap of the page's renderer (the plugin iframe shares it: same origin), in MiB. */
async function heapMiB(cdp) {
  await cdp.send("HeapProfiler.collectGarbage");
  const { metrics } = await cdp.send("Performance.getMetrics");
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  return { used: m.JSHeapUsedSize / 2 ** 20, total: m.JSHeapTotalSize / 2 ** 20, dom_nodes: m.Nodes };
}

/**
 * Clicks `click` in `frame` and waits until the number of graph nodes has held
 * still for 10 frames; returns ms from the click to the first frame painted
 * with that final count, and the count.
 */
async function timeExpansion(frame, click) {
  return frame.evaluate(
    async ({ click, sel }) => {
      const frameDone = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const count = () => document.querySelectorAll(sel).length;
      const before = count();
      const t0 = performance.now();
      document.querySelector(click).click();
      let last = before;
      let lastAt = t0;
      let still = 0;
      while (performance.now() - t0 < 60000) {
        await frameDone();
        const n = count();
        if (n !== last) {
          last = n;
          lastAt = performance.now();
          still = 0;
        } else if (n !== before && ++still >= 10) break;
      }
      return { ms: lastAt - t0, before, after: last };
    },
    { click, sel: NODE_SEL },
  );
}

async function tbCase(ctx, page) {
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("Performance.enable");
  // Runs in the top page and in the plugin's iframe; epoch ms, so the two clocks compare.
  await page.addInitScript((sel) => {
    const obs = new MutationObserver(() => {
      if (document.querySelector(sel)) {
        obs.disconnect();
        requestAnimationFrame(() => setTimeout(() => (window.__ceFirstNode = performance.timeOrigin + performance.now()), 0));
      }
    });
    obs.observe(document, { childList: true, subtree: true });
  }, NODE_SEL);
  await page.goto(`${url.replace(/\/+$/, "")}/#channelexplorer`, { waitUntil: "domcontentloaded" });
  const topOrigin = await page.evaluate(() => performance.timeOrigin);
  const frameOf = () => page.frames().find((f) => f.url().includes("plugin_entry.html?name=channelexplorer"));
  await page.waitForFunction(() => document.querySelector("iframe") !== null, null, { timeout: 60000 });
  let frame;
  for (let i = 0; i < 600 && !(frame = frameOf()); i++) await page.waitForTimeout(100);
  if (!frame) throw new Error("plugin iframe not found");
  await frame.waitForFunction(() => window.__ceFirstNode !== undefined, null, { timeout: 120000 });
  const paint = await frame.evaluate((sel) => {
    const res = (name) => performance.getEntriesByType("resource").find((e) => e.name.includes(`/${name}?`) || e.name.endsWith(`/${name}`));
    const graph = res("graph");
    const bundle = res("index.js");
    return {
      first_node_epoch: window.__ceFirstNode,
      frame_origin: performance.timeOrigin,
      graph_response_end: graph ? performance.timeOrigin + graph.responseEnd : null,
      graph_bytes: graph ? graph.encodedBodySize : null,
      bundle_response_end: bundle ? performance.timeOrigin + bundle.responseEnd : null,
      nodes: document.querySelectorAll(sel).length,
      // The plugin's requests that ended before the first paint, epoch ms.
      requests: performance
        .getEntriesByType("resource")
        .filter((e) => performance.timeOrigin + e.responseEnd <= window.__ceFirstNode)
        .map((e) => ({ name: new URL(e.name).pathname.split("/").pop(), start: performance.timeOrigin + e.startTime, end: performance.timeOrigin + e.responseEnd })),
    };
  }, NODE_SEL);
  const out = {
    first_paint_ms: paint.first_node_epoch - topOrigin,
    frame_first_paint_ms: paint.first_node_epoch - paint.frame_origin,
    iframe_start_ms: paint.frame_origin - topOrigin,
    bundle_loaded_ms: paint.bundle_response_end === null ? null : paint.bundle_response_end - topOrigin,
    graph_loaded_ms: paint.graph_response_end === null ? null : paint.graph_response_end - topOrigin,
    graph_bytes: paint.graph_bytes,
    nodes: paint.nodes,
    requests: paint.requests.map((r) => `${r.name} ${((r.start - topOrigin) / 1000).toFixed(2)}-${((r.end - topOrigin) / 1000).toFixed(2)} s`),
  };
  await page.waitForTimeout(1000); // let the first panels' requests settle before reading memory
  out.heap_paint = await heapMiB(cdp);
  Object.assign(out, { rss_paint: chromiumMemory(dir) });
  // The largest collapsed group (most nodes inside), as a user would open it first.
  const biggest = await frame.evaluate(() => {
    let best = null;
    for (const g of document.querySelectorAll('[data-testid="group-node"]')) {
      const n = Number(/(\d+) nodes/.exec(g.querySelector(".ce-node__meta")?.textContent ?? "")?.[1] ?? 0);
      if (!best || n > best.n) best = { path: g.dataset.group, n };
    }
    return best;
  });
  if (!biggest) throw new Error("no collapsed module group at first paint");
  out.expand_group = biggest.path;
  out.expand_group_size = biggest.n;
  out.expand = await timeExpansion(frame, `[data-testid="group-node"][data-group="${biggest.path}"] button`);
  out.heap_expand = await heapMiB(cdp);
  // From the one-group-open state, "Expand all" opens every module.
  out.expand_all = await timeExpansion(frame, '[data-testid="toggle-groups"]');
  await page.waitForTimeout(500);
  out.heap_all = await heapMiB(cdp);
  out.rss_all = chromiumMemory(dir);
  out.dom_layer_nodes = await frame.evaluate(() => document.querySelectorAll('[data-testid="layer-node"]').length);
  return out;
}

const dir = mkdtempSync(join(tmpdir(), "ce-bench-"));
const ctx = await chromium.launchPersistentContext(dir, chromiumOptions());
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  if (mode === "tb") console.log(JSON.stringify(await tbCase(ctx, page)));
  else await mockCase(page);
} finally {
  await ctx.close();
  rmSync(dir, { recursive: true, force: true });
}

/** `paint` and `heatmap` against bench_frontend.py's mock server. */
async function mockCase(page) {
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
}
