// Screenshots of every run of a served logdir (for looking at examples):
//   node tests/browser/shots.mjs http://127.0.0.1:PORT OUTDIR
// For each run: the graph, then the first logged layer with its scatter and
// heatmap panels open.
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { chromiumOptions, log } from "./util.mjs";

const require = createRequire(join(process.cwd(), "frontend", "package.json"));
const { chromium } = require("playwright-core");
const [base, outDir] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
const runs = (await (await fetch(`${base}/data/plugin/channelexplorer/runs`)).json()).runs.map((r) => r.run);
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "ce-shots-")), chromiumOptions());
const page = context.pages()[0] ?? (await context.newPage());
for (const run of runs) {
  await page.goto(`${base}/#channelexplorer`);
  const frame = page.frameLocator('iframe[src*="plugin_entry.html?name=channelexplorer"]');
  const select = frame.locator('select[data-testid="run-select-a"], [data-testid="run-select-a"] select').first();
  if (await select.count()) await select.selectOption(run);
  await frame.locator('[data-testid="layer-node"]').first().waitFor({ timeout: 60000 });
  await page.waitForTimeout(800);
  const safe = run.replace(/[^A-Za-z0-9_.-]/g, "_");
  await page.screenshot({ path: join(outDir, `${safe}-graph.png`) });
  try {
    const node = frame.locator('[data-testid="layer-node"]').last();
    await node.scrollIntoViewIfNeeded();
    await node.locator('[data-testid="toggle-scatter"]').click({ force: true });
    await node.locator('[data-testid="toggle-heatmap"]').click({ force: true });
    await frame.locator('[data-testid="scatter"]').first().waitFor({ timeout: 90000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: join(outDir, `${safe}-panels.png`) });
    log(`shot ${run}`);
  } catch (err) {
    log(`panels of ${run} not shot: ${String(err).split("\n")[0]}`);
  }
}
await context.close();
