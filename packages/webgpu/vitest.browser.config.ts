import { existsSync } from "node:fs";
import { env } from "node:process";
import { fileURLToPath } from "node:url";
import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";

const chromium = env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
if (!existsSync(chromium))
  throw new Error(`no Chromium at ${chromium}: apt-get install -y chromium, or set CHROMIUM_PATH`);

export default defineConfig({
  // Pre-bundled at start, so that finding them mid-run does not make Vite reload the test page.
  optimizeDeps: { include: ["fast-check", "immutable", "fp-ts/lib/Either.js", "fp-ts/lib/function.js"] },
  test: {
    name: "@rewind/webgpu (browser)",
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["test/browser/**/*.browser.ts"],
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({
        launchOptions: {
          executablePath: chromium,
          args: [
            "--no-sandbox",
            "--enable-unsafe-webgpu",
            "--enable-features=Vulkan",
            "--use-webgpu-adapter=swiftshader",
            "--disable-dev-shm-usage",
          ],
        },
      }),
      instances: [{ browser: "chromium" }],
      // A failure is reported by its message; the page shows nothing worth a screenshot.
      screenshotFailures: false,
    },
    testTimeout: 60_000,
    // Anything the browser run writes (screenshots, attachments) stays out of the source tree.
    attachmentsDir: fileURLToPath(new URL("../../node_modules/.cache/vitest-webgpu-attachments", import.meta.url)),
    reporters: ["default", "json"],
    outputFile: {
      json: fileURLToPath(new URL("../../node_modules/.cache/vitest-webgpu-results.json", import.meta.url)),
    },
  },
});
