/**
 * @file The browser bundles of the consumer test: esbuild (installed in the consumer's folder)
 * bundles each entry for the browser, minified; each bundle then runs in Node with a stand-in
 * `document`, so a bundle that builds but breaks is caught too. Only `browser.mjs` is gated.
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { must, StepFailure } from "./steps.mjs";

/** The gated bundle's limit in bytes gzipped (kB = 1000 bytes, as Vite and esbuild print sizes). */
export const BUNDLE_LIMIT = 70_000;

/** The entries: the gated one first, then two printed for information. */
export const ENTRIES = [
  { file: "browser.mjs", what: "tensor + autodiff + rnn: the gradient of one LSTM step", limit: BUNDLE_LIMIT },
  { file: "browser-rnn.mjs", what: "an LSTM over sequences (rnn, scan) and its BPTT gradient (not gated)" },
  { file: "browser-jit.mjs", what: "the same under jit, with the compiler (not gated)" },
];

/**
 * Bundles and runs each entry in `dir`, prints sizes, and fails when the gated one is over its limit.
 * @example await bundleSizes(consumerDir)
 */
export const bundleSizes = async (dir) => {
  const esbuild = createRequire(join(dir, "package.json"))("esbuild");
  console.log(`  esbuild ${esbuild.version}: bundle, minify, platform browser, format esm; gzip level 9`);
  const failures = [];
  for (const e of ENTRIES) {
    const out = join(dir, e.file.replace(/\.mjs$/, ".bundle.js"));
    const result = await esbuild.build({
      entryPoints: [join(dir, e.file)],
      bundle: true,
      minify: true,
      platform: "browser",
      format: "esm",
      outfile: out,
      metafile: true,
      logLevel: "warning",
    });
    const code = readFileSync(out);
    const gz = gzipSync(code, { level: 9 }).length;
    // The modules that kept code in the bundle (the rest were tree-shaken away).
    const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
    const kept = Object.entries(output?.inputs ?? {})
      .filter(([, v]) => v.bytesInOutput > 0)
      .map(([k]) => k);
    const count = (p) => kept.filter((i) => i.includes(`node_modules/${p}/`)).length;
    console.log(`  ${e.file}: ${e.what}`);
    console.log(
      `    modules kept: ${["@rewind/tensor", "@rewind/autodiff", "@rewind/rnn", "immutable", "fp-ts"].map((p) => `${p} ${count(p)}`).join(", ")}`,
    );
    console.log(
      `    minified ${(code.length / 1000).toFixed(1)} kB (${code.length} bytes), gzipped ${(gz / 1000).toFixed(1)} kB (${gz} bytes)${e.limit ? `; limit ${e.limit / 1000} kB` : ""}`,
    );
    const page = `globalThis.document = { body: {} }; await import(${JSON.stringify(`./${e.file.replace(/\.mjs$/, ".bundle.js")}`)}); console.log(document.body.textContent);`;
    must(process.execPath, ["--input-type=module", "-e", page], {
      cwd: dir,
      display: `node -e <run ${e.file.replace(/\.mjs$/, ".bundle.js")} with a stand-in document>`,
    });
    if (e.limit !== undefined && gz > e.limit)
      failures.push(`${e.file} is ${gz} bytes gzipped, over the ${e.limit}-byte limit`);
  }
  if (failures.length > 0) throw new StepFailure(failures.join("; "));
};
