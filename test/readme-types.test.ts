/**
 * @file The README's TypeScript blocks type-check, under the workspace's strict settings, and cast
 * no result to a tensor (issue 18: "tsc over examples/ and the README examples shows no casts on
 * transform results"). `tsc -b` covers examples/ (examples/tsconfig.json) but not the README: its
 * `ts` blocks are written here to files inside the repository (so that @rewind/* resolve through
 * the root's node_modules) and checked with the workspace's tsc. A block that is a fragment names
 * what it leaves undeclared in `FRAGMENTS`.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = join(ROOT, "node_modules", ".cache", "readme-types");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Declarations for the names a fragment uses without defining, keyed by a line of the fragment. */
const FRAGMENTS: ReadonlyArray<{ readonly line: string; readonly declare: string }> = [
  { line: "associativeScan(compose, [a, b]", declare: "declare const a: Value, b: Value;" },
];

const blocks = [...readFileSync(join(ROOT, "README.md"), "utf8").matchAll(/^```ts\n([\s\S]*?)\n```$/gm)].map(
  (m) => m[1]!,
);

it("the README has TypeScript blocks, and none casts a result to a tensor", () => {
  expect(blocks.length).toBeGreaterThan(3);
  for (const code of blocks) expect(code).not.toMatch(/\bas (T\.)?Tensor\b/);
});

it("every TypeScript block of the README type-checks", () => {
  mkdirSync(dir, { recursive: true });
  const files = blocks.map((code, i) => {
    const extra = FRAGMENTS.filter((f) => code.includes(f.line)).map((f) => f.declare);
    const name = `block${i + 1}.ts`;
    // Each block is a module of its own (they reuse names such as `loss`).
    writeFileSync(join(dir, name), `${code}\n${extra.join("\n")}\nexport {};\n`);
    return name;
  });
  const tsconfig = {
    extends: "../../../tsconfig.base.json",
    compilerOptions: {
      composite: false,
      declaration: false,
      declarationMap: false,
      emitDeclarationOnly: false,
      sourceMap: false,
      noEmit: true,
      // README blocks declare what they show; an unused import or local is not an error there.
      noUnusedLocals: false,
      types: ["node"],
    },
    files,
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  let output = "";
  try {
    execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir], {
      encoding: "utf8",
      timeout: 240_000,
    });
  } catch (e) {
    output = String((e as { stdout?: string }).stdout ?? e);
  }
  expect(output).toBe("");
}, 300_000);
