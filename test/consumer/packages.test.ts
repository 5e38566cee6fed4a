/**
 * @file The five packages as they will be published, checked in the workspace (fast; the consumer
 * test checks the packed tarballs): npm metadata, `exports` for development (sources) and
 * `publishConfig.exports` for npm (dist) in step, licence, changelog and README files, and the
 * `sideEffects` claim.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readmeBlocks } from "./readme.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PACKAGES = ["tensor", "autodiff", "rnn", "optim", "testing"] as const;
type Exports = Record<string, string | Record<string, string>>;
interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  keywords?: string[];
  license?: string;
  repository?: { url: string; directory: string };
  homepage?: string;
  engines?: { node: string };
  files?: string[];
  sideEffects?: boolean | string[];
  exports: Exports;
  publishConfig?: { exports: Exports };
  dependencies?: Record<string, string>;
}
const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");
const manifest = (p: string): Manifest => JSON.parse(read(`packages/${p}/package.json`)) as Manifest;
const root = JSON.parse(read("package.json")) as Manifest;
const version = manifest("tensor").version;

describe.each(PACKAGES)("@rewind/%s", (p) => {
  const m = manifest(p);

  it("has the metadata npm shows, one version for all five, and is not private", () => {
    expect(m.name).toBe(`@rewind/${p}`);
    expect(m.version).toBe(version);
    expect(m.private).toBeUndefined();
    expect(m.license).toBe("MIT");
    expect(m.description?.length).toBeGreaterThan(20);
    expect(m.keywords?.length).toBeGreaterThan(3);
    expect(m.repository?.directory).toBe(`packages/${p}`);
    expect(m.repository?.url).toBe(manifest("tensor").repository?.url);
    expect(m.homepage).toMatch(new RegExp(`/packages/${p}#readme$`));
    expect(m.engines?.node).toBe(root.engines?.node);
    expect(m.files).toEqual([
      "dist/**/*.js",
      "dist/**/*.js.map",
      "dist/**/*.d.ts",
      "dist/**/*.d.ts.map",
      "README.md",
      "LICENSE",
      "CHANGELOG.md",
    ]);
  });

  it("points its exports at the sources for the workspace and publishConfig.exports at dist/ for npm, entry for entry", () => {
    const dev = m.exports;
    const pub = m.publishConfig?.exports ?? {};
    expect(Object.keys(pub)).toEqual(Object.keys(dev));
    for (const [entry, target] of Object.entries(dev)) {
      if (entry === "./package.json") {
        expect([target, pub[entry]]).toEqual(["./package.json", "./package.json"]);
        continue;
      }
      const src = typeof target === "string" ? target : target["default"];
      expect(target, entry).toEqual({ types: src, default: src });
      const stem = /^\.\/src\/(.+)\.ts$/.exec(src ?? "")?.[1];
      expect(stem, `${entry} → ${src}`).toBeDefined();
      expect(existsSync(join(ROOT, "packages", p, "src", `${stem}.ts`)), `${entry}: src/${stem}.ts`).toBe(true);
      expect(pub[entry], entry).toEqual({
        types: `./dist/${stem}.d.ts`,
        import: `./dist/${stem}.js`,
        default: `./dist/${stem}.js`,
      });
    }
  });

  it("resolves to its TypeScript sources inside the workspace, so a stale or missing dist/ changes nothing", () => {
    const require = createRequire(join(ROOT, "package.json"));
    for (const entry of Object.keys(m.exports).filter((e) => e !== "./package.json")) {
      const resolved = relative(ROOT, require.resolve(`@rewind/${p}${entry.slice(1)}`));
      expect(resolved, entry).toMatch(new RegExp(`^packages/${p}/src/.+\\.ts$`));
    }
  });

  it("ships the repository's LICENSE, a changelog with this version, and a README with a tested example", () => {
    expect(read(`packages/${p}/LICENSE`)).toBe(read("LICENSE"));
    const changelog = read(`packages/${p}/CHANGELOG.md`);
    expect(changelog.startsWith(`# @rewind/${p}\n`)).toBe(true);
    expect(changelog).toContain(`\n## ${version}\n`);
    const readme = read(`packages/${p}/README.md`);
    const blocks = readmeBlocks(join(ROOT, "packages", p, "README.md"));
    expect(blocks.length).toBeGreaterThan(0);
    // Every Rewind package the example imports is in the README's install line.
    const install = /^npm install (?:--save-dev )?(.+)$/m.exec(readme)?.[1]?.split(" ") ?? [];
    for (const b of blocks)
      for (const [, pkg] of b.code.matchAll(/from "(@rewind\/[a-z]+)/g))
        expect(install, `${b.name} imports ${pkg}`).toContain(pkg);
    // The link lands on the root README's section of that name.
    const repo = m.repository?.url.replace(/^git\+/, "").replace(/\.git$/, "");
    expect(readme).toContain(`]: ${repo}#api-reference\n`);
    expect(read("README.md")).toMatch(/^## API reference$/m);
  });
});

/** Lines at the top level of a module's text that do something when it is imported (a heuristic: a top-level `const x = register()` is not seen). */
const effectLines = (text: string): string[] =>
  text
    .split("\n")
    .filter(
      (l) =>
        /^[A-Za-z_$][\w$.]*\s*(\(|=[^=>])/.test(l) &&
        !/^(export|import|const|let|var|function|class|type|interface|declare|enum|async|abstract)\b/.test(l),
    );
const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) =>
    statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : f.endsWith(".ts") ? [join(dir, f)] : [],
  );

