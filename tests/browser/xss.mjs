// Hostile labels in a real Chromium: run, layer and class names carrying HTML/JS payloads
// must be shown as literal text and never executed.
//
// Usage: node tests/browser/xss.mjs <tensorboard-url> <outdir>
//
// For every run listed by /runs: selects it, opens every panel of every layer
// node (scatter, Jaccard, heatmap, hierarchy), then checks that the payload
// strings appear literally in the iframe's text, that no <img src="x"> or
// injected <script> exists, that no dialog opened, and that window.__xss is
// undefined in the iframe and in the top frame. Exits non-zero on failure.
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
if (!url || !outdir) fail("usage: node xss.mjs <tensorboard-url> <outdir>");
mkdirSync(outdir, { recursive: true });
const base = url.replace(/\/+$/, "");
const api = `${base}/data/plugin/channelexplorer`;
const PAYLOADS = ['<img src=x onerror="window.__xss=1">', "<script>window.__xss=1</script>"];
const userDataDir = mkdtempSync(join(tmpdir(), "ce-chromium-xss-"));
const problems = [];
let context;

async function getJson(path) {
  const r = await fetch(`${api}/${path}`);
  if (!r.ok) fail(`GET ${path}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

try {
  const runs = (await getJson("runs")).runs;
  if (runs.length < 2) fail(`expected the hostile runs, got ${JSON.stringify(runs)}`);
  log(`runs: ${runs.map((r) => JSON.stringify(r.run)).join(", ")}`);
  const manifests = {};
  for (const r of runs) manifests[r.run] = await getJson(`layers?run=${encodeURIComponent(r.run)}`);

  context = await chromium.launchPersistentContext(userDataDir, chromiumOptions());
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("dialog", async (d) => {
    problems.push(`dialog opened: ${d.type()} ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("response", (r) => {
    const u = r.url();
    if (u.includes("/data/plugin/channelexplorer/") && r.status() >= 500) problems.push(`HTTP ${r.status()} ${u}`);
  });

  await page.goto(`${base}/#channelexplorer`, { waitUntil: "domcontentloaded" });
  const frame = page.frameLocator('iframe[src*="plugin_entry.html?name=channelexplorer"]');
  await step("tab opens with layer nodes", async () => {
    await frame.locator('[data-testid="ce-app"]').waitFor({ timeout: 30000 });
    await frame.locator('[data-testid="layer-node"]').first().waitFor({ state: "visible", timeout: 30000 });
  });
  const iframe = () => page.frames().find((f) => f.url().includes("plugin_entry.html?name=channelexplorer"));

  for (const [k, r] of runs.entries()) {
    await step(`run ${JSON.stringify(r.run)}: every panel of every layer opens`, async () => {
      const select = frame.locator('[data-testid="run-select-a"]');
      await select.selectOption({ value: r.run });
      await frame.locator(`[data-testid="side-a"][data-run="${r.run.replace(/["\\]/g, "\\$&")}"]`).waitFor({ timeout: 15000 });
      await frame.locator('[data-testid="layer-node"]').first().waitFor({ state: "visible", timeout: 30000 });
      const nodes = frame.locator('[data-testid="layer-node"]');
      const n = await nodes.count();
      for (let i = 0; i < n; i++) {
        const node = nodes.nth(i);
        const toggles = node.locator('[data-testid^="toggle-"]');
        const t = await toggles.count();
        for (let j = 0; j < t; j++) {
          // dispatchEvent: nodes may sit outside the viewport of the graph canvas.
          await toggles.nth(j).dispatchEvent("click").catch((e) => problems.push(`toggle click: ${e.message}`));
        }
      }
      await page.waitForTimeout(3000);
      await page.screenshot({ path: join(outdir, `xss-run-${k}.png`) });
    });

    await step(`run ${JSON.stringify(r.run)}: payloads shown literally, never executed`, async () => {
      const f = iframe();
      if (!f) throw new Error("plugin iframe not found");
      const text = await f.evaluate(() => {
        const parts = [document.body.textContent ?? ""];
        for (const el of document.querySelectorAll("select option")) parts.push(el.textContent ?? "");
        for (const el of document.querySelectorAll("[title]")) parts.push(el.getAttribute("title") ?? "");
        return parts.join("\n");
      });
      const man = manifests[r.run];
      const want = [r.run, ...man.layers.map((l) => l.name)].filter((s) => PAYLOADS.includes(s));
      for (const s of want) if (!text.includes(s)) throw new Error(`${JSON.stringify(s)} is not shown literally`);
      const classShown = man.class_names.filter((c) => PAYLOADS.includes(c) && text.includes(c));
      log(`  literal: run+layers ${want.length}/${want.length}; hostile class names in DOM text: ${classShown.length}`);
      const injected = await f.evaluate(() => ({
        img: document.querySelectorAll('img[src="x"]').length,
        script: [...document.querySelectorAll("script")].filter((s) => (s.textContent ?? "").includes("__xss")).length,
        handlers: [...document.querySelectorAll("*")].filter((el) => el.hasAttribute("onerror") || el.hasAttribute("onload")).length,
        xss: typeof window.__xss,
      }));
      if (injected.img || injected.script || injected.handlers) throw new Error(`injected elements: ${JSON.stringify(injected)}`);
      if (injected.xss !== "undefined") throw new Error(`window.__xss is ${injected.xss} in the iframe`);
      const top = await page.evaluate(() => typeof window.__xss);
      if (top !== "undefined") throw new Error(`window.__xss is ${top} in the top frame`);
    });
  }

  await step("class names in the dataset sidebar and hierarchy are literal", async () => {
    const f = iframe();
    const text = await f.evaluate(() => document.body.textContent ?? "");
    const all = Object.values(manifests).flatMap((m) => m.class_names).filter((c) => PAYLOADS.includes(c));
    const shown = all.filter((c) => text.includes(c));
    log(`  hostile class names shown literally: ${shown.length}/${all.length}`);
    if (!shown.length) throw new Error("no hostile class name is shown as text (expected in the sidebar or hierarchy)");
    if ((await f.evaluate(() => typeof window.__xss)) !== "undefined") throw new Error("window.__xss set in the iframe");
  });

  if (problems.length) fail(`browser reported problems:\n  ${problems.join("\n  ")}`);
  writeFileSync(join(outdir, "xss-ok.txt"), "ok\n");
  log("ALL OK");
} catch (err) {
  if (context) {
    try {
      await context.pages()[0]?.screenshot({ path: join(outdir, "xss-failure.png") });
    } catch {}
  }
  console.error(`FAILED: ${err?.stack ?? err}`);
  if (problems.length) console.error(`browser problems:\n  ${problems.join("\n  ")}`);
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
