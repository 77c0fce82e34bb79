// Dark mode: the tab follows TensorBoard's theme.
//
// Usage: node tests/browser/theme.mjs <tensorboard-url> <outdir> --run NAME
//
// Opens TensorBoard with its stored theme set to dark, opens a layer's
// scatterplot, Jaccard and heatmap and the timeline, and checks that the tab
// is dark and that text stays legible: the WCAG contrast ratio of every
// visible text element against the background it sits on is at least 4.5
// (3 for small SVG labels). Then TensorBoard leaving dark mode (its body class) turns it light
// without reloading the tab. Screenshots of both.
import { fail, log, step, tensorboardScript } from "./util.mjs";


/** Worst text contrast in the tab's document (WCAG 2 relative luminance), with the offending element. */
function worstContrast() {
  const rgb = (s) => {
    const m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const bgOf = (el) => {
    // Composite translucent backgrounds from the page up to the element.
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.push(getComputedStyle(e).backgroundColor);
    let c = { r: 255, g: 255, b: 255 };
    const root = rgb(getComputedStyle(document.documentElement).backgroundColor);
    if (root && root.a > 0) c = root;
    for (const s of chain.reverse()) {
      const x = rgb(s);
      if (!x || x.a === 0) continue;
      c = { r: x.r * x.a + c.r * (1 - x.a), g: x.g * x.a + c.g * (1 - x.a), b: x.b * x.a + c.b * (1 - x.a) };
    }
    return c;
  };
  let worst = { ratio: Infinity, what: "" };
  const seen = new Set();
  for (const el of document.querySelectorAll("#channelexplorer-root *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest("svg, canvas, [aria-hidden=true]")) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === "hidden" || Number(cs.opacity) < 0.5) continue;
    const fg = rgb(cs.color);
    const bg = bgOf(el);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const key = `${cs.color}|${JSON.stringify(bg)}`;
    if (ratio < worst.ratio) worst = { ratio, what: `${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${cs.color} on rgb(${Math.round(bg.r)},${Math.round(bg.g)},${Math.round(bg.b)})` };
    seen.add(key);
  }
  return worst;
}

await tensorboardScript("node theme.mjs <url> <outdir> --run NAME", async ({ base, outdir, run: runName, context, join }) => {
  const layers = (await (await fetch(`${base}/data/plugin/channelexplorer/layers?run=${encodeURIComponent(runName)}`)).json()).layers;
  const layer = layers[layers.length - 1].name;
  await context.addInitScript(() => {
    if (!localStorage.getItem("ce-test-theme-set")) {
      localStorage.setItem("_tb_global_settings", JSON.stringify({ theme: "dark" }));
      localStorage.setItem("ce-test-theme-set", "1");
    }
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const link = `${base}/#channelexplorer&p.channelexplorer.run=${encodeURIComponent(runName)}&p.channelexplorer.open=${encodeURIComponent(`${layer}:scatter+jaccard+heatmap`)}`;
  await page.goto(link, { waitUntil: "domcontentloaded" });
  const frame = page.frameLocator('iframe[src*="plugin_entry.html?name=channelexplorer"]');
  const node = frame.locator(`[data-testid="layer-node"][data-layer="${layer}"]`);
  const tab = async () => page.frames().find((f) => f.url().includes("plugin_entry"));
  const bgLum = async () =>
    (await tab()).evaluate(() => {
      const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    });

  await step("TensorBoard's dark theme makes the tab dark, text legible", async () => {
    await node.locator('[data-testid="panel-heatmap"] canvas[data-testid="heatmap"]').waitFor({ timeout: 60000 });
    await node.locator('canvas[data-testid="jaccard"]').waitFor({ timeout: 60000 });
    await node.locator('[data-testid="scatter"]').waitFor({ state: "attached", timeout: 60000 });
    const theme = await (await tab()).evaluate(() => document.documentElement.dataset.theme);
    if (theme !== "dark") fail(`data-theme ${theme}`);
    const l = await bgLum();
    if (l > 0.25) fail(`background luminance ${l.toFixed(2)} is not dark`);
    await page.waitForTimeout(500);
    const w = await (await tab()).evaluate(worstContrast);
    if (w.ratio < 4.5) fail(`contrast ${w.ratio.toFixed(2)} < 4.5: ${w.what}`);
    log(`  background luminance ${l.toFixed(2)}; worst text contrast ${w.ratio.toFixed(2)} (${w.what})`);
    await page.screenshot({ path: join(outdir, "14-dark-graph.png") });
    await frame.locator('[data-testid="mode-switch"] button', { hasText: "Timeline" }).click();
    await frame.locator('[data-testid="timeline-grid"]').waitFor({ timeout: 60000 });
    await frame.locator('[data-testid="timeline-details"] [data-testid="diff"]').waitFor({ timeout: 60000 });
    const w2 = await (await tab()).evaluate(worstContrast);
    if (w2.ratio < 4.5) fail(`timeline contrast ${w2.ratio.toFixed(2)} < 4.5: ${w2.what}`);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(outdir, "15-dark-timeline.png") });
  });

  await step("TensorBoard leaving dark mode turns the tab light without a reload", async () => {
    await (await tab()).evaluate(() => (window.__ceMarker = 7));
    await page.evaluate(() => document.body.classList.remove("dark-mode"));
    await page.waitForFunction(
      () => document.querySelector("iframe").contentDocument.documentElement.dataset.theme === "light",
      null,
      { timeout: 10000 },
    );
    const l = await bgLum();
    if (l < 0.75) fail(`background luminance ${l.toFixed(2)} is not light`);
    if ((await (await tab()).evaluate(() => window.__ceMarker)) !== 7) fail("the tab reloaded");
    const w = await (await tab()).evaluate(worstContrast);
    if (w.ratio < 3) fail(`light contrast ${w.ratio.toFixed(2)} < 3: ${w.what}`);
    log(`  light: background luminance ${l.toFixed(2)}, worst text contrast ${w.ratio.toFixed(2)}`);
    await page.screenshot({ path: join(outdir, "16-light-timeline.png") });
  });
});