describe("sideEffects", () => {
  // core.ts defines a getter on its own class Tracer's prototype: it matters only where that
  // module's exports are used, so a bundler dropping the unused module loses nothing.
  const harmless = new Set(["packages/autodiff/src/core.ts"]);

  it("lists every module that acts when imported; the others may be dropped by bundlers", () => {
    for (const p of PACKAGES) {
      const declared = manifest(p).sideEffects;
      const found = walk(join(ROOT, "packages", p, "src"))
        .filter((f) => effectLines(readFileSync(f, "utf8")).length > 0)
        .map((f) => relative(ROOT, f))
        .filter((f) => !harmless.has(f));
      const expected = found.flatMap((f) => [
        `./${relative(`packages/${p}`, f)
          .replace(/^src\//, "dist/")
          .replace(/\.ts$/, ".js")}`,
        `./${relative(`packages/${p}`, f)}`,
      ]);
      expect(declared, p).toEqual(expected.length === 0 ? false : expected);
    }
  });

  it("finds a top-level call or assignment, and not declarations", () => {
    const text = [
      "expect.extend({ toBeAllClose });",
      'Object.defineProperty(A.prototype, "x", {});',
      "x = 1;",
      "const y = f();",
      "export const z = 1;",
      "  indented();",
      "a == b;",
      "// c();",
    ].join("\n");
    expect(effectLines(text)).toEqual([
      "expect.extend({ toBeAllClose });",
      'Object.defineProperty(A.prototype, "x", {});',
      "x = 1;",
    ]);
  });
});

describe("the workspace", () => {
  it("keeps the root private, and versions the five packages together with changesets", () => {
    expect(root.private).toBe(true);
    const config = JSON.parse(read(".changeset/config.json")) as {
      fixed: string[][];
      access: string;
      privatePackages: { version: boolean };
    };
    expect(config.fixed).toEqual([PACKAGES.map((p) => `@rewind/${p}`)]);
    expect(config.access).toBe("public");
    expect(config.privatePackages.version).toBe(false);
  });

  it("shows in the README's Install section the npm install line and a plain-Node example that imports only those packages", () => {
    const readme = read("README.md");
    const install = readme.slice(
      readme.indexOf("## Install"),
      readme.indexOf("\n## ", readme.indexOf("## Install") + 1),
    );
    expect(install).toContain("npm install @rewind/tensor @rewind/autodiff @rewind/rnn @rewind/optim\n");
    const app = readmeBlocks(join(ROOT, "README.md")).find((b) => b.name === "app.mjs");
    expect(app?.output).toMatch(/^loss .* -> .*\nreloaded 5 parameters from lstm\.safetensors, identical: true\n$/);
    expect(install).toContain(app?.code.trim());
    const imported = [...(app?.code ?? "").matchAll(/from "(@rewind\/[a-z]+)(\/node)?"/g)].map((m) => m[1]);
    expect(new Set(imported)).toEqual(new Set(["@rewind/tensor", "@rewind/autodiff", "@rewind/rnn", "@rewind/optim"]));
  });
});
