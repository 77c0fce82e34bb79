// Shared helpers of the browser scripts (playwright-core + Debian Chromium).

/** Chromium path: $CHROMIUM or Debian's. */
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

/** Launch options for `chromium.launchPersistentContext(freshUserDataDir, ...)`. */
export function chromiumOptions(extra = {}) {
  return {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 1600, height: 1000 },
    ...extra,
  };
}

/** Logs a line to stdout. */
export function log(msg) {
  console.log(msg);
}

/** Throws with a message (caught by the script's top-level handler). */
export function fail(msg) {
  throw new Error(msg);
}

/** Runs one named check, logging PASS / FAIL with its duration. */
export async function step(name, fn) {
  const t0 = Date.now();
  try {
    const out = await fn();
    log(`PASS ${name} (${Date.now() - t0} ms)`);
    return out;
  } catch (err) {
    log(`FAIL ${name} (${Date.now() - t0} ms)`);
    throw new Error(`${name}: ${err?.message ?? err}`);
  }
}

/** A `getJson(path)` for the plugin's routes under TensorBoard at `base`; throws on a non-2xx answer. */
export function routeGetter(base) {
  const api = `${base.replace(/\/+$/, "")}/data/plugin/channelexplorer`;
  return async (path) => {
    const r = await fetch(`${api}/${path}`);
    if (!r.ok) fail(`GET ${path}: HTTP ${r.status} ${await r.text()}`);
    return r.json();
  };
}

/**
 * Runs a check script against a TensorBoard: parses `<url> <outdir> --run NAME`,
 * launches Chromium with a fresh profile, calls `body({ base, outdir, run,
 * context })`, prints ALL OK or FAILED, and cleans up.
 */
export async function tensorboardScript(usage, body) {
  const { createRequire } = await import("node:module");
  const { mkdtempSync, mkdirSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { dirname, join, resolve } = await import("node:path");
  const { fileURLToPath } = await import("node:url");
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const { chromium } = createRequire(join(repo, "frontend", "package.json"))("playwright-core");
  const [url, outdir] = process.argv.slice(2);
  const k = process.argv.indexOf("--run");
  const run = k > 0 ? process.argv[k + 1] : null;
  if (!url || !outdir || !run) fail(`usage: ${usage}`);
  mkdirSync(outdir, { recursive: true });
  const userDataDir = mkdtempSync(join(tmpdir(), "ce-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, chromiumOptions());
    await body({ base: url.replace(/\/+$/, ""), outdir, run, context, join });
    log("ALL OK");
  } catch (err) {
    console.error(`FAILED: ${err?.stack ?? err}`);
    process.exitCode = 1;
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
