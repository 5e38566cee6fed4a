/**
 * @file The end-to-end harness: build the page with Vite, serve the built files on localhost,
 * and open them in headless Chromium (Debian's `chromium`, driven by playwright-core; no browser
 * is ever downloaded) with a fresh, empty profile, cross-origin isolated as vite.config.ts serves it
 * (or not), optionally with extra response headers (a Content-Security-Policy). Collects console errors and warnings, page errors and any request that
 * leaves the local server, for the tests to assert on.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { build, preview, type Plugin, type PreviewServer } from "vite";

/** The playground's directory (where vite.config.ts is). */
export const playgroundRoot = fileURLToPath(new URL("..", import.meta.url));
/** Screenshots and downloads of the run (gitignored). */
export const artifactsDir = fileURLToPath(new URL("./artifacts", import.meta.url));

/**
 * The flags the issue asks for (headless, no sandbox or GPU, no background traffic), plus
 * `--disable-dev-shm-usage`: containers often give /dev/shm 64 MB, too little for Chromium.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--disable-dev-shm-usage",
] as const;

/**
 * WebGPU on the CPU through SwiftShader (packages/webgpu's browser tests use the same flags):
 * replaces `--disable-gpu`, with which Chromium offers no adapter.
 */
export const WEBGPU_ARGS = ["--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-webgpu-adapter=swiftshader"];

/** A running page and what it reported. */
export interface Harness {
  readonly page: Page;
  readonly url: string;
  /** Console errors, uncaught page errors and worker errors, in order. */
  readonly problems: string[];
  /** Console warnings (the page's and its worker's), in order. */
  readonly warnings: string[];
  /** Requests to anything but the local server (there should be none: the data is bundled). */
  readonly outside: string[];
  readonly close: () => Promise<void>;
}

/** Where Chromium is: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
const chromiumPath = (): string => {
  const path = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
  if (!existsSync(path)) {
    throw new Error(
      `no Chromium at ${path}: install Debian's package (apt-get update && apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  return path;
};

/** Options of `openPlayground`. */
export interface PlaygroundOptions {
  /** Extra response headers on every file served (the page, its scripts and its workers' scripts). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Serve with vite.config.ts's preview settings, which make the page cross-origin isolated
   * (default true); false serves the same files without its COOP and COEP headers.
   */
  readonly isolated?: boolean;
  /** Build the page first (default true); false serves the dist/ of an earlier build in this run. */
  readonly build?: boolean;
  /** Answer 404 to every request whose path contains this (a script that fails to load). */
  readonly refuse?: string;
  /** Start Chromium with WebGPU on SwiftShader (`WEBGPU_ARGS`) instead of `--disable-gpu` (default false). */
  readonly webgpu?: boolean;
}

/** A preview-server plugin that answers 404 to requests whose path contains `part`. */
const refusing = (part: string): Plugin => ({
  name: "refuse",
  configurePreviewServer: (server) => {
    server.middlewares.use((req, res, next) => {
      if (!(req.url ?? "").includes(part)) return next();
      res.statusCode = 404;
      res.end();
    });
  },
});

/**
 * Builds the playground, serves dist/ on 127.0.0.1 (a free port) and opens it in Chromium.
 * @example const h = await openPlayground(); await h.page.click("#start"); await h.close()
 */
export const openPlayground = async (options: PlaygroundOptions = {}): Promise<Harness> => {
  const executablePath = chromiumPath();
  const configFile = join(playgroundRoot, "vite.config.ts");
  if (options.build ?? true) await build({ root: playgroundRoot, configFile, logLevel: "warn" });
  const headers = { ...options.headers };
  // Without the config file, preview serves dist/ with only the headers given here.
  const server: PreviewServer = await preview({
    root: playgroundRoot,
    configFile: (options.isolated ?? true) ? configFile : false,
    base: "./",
    plugins: options.refuse === undefined ? [] : [refusing(options.refuse)],
    logLevel: "warn",
    preview: { host: "127.0.0.1", port: 0, strictPort: true, open: false, headers },
  });
  const address = server.httpServer.address() as AddressInfo | null;
  if (address === null) throw new Error("vite preview did not start listening");
  const url = `http://127.0.0.1:${address.port}/`;

  const profile = mkdtempSync(join(tmpdir(), "rewind-playground-profile-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args:
        options.webgpu === true
          ? [...CHROMIUM_ARGS.filter((a) => a !== "--disable-gpu"), ...WEBGPU_ARGS]
          : [...CHROMIUM_ARGS],
      viewport: { width: 1440, height: 1100 },
      acceptDownloads: true,
      timeout: 60_000,
    });
  } catch (e) {
    await server.close();
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  const warnings: string[] = [];
  const outside: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
    if (m.type() === "warning") warnings.push(m.text());
  });
  page.on("pageerror", (e) => void problems.push(`page error: ${e.message}`));
  page.on("worker", (w) => w.on("close", () => problems.push(`worker closed: ${w.url()}`)));
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(url) && !u.startsWith("blob:") && !u.startsWith("data:")) outside.push(u);
  });
  await page.goto(url, { waitUntil: "load", timeout: 60_000 });
  return {
    page,
    url,
    problems,
    warnings,
    outside,
    close: async () => {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
};

const WAIT = { timeout: 90_000 };

/**
 * Waits until the worker reports this state.
 * @example await waitForState(h.page, "running")
 */
export const waitForState = (page: Page, state: string): Promise<unknown> =>
  page.waitForSelector(`#state[data-state="${state}"]`, WAIT);

/**
 * Waits until the loss chart holds at least `steps` steps and the recent loss is below `fraction` of the starting loss.
 * @example await waitForLossToFall(h.page, 20, 0.8)
 */
export const waitForLossToFall = (page: Page, steps: number, fraction: number): Promise<unknown> =>
  page.waitForFunction(
    ([n, f]) => {
      const d = document.getElementById("loss-chart")?.dataset;
      return d !== undefined && Number(d["steps"]) >= n && Number(d["recentLoss"]) < f * Number(d["startLoss"]);
    },
    [steps, fraction] as const,
    { ...WAIT, polling: 250 },
  );

/**
 * The number of workers the page says train the model (after the worker reported "ready").
 * @example expect(await workersShown(h.page)).toBe(2)
 */
export const workersShown = async (page: Page): Promise<number> =>
  Number(await page.getAttribute("#workers", "data-workers"));
