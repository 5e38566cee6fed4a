/**
 * @file Vite configuration of the playground: the page and its training worker, both built from
 * the workspace packages' TypeScript sources as they are (no browser-only fork), with the data
 * bundled at build time by the `datasets` plugin. Both servers make the page cross-origin isolated
 * (the training worker then trains on two shard workers; see build/isolation.ts).
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { datasets } from "./build/datasets.ts";
import { ISOLATION_HEADERS } from "./build/isolation.ts";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // Relative asset URLs: the built files work from any directory or static host.
  base: "./",
  plugins: [datasets()],
  worker: { format: "es", plugins: () => [datasets()] },
  build: { outDir: "dist", target: "es2022", emptyOutDir: true },
  server: { host: "127.0.0.1", port: 5173, headers: { ...ISOLATION_HEADERS } },
  preview: { host: "127.0.0.1", port: 4173, headers: { ...ISOLATION_HEADERS } },
});
