/**
 * @file The consumer test's own checks (run by `pnpm test:consumer`), tested on small tarballs
 * made here: what a tarball may not ship, what its manifest must say, and how README blocks are
 * found. A checker that let a bad tarball through would make the consumer test pass for nothing.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkTarball, listing, readTarball, type TarFile } from "./tarball.mjs";
import { readmeBlocks } from "./readme.mjs";

const scratch = mkdtempSync(join(tmpdir(), "rewind-consumer-checks-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const LICENCE = Buffer.from("MIT License\n");
const goodManifest = {
  name: "@rewind/x",
  version: "0.1.0",
  description: "d",
  keywords: ["k"],
  license: "MIT",
  repository: { type: "git", url: "u" },
  homepage: "h",
  engines: { node: ">=20.19" },
  files: ["dist"],
  sideEffects: false,
  exports: { ".": { types: "./dist/index.d.ts", import: "./dist/index.js" }, "./package.json": "./package.json" },
  dependencies: { "@rewind/tensor": "0.1.0" },
};
const goodFiles: Record<string, string> = {
  "package.json": JSON.stringify(goodManifest),
  "README.md": "# x\n",
  LICENSE: LICENCE.toString(),
  "CHANGELOG.md": "# x\n",
  "dist/index.js": "export {};\n",
  "dist/index.d.ts": "export {};\n",
};

/** Packs `files` the way npm does (everything under package/) with the system's tar. */
let made = 0;
const tgz = (files: Record<string, string>, format = "pax"): string => {
  const root = join(scratch, `t${made++}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, "package", path)), { recursive: true });
    writeFileSync(join(root, "package", path), text);
  }
  const file = `${root}.tgz`;
  execFileSync("tar", ["czf", file, `--format=${format}`, "-C", root, "package"]);
  return file;
};
const problems = (files: Record<string, string>): string[] =>
  checkTarball(readTarball(tgz(files)), { version: "0.1.0", license: "MIT", licenceText: LICENCE });

describe("readTarball", () => {
  const long = "dist/deep/er/than/a/hundred/characters/of/path/so/that/tar/needs/a/prefix/or/a/pax/record/mod.js";
  it.each(["pax", "ustar", "gnu"])(
    "lists every regular file without npm's package/ prefix, with its bytes (%s format)",
    (format) => {
      const files = readTarball(tgz({ ...goodFiles, [long]: "1" }, format));
      expect(files.map((f: TarFile) => f.path).sort()).toEqual([...Object.keys(goodFiles), long].sort());
      expect(files.find((f) => f.path === "LICENSE")?.bytes.equals(LICENCE)).toBe(true);
    },
  );
});

describe("checkTarball", () => {
  it("accepts a complete package", () => {
    expect(problems(goodFiles)).toEqual([]);
  });

  it.each([
    ["dist/test/a.test.js", "is a test"],
    ["dist/a.spec.js", "is a test"],
    ["test/fixtures/weights.safetensors", "is a test"],
    ["fixtures/weights.safetensors", "is a fixture"],
    ["bench/matmul.bench.js", "is a benchmark"],
    ["src/index.ts", "is a TypeScript source"],
    ["dist/tsconfig.build.tsbuildinfo", "is build state"],
  ])("refuses %s (%s)", (path, what) => {
    expect(problems({ ...goodFiles, [path]: "x" })).toContain(`${path} ${what}`);
  });

  it("refuses a package without README, LICENSE or CHANGELOG, or whose LICENSE is not the repository's", () => {
    const { LICENSE: _l, "CHANGELOG.md": _c, ...rest } = goodFiles;
    expect(problems(rest)).toEqual(["LICENSE is missing", "CHANGELOG.md is missing"]);
    expect(problems({ ...goodFiles, LICENSE: "Apache\n" })).toEqual(["LICENSE differs from the repository's LICENSE"]);
  });

  it("refuses a manifest that still belongs to the workspace", () => {
    const manifest = {
      ...goodManifest,
      private: true,
      version: "0.0.0",
      dependencies: { "@rewind/tensor": "workspace:*" },
      exports: { ".": { types: "./src/index.ts", default: "./src/index.ts" }, "./node": { import: "./dist/node.js" } },
    };
    expect(problems({ ...goodFiles, "package.json": JSON.stringify(manifest) })).toEqual([
      'package.json: "private": true',
      "package.json: version 0.0.0, expected 0.1.0",
      'package.json: dependencies.@rewind/tensor is still "workspace:*"',
      "package.json: an export points at ./src/index.ts, outside dist/",
      "package.json: an export points at ./src/index.ts, outside dist/",
      "package.json: an export points at ./dist/node.js, which is not in the tarball",
    ]);
  });

  it("refuses a manifest without the metadata npm shows", () => {
    const { keywords: _k, sideEffects: _s, ...manifest } = goodManifest;
    expect(problems({ ...goodFiles, "package.json": JSON.stringify(manifest) })).toEqual([
      'package.json: no "keywords"',
      'package.json: no "sideEffects"',
    ]);
  });
});

describe("listing", () => {
  it("puts a module's JavaScript, declarations and maps on one line", () => {
    const files = ["dist/a.js", "dist/a.js.map", "dist/a.d.ts", "dist/a.d.ts.map", "LICENSE"].map((path) => ({
      path,
      bytes: Buffer.alloc(500),
    }));
    expect(listing(files).map((l) => l.replace(/\s+/g, " "))).toEqual([
      "dist/a.{d.ts,d.ts.map,js,js.map} 2.0 kB",
      "LICENSE 0.5 kB",
    ]);
  });
});

describe("readmeBlocks", () => {
  it("finds the marked code blocks and the output shown for them, and nothing else", () => {
    const file = join(scratch, "README.md");
    writeFileSync(
      file,
      [
        "```js",
        "ignored();",
        "```",
        "<!-- consumer-test: app.mjs -->",
        "```js",
        "console.log(1);",
        "console.log(2);",
        "```",
        "<!-- consumer-test-output: app.mjs -->",
        "```text",
        "1",
        "2",
        "```",
        "<!-- consumer-test: other.mjs -->",
        "```javascript",
        "other();",
        "```",
      ].join("\n"),
    );
    expect(readmeBlocks(file)).toEqual([
      { name: "app.mjs", code: "console.log(1);\nconsole.log(2);\n", output: "1\n2\n" },
      { name: "other.mjs", code: "other();\n", output: undefined },
    ]);
  });
});
