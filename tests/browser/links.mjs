// Deep links: the tab's view in TensorBoard's URL hash (p.channelexplorer.*).
//
// Usage: node tests/browser/links.mjs <tensorboard-url> <outdir> --run NAME
//
// Opens a hand-written link (run, first step, a layer with two panels, eta,
// projection, three selected inputs) and checks the tab shows exactly that;
// then changes the step and the mode, checks each lands in TensorBoard's URL,
// and walks back and forward through the three states without the tab
// reloading.
import { fail, log, step, tensorboardScript } from "./util.mjs";

await tensorboardScript("node links.mjs <url> <outdir> --run NAME", async ({ base, outdir, run: runName, context, join }) => {
  const run = (await (await fetch(`${base}/data/plugin/channelexplorer/runs`)).json()).runs.find((r) => r.run === runName);
  if (!run || run.steps.length < 2) fail(`run ${runName} with 2 steps not listed`);
  const layers = (await (await fetch(`${base}/data/plugin/channelexplorer/layers?run=${encodeURIComponent(runName)}`)).json()).layers;
  const layer = layers[layers.length - 1].name;
  const [s0, s1] = run.steps;
  const page = context.pages()[0] ?? (await context.newPage());
  const link =
    `${base}/#channelexplorer&p.channelexplorer.run=${encodeURIComponent(runName)}&p.channelexplorer.step=${s0}` +
    `&p.channelexplorer.open=${encodeURIComponent(`${layer}:scatter+jaccard`)}&p.channelexplorer.eta=0.3` +
    `&p.channelexplorer.projection=pca&p.channelexplorer.selection=1-3`;
  await page.goto(link, { waitUntil: "domcontentloaded" });
  const frame = page.frameLocator('iframe[src*="plugin_entry.html?name=channelexplorer"]');
  const node = frame.locator(`[data-testid="side-a"] [data-testid="layer-node"][data-layer="${layer}"]`);
  const hash = () => decodeURIComponent(new URL(page.url()).hash);

  await step("a link restores run, step, open panels, eta, projection and selection", async () => {
    await frame.locator(`[data-testid="side-a"][data-run="${runName}"][data-step="${s0}"]`).waitFor({ timeout: 60000 });
    await node.locator('[data-testid="panel-scatter"] [data-testid="scatter"]').waitFor({ state: "attached", timeout: 60000 });
    await node.locator('[data-testid="panel-jaccard"]').waitFor({ timeout: 60000 });
    const eta = await frame.locator('[data-testid="eta-select"]').inputValue();
    const method = await frame.locator('[data-testid="projection-select"]').inputValue();
    if (eta !== "0.3" || method !== "pca") fail(`eta ${eta}, projection ${method}`);
    await frame.locator('[data-testid="selection"][data-count="3"]').waitFor({ timeout: 10000 });
    await page.screenshot({ path: join(outdir, "13-link-restored.png") });
  });

  // A marker in the tab's window: it must survive back / forward (no reload).
  const tab = page.frames().find((f) => f.url().includes("plugin_entry"));
  await tab.evaluate(() => (window.__ceMarker = 42));

  await step("a step change and a mode change are written to TensorBoard's URL", async () => {
    const slider = frame.locator('[data-testid="step-select-a-slider"]');
    await slider.focus();
    await slider.press("ArrowRight");
    await page.waitForFunction((s) => location.hash.includes(`p.channelexplorer.step=${s}`), s1, { timeout: 10000 });
    await frame.locator('[data-testid="mode-switch"] button', { hasText: "Timeline" }).click();
    await page.waitForFunction(() => location.hash.includes("p.channelexplorer.mode=timeline"), null, { timeout: 10000 });
    const h = hash();
    for (const part of [`run=${runName}`, `step=${s1}`, `open=${layer}:scatter+jaccard`, "eta=0.3", "projection=pca", "selection=1-3"])
      if (!h.includes(`p.channelexplorer.${part}`)) fail(`hash ${h} lacks ${part}`);
  });

  await step("back and forward move through the states", async () => {
    // Changes reach the history after a pause (one entry per slider drag): let the last one land.
    await page.waitForTimeout(1000);
    await page.goBack();
    await frame.locator(`[data-testid="side-a"][data-step="${s1}"]`).waitFor({ timeout: 30000 });
    await node.locator('[data-testid="panel-scatter"]').waitFor({ timeout: 30000 });
    await page.goBack();
    await frame.locator(`[data-testid="side-a"][data-step="${s0}"]`).waitFor({ timeout: 30000 });
    await page.goForward();
    await frame.locator(`[data-testid="side-a"][data-step="${s1}"]`).waitFor({ timeout: 30000 });
    await page.goForward();
    await frame.locator('[data-testid="timeline"]').waitFor({ timeout: 30000 });
    if ((await tab.evaluate(() => window.__ceMarker)) !== 42) fail("the tab reloaded");
  });
  log(`  ${layer} at steps ${s0} -> ${s1} -> timeline, back twice, forward twice`);
});
