// Export and share: a panel's data and picture downloads, and the offline shared file.
//
// Usage: node tests/browser/export.mjs <tensorboard-url> <outdir> --run NAME
//
// Opens a link with the last layer's scatterplot, Jaccard and hierarchy panels
// (PCA, first step). Each panel's export menu saves through TensorBoard's
// iframe as a real download: the scatter CSV and JSON are checked against the
// /scatter answer fetched here apart from the tab, the Jaccard CSV against
// /jaccard, every other panel kind's JSON against its route and its CSV for
// the documented header and row count, the PNG for its size and for not being
// blank, the SVG for one circle per input. Then "Share" saves one HTML file; the browser goes offline
// and opens it from disk (file://): the same layer node shows the same panels,
// the scatter has the same points at the same places, the file asks no server
// for anything and its panels still export. Last, the Dataset side bar and the
// Timeline mode export their data (checked against /dataset and /timeline).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { fail, step, tensorboardScript } from "./util.mjs";

/** RFC 4180 rows (quoted cells with "" escapes), enough for the tab's CSVs. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(cell), (cell = "");
    else if (ch === "\n") row.push(cell.replace(/\r$/, "")), rows.push(row), (row = []), (cell = "");
    else cell += ch;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows;
}

function pngSize(buf) {
  const sig = "89504e470d0a1a0a";
  if (buf.subarray(0, 8).toString("hex") !== sig) fail("not a PNG (bad signature)");
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

const close = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

await tensorboardScript("node export.mjs <url> <outdir> --run NAME", async ({ base, outdir, run: runName, context, join }) => {
  const api = `${base}/data/plugin/channelexplorer`;
  const run = (await (await fetch(`${api}/runs`)).json()).runs.find((r) => r.run === runName);
  if (!run) fail(`run ${runName} not listed`);
  const layers = (await (await fetch(`${api}/layers?run=${encodeURIComponent(runName)}`)).json()).layers;
  const layer = layers[layers.length - 1].name;
  const s0 = run.steps[0];
  const page = context.pages()[0] ?? (await context.newPage());
  const routeUrls = {};
  page.on("response", (r) => {
    const m = /\/data\/plugin\/channelexplorer\/([a-z_]+)\?/.exec(r.url());
    if (m) routeUrls[m[1]] = r.url();
  });
  const link =
    `${base}/#channelexplorer&p.channelexplorer.run=${encodeURIComponent(runName)}&p.channelexplorer.step=${s0}` +
    `&p.channelexplorer.open=${encodeURIComponent(`${layer}:scatter+jaccard+hierarchy`)}&p.channelexplorer.projection=pca`;
  await page.goto(link, { waitUntil: "domcontentloaded" });
  const frame = page.frameLocator('iframe[src*="plugin_entry.html?name=channelexplorer"]');
  const nodeIn = (root) => root.locator(`[data-testid="side-a"] [data-testid="layer-node"][data-layer="${layer}"]`);
  const node = nodeIn(frame);

  /** Saves `format` from the export menu of a layer-node panel (a kind) or of any view (a locator). */
  const download = async (panel, format, pg = page) => {
    const p = typeof panel === "string" ? node.locator(`[data-testid="panel-${panel}"]`) : panel;
    const item = p.locator(`[data-testid="export-${format}"]`).first();
    // A panel still loading answers "No data yet" and stays open: retry until it has loaded.
    // A re-render (a reload, a layout change) can close the menu under the click: open it again.
    let dl = null;
    for (let tries = 0; !dl && tries < 60; tries++) {
      if (!(await item.isVisible())) await p.locator('[data-testid="export-btn"]').first().click();
      [dl] = await Promise.all([
        pg.waitForEvent("download", { timeout: 2000 }).catch(() => null),
        item.click({ timeout: 5000 }).catch(() => null),
      ]);
    }
    if (!dl) fail(`no ${format} download from the ${panel} panel`);
    const path = join(outdir, dl.suggestedFilename());
    await dl.saveAs(path);
    return { name: dl.suggestedFilename(), data: readFileSync(path) };
  };

  const scatter = await step("the panels of the link load", async () => {
    const sc = node.locator('[data-testid="panel-scatter"] [data-testid="scatter"]');
    await sc.waitFor({ state: "attached", timeout: 90000 });
    await node.locator('[data-testid="panel-jaccard"] canvas').first().waitFor({ timeout: 60000 });
    await node.locator('[data-testid="panel-hierarchy"] [data-testid="hierarchy"]').waitFor({ state: "attached", timeout: 60000 });
    if (!routeUrls.scatter || !routeUrls.jaccard) fail(`route URLs not seen: ${JSON.stringify(routeUrls)}`);
    const oracle = await (await fetch(routeUrls.scatter)).json();
    const n = Number(await sc.getAttribute("data-points"));
    if (n !== oracle.points.length) fail(`scatter shows ${n} points, /scatter has ${oracle.points.length}`);
    return { oracle, n };
  });

  await step("scatter CSV: one row per input with the route's x, y, label and cluster", async () => {
    const { name, data } = await download("scatter", "csv");
    if (!name.endsWith(".csv") || !name.includes(layer)) fail(`file name ${name}`);
    const rows = parseCsv(data.toString("utf8"));
    if (rows[0].join(",") !== "input,x,y,label,cluster,outlier") fail(`header ${rows[0]}`);
    const body = rows.slice(1);
    if (body.length !== scatter.n) fail(`${body.length} rows, expected ${scatter.n}`);
    const o = scatter.oracle;
    body.forEach((r, i) => {
      const [x, y] = o.points[i];
      if (Number(r[0]) !== i || !close(Number(r[1]), x) || !close(Number(r[2]), y)) fail(`row ${i}: ${r} vs ${x},${y}`);
      if (Number(r[3]) !== o.labels[i] || Number(r[4]) !== o.clusters[i]) fail(`row ${i} label/cluster: ${r}`);
      if ((r[5] === "1") !== o.outliers.includes(i)) fail(`row ${i} outlier flag ${r[5]}`);
    });
  });

  await step("scatter JSON equals the /scatter answer", async () => {
    const { data } = await download("scatter", "json");
    const got = JSON.parse(data.toString("utf8"));
    if (JSON.stringify(got) !== JSON.stringify(scatter.oracle)) fail("JSON differs from /scatter");
  });

  await step("scatter SVG: a standalone SVG with one circle per input, colours resolved", async () => {
    const { data } = await download("scatter", "svg");
    const svg = data.toString("utf8");
    if (!svg.startsWith("<svg") || !svg.includes('xmlns="http://www.w3.org/2000/svg"')) fail("not a standalone SVG");
    const circles = (svg.match(/<circle[^>]*data-index=/g) ?? []).length;
    if (circles !== scatter.n) fail(`${circles} circles, expected ${scatter.n}`);
    // Colours are CSS variables in the tab; a standalone file needs them resolved in each circle's style.
    const styled = (svg.match(/<circle[^>]*style="fill:rgb\(/g) ?? []).length;
    if (styled < scatter.n) fail(`${styled} circles with a resolved fill, expected at least ${scatter.n}`);
    const w = Number(/^<svg[^>]* width="(\d+)"/.exec(svg)?.[1]);
    const cssWidth = await node.locator('[data-testid="panel-scatter"] [data-testid="scatter"]').evaluate((el) => el.clientWidth);
    if (w !== cssWidth) fail(`SVG width ${w}, the unzoomed plot is ${cssWidth}`);
  });

  await step("Jaccard CSV: the /jaccard matrix with input labels", async () => {
    // The tab asks for exact counts and decodes them; the oracle is the server's own decimal matrix.
    if (!routeUrls.jaccard.includes("matrix=counts")) fail(`the tab did not ask for counts: ${routeUrls.jaccard}`);
    const oracle = await (await fetch(routeUrls.jaccard.replace("matrix=counts", "matrix=values"))).json();
    if (!oracle.matrix) fail("the values answer has no matrix");
    const { data } = await download("jaccard", "csv");
    const rows = parseCsv(data.toString("utf8"));
    const n = oracle.order.length;
    if (rows.length !== n + 1 || rows[0].length !== n + 1) fail(`${rows.length}x${rows[0].length}, expected ${n + 1}`);
    if (rows[0][1] !== `input_${oracle.order[0]}`) fail(`header ${rows[0].slice(0, 3)}`);
    for (let r = 0; r < n; r++) {
      if (Number(rows[r + 1][0]) !== oracle.order[r]) fail(`row ${r} label`);
      // Both sides print 7 significant digits of a float32 quotient.
      for (let c = 0; c < n; c++)
        if (Math.abs(Number(rows[r + 1][c + 1]) - oracle.matrix[r][c]) > 1e-6) fail(`cell ${r},${c}`);
    }
  });

  await step("every other panel kind: JSON = its route's answer, CSV with the documented header and one row per item", async () => {
    const countNodes = (t) => 1 + (t.children ?? []).reduce((a, c) => a + countNodes(c), 0);
    const kinds = {
      hierarchy: { route: "hierarchy", header: "path,depth,name,class,classes,inputs", rows: (b) => countNodes(b.tree) },
      heatmap: { route: "heatmap", header: null, first: "channel", rows: (b) => b.channels.length },
      trajectory: { route: "trajectory", header: "step,sample,label,x,y", rows: (b) => b.frames.length * b.sample_ids.length },
      diff: { route: "diff", header: null, first: "sample", rows: (b) => b.order.length },
      clusters: { route: "channel_clusters", header: "channel,cluster,selectivity,preferred_class", rows: (b) => b.assignment.length },
      channels: { route: "channel_embedding", header: "channel,x,y,preferred_class,selectivity,color_class", rows: (b) => b.points.length },
      edges: {
        route: "channel_edges",
        header: "source_cluster,target_cluster,connections,abs,mean_abs,strength,positive,negative",
        rows: (b) => b.bundles.length,
      },
    };
    for (const kind of Object.keys(kinds)) {
      if (kind !== "hierarchy") await node.locator(`[data-testid="toggle-${kind}"]`).click();
      await node.locator(`[data-testid="panel-${kind}"]`).waitFor({ timeout: 30000 });
    }
    for (const [kind, spec] of Object.entries(kinds)) {
      const { data: json } = await download(kind, "json");
      const body = JSON.parse(json.toString("utf8"));
      if (!routeUrls[spec.route]) fail(`${kind}: /${spec.route} never requested`);
      const oracle = await (await fetch(routeUrls[spec.route])).json();
      if (JSON.stringify(body) !== JSON.stringify(oracle)) fail(`${kind}: JSON differs from /${spec.route}`);
      const rows = parseCsv((await download(kind, "csv")).data.toString("utf8"));
      if (spec.header ? rows[0].join(",") !== spec.header : rows[0][0] !== spec.first) fail(`${kind}: header ${rows[0].slice(0, 4)}`);
      if (rows.length - 1 !== spec.rows(oracle)) fail(`${kind}: ${rows.length - 1} rows, expected ${spec.rows(oracle)}`);
    }
  });

  await step("PNG pictures: the panel's size and not blank", async () => {
    for (const panel of ["scatter", "jaccard"]) {
      const { data } = await download(panel, "png");
      const { width, height } = pngSize(data);
      // Twice the unzoomed panel (the graph canvas is zoomed out to fit), its on-screen aspect.
      const body = node.locator(`[data-testid="panel-${panel}"] .ce-node__panel-body`);
      const box = await body.boundingBox();
      const cssWidth = await body.evaluate((el) => el.offsetWidth);
      if (width !== 2 * cssWidth) fail(`${panel} PNG width ${width}, expected 2 x ${cssWidth}`);
      if (Math.abs(width / height - box.width / box.height) > 0.02)
        fail(`${panel} PNG ${width}x${height}, panel on screen ${box.width}x${box.height}`);
      const colours = await page.evaluate(async (b64) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const c = document.createElement("canvas");
        c.width = img.width;
        c.height = img.height;
        const ctx = c.getContext("2d");
        ctx.drawImage(img, 0, 0);
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < px.length; i += 16) seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
        return seen.size;
      }, data.toString("base64"));
      if (colours < 8) fail(`${panel} PNG has only ${colours} colours: blank?`);
    }
  });

  const live = await node.locator('[data-testid="panel-scatter"] circle[data-index]').evaluateAll((cs) =>
    cs.map((c) => `${c.dataset.index}:${c.getAttribute("cx")},${c.getAttribute("cy")}`),
  );
  await page.screenshot({ path: join(outdir, "e1-live.png") });

  const shared = await step("Share saves one HTML file from TensorBoard's iframe", async () => {
    const [dl] = await Promise.all([page.waitForEvent("download", { timeout: 60000 }), frame.locator('[data-testid="share-btn"]').click()]);
    const path = join(outdir, "shared-view.html");
    await dl.saveAs(path);
    const html = readFileSync(path, "utf8");
    const json = /<script type="application\/json" id="ce-snapshot">([^<]*)<\/script>/.exec(html);
    if (!json) fail("no snapshot element in the shared file");
    const keys = Object.keys(JSON.parse(json[1]));
    for (const route of ["runs", "graph", "scatter", "jaccard", "hierarchy"])
      if (!keys.some((k) => k === route || k.startsWith(`${route}?`))) fail(`the snapshot lacks /${route}: ${keys.slice(0, 8)}`);
    if (!/id="ce-bundle">[A-Za-z0-9+/=\s]{100000,}<\/script>/.test(html)) fail("no inlined bundle in the shared file");
    return path;
  });

  await step("the shared file opens from disk, offline, with the same panels and points", async () => {
    await context.setOffline(true);
    const off = await context.newPage();
    const asked = [];
    off.on("request", (r) => {
      if (/^https?:/.test(r.url())) asked.push(r.url());
    });
    await off.goto(pathToFileURL(shared).href, { waitUntil: "load" });
    const n2 = nodeIn(off);
    const sc = n2.locator('[data-testid="panel-scatter"] [data-testid="scatter"]');
    await sc.waitFor({ state: "attached", timeout: 60000 });
    await n2.locator('[data-testid="panel-jaccard"] canvas').first().waitFor({ timeout: 30000 });
    await n2.locator('[data-testid="panel-hierarchy"] [data-testid="hierarchy"]').waitFor({ state: "attached", timeout: 30000 });
    const pts = Number(await sc.getAttribute("data-points"));
    if (pts !== scatter.n) fail(`shared scatter shows ${pts} points, expected ${scatter.n}`);
    const again = await n2.locator('[data-testid="panel-scatter"] circle[data-index]').evaluateAll((cs) =>
      cs.map((c) => `${c.dataset.index}:${c.getAttribute("cx")},${c.getAttribute("cy")}`),
    );
    if (again.join(" ") !== live.join(" ")) fail("the shared scatter's points differ from the live tab's");
    const errors = await off.locator('[role="alert"]').count();
    if (errors) fail(`${errors} error boxes in the shared file`);
    if (asked.length) fail(`the shared file asked a server: ${asked.slice(0, 3)}`);
    await off.screenshot({ path: join(outdir, "e2-shared-offline.png") });
    // A panel of the shared file still exports its data (answered from the snapshot).
    const csv = parseCsv((await download(n2.locator('[data-testid="panel-scatter"]'), "csv", off)).data.toString("utf8"));
    if (csv.length - 1 !== scatter.n) fail(`the shared file's scatter CSV has ${csv.length - 1} rows`);
    await off.close();
    await context.setOffline(false);
  });

  await step("the Dataset view exports one CSV row per class of /dataset", async () => {
    const side = frame.locator('[aria-label="Dataset view"]');
    const body = JSON.parse((await download(side, "json")).data.toString("utf8"));
    const oracle = await (await fetch(routeUrls.dataset)).json();
    if (JSON.stringify(body) !== JSON.stringify(oracle)) fail("Dataset JSON differs from /dataset");
    const rows = parseCsv((await download(side, "csv")).data.toString("utf8"));
    if (rows[0].join(",") !== "class,name,count,similarity") fail(`header ${rows[0]}`);
    if (rows.length - 1 !== oracle.classes.length) fail(`${rows.length - 1} rows, ${oracle.classes.length} classes`);
    oracle.classes.forEach((c, k) => {
      if (Number(rows[k + 1][0]) !== c.id || Number(rows[k + 1][2]) !== c.count) fail(`class row ${k}: ${rows[k + 1]}`);
    });
  });

  await step("the Timeline exports one CSV row per (run, layer, step) of /timeline, and a picture", async () => {
    await frame.locator('[data-testid="mode-switch"] button', { hasText: "Timeline" }).click();
    const view = frame.locator('[data-testid="timeline"]');
    await view.waitFor({ timeout: 30000 });
    const rows = parseCsv((await download(view, "csv")).data.toString("utf8"));
    const oracle = await (await fetch(routeUrls.timeline)).json();
    const expected = oracle.runs.reduce((a, r) => a + r.layers.length * r.steps.length, 0);
    if (rows[0].join(",") !== "run,layer,step,score,accuracy") fail(`header ${rows[0]}`);
    if (rows.length - 1 !== expected) fail(`${rows.length - 1} rows, expected ${expected}`);
    const r0 = oracle.runs[0];
    if (rows[1][0] !== r0.run || rows[1][1] !== r0.layers[0] || !close(Number(rows[1][3]), r0.scores[0][0])) fail(`row 1: ${rows[1]}`);
    const { data } = await download(view, "png");
    const { width } = pngSize(data);
    if (width < 400) fail(`timeline PNG only ${width} px wide`);
  });
});
