// Browser check of the channel-centric views and the suspect list in a real TensorBoard and Chromium.
//
// Usage: node tests/browser/channels.mjs <tensorboard-url> <outdir> --run NAME --layer NAME
//
// Each check compares what the tab shows with the route's own answer, fetched
// here apart from the tab: the layer node's channel clusters (one tile per
// cluster of /channel_clusters), a click on a representative channel opens
// its card, the card lists the /channel_card top inputs in order, each with a
// loaded thumbnail and a loaded overlay of that channel; under the heatmap's
// cluster order, row 0 is the seriation's first channel and a click on it
// opens its card; the channel embedding has one point per channel, a click on
// a point opens that channel's card, and brushing all of it marks every
// channel in the cluster tiles and every row of the heatmap; a channel a
// Jaccard pair shares and a channel of the diff's rank list open their cards; the edges panel shows bundles or the
// route's reason; the Dataset side bar lists the /suspects ranking; in dark
// mode the card's text keeps a 4.5:1 contrast. Screenshots go to <outdir>.
import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromiumOptions, fail, log, routeGetter, step } from "./util.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const require = createRequire(join(repo, "frontend", "package.json"));
const { chromium } = require("playwright-core");

const [url, outdir] = process.argv.slice(2);
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : null;
};
const runName = arg("--run");
const layerName = arg("--layer");
if (!url || !outdir || !runName || !layerName) fail("usage: node channels.mjs <url> <outdir> --run NAME --layer NAME");
mkdirSync(outdir, { recursive: true });

const base = url.replace(/\/+$/, "");
const getJson = routeGetter(base);
const userDataDir = mkdtempSync(join(tmpdir(), "ce-chromium-"));
const problems = [];
let context;

const q = (params) => new URLSearchParams(params).toString();

/** Attribute values of every match, in document order. */
async function attrs(locator, name) {
  return locator.evaluateAll((els, n) => els.map((e) => e.getAttribute(n)), name);
}

/** Waits until every <img> of the locator has finished loading; returns how many decoded. */
async function loadedImages(locator) {
  await locator.first().waitFor({ state: "attached", timeout: 15000 });
  const deadline = Date.now() + 20000;
  for (;;) {
    const states = await locator.evaluateAll((els) => els.map((e) => (e.complete ? e.naturalWidth > 0 : null)));
    if (states.every((s) => s !== null) || Date.now() > deadline) return states.filter(Boolean).length;
    await new Promise((r) => setTimeout(r, 200));
  }
}

