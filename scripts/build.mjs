#!/usr/bin/env node
// `pnpm build`: compiles the eight packages to packages/*/dist with tsc's own emit (ESM .js, .d.ts,
// declaration maps, source maps with the TypeScript text inlined), through tsconfig.build.json's
// project references so each package compiles against the others' declarations.
//
// Each dist/ is removed first: tsc -b never deletes the output of a source file that was renamed
// or deleted, and a stale .js left there would be packed and published. The workspace itself never
// reads dist/ (the packages' `exports` point at src/; pnpm swaps in `publishConfig.exports` only
// when packing), so a stale or missing build cannot change what tests, examples or the playground run.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGES = ["tensor", "autodiff", "rnn", "optim", "testing", "workers", "onnx", "webgpu"];

const started = performance.now();
for (const p of PACKAGES) rmSync(join(root, "packages", p, "dist"), { recursive: true, force: true });
const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
const run = spawnSync(process.execPath, [tsc, "-b", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (run.status !== 0) process.exit(run.status ?? 1);
console.log(
  `build: ${PACKAGES.map((p) => `packages/${p}/dist`).join(", ")} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
