#!/usr/bin/env node
/**
 * @file `pnpm test:consumer`: Rewind as a new user gets it. Builds the eight packages, packs them
 * into a temporary folder, lists and checks each tarball, installs them with plain npm into a new
 * folder outside the workspace (no tsx, no workspace links), then
 *   - runs the README's "Install" example and each package README's example with plain `node`,
 *   - type-checks a TypeScript consumer under several tsconfig settings (./tsc.mjs),
 *   - bundles a browser entry with esbuild and fails above BUNDLE_LIMIT gzipped.
 * Exits non-zero when any step fails. `--keep` keeps the temporary folders.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLE_LIMIT, bundleSizes } from "./bundle.mjs";
import { readmeBlocks } from "./readme.mjs";
import { checkTarball, listing, readTarball } from "./tarball.mjs";
import { checkTypes } from "./tsc.mjs";
import { must, step, StepFailure, summary } from "./steps.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const PACKAGES = ["tensor", "autodiff", "rnn", "optim", "testing", "workers", "onnx", "webgpu"];
const rootManifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
/** Tools the consumer installs next to the tarballs, pinned (the workspace's versions; esbuild's is vite's). */
const TOOLS = [
  `typescript@${rootManifest.devDependencies.typescript}`,
  `@types/node@${rootManifest.devDependencies["@types/node"]}`,
  "esbuild@0.28.2",
];
const keep = process.argv.includes("--keep");
const started = performance.now();

// npm in the consumer folder must not see the pnpm script that started us.
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(npm_config_user_agent|npm_lifecycle_|npm_package_|pnpm_)/i.test(k) && !/^PNPM_/.test(k),
  ),
);
const packDir = mkdtempSync(join(tmpdir(), "rewind-packs-"));
const dir = mkdtempSync(join(tmpdir(), "rewind-consumer-"));
console.log(`consumer test: tarballs in ${packDir}, consumer project in ${dir}`);

const built = await step("build (pnpm build)", () =>
  must(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT }),
);

const tarballs =
  built &&
  (await step("pack the eight packages", () => {
    must("pnpm", ["-r", "--filter", "./packages/*", "pack", "--pack-destination", packDir], { cwd: ROOT, quiet: true });
    const files = readdirSync(packDir)
      .filter((f) => f.endsWith(".tgz"))
      .sort();
    for (const f of files) console.log(`    ${f}  ${(readFileSync(join(packDir, f)).length / 1000).toFixed(1)} kB`);
    if (files.length !== PACKAGES.length)
      throw new StepFailure(`expected ${PACKAGES.length} tarballs, found ${files.length}`);
    return files.map((f) => join(packDir, f));
  }));

if (tarballs) {
  await step("tarball contents: no test, fixture, benchmark or source; a manifest for npm", () => {
    const licenceText = readFileSync(join(ROOT, "LICENSE"));
    const problems = [];
    for (const t of tarballs) {
      const files = readTarball(t);
      const manifest = JSON.parse(files.find((f) => f.path === "package.json")?.bytes.toString("utf8") ?? "{}");
      const size = files.reduce((s, f) => s + f.bytes.length, 0);
      console.log(
        `  ${manifest.name}@${manifest.version}: ${files.length} files, ${(size / 1000).toFixed(1)} kB unpacked`,
      );
      console.log(`    dependencies: ${JSON.stringify(manifest.dependencies)}`);
      for (const line of listing(files)) console.log(`    ${line}`);
      for (const p of checkTarball(files, { version: "0.1.0", license: "MIT", licenceText }))
        problems.push(`${manifest.name}: ${p}`);
    }
    for (const p of problems) console.log(`  ✗ ${p}`);
    if (problems.length > 0) throw new StepFailure(`${problems.length} problems`);
  });
}

const installed =
  tarballs &&
  (await step("npm install the tarballs outside the workspace", () => {
    writeFileSync(
      join(dir, "package.json"),
      `${JSON.stringify({ name: "rewind-consumer", private: true, type: "module" }, null, 2)}\n`,
    );
    for (const f of readdirSync(join(HERE, "files"))) copyFileSync(join(HERE, "files", f), join(dir, f));
    must("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs, ...TOOLS], { cwd: dir, env });
    if (existsSync(join(dir, "node_modules", "tsx")))
      throw new StepFailure("tsx was installed: the consumer must run without it");
    return true;
  }));

if (installed) {
  await step("node app.mjs: README Install example (LSTM, Adam under jit, checkpoint)", () => {
    const blocks = readmeBlocks(join(ROOT, "README.md"));
    const app = blocks.find((b) => b.name === "app.mjs");
    if (app === undefined) throw new StepFailure("README.md has no block marked <!-- consumer-test: app.mjs -->");
    writeFileSync(join(dir, app.name), app.code);
    const { stdout: out } = must("node", [app.name], { cwd: dir, env });
    if (app.output === undefined)
      throw new StepFailure("README.md shows no output for app.mjs (<!-- consumer-test-output: app.mjs -->)");
    if (out !== app.output)
      throw new StepFailure(`the output differs from the README's:\n${out}--- README.md shows ---\n${app.output}`);
    const loss = /loss (\d+\.\d+) -> (\d+\.\d+)/.exec(out);
    if (loss === null || !(Number(loss[2]) < Number(loss[1])))
      throw new StepFailure(`the loss did not go down: ${loss?.[0] ?? "no loss line"}`);
    if (!/reloaded 5 parameters from lstm\.safetensors, identical: true/.test(out))
      throw new StepFailure("the reloaded parameters differ from the saved ones");
  });
  await step("node: each package README's example, as shipped", () => {
    for (const p of PACKAGES) {
      const blocks = readmeBlocks(join(dir, "node_modules", "@rewind", p, "README.md"));
      if (blocks.length === 0)
        throw new StepFailure(`@rewind/${p}'s README has no block marked <!-- consumer-test: NAME.mjs -->`);
      for (const b of blocks) {
        const name = `${p}-${b.name}`;
        writeFileSync(join(dir, name), b.code);
        const { stdout: out } = must("node", [name], { cwd: dir, env });
        if (b.output !== undefined && out !== b.output)
          throw new StepFailure(`${name}: the output differs from the README's`);
      }
    }
  });
  await step("node debug-site.mjs: traced ops' reports name the app's line, not the installed packages", () => {
    const { stdout: out } = must("node", ["debug-site.mjs"], { cwd: dir, env });
    if (out !== "debugNans: names this file\ntoOnnx: names this file\n") throw new StepFailure(out);
  });
  await step("tsc: a TypeScript consumer under five settings, skipLibCheck false", () => checkTypes(dir));
  await step(`esbuild: browser bundles, the first at most ${BUNDLE_LIMIT / 1000} kB gzipped`, () => bundleSizes(dir));
}

const ok = summary(performance.now() - started);
if (keep) console.log(`kept: ${packDir} and ${dir}`);
else for (const d of [packDir, dir]) rmSync(d, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
