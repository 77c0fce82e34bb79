// A run written with full_every: the tab says which steps are kept in full, and a compact step opens the nearest one.
//
// Usage: node tests/browser/steps.mjs <tensorboard-url> <outdir> --run NAME
//
// Checks, in the real tab against the server's /runs: the step picker offers
// exactly the steps kept in full; the timeline has a column for every logged
// step, marks the full ones under their numbers and names them in a note;
// clicking a compact step's cell opens the graph at the nearest full step
// (the earlier one on a tie), with that layer's scatterplot; the timeline's
// diff offers only full steps.
import { fail, log, routeGetter, step, tensorboardScript } from "./util.mjs";

/** The nearest of `steps` to `s`, the earlier on a tie (an oracle independent of the tab's code). */
function nearest(steps, s) {
  return [...steps].sort((a, b) => Math.abs(a - s) - Math.abs(b - s) || a - b)[0];
}

await tensorboardScript("node steps.mjs <url> <outdir> --run NAME", async ({ base, outdir, run: runName, context, join }) => {
  const get = routeGetter(base);
  const run = (await get("runs")).runs.find((r) => r.run === runName);
  if (!run) fail(`no run ${runName}`);
  const full = run.full_steps;
  const compact = run.compact_steps;
  if (!full?.length || !compact?.length) fail(`run ${runName} has no compact steps: ${JSON.stringify(run)}`);
  const layer = (await get(`layers?run=${encodeURIComponent(runName)}`)).layers.at(-1).name;

  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${base}/#channelexplorer&p.channelexplorer.run=${encodeURIComponent(runName)}`, {
    waitUntil: "domcontentloaded",
  });
  const frame = page.frameLocator('iframe[src*="plugin_entry.html?name=channelexplorer"]');

  await step("the step picker offers exactly the steps kept in full", async () => {
    const select = frame.locator('[data-testid="step-select-a"]');
    await select.waitFor({ timeout: 60000 });
    const offered = await select.locator("option").evaluateAll((os) => os.map((o) => Number(o.value)));
    if (offered.join(",") !== full.join(",")) fail(`picker offers ${offered}, kept in full ${full}`);
    const title = await frame.locator('.ce-sidepicker[data-side="a"] .ce-step').getAttribute("title");
    if (!title?.includes(`${full.length} steps kept in full of ${run.steps.length} logged`)) fail(`picker title ${title}`);
  });

  const tl = frame.locator('[data-testid="timeline"]');
  await step("the timeline covers every step, marks the full ones and names them", async () => {
    await frame.locator('[data-testid="mode-switch"] button', { hasText: "Timeline" }).click();
    const grid = tl.locator('[data-testid="timeline-grid"]');
    await grid.waitFor({ state: "visible", timeout: 60000 });
    const cols = Number(await grid.getAttribute("data-cols"));
    if (cols !== run.steps.length) fail(`${cols} columns for ${run.steps.length} steps`);
    const marked = await grid
      .locator('[data-testid="timeline-full-step"]')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-step"))));
    if (marked.join(",") !== full.join(",")) fail(`marked ${marked}, kept in full ${full}`);
    const note = tl.locator(`[data-testid="full-steps-note"][data-run="${runName}"]`);
    const text = (await note.innerText()).trim();
    const expected = `${runName}: ${full.length} of ${run.steps.length} steps kept in full (`;
    if (!text.startsWith(expected)) fail(`note ${JSON.stringify(text)}, expected it to start ${JSON.stringify(expected)}`);
    log(`  ${cols} steps, kept in full: ${marked.join(", ")}`);
    await page.screenshot({ path: join(outdir, "17-full-steps-timeline.png") });
  });

  await step("the timeline's diff offers the steps kept in full and draws", async () => {
    const details = tl.locator('[data-testid="timeline-details"]');
    const pick = details.locator('[data-testid="diff-b-step"]');
    await pick.waitFor({ timeout: 60000 });
    const offered = await pick.locator("option").evaluateAll((os) => os.map((o) => Number(o.value.replace(/^step /, ""))));
    if (offered.join(",") !== full.join(",")) fail(`diff offers ${offered}, kept in full ${full}`);
    await details.locator('[data-testid="diff"]').waitFor({ timeout: 60000 });
  });

  const target = compact.find((s) => nearest(full, s) !== full.at(-1)) ?? compact[0];
  const opens = nearest(full, target);
  await step(`clicking compact step ${target} opens the nearest full step ${opens}`, async () => {
    const cell = tl.locator(`[data-testid="timeline-cell"][data-layer="${layer}"][data-step="${target}"]`);
    const tip = await cell.locator("title").textContent();
    if (!tip.includes(`click opens step ${opens}, the nearest kept in full`)) fail(`tooltip ${JSON.stringify(tip)}`);
    await cell.click();
    await frame.locator(`[data-testid="side-a"][data-step="${opens}"]`).waitFor({ timeout: 30000 });
    const shown = await frame.locator('[data-testid="step-select-a"]').inputValue();
    if (shown !== String(opens)) fail(`step picker shows ${shown}, expected ${opens}`);
    const node = frame.locator(`[data-testid="side-a"] [data-testid="layer-node"][data-layer="${layer}"]`);
    await node.locator('[data-testid="scatter"]').waitFor({ state: "attached", timeout: 60000 });
    const pts = Number(await node.locator('[data-testid="scatter"]').getAttribute("data-points"));
    const nInputs = (await get(`layers?run=${encodeURIComponent(runName)}&step=${opens}`)).n_inputs;
    if (pts !== nInputs) fail(`scatter has ${pts} points, the step ${nInputs} inputs`);
  });
});
