// Live refresh: the tab follows TensorBoard's reloads while a writer adds steps.
//
// Usage: node tests/browser/live.mjs <tensorboard-url> <outdir> --run NAME
//
// Turns on TensorBoard's auto-reload (its stored setting, 30 s, the shortest it
// allows), opens the tab, opens a scatterplot, then prints `READY <last step>`
// and waits: the caller writes a new step. Without any click, the step picker
// must move to the new step after TensorBoard's reload (the tab counts the
// `experimental.DataReloaded` messages it gets in data-reloads), and the open
// panel must still be open.
import { fail, log, step, tensorboardScript } from "./util.mjs";

await tensorboardScript("node live.mjs <url> <outdir> --run NAME", async ({ base, outdir, run, context, join }) => {
  const before = (await (await fetch(`${base}/data/plugin/channelexplorer/runs`)).json()).runs.find((r) => r.run === run);
  if (!before) fail(`run ${run} not listed`);
  const last = before.steps[before.steps.length - 1];
  // TensorBoard's persisted settings: auto-reload on, at its minimum period.
  await context.addInitScript(() =>
    localStorage.setItem("_tb_global_settings", JSON.stringify({ autoReload: true, autoReloadPeriodInMs: 30001 })),
  );
  const page = context.pages()[0] ?? (await context.newPage());
  let clicks = 0;
  await page.exposeFunction("__ceClick", () => clicks++);
  await page.goto(`${base}/#channelexplorer`, { waitUntil: "domcontentloaded" });
  const frame = page.frameLocator('iframe[src*="plugin_entry.html?name=channelexplorer"]');
  const layer = await step("the tab shows the newest step with a panel open", async () => {
    await frame.locator(`[data-testid="side-a"][data-step="${last}"]`).waitFor({ timeout: 60000 });
    const node = frame.locator('[data-testid="layer-node"]').first();
    await node.locator('[data-testid="toggle-scatter"]').click();
    await node.locator('[data-testid="panel-scatter"] [data-testid="scatter"]').waitFor({ state: "attached", timeout: 60000 });
    return node.getAttribute("data-layer");
  });
  // From here on every click inside the tab is counted (there must be none).
  await page.frames().find((f) => f.url().includes("plugin_entry"))
    .evaluate(() => document.addEventListener("click", () => window.parent.__ceClick(), true));
  const reloads0 = Number(await frame.locator('[data-testid="ce-app"]').getAttribute("data-reloads"));
  log(`READY ${last}`);
  await step("a step written while the tab is open appears after TensorBoard's reload", async () => {
    await frame.locator(`[data-testid="side-a"]:not([data-step="${last}"])`).waitFor({ timeout: 120000 });
  });
  const shown = Number(await frame.locator('[data-testid="side-a"]').getAttribute("data-step"));
  const after = (await (await fetch(`${base}/data/plugin/channelexplorer/runs`)).json()).runs.find((r) => r.run === run);
  const newest = after.steps[after.steps.length - 1];
  if (shown !== newest) fail(`the tab shows step ${shown}, the newest is ${newest}`);
  if ((await frame.locator('[data-testid="step-select-a"]').inputValue()) !== String(newest)) fail("step picker lags");
  const reloads = Number(await frame.locator('[data-testid="ce-app"]').getAttribute("data-reloads"));
  if (reloads <= reloads0) fail(`no experimental.DataReloaded reached the tab (data-reloads ${reloads0} -> ${reloads})`);
  if (clicks) fail(`${clicks} clicks in the tab`);
  await step("the open panel stayed open", async () => {
    const node = frame.locator(`[data-testid="layer-node"][data-layer="${layer}"]`);
    await node.locator('[data-testid="panel-scatter"] [data-testid="scatter"]').waitFor({ state: "attached", timeout: 60000 });
  });
  log(`  step ${last} -> ${shown} after ${reloads - reloads0} reload(s), no click; ${layer} scatterplot still open`);
  await page.screenshot({ path: join(outdir, "12-live.png") });
});
