#!/usr/bin/env node
// `pnpm test:dawn`: @rewind/webgpu's device tests (the browser tests, unchanged) in Node on Dawn
// (npm `webgpu`), the WebGPU a Node program gets. Dawn needs a Vulkan loader and driver: a
// machine with a GPU has them; elsewhere Chromium's copies serve (Debian's chromium package ships
// libvulkan and SwiftShader's Vulkan driver in /usr/lib/chromium), found here and passed to the
// test process through LD_LIBRARY_PATH and VK_ICD_FILENAMES (the loader reads both at start).
// Without any adapter the run is skipped, saying why, and exits 0 without a report.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const pkg = fileURLToPath(new URL("../packages/webgpu/", import.meta.url));
const chromiumLib = process.env.CHROMIUM_LIB ?? "/usr/lib/chromium";
const env = { ...process.env };
const loaderDirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"];
const hasLoader = loaderDirs.some((d) => existsSync(`${d}/libvulkan.so.1`));
const icdDirs = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"];
const hasDriver = icdDirs.some((d) => existsSync(d) && readdirSync(d).length > 0);
if (process.platform === "linux" && existsSync(`${chromiumLib}/libvulkan.so.1`)) {
  if (!hasLoader) env.LD_LIBRARY_PATH = [chromiumLib, env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  if (!hasDriver && env.VK_ICD_FILENAMES === undefined) env.VK_ICD_FILENAMES = `${chromiumLib}/vk_swiftshader_icd.json`;
}

// Dawn keeps the process alive after a device exists: the probe exits by itself.
const probeCode =
  'import { create } from "webgpu"; const a = await create([]).requestAdapter();' +
  'console.log(a === null ? "no adapter" : "adapter"); process.exit(0);';
const probe = spawnSync(process.execPath, ["--input-type=module", "-e", probeCode], {
  cwd: pkg,
  env,
  encoding: "utf8",
  timeout: 60_000,
});
const found = probe.stdout.trim();
if (probe.status !== 0 || found !== "adapter") {
  const why =
    probe.status !== 0 ? `Dawn did not start: ${probe.stderr.trim().split("\n")[0]}` : "Dawn found no adapter";
  console.log(
    `test:dawn skipped: ${why} (no Vulkan driver: install a GPU driver, or Debian's chromium package for ` +
      `SwiftShader in ${chromiumLib}). The same tests run in Chromium: pnpm test:webgpu.`,
  );
  process.exit(0);
}
const run = spawnSync("pnpm", ["exec", "vitest", "run", "--config", "vitest.dawn.config.ts"], {
  cwd: pkg,
  env,
  stdio: "inherit",
});
process.exit(run.status ?? 1);
