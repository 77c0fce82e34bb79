/**
 * Builds the tab as ONE ES module, `../tensorboard_plugin_channelexplorer/static/index.js`.
 *
 * TensorBoard loads it from `/data/plugin_entry.html?name=channelexplorer` with
 * `import("./index.js").then(m => m.render())`, inside an iframe whose CSP allows
 * only same-origin scripts. So: no CDN, no hashed names, no code splitting (every
 * chunk would need its own route), CSS imported as a string and injected by
 * `render()` (the CSP allows inline styles). Built from package-lock.json with
 * no timestamps or absolute paths in the output, so rebuilds are byte-identical.
 */
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { resolve } from "node:path";

const here = import.meta.dirname;

export default defineConfig({
  plugins: [react()],
  base: "./",
  define: {
    "process.env.NODE_ENV": JSON.stringify("production"),
  },
  build: {
    outDir: resolve(here, "../tensorboard_plugin_channelexplorer/static"),
    emptyOutDir: true,
    target: "es2020",
    sourcemap: false,
    minify: true,
    modulePreload: false,
    copyPublicDir: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: resolve(here, "src/main.tsx"),
      // Keep `export { render }`: TensorBoard calls it.
      preserveEntrySignatures: "exports-only",
      output: {
        format: "es",
        codeSplitting: false,
        entryFileNames: "index.js",
        assetFileNames: "[name][extname]",
      },
    },
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
