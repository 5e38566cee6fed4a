/**
 * @file `pnpm bench:webgpu`: the LSTM training step in headless Chromium, Rewind's CPU compiler
 * against TensorFlow.js's WebGPU back end in the same page (page.ts), at the benchmark size of
 * `pnpm bench:peers` (B 32, T 50, in 64, H 128) and at B 64, H 512.
 *
 * Chromium is Debian's (`/usr/bin/chromium`, or $CHROMIUM_PATH; never downloaded). By default its
 * WebGPU runs on the CPU through SwiftShader, as on the development machine: those numbers only show
 * that the path runs, they say nothing of a GPU. `--hardware` asks Chromium for the machine's own
 * adapter instead; the table names the adapter either way. Extra arguments `B,T,IN,H` replace the sizes.
 */
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { createServer } from "vite";
import type { LstmSizes } from "../peers/data.js";
import { formatTable } from "../peers/harness.js";
import type { BenchResult } from "./page.js";

const log = (s: string): void => void process.stdout.write(`${s}\n`);
const args = process.argv.slice(2);
const hardware = args.includes("--hardware");
const sizeArgs = args.filter((a) => a !== "--hardware");
const parseSizes = (a: string): LstmSizes => {
  const [B, T, IN, H] = a.split(",").map(Number);
  const s = { B: B!, T: T!, IN: IN!, H: H! };
  if (!Object.values(s).every((x) => Number.isSafeInteger(x) && x >= 1))
    throw new Error(`bench:webgpu: size "${a}" is not B,T,IN,H (four positive integers, e.g. 32,50,64,128)`);
  return s;
};
const sizes: LstmSizes[] =
  sizeArgs.length > 0
    ? sizeArgs.map(parseSizes)
    : [
        { B: 32, T: 50, IN: 64, H: 128 },
        { B: 64, T: 50, IN: 64, H: 512 },
      ];

const chromiumPath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
if (!existsSync(chromiumPath))
  throw new Error(`bench:webgpu: no Chromium at ${chromiumPath}: apt-get install -y chromium, or set CHROMIUM_PATH`);

const root = fileURLToPath(new URL(".", import.meta.url));
// WebGPU exists only in secure contexts: the page comes from http://localhost.
// No file watching or hot reload: an edit elsewhere in the workspace during a run must not reload the page.
const server = await createServer({
  root,
  logLevel: "error",
  server: { host: "localhost", port: 0, watch: null, hmr: false },
});
await server.listen();
const { port } = server.httpServer!.address() as AddressInfo;
const launching = chromium.launch({
  executablePath: chromiumPath,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--enable-unsafe-webgpu",
    "--enable-features=Vulkan",
    ...(hardware ? [] : ["--use-webgpu-adapter=swiftshader"]),
  ],
});
// A browser that fails to start must not leave the server holding the process open.
const browser = await launching.catch(async (e: unknown) => {
  await server.close();
  throw e;
});
try {
  const page = await browser.newPage();
  page.on("console", (m) => {
    if (m.type() === "log") log(m.text());
    else if (m.type() === "error") log(`  page error: ${m.text()}`);
  });
  page.on("pageerror", (e) => log(`  page error: ${e.message}`));
  await page.goto(`http://localhost:${port}/index.html`);
  await page.waitForFunction(() => "runWebgpuBench" in globalThis, undefined, { timeout: 120_000 });
  log(
    `bench:webgpu: Chromium ${browser.version()}, ${hardware ? "its own adapter" : "SwiftShader (WebGPU on the CPU)"}`,
  );
  type PageRun = (s: readonly LstmSizes[], rounds: number) => Promise<BenchResult>;
  const result = await page.evaluate<BenchResult, readonly [readonly LstmSizes[], number]>(
    ([s, rounds]) => (globalThis as unknown as { runWebgpuBench: PageRun }).runWebgpuBench(s, rounds),
    [sizes, 7],
  );
  log(`adapter: ${result.adapter}`);
  let disagree = false;
  for (const { sizes: s, timings, checks } of result.results) {
    // Ratios against Rewind's CPU compiler and against Rewind's WebGPU back end (below 1: Rewind faster).
    const ref = timings[0]!;
    const gpuRef = timings[1]!;
    log(`\nLSTM training step: B ${s.B}, T ${s.T}, in ${s.IN}, H ${s.H}, float32 (ms per step)`);
    const rows = timings.map((t) => [
      t.name,
      t.medianMs.toFixed(2),
      t.minMs.toFixed(2),
      String(t.runs),
      t === ref ? "" : `${(ref.medianMs / t.medianMs).toFixed(3)}×`,
      t === gpuRef ? "" : `${(gpuRef.medianMs / t.medianMs).toFixed(3)}×`,
    ]);
    log(formatTable(["contestant", "median", "min", "runs", "Rewind CPU ÷ row", "Rewind webgpu ÷ row"], rows, false));
    const base = checks[ref.name]!;
    for (const [name, c] of Object.entries(checks)) {
      const rel = Math.abs(c.loss - base.loss) / Math.max(Math.abs(base.loss), 1e-30);
      const grad = Math.max(
        ...c.gradNorms.map((g, i) => Math.abs(g - base.gradNorms[i]!) / Math.max(base.gradNorms[i]!, 1e-30)),
      );
      const ok = rel <= 1e-4 && grad <= 1e-3;
      if (!ok) disagree = true;
      log(
        `  ${ok ? "ok  " : "FAIL"} ${name}: loss ${c.loss.toPrecision(8)} (rel. diff ${rel.toExponential(1)}), grad norms max rel. diff ${grad.toExponential(1)}`,
      );
    }
  }
  if (!hardware) log("\nSwiftShader runs WebGPU on the CPU: these times show the path runs, not how fast a GPU is.");
  if (disagree) process.exitCode = 1;
} finally {
  await browser.close();
  await server.close();
}
