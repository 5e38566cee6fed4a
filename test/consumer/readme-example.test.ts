/**
 * @file The README's Install example, run from the workspace's sources (with tsx, since the
 * workspace's packages export TypeScript): a quick check in `pnpm test` that the example still
 * runs and prints what the README shows. `pnpm test:consumer` runs the same text with plain node
 * against the packed tarballs.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { readmeBlocks } from "./readme.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// Inside the repository, so that @rewind/* resolve through the root's node_modules.
const dir = join(ROOT, "node_modules", ".cache", "readme-example");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("the README's Install example runs from the sources and prints exactly the output the README shows", () => {
  const app = readmeBlocks(join(ROOT, "README.md")).find((b) => b.name === "app.mjs");
  expect(app?.output).toBeDefined();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "app.mjs"), app!.code);
  const out = execFileSync(process.execPath, ["--import", "tsx", "app.mjs"], {
    cwd: dir,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(out).toBe(app!.output);
});
