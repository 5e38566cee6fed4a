/// <reference types="node" />
/**
 * @file `pmap`: one function run on N Node worker threads (through piscina), each over its shard
 * of the batch, with `psum`/`pmean` between them.
 *
 * A worker cannot receive a closure, so the function reaches the workers as a module export: the
 * module's URL and the export's name. Arguments are written once into shared memory; each worker
 * reads the leaves marked replicated whole and its own rows of the leaves marked sharded. Results
 * come back moved, not copied; outputs marked replicated are checked to be bit-identical across
 * workers (a forgotten `pmean` is caught here), outputs marked sharded are concatenated in worker
 * order. Calls on one `pmap` run one at a time, in the order they were made.
 */
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Concrete } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { createPmap, type Pmapped } from "../driver.js";
import { checkPmapOptions, type PmapOptions } from "../options.js";
import type { KeptResult } from "../placed.js";
import { sharedRunner } from "./pool.js";

/**
 * The URL of tsx's ESM registration API, from the public exports map of the tsx package that the
 * running project installed (resolved from the working directory).
 */
export const tsxApi = (): string => {
  const require = createRequire(join(process.cwd(), "package.json"));
  const manifestPath = require.resolve("tsx/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    exports?: Record<string, { import?: { default?: string } }>;
  };
  const entry = manifest.exports?.["./esm/api"]?.import?.default;
  if (entry === undefined) throw new Error("tsx's package.json exports no ./esm/api import");
  return pathToFileURL(join(dirname(manifestPath), entry)).href;
};

/**
 * What each worker starts with: `boot.mjs` (beside src/ and dist/), told in its workerData which
 * entry to import and, when the entry or the user's module is TypeScript, tsx's registration API
 * (worker threads of Node 20 do not inherit a TypeScript loader, not even `--import tsx`).
 */
export const workerStart = (
  userModule: string,
): { filename: string; workerData: { entry: string; tsxApi?: string } } => {
  const filename = new URL("../../boot.mjs", import.meta.url).href;
  const entry = new URL(import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js", import.meta.url).href;
  if (![userModule, entry].some((u) => /\.[mc]?tsx?$/.test(new URL(u).pathname)))
    return { filename, workerData: { entry } };
  try {
    return { filename, workerData: { entry, tsxApi: tsxApi() } };
  } catch (cause) {
    return T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "module",
      detail:
        "the function's module is TypeScript and tsx, which its workers need to load it, " +
        `was not found (${String(cause)})`,
      fix: "install tsx in the project (npm i -D tsx), or point pmap at compiled JavaScript",
    });
  }
};

/** The module's URL as text: a string must be an absolute URL (a bare path has no base to resolve against). */
const urlOf = (module: URL | string): string => {
  if (module instanceof URL) return module.href;
  if (URL.canParse(module)) return new URL(module).href;
  return T.fail({
    _tag: "ValueError",
    op: "pmap",
    arg: "module",
    detail: `${JSON.stringify(module.length > 80 ? `${module.slice(0, 80)}…` : module)} is not an absolute URL`,
    fix: 'name the module by a URL relative to the caller: new URL("./step.ts", import.meta.url)',
  });
};

/**
 * Runs the function `exportName` of `module` on `options.workers` worker threads: each gets its
 * shard of the arguments marked 0 in `inAxes` (their axis 0 split into equal parts, in worker
 * order) and all of those marked null, and may call `psum`/`pmean`. Returns an async function with
 * the same arguments. Unlike JAX's `pmap`, axis 0 is split rather than mapped: each worker sees a
 * batch of B / N rows, as `shard_map` does.
 * @example
 * // step.ts: export const step = jit((p, batch) => pmean(grad(loss)(p, batch)))
 * const step = pmap<typeof import("./step.js").step>(new URL("./step.ts", import.meta.url), "step",
 *   { workers: 2, inAxes: [null, 0] });
 * const grads = await step(params, batch);
 * await step.close();
 * @typeParam F The type of the module's exported function, for typed arguments and results.
 */
export const pmap = <F extends (...args: never[]) => unknown, K extends number = never>(
  module: URL | string,
  exportName: string,
  options: PmapOptions & { readonly keep?: readonly K[] },
): Pmapped<F, KeptResult<Concrete<ReturnType<F>>, K>> => {
  if (!(module instanceof URL) && typeof module !== "string")
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "module",
      detail: `expected a URL or a string, got ${typeof module}`,
      fix: 'pass new URL("./step.ts", import.meta.url)',
    });
  if (typeof exportName !== "string" || exportName === "")
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "exportName",
      detail: "expected the name of the module's exported function",
      fix: 'pass e.g. "step"',
    });
  const checked = checkPmapOptions(options);
  const moduleUrl = urlOf(module);
  // Node's module loader imports file: and data: URLs only; any other scheme would fail in every
  // worker at the first call instead of here.
  const scheme = new URL(moduleUrl).protocol;
  if (scheme !== "file:" && scheme !== "data:")
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "module",
      detail:
        `${moduleUrl.length > 80 ? `${moduleUrl.slice(0, 80)}…` : moduleUrl} is a ${scheme} URL; ` +
        "Node's workers import file: and data: URLs only",
      fix: 'name a local module: new URL("./step.ts", import.meta.url)',
    });
  if (scheme === "file:" && !existsSync(fileURLToPath(moduleUrl)))
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "module",
      detail: `no file at ${moduleUrl}`,
      fix: 'name the module by a URL relative to the caller: new URL("./step.ts", import.meta.url)',
    });
  const runner = sharedRunner(workerStart(moduleUrl), checked.workers);
  try {
    return createPmap(runner, { module: moduleUrl, export: exportName }, checked);
  } catch (e) {
    // A pmap that was never made must not count as a user of the shared threads.
    void runner.release();
    throw e;
  }
};