try {
  const layers = await getJson(`layers?${q({ run: runName })}`);
  const step0 = layers.step;
  const info = layers.layers.find((l) => l.name === layerName);
  if (!info) fail(`layer ${layerName} not in /layers`);
  const N = layers.n_inputs;
  const lq = { run: runName, step: String(step0), layer: layerName, fn: "otsu", stage: "pre" };

  context = await chromium.launchPersistentContext(userDataDir, chromiumOptions());
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => {
    const t = m.text();
    if (m.type() === "error" && !/favicon|ERR_ABORTED|Failed to load resource/.test(t)) problems.push(`console error: ${t}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("response", (r) => {
    const u = r.url();
    if (!u.includes("/data/plugin/channelexplorer/")) return;
    if (r.status() >= 500 || (r.status() >= 400 && !/\/(overlay|graph)\?/.test(u))) problems.push(`HTTP ${r.status()} ${u}`);
  });
  await page.goto(`${base}/#channelexplorer`, { waitUntil: "domcontentloaded" });
  const frame = page.frameLocator('iframe[src*="plugin_entry.html?name=channelexplorer"]');
  await frame.locator('[data-testid="layer-node"], [data-testid="group-node"]').first().waitFor({ timeout: 60000 });
  // The tab opens on the first run; a logdir with several runs needs --run picked.
  const runSelect = frame.locator('select[data-testid="run-select-a"], [data-testid="run-select-a"] select').first();
  if ((await runSelect.count()) && (await runSelect.inputValue()) !== runName) {
    await runSelect.selectOption(runName);
    await frame.locator(`[data-testid="side-a"][data-run="${runName}"]`).waitFor({ timeout: 60000 });
    await page.waitForTimeout(1000);
  }

  const node = await step(`layer node ${layerName} is found`, async () => {
    // The layer may sit inside collapsed module groups: expand the groups on its path.
    for (let i = 0; i < 6; i++) {
      const n = frame.locator(`[data-testid="layer-node"][data-layer="${layerName}"]`);
      if (await n.count()) return n;
      const groups = frame.locator('[data-testid="group-node"]');
      const paths = await attrs(groups, "data-group");
      const g = paths.findIndex((p) => p && (layerName === p || layerName.startsWith(p + ".")));
      if (g < 0) break;
      await groups.nth(g).locator("button").first().click();
      await page.waitForTimeout(300);
    }
    throw new Error("not in the graph");
  });

  const clusters = await getJson(`channel_clusters?${q(lq)}`);
  await step("the channel clusters show one tile per cluster of /channel_clusters", async () => {
    await node.scrollIntoViewIfNeeded();
    await node.locator('[data-testid="toggle-clusters"]').click();
    const panel = node.locator('[data-testid="channel-clusters"]');
    await panel.waitFor({ state: "visible", timeout: 60000 });
    const ids = await attrs(panel.locator("[data-cluster]"), "data-cluster");
    const want = clusters.clusters.map((c) => String(c.id));
    if (ids.slice().sort().join() !== want.slice().sort().join()) throw new Error(`tiles ${ids}, route clusters ${want}`);
    const sizes = await attrs(panel.locator("[data-cluster]"), "data-size");
    const total = sizes.reduce((s, v) => s + Number(v), 0);
    if (total !== info.channels) throw new Error(`tile sizes sum to ${total}, the layer has ${info.channels} channels`);
    log(`  ${ids.length} clusters (k auto: ${clusters.k_auto}) of ${info.channels} channels`);
    await page.screenshot({ path: join(outdir, "c1-channel-clusters.png") });
  });

  const biggest = clusters.clusters.reduce((a, b) => (b.size > a.size ? b : a));
  const channel = biggest.representatives[0];
  const card = await getJson(`channel_card?${q({ ...lq, channel: String(channel) })}`);
  await step(`clicking channel ${channel} opens its card with the route's top inputs`, async () => {
    const chip = node.locator(`[data-cluster="${biggest.id}"] button[data-channel="${channel}"]`);
    await chip.click();
    const el = frame.locator(`[data-testid="channel-card"][data-channel="${channel}"]`);
    await el.waitFor({ state: "visible", timeout: 30000 });
    const key = await el.getAttribute("data-channel-key");
    const want = `run=${encodeURIComponent(runName)}&layer=${encodeURIComponent(layerName)}&channel=${channel}`;
    if (key !== want) throw new Error(`card key ${key}, expected ${want}`);
    const shown = await attrs(el.locator('[data-testid="card-top-inputs"] > li'), "data-index");
    const route = card.top_inputs.map(String);
    if (shown.join() !== route.join()) throw new Error(`card lists inputs ${shown}, the route ${route}`);
    if (route.length !== Math.min(9, N)) throw new Error(`route gave ${route.length} top inputs for N=${N}`);
  });

  await step("every top input shows a loaded thumbnail and this channel's overlay", async () => {
    const el = frame.locator('[data-testid="channel-card"]');
    const thumbs = el.locator('img[data-testid="card-thumbnail"]');
    const overlays = el.locator('img[data-testid="card-overlay"]');
    const nThumbs = await loadedImages(thumbs);
    const nOverlays = await loadedImages(overlays);
    const n = card.top_inputs.length;
    if (nThumbs !== n) throw new Error(`${nThumbs} of ${n} thumbnails loaded`);
    if (nOverlays !== n) throw new Error(`${nOverlays} of ${n} overlays loaded (maps are logged for every input here)`);
    const srcs = await attrs(overlays, "src");
    srcs.forEach((s, r) => {
      const p = new URLSearchParams(s.split("?")[1]);
      if (p.get("channel") !== String(channel) || p.get("index") !== String(card.top_inputs[r])) {
        throw new Error(`overlay ${r} is ${s}`);
      }
    });
    // The overlay is this channel's map over the input, not the bare thumbnail.
    const differ = await el.evaluate((root) => {
      const a = root.querySelector('img[data-testid="card-thumbnail"]');
      const b = root.querySelector('img[data-testid="card-overlay"]');
      const px = (img) => {
        const c = document.createElement("canvas");
        c.width = c.height = 16;
        const g = c.getContext("2d");
        g.drawImage(img, 0, 0, 16, 16);
        return Array.from(g.getImageData(0, 0, 16, 16).data);
      };
      const pa = px(a);
      const pb = px(b);
      return pa.reduce((s, v, i) => s + Math.abs(v - pb[i]), 0) / pa.length;
    });
    if (!(differ > 1)) throw new Error(`overlay equals the thumbnail (mean |diff| ${differ})`);
    const ranks = await attrs(el.locator('[data-testid="card-ranks"] tr'), "data-order");
    if (!ranks.includes("pairwise") || !ranks.includes("cluster")) throw new Error(`rank rows ${ranks}`);
    log(`  ${n} top inputs with thumbnails and overlays; mean |overlay - thumbnail| ${differ.toFixed(1)}`);
    await page.screenshot({ path: join(outdir, "c2-channel-card.png") });
  });

  await step("Escape closes the card", async () => {
    await page.keyboard.press("Escape");
    await frame.locator('[data-testid="channel-card"]').waitFor({ state: "detached", timeout: 10000 });
  });

  await step("the heatmap's cluster order starts with the clusters' seriation; a row click opens that channel", async () => {
    await node.locator('[data-testid="toggle-heatmap"]').click();
    const hm = node.locator('[data-testid="heatmap"]');
    await hm.waitFor({ state: "visible", timeout: 30000 });
    await node.locator('select[aria-label="Order channels by"]').selectOption("cluster");
    await node.locator('[data-testid="heatmap"][aria-label*="channel cluster"]').waitFor({ timeout: 30000 });
    const box = await hm.boundingBox(); // the heatmap canvas itself
    const rows = Number(await hm.getAttribute("data-rows"));
    // Row 0, first column: the first channel of the seriation. Rows under 2 px
    // (hundreds of channels) cannot be hit reliably by a whole-pixel click, so
    // there the keyboard picks the cell: Enter on a fresh cursor opens row 0.
    if (box.height / rows >= 2) {
      await page.mouse.click(box.x + 1, box.y + (0.5 * box.height) / rows);
    } else {
      await hm.focus();
      await page.keyboard.press("Enter");
    }
    const first = String(clusters.order[0]);
    await frame.locator(`[data-testid="channel-card"][data-channel="${first}"]`).waitFor({ timeout: 30000 });
    log(`  heatmap row 0 under the cluster order is channel ${first}, as /channel_clusters orders it`);
    await page.keyboard.press("Escape");
    await node.locator('[data-testid="toggle-heatmap"]').click();
  });

  await step("the channel embedding has one point per channel and a point opens its card", async () => {
    await node.locator('[data-testid="toggle-channels"]').click();
    const emb = node.locator('[data-testid="channel-embedding"]');
    await emb.waitFor({ state: "visible", timeout: 90000 });
    const pts = Number(await emb.getAttribute("data-points"));
    if (pts !== info.channels) throw new Error(`data-points=${pts}, the layer has ${info.channels} channels`);
    const pick = emb.locator("circle[data-channel]").nth(Math.floor(pts / 2));
    const ch = await pick.getAttribute("data-channel");
    await pick.dispatchEvent("click");
    await frame.locator(`[data-testid="channel-card"][data-channel="${ch}"]`).waitFor({ timeout: 30000 });
    await page.screenshot({ path: join(outdir, "c3-channel-embedding.png") });
    await page.keyboard.press("Escape");
  });

  await step("brushing the whole embedding marks every channel in the cluster tiles", async () => {
    const svg = node.locator('[data-testid="channel-embedding"] svg').first();
    await svg.scrollIntoViewIfNeeded();
    const b = await svg.boundingBox();
    await page.mouse.move(b.x + 2, b.y + 2);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 4 });
    await page.mouse.move(b.x + b.width - 2, b.y + b.height - 2, { steps: 4 });
    await page.mouse.up();
    const tiles = node.locator('[data-testid="channel-clusters"] [data-cluster]');
    let marked = 0;
    for (let k = 0; k < 50 && marked !== info.channels; k++) {
      marked = (await attrs(tiles, "data-marked")).reduce((acc, v) => acc + Number(v), 0);
      if (marked !== info.channels) await page.waitForTimeout(100);
    }
    if (marked !== info.channels) throw new Error(`${marked} of ${info.channels} channels marked after the brush`);
    const selected = await node.locator('[data-testid="channel-embedding"] circle.is-selected').count();
    if (selected !== info.channels) throw new Error(`${selected} points drawn selected`);
    await node.locator('[data-testid="toggle-heatmap"]').click();
    const marks = node.locator('[data-testid="row-marks"]');
    await marks.waitFor({ state: "attached", timeout: 30000 });
    const rows = Number(await node.locator('canvas[data-testid="heatmap"]').getAttribute("data-rows"));
    const nMarks = Number(await marks.getAttribute("data-marked"));
    if (nMarks !== rows) throw new Error(`${nMarks} of the heatmap's ${rows} rows marked`);
    await node.locator('[data-testid="toggle-heatmap"]').click();
    // A click on empty space clears the selection everywhere (the heatmap moved the layout: measure again).
    await svg.scrollIntoViewIfNeeded();
    const b2 = await svg.boundingBox();
    await page.mouse.click(b2.x + 1, b2.y + 1);
    await node.locator('[data-testid="channel-clusters"] .cep-chcluster.is-marked').first().waitFor({ state: "detached", timeout: 10000 });
  });

  await step("the edges panel shows the route's bundles or its reason", async () => {
    const below = layers.layers.map((l) => l.name);
    const source = below[below.indexOf(layerName) - 1];
    const route = await getJson(`channel_edges?${q({ run: runName, step: String(step0), source, target: layerName, fn: "otsu", stage: "pre", threshold: "0.5" })}`);
    await node.locator('[data-testid="toggle-edges"]').click();
    const panel = node.locator('[data-testid="layer-edges"]');
    await panel.waitFor({ state: "visible", timeout: 60000 });
    if (route.available) {
      const counts = (await attrs(panel.locator("[data-sign]"), "data-edges")).map(Number);
      const want = route.bundles.filter((b) => (b.positive ?? b.abs) > 0).length;
      if (counts[0] !== want) throw new Error(`first pane draws ${counts[0]} bundles, the route has ${want}`);
      log(`  ${source} -> ${layerName}: panes ${counts}`);
    } else {
      const text = await panel.locator('[data-testid="edges-reason"]').innerText();
      if (text.trim() !== route.reason) throw new Error(`reason "${text}", the route says "${route.reason}"`);
      log(`  ${source} -> ${layerName}: ${text}`);
    }
    await page.screenshot({ path: join(outdir, "c4-layer-edges.png") });
  });

  await step("a channel a Jaccard pair shares opens its card", async () => {
    await node.locator('[data-testid="toggle-jaccard"]').click();
    const canvas = node.locator('canvas[data-testid="jaccard"]');
    await canvas.waitFor({ state: "visible", timeout: 30000 });
    await canvas.scrollIntoViewIfNeeded();
    const n = Number(await canvas.getAttribute("data-n"));
    const box = await canvas.boundingBox();
    // A diagonal cell: an input shares its whole top set with itself.
    const k = Math.floor(n / 2);
    await page.mouse.click(box.x + ((k + 0.5) * box.width) / n, box.y + ((k + 0.5) * box.height) / n);
    const link = node.locator('[data-testid="channel-links"] button[data-channel]').first();
    await link.waitFor({ state: "visible", timeout: 30000 });
    const ch = await link.getAttribute("data-channel");
    await link.click();
    await frame.locator(`[data-testid="channel-card"][data-channel="${ch}"]`).waitFor({ timeout: 30000 });
    await page.keyboard.press("Escape");
    await node.locator('[data-testid="toggle-jaccard"]').click();
  });

  await step("a channel of the diff's rank list opens its card", async () => {
    await node.locator('[data-testid="toggle-diff"]').click();
    const row = node.locator('[data-testid="rank-changes"] tr[data-channel] button').first();
    await row.waitFor({ state: "visible", timeout: 60000 });
    const ch = await row.evaluate((el) => el.closest("tr").getAttribute("data-channel"));
    await row.click();
    await frame.locator(`[data-testid="channel-card"][data-channel="${ch}"]`).waitFor({ timeout: 30000 });
    await page.keyboard.press("Escape");
    await node.locator('[data-testid="toggle-diff"]').click();
  });

  await step("the Dataset view lists the /suspects ranking with thumbnails", async () => {
    const list = frame.locator('[data-testid="suspects"] [data-testid="suspect-list"]');
    await list.waitFor({ state: "visible", timeout: 60000 });
    const shownLayer = await frame.locator('[data-testid="suspects"] select').inputValue();
    const route = await getJson(`suspects?${q({ run: runName, step: String(step0), layer: shownLayer, fn: "l2", stage: "pre", limit: "20" })}`);
    const shown = await attrs(list.locator("li[data-index]"), "data-index");
    const ranked = route.layers[0].suspects;
    const want = ranked.map((s) => String(s.index));
    if (shown.join() !== want.join()) throw new Error(`list ${shown}, route ${want}`);
    const n = await loadedImages(list.locator("img"));
    if (n !== shown.length) throw new Error(`${n} of ${shown.length} thumbnails loaded`);
    log(`  ${shown.length} suspects at ${shownLayer}, first #${shown[0]} (score ${ranked[0].score})`);
    await list.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(outdir, "c5-suspects.png") });
  });

  await step("the hierarchy lists per class the suspects its route flags", async () => {
    const tree = (await getJson(`hierarchy?${q(lq)}`)).tree;
    const want = {};
    const visit = (n) => {
      if (typeof n.class === "number" && n.suspects?.length) want[n.class] = n.suspects.length;
      (n.children ?? []).forEach(visit);
    };
    visit(tree);
    if (!Object.keys(want).length) throw new Error("the route flags no suspect here: nothing to compare");
    await node.locator('[data-testid="toggle-hierarchy"]').click();
    const list = node.locator('[data-testid="suspects-by-class"]');
    await list.waitFor({ state: "attached", timeout: 60000 });
    const deadline = Date.now() + 30000;
    let got = {};
    do {
      const items = list.locator("li[data-class]");
      const cls = await attrs(items, "data-class");
      const cnt = await attrs(items, "data-count");
      got = Object.fromEntries(cls.map((c, k) => [c, Number(cnt[k])]));
      if (JSON.stringify(got) === JSON.stringify(want)) break;
      await page.waitForTimeout(200);
    } while (Date.now() < deadline);
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`lists ${JSON.stringify(got)}, route ${JSON.stringify(want)}`);
    log(`  suspects per class: ${JSON.stringify(got)}`);
    await node.locator('[data-testid="toggle-hierarchy"]').click();
  });

  await step("in dark mode the channel views follow the theme", async () => {
    // TensorBoard's dark mode is a class on its body; the tab follows it.
    await page.evaluate(() => document.body.classList.add("dark-mode"));
    await page.waitForFunction(
      () => document.querySelector("iframe").contentDocument.documentElement.dataset.theme === "dark",
      null,
      { timeout: 10000 },
    );
    await node.locator(`[data-cluster="${biggest.id}"] button[data-channel="${channel}"]`).click();
    const el = frame.locator(`[data-testid="channel-card"][data-channel="${channel}"]`);
    await el.waitFor({ state: "visible", timeout: 30000 });
    // The card's text must stay readable on its background (WCAG contrast >= 4.5).
    const ratio = await el.evaluate((root) => {
      const rgb = (c) => (c.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
      const lum = ([r, g, b]) => {
        const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const st = getComputedStyle(root);
      const [a, b] = [lum(rgb(st.color)), lum(rgb(st.backgroundColor))];
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    });
    if (!(ratio >= 4.5)) throw new Error(`card text contrast ${ratio.toFixed(2)} in dark mode`);
    log(`  dark card contrast ${ratio.toFixed(1)}:1`);
    await page.screenshot({ path: join(outdir, "c6-dark.png") });
    await page.keyboard.press("Escape");
  });

  if (problems.length) fail(`problems seen in the page:\n${problems.join("\n")}`);
  log("ALL OK");
} finally {
  await context?.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
