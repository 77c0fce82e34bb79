// End-to-end check of the ChannelExplorer tab in a real TensorBoard and a real Chromium.
//
// Usage: node tests/browser/tab.mjs <tensorboard-url> <outdir> [--run NAME] [--run-b NAME]
//
// Opens <url>/#channelexplorer, finds the tab's iframe and checks, in order:
// the graph shows layer nodes; a layer's Scatter panel shows N points (N from
// /layers); a Jaccard click shows the pair; a heatmap click shows an overlay
// image; changing the step (keyboard on the step slider) changes the data;
// compare mode shows two sides; the timeline mode shows a layers x steps grid
// and a cell click opens that layer at that step; the trajectory slider and
// play button change the frame; the diff view renders; with a second run
// (--run-b, or any other run listed) the timeline draws one line per run.
// Saves screenshots to <outdir>/*.png. Exits non-zero on the first failure.
import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromiumOptions, fail, log, step } from "./util.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const require = createRequire(join(repo, "frontend", "package.json"));
const { chromium } = require("playwright-core");

const [url, outdir] = process.argv.slice(2);
if (!url || !outdir) fail("usage: node tab.mjs <tensorboard-url> <outdir> [--run NAME]");
const runArg = process.argv.indexOf("--run");
const wantRun = runArg > 0 ? process.argv[runArg + 1] : null;
const runBArg = process.argv.indexOf("--run-b");
const wantRunB = runBArg > 0 ? process.argv[runBArg + 1] : null;
mkdirSync(outdir, { recursive: true });

const base = url.replace(/\/+$/, "");
const api = `${base}/data/plugin/channelexplorer`;
const userDataDir = mkdtempSync(join(tmpdir(), "ce-chromium-"));
const problems = [];
let context;

