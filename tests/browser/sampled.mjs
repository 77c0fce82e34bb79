// A step with more inputs than MAX_MATRIX_INPUTS: Jaccard and the hierarchy answer on a sample and say so.
//
// Usage: node tests/browser/sampled.mjs <tensorboard-url> <outdir> --run NAME
//
// Opens the last layer's Jaccard and hierarchy panels by a deep link and
// checks, in the real tab: each panel shows "Sampled 4,096 of N inputs
// (stratified by class, seed 0)" with N the logged count, the Jaccard canvas is
// 4,096 x 4,096 cells (decoded from the exact counts the tab asks for), a
// cell click names two inputs of the step, and the side bar ranks suspect
// labels of all inputs. Prints how long each panel took.
import { fail, log, step, tensorboardScript } from "./util.mjs";

await tensorboardScript("node sampled.mjs <url> <outdir> --run NAME", async ({ base, outdir, run: runName, context, join }) => {
  const api = `${base}/data/plugin/channelexplorer`;
  const manifest = await (await fetch(`${api}/layers?run=${encodeURIComponent(runName)}`)).json();
  const n = manifest.n_inputs;
  if (!(n > 4096)) fail(`run ${runName} has ${n} inputs: needs more than 4,096`);
  const layer = manifest.layers[manifest.layers.length - 1].name;
  const expected = `Sampled 4,096 of ${n.toLocaleString("en-US")} inputs (stratified by class, seed 0)`;
  const page = context.pages()[0] ?? (await context.newPage());
  const requests = [];
  page.on("request", (r) => {
    if (r.url().includes("/data/plugin/channelexplorer/jaccard?")) requests.push(r.url());
  });
  const t0 = Date.now();
  await page.goto(
    `${base}/#channelexplorer&p.channelexplorer.run=${encodeURIComponent(runName)}` +
      `&p.channelexplorer.open=${encodeURIComponent(`${layer}:jaccard+hierarchy`)}`,
    { waitUntil: "domcontentloaded" },
  );
  const frame = page.frameLocator('iframe[src*="plugin_entry.html?name=channelexplorer"]');
  const node = frame.locator(`[data-testid="side-a"] [data-testid="layer-node"][data-layer="${layer}"]`);

  await step("the Jaccard panel says it shows a sample and draws 4,096 x 4,096 cells", async () => {
    const canvas = node.locator('canvas[data-testid="jaccard"]');
    await canvas.waitFor({ state: "attached", timeout: 120000 });
    log(`  Jaccard drawn ${Date.now() - t0} ms after navigation (${n} inputs)`);
    const note = node.locator('[data-testid="panel-jaccard"] [data-testid="sampled-note"]');
    const text = (await note.innerText()).trim();
    if (text !== expected) fail(`note ${JSON.stringify(text)}, expected ${JSON.stringify(expected)}`);
    if (Number(await canvas.getAttribute("data-n")) !== 4096) fail(`canvas data-n ${await canvas.getAttribute("data-n")}`);
    if (!requests.length || !requests.every((u) => u.includes("matrix=counts"))) fail(`jaccard requests ${requests}`);
  });

  await step("a Jaccard cell click names two inputs of the step", async () => {
    const canvas = node.locator('canvas[data-testid="jaccard"]');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.7);
    const pair = node.locator('[data-testid="jaccard-cell"]');
    await pair.waitFor({ state: "visible", timeout: 30000 });
    const [i, j] = await pair.evaluate((el) => [Number(el.getAttribute("data-i")), Number(el.getAttribute("data-j"))]);
    if (!(i >= 0 && i < n && j >= 0 && j < n && i !== j)) fail(`pair (${i}, ${j}) of ${n} inputs`);
  });

  await step("the Dataset side bar ranks suspect labels of every input (no cap at 4,096)", async () => {
    const list = frame.locator('[data-testid="suspects"] [data-testid="suspect-list"]');
    await list.waitFor({ timeout: 120000 });
    if (!(Number(await list.getAttribute("data-count")) > 0)) fail("the suspect list is empty");
    log(`  suspects listed ${Date.now() - t0} ms after navigation`);
  });

  await step("the hierarchy panel says it shows a sample", async () => {
    const note = node.locator('[data-testid="panel-hierarchy"] [data-testid="sampled-note"]');
    await note.waitFor({ timeout: 120000 });
    const text = (await note.innerText()).trim();
    if (!text.startsWith(expected)) fail(`note ${JSON.stringify(text)}, expected ${JSON.stringify(expected)}`);
    log(`  hierarchy shown ${Date.now() - t0} ms after navigation`);
    await page.screenshot({ path: join(outdir, "16-sampled-jaccard.png") });
  });
});