async function getJson(path) {
  const r = await fetch(`${api}/${path}`);
  if (!r.ok) fail(`GET ${path}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

/** A content fingerprint of a panel element (canvas pixels or SVG markup). */
async function fingerprint(locator) {
  return locator.evaluate((el) => {
    const parts = [];
    for (const c of el.querySelectorAll("canvas")) parts.push(c.toDataURL());
    if (el instanceof HTMLCanvasElement) parts.push(el.toDataURL());
    for (const s of el.querySelectorAll("svg")) parts.push(s.innerHTML);
    if (el instanceof SVGElement) parts.push(el.innerHTML);
    return parts.join("|");
  });
}

try {
  const runs = (await getJson("runs")).runs;
  if (!runs.length) fail("the backend lists no run");
  const run = wantRun ? runs.find((r) => r.run === wantRun) : runs[0];
  if (!run) fail(`run ${wantRun} not listed`);
  if (run.steps.length < 2) fail(`run ${run.run} needs >= 2 steps, has ${run.steps}`);
  const layersResp = await getJson(`layers?run=${encodeURIComponent(run.run)}`);
  const N = layersResp.n_inputs;
  log(`run ${run.run}: steps ${run.steps.join(",")}, ${layersResp.layers.length} layers, N=${N}`);

  context = await chromium.launchPersistentContext(userDataDir, chromiumOptions());
  const page = context.pages()[0] ?? (await context.newPage());
  await page.setViewportSize({ width: 1600, height: 1000 });
  page.on("console", (m) => {
    const t = m.text();
    // HTTP failures are judged per route in the "response" handler below.
    if (m.type() === "error" && !/favicon|ERR_ABORTED|Failed to load resource/.test(t)) problems.push(`console error: ${t}`);
    if (/Content Security Policy/i.test(t)) problems.push(`CSP: ${t}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("response", (r) => {
    const u = r.url();
    if (!u.includes("/data/plugin/channelexplorer/")) return;
    // Expected 404s: /overlay (maps are logged for a subset of inputs) and /graph (no graph logged).
    if (r.status() >= 500 || (r.status() >= 400 && !/\/(overlay|graph)\?/.test(u))) problems.push(`HTTP ${r.status()} ${u}`);
  });

  const t0 = Date.now();
  await page.goto(`${base}/#channelexplorer`, { waitUntil: "domcontentloaded" });
  const frame = page.frameLocator('iframe[src*="plugin_entry.html?name=channelexplorer"]');

  await step("tab opens and graph nodes are visible", async () => {
    await frame.locator('[data-testid="ce-app"]').waitFor({ timeout: 30000 });
    const node = frame.locator('[data-testid="layer-node"]').first();
    await node.waitFor({ state: "visible", timeout: 30000 });
    const count = await frame.locator('[data-testid="layer-node"], [data-testid="group-node"]').count();
    if (count < 1) throw new Error("no layer or group node");
    log(`  first paint with nodes after ${Date.now() - t0} ms; ${count} layer/group nodes`);
    await page.screenshot({ path: join(outdir, "01-graph.png") });
  });

  // Pick the logged layer with the most channels that has maps (heatmap overlay).
  const withMaps = layersResp.layers.filter((l) => l.has_maps);
  const target = (withMaps.length ? withMaps : layersResp.layers).reduce((a, b) => (b.channels > a.channels ? b : a));
  log(`  target layer ${target.name} (${target.channels} channels)`);
  const groupOf = async () => {
    // The layer may sit inside a collapsed module group: expand groups until it shows.
    for (let i = 0; i < 6; i++) {
      const node = frame.locator(`[data-testid="layer-node"][data-layer="${target.name}"]`);
      if (await node.count()) return node;
      const groups = frame.locator('[data-testid="group-node"]');
      const n = await groups.count();
      let clicked = false;
      for (let g = 0; g < n; g++) {
        const path = await groups.nth(g).getAttribute("data-group");
        if (path && (target.name === path || target.name.startsWith(path + "."))) {
          await groups.nth(g).locator("button").click();
          clicked = true;
          break;
        }
      }
      if (!clicked) break;
      await page.waitForTimeout(300);
    }
    throw new Error(`layer node ${target.name} not found`);
  };
  const node = await step("expanding a layer node works", async () => {
    const n = await groupOf();
    await n.scrollIntoViewIfNeeded();
    await n.locator('[data-testid="toggle-scatter"]').click();
    await n.locator('[data-testid="panel-scatter"]').waitFor({ state: "visible", timeout: 10000 });
    return n;
  });

  await step(`the scatterplot shows ${N} points`, async () => {
    const sc = node.locator('[data-testid="scatter"]');
    await sc.waitFor({ state: "attached", timeout: 60000 });
    const pts = Number(await sc.getAttribute("data-points"));
    if (pts !== N) throw new Error(`data-points=${pts}, expected ${N}`);
    await page.screenshot({ path: join(outdir, "02-scatter.png") });
  });

  await step("a slow layout shows the PCA preview at once, then replaces it", async () => {
    // Hold the slow method's response (not PCA's) until the preview has been seen.
    let release;
    const gate = new Promise((r) => (release = r));
    const slow = (u) => u.pathname.endsWith("/scatter") && u.searchParams.get("method") !== "pca";
    const hold = async (route) => {
      await gate;
      await route.continue();
    };
    await page.route(slow, hold);
    try {
      const method = node.locator('select[aria-label="Dimensionality reduction method"]');
      if ((await method.inputValue()) === "pca") await method.selectOption("tsne");
      else await node.locator('button[aria-label="Recompute the projection with a new random seed"]').click();
      const chosen = await method.inputValue();
      const banner = node.locator('[data-testid="scatter-preview"]');
      await banner.waitFor({ state: "visible", timeout: 30000 });
      await node.locator('[data-testid="scatter"][data-method="pca"]').waitFor({ state: "attached", timeout: 30000 });
      const text = await banner.textContent();
      if (!text.startsWith("PCA preview")) throw new Error(`preview banner reads ${JSON.stringify(text)}`);
      release();
      await banner.waitFor({ state: "detached", timeout: 60000 });
      await node.locator(`[data-testid="scatter"][data-method="${chosen}"]`).waitFor({ state: "attached", timeout: 60000 });
      log(`  preview "${text}" replaced by ${chosen}`);
    } finally {
      release();
      await page.unroute(slow, hold);
    }
  });

  await step("the scatterplot enlarges into the line-up dock and closes", async () => {
    await node.locator('button[aria-label="Enlarge scatterplot"]').click();
    const big = frame.locator('[data-testid="scatter-enlarged"]');
    await big.waitFor({ state: "visible", timeout: 10000 });
    const pts = Number(await big.locator('[data-testid="scatter"]').getAttribute("data-points"));
    if (pts !== N) throw new Error(`enlarged scatter has ${pts} points, expected ${N}`);
    await page.screenshot({ path: join(outdir, "02b-scatter-enlarged.png") });
    await big.locator("header button").click();
    await big.waitFor({ state: "detached", timeout: 10000 });
  });

  const beforeStep = await fingerprint(node.locator('[data-testid="panel-scatter"]'));

  await step("a Jaccard click shows the pair", async () => {
    await node.locator('[data-testid="toggle-jaccard"]').click();
    const jc = node.locator('[data-testid="jaccard"]');
    await jc.waitFor({ state: "visible", timeout: 30000 });
    const canvasLike = jc.locator("canvas, svg").first();
    const clickTarget = (await canvasLike.count()) ? canvasLike : jc;
    await clickTarget.scrollIntoViewIfNeeded();
    const box = await clickTarget.boundingBox();
    if (!box) throw new Error("jaccard has no box");
    // A cell off the diagonal: one third across, two thirds down.
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.7);
    const pair = node.locator('[data-testid="jaccard-cell"]');
    await pair.waitFor({ state: "visible", timeout: 15000 });
    const i = await pair.getAttribute("data-i");
    const j = await pair.getAttribute("data-j");
    if (i === null || j === null) throw new Error("pair lacks data-i / data-j");
    log(`  pair (${i}, ${j}): ${(await pair.innerText()).replace(/\s+/g, " ")}`);
    await page.screenshot({ path: join(outdir, "03-jaccard.png") });
  });

  await step("the Jaccard keyboard cursor picks the cell a click picks", async () => {
    const canvas = node.locator('canvas[data-testid="jaccard"]');
    const pair = node.locator('[data-testid="jaccard-cell"]');
    // One read of both attributes: two reads could straddle a re-render and mix two pairs.
    const shown = () => pair.evaluate((el) => `${el.getAttribute("data-i")},${el.getAttribute("data-j")}`);
    const waitChange = async (from) => {
      for (let k = 0; k < 100; k++) {
        const now = await shown();
        if (now !== from) return now;
        await page.waitForTimeout(100);
      }
      return from;
    };
    const first = await shown();
    const n = Number(await canvas.getAttribute("data-n"));
    // The box is measured right before each click: panels opening elsewhere can move the canvas.
    const clickCell = async (r, c) => {
      await canvas.scrollIntoViewIfNeeded();
      const box = await canvas.boundingBox();
      await page.mouse.click(box.x + ((c + 0.5) * box.width) / n, box.y + ((r + 0.5) * box.height) / n);
    };
    const [row, col] = [Math.min(2, n - 1), Math.min(3, n - 1)];
    // The oracle: a click at the centre of cell (row, col), hit-tested apart from the cursor.
    await clickCell(row, col);
    const clicked = await waitChange(first);
    if (clicked === first) throw new Error(`a click on cell (${row}, ${col}) kept pair ${first}`);
    // Another cell by mouse (the bottom-left one, never (row, col)), then the keyboard from the
    // top-left: Right x col, Down x row, Enter.
    await clickCell(n - 1, 0);
    const elsewhere = await waitChange(clicked);
    if (elsewhere === clicked) throw new Error(`a click on cell (${n - 1}, 0) kept pair ${clicked}`);
    await canvas.focus();
    for (let k = 0; k < col; k++) await page.keyboard.press("ArrowRight");
    for (let k = 0; k < row; k++) await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    const typed = await waitChange(elsewhere);
    if (typed !== clicked) throw new Error(`keyboard picked ${typed}, the click on cell (${row}, ${col}) picked ${clicked}`);
    // Back to the first pair without a cursor, for the later screenshots. Scaffolding, not a claim:
    // focus may have scrolled the canvas under another element, so a miss is logged, not failed.
    await canvas.scrollIntoViewIfNeeded();
    const box2 = await canvas.boundingBox();
    await page.mouse.click(box2.x + box2.width * 0.3, box2.y + box2.height * 0.7);
    const back = await waitChange(typed);
    if (back !== first) log(`  (the screenshot pair is ${back}, not the first pair ${first})`);
    log(`  cell (${row}, ${col}): click and keyboard both pick pair ${clicked}`);
  });

  await step("a heatmap click shows an overlay image", async () => {
    await node.locator('[data-testid="toggle-heatmap"]').click();
    const hm = node.locator('[data-testid="heatmap"]');
    await hm.waitFor({ state: "visible", timeout: 30000 });
    const canvasLike = hm.locator("canvas").first();
    const clickTarget = (await canvasLike.count()) ? canvasLike : hm;
    await clickTarget.scrollIntoViewIfNeeded();
    const box = await clickTarget.boundingBox();
    if (!box) throw new Error("heatmap has no box");
    // Maps are logged for a subset of inputs: try cells across the first row until one has a map.
    const img = node.locator('img[data-testid="overlay"]');
    let loaded = false;
    for (const fx of [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95]) {
      await page.mouse.click(box.x + box.width * fx, box.y + Math.min(box.height * 0.1, 6));
      try {
        await page.waitForFunction(
          (el) => {
            const im = el.querySelector('img[data-testid="overlay"]');
            return el.querySelector('[data-testid="overlay-missing"]') !== null || (im && im.complete && im.naturalWidth > 0);
          },
          await node.elementHandle(),
          { timeout: 15000 },
        );
      } catch {}
      if ((await img.count()) && (await img.evaluate((el) => el.complete && el.naturalWidth > 0))) {
        loaded = true;
        break;
      }
    }
    if (!loaded) throw new Error("no heatmap cell produced an overlay image");
    const w = await img.evaluate((el) => el.naturalWidth);
    log(`  overlay ${w}px wide: ${await img.getAttribute("src")}`);
    await page.screenshot({ path: join(outdir, "04-heatmap-overlay.png") });
  });

  await step("changing the step changes the data", async () => {
    const side = frame.locator('[data-testid="side-a"]');
    const stepBefore = await side.getAttribute("data-step");
    const slider = frame.locator('[data-testid="step-select-a-slider"]');
    await slider.focus();
    await slider.press(stepBefore === String(run.steps[0]) ? "ArrowRight" : "ArrowLeft");
    await frame.locator(`[data-testid="side-a"]:not([data-step="${stepBefore}"])`).waitFor({ timeout: 15000 });
    const stepAfter = await side.getAttribute("data-step");
    const sc = frame.locator(`[data-testid="layer-node"][data-layer="${target.name}"] [data-testid="panel-scatter"]`);
    await sc.locator('[data-testid="scatter"]').waitFor({ state: "attached", timeout: 60000 });
    let after = beforeStep;
    for (let i = 0; i < 60 && after === beforeStep; i++) {
      await page.waitForTimeout(500);
      after = await fingerprint(sc);
    }
    if (after === beforeStep) throw new Error(`scatter unchanged after step ${stepBefore} -> ${stepAfter}`);
    log(`  step ${stepBefore} -> ${stepAfter}: scatter changed`);
    await page.screenshot({ path: join(outdir, "05-step-changed.png") });
  });

  await step("compare mode shows two sides", async () => {
    await frame.locator('[data-testid="compare-toggle"]').check();
    await frame.locator('[data-testid="side-b"] [data-testid="graph"]').waitFor({ timeout: 30000 });
    await frame.locator('[data-testid="side-b"] [data-testid="layer-node"], [data-testid="side-b"] [data-testid="group-node"]').first().waitFor({ timeout: 30000 });
    await page.screenshot({ path: join(outdir, "06-compare.png") });
  });

  const tl = frame.locator('[data-testid="timeline"]');
  const modeButton = (label) => frame.locator(`[data-testid="mode-switch"] button`, { hasText: label });

  await step("the timeline shows a layers x steps grid", async () => {
    await frame.locator('[data-testid="compare-toggle"]').uncheck();
    await modeButton("Timeline").click();
    const grid = tl.locator('[data-testid="timeline-grid"]');
    await grid.waitFor({ state: "visible", timeout: 60000 });
    const rows = Number(await grid.getAttribute("data-rows"));
    const cols = Number(await grid.getAttribute("data-cols"));
    if (cols !== run.steps.length) throw new Error(`grid has ${cols} columns, expected ${run.steps.length} steps`);
    if (rows !== layersResp.layers.length) throw new Error(`grid has ${rows} rows, expected ${layersResp.layers.length} layers`);
    const cells = await grid.locator('[data-testid="timeline-cell"]').count();
    if (cells !== rows * cols) throw new Error(`${cells} cells for ${rows}x${cols}`);
    // Rows follow the graph (manifest) order.
    const names = await grid.locator('[data-testid="timeline-layer"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-layer")));
    const expected = layersResp.layers.map((l) => l.name);
    if (names.join("|") !== expected.join("|")) throw new Error(`row order ${names} != ${expected}`);
    const scored = await grid.locator('[data-testid="timeline-cell"]:not([data-value=""])').count();
    if (!scored) throw new Error("no scored cell");
    // The layer details below (trajectory + diff of the deepest layer) render too.
    await tl.locator('[data-testid="timeline-details"] [data-testid="trajectory"]').waitFor({ timeout: 60000 });
    await tl.locator('[data-testid="timeline-details"] [data-testid="diff"]').waitFor({ timeout: 60000 });
    log(`  ${rows} layers x ${cols} steps, ${scored} scored cells`);
    await page.screenshot({ path: join(outdir, "07-timeline.png") });
  });

  await step("the timeline grid's keyboard cursor chooses a layer", async () => {
    const grid = tl.locator('[data-testid="timeline-grid"]');
    await grid.focus();
    // The cursor starts on the first layer at the newest step; Down moves to the second layer.
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("ArrowDown");
    const second = layersResp.layers[Math.min(1, layersResp.layers.length - 1)].name;
    await tl.locator(`[data-testid="timeline-details"][data-layer="${second}"]`).waitFor({ timeout: 30000 });
    const active = await grid.locator(".ce-timeline__layer.is-active").getAttribute("data-layer");
    if (active !== second) throw new Error(`active row ${active}, expected ${second}`);
    log(`  Up, Down: details of ${second}`);
  });

  // Open a layer other than the one opened before, at the first step.
  const openLayer = layersResp.layers.find((l) => l.name !== target.name) ?? target;
  const openStep = run.steps[0];
  const opened = await step("clicking a timeline cell opens that layer at that step", async () => {
    await tl
      .locator(`[data-testid="timeline-cell"][data-layer="${openLayer.name}"][data-step="${openStep}"]`)
      .click();
    await frame.locator(`[data-testid="side-a"][data-step="${openStep}"]`).waitFor({ timeout: 30000 });
    const n = frame.locator(`[data-testid="side-a"] [data-testid="layer-node"][data-layer="${openLayer.name}"]`);
    await n.locator('[data-testid="panel-scatter"] [data-testid="scatter"]').waitFor({ state: "attached", timeout: 60000 });
    const pts = Number(await n.locator('[data-testid="scatter"]').getAttribute("data-points"));
    if (pts !== N) throw new Error(`opened scatter has ${pts} points, expected ${N}`);
    const stepShown = await frame.locator('[data-testid="step-select-a"]').inputValue();
    if (stepShown !== String(openStep)) throw new Error(`step picker shows ${stepShown}, expected ${openStep}`);
    log(`  opened ${openLayer.name} at step ${openStep}`);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(outdir, "08-timeline-opened.png") });
    return n;
  });

  await step("the trajectory slider and play button change the frame", async () => {
    await opened.locator('[data-testid="toggle-scatter"]').click();
    await opened.locator('[data-testid="toggle-trajectory"]').click();
    const traj = opened.locator('[data-testid="trajectory"]');
    await traj.waitFor({ state: "visible", timeout: 60000 });
    const pts = Number(await traj.getAttribute("data-points"));
    if (pts !== N) throw new Error(`trajectory has ${pts} points, expected ${N} (same probe inputs at every step)`);
    const f0 = Number(await traj.getAttribute("data-frame"));
    if (f0 !== run.steps.indexOf(openStep)) throw new Error(`trajectory starts at frame ${f0}, expected the shown step`);
    const slider = opened.locator('[data-testid="trajectory-slider"]');
    await slider.focus();
    await slider.press("ArrowRight");
    await opened.locator(`[data-testid="trajectory"][data-frame="${f0 + 1}"]`).waitFor({ timeout: 5000 });
    // Select two inputs: their trajectories are drawn across all steps.
    await traj.locator("circle[data-index]").nth(0).click({ force: true });
    await traj.locator("circle[data-index]").nth(5).click({ force: true, modifiers: ["Shift"] });
    await opened.locator('[data-testid="trajectory"][data-trajectories="2"]').waitFor({ timeout: 5000 });
    await slider.press("Home");
    await opened.locator('[data-testid="trajectory"][data-frame="0"]').waitFor({ timeout: 5000 });
    await opened.locator('[data-testid="trajectory-play"]').click();
    const lastFrame = run.steps.length - 1;
    await opened.locator(`[data-testid="trajectory"][data-frame="${lastFrame}"]`).waitFor({ timeout: 15000 });
    log(`  frame ${f0} -> ${f0 + 1} by keyboard; play reached frame ${lastFrame}`);
    await page.waitForTimeout(200);
    await opened.locator('[data-testid="panel-trajectory"]').screenshot({ path: join(outdir, "09-trajectory-panel.png") });
    await page.screenshot({ path: join(outdir, "09-trajectory.png") });
  });

  await step("the diff view renders", async () => {
    await opened.locator('[data-testid="toggle-diff"]').click();
    const canvas = opened.locator('canvas[data-testid="diff"]');
    await canvas.waitFor({ state: "visible", timeout: 60000 });
    const n = Number(await canvas.getAttribute("data-n"));
    if (n !== N) throw new Error(`diff matrix is ${n}x${n}, expected ${N}`);
    const a = await opened.locator('[data-testid="diff-a-step"]').inputValue();
    const b = await opened.locator('[data-testid="diff-b-step"]').inputValue();
    if (a === b) throw new Error(`diff compares step ${a} with itself`);
    // Painted: some pixel is neither transparent nor white.
    const painted = await canvas.evaluate((c) => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let k = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) k++;
      return k;
    });
    if (!painted) throw new Error("diff canvas is blank");
    const ranks = await opened.locator('[data-testid="rank-changes"] tbody tr[data-channel]').count();
    if (!ranks) throw new Error("no rank changes listed");
    log(`  diff ${n}x${n} (steps ${a} -> ${b}), ${painted} coloured pixels, ${ranks} rank changes`);
    await page.waitForTimeout(200);
    await opened.locator('[data-testid="panel-diff"]').screenshot({ path: join(outdir, "10-diff-panel.png") });
    await page.screenshot({ path: join(outdir, "10-diff.png") });
  });

  const runB = wantRunB ? runs.find((r) => r.run === wantRunB) : runs.find((r) => r.run !== run.run);
  if (wantRunB && !runB) fail(`run ${wantRunB} not listed`);
  if (runB) {
    await step("several runs draw one line per run", async () => {
      await modeButton("Timeline").click();
      await tl.locator('[data-testid="timeline-grid"]').waitFor({ timeout: 60000 });
      await tl.locator(`[data-testid="timeline-runs"] input[data-run="${runB.run}"]`).check();
      const lines = tl.locator('[data-testid="timeline-lines"][data-runs="2"]');
      await lines.waitFor({ state: "visible", timeout: 60000 });
      const pts = await lines.locator('[data-testid="timeline-point"]').count();
      if (pts < run.steps.length + runB.steps.length) throw new Error(`${pts} points for 2 runs`);
      log(`  2 runs, ${pts} points of layer ${await lines.getAttribute("data-layer")}`);
      await page.screenshot({ path: join(outdir, "11-timeline-runs.png") });
    });
  }

  if (problems.length) fail(`browser reported problems:\n  ${problems.join("\n  ")}`);
  writeFileSync(join(outdir, "tab-ok.txt"), "ok\n");
  log("ALL OK");
} catch (err) {
  if (context) {
    try {
      await context.pages()[0]?.screenshot({ path: join(outdir, "failure.png") });
    } catch {}
  }
  console.error(`FAILED: ${err?.stack ?? err}`);
  if (problems.length) console.error(`browser problems:\n  ${problems.join("\n  ")}`);
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
