/**
 * @file The architecture's rules, checked on the sources: dependencies point one way, no import
 * cycles, no Node-only API in the core packages, no Math.random in library code, no backward
 * code in @rewind/rnn (BPTT must come from differentiating scan), and the tensor package's
 * internal codegen entry used by the compiler alone.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const packages = readdirSync(join(root, "packages")).filter((p) =>
  statSync(join(root, "packages", p, "src")).isDirectory(),
);

const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
  });

const sources = new Map(packages.map((p) => [p, walk(join(root, "packages", p, "src"))]));

/** Runtime imports of a file (type-only imports and re-exports are erased, so they cannot cycle). */
const runtimeImports = (file: string): string[] => {
  const text = readFileSync(file, "utf8");
  const specs: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)";/gms))
    if (m[1] === undefined) specs.push(m[2]!);
  return specs;
};

/** Every module specifier a file names: static imports, re-exports, side-effect imports and dynamic `import()`. */
const allSpecifiers = (text: string): string[] => [
  ...[...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']/gms)].map((m) => m[1]!),
  ...[...text.matchAll(/^\s*import\s+["']([^"']+)["']/gm)].map((m) => m[1]!),
  ...[...text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!),
];

/** Node's built-in modules, with and without the `node:` prefix (fs, path, crypto, url, util, stream, …). */
const nodeBuiltins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`, m.split("/")[0]!]));

/** Non-comment source lines of a file. */
const codeLines = (file: string): string[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => !/^\s*(\/\/|\*|\/\*\*)/.test(l));

describe("architecture", () => {
  it("dependencies point one way: tensor ← autodiff ← {rnn, optim, workers, onnx}; testing beside them", () => {
    const allowed: Record<string, readonly string[]> = {
      tensor: [],
      autodiff: ["tensor"],
      rnn: ["tensor", "autodiff"],
      optim: ["tensor", "autodiff"],
      testing: ["tensor", "autodiff", "rnn", "optim"],
      workers: ["tensor", "autodiff"],
      onnx: ["tensor", "autodiff"],
      webgpu: ["tensor", "autodiff"],
    };
    for (const [pkg, files] of sources) {
      for (const file of files) {
        for (const spec of runtimeImports(file)) {
          const m = /^@rewind\/([a-z]+)/.exec(spec);
          if (m) expect(allowed[pkg] ?? [], `${relative(root, file)} imports ${spec}`).toContain(m[1]);
        }
      }
    }
  });

  it("no runtime import cycles inside a package", () => {
    for (const files of sources.values()) {
      const graph = new Map(
        files.map((f) => [
          f,
          runtimeImports(f)
            .filter((s) => s.startsWith("."))
            .map((s) => resolve(dirname(f), s.replace(/\.js$/, ".ts"))),
        ]),
      );
      const state = new Map<string, "visiting" | "done">();
      const visit = (f: string, path: string[]): void => {
        if (state.get(f) === "done") return;
        if (state.get(f) === "visiting")
          throw new Error(`import cycle: ${[...path, f].map((p) => relative(root, p)).join(" → ")}`);
        state.set(f, "visiting");
        for (const g of graph.get(f) ?? []) visit(g, [...path, f]);
        state.set(f, "done");
      };
      for (const f of files) visit(f, []);
    }
  });

  // Node-only code lives in a package's src/node.ts entry, or under src/node/ behind it (workers' pmap).
  it("core packages use no Node-only API outside their node entry points", () => {
    // Every core package is checked, and each has sources (a renamed src/ would otherwise pass vacuously).
    expect([...sources.keys()].sort()).toEqual(
      expect.arrayContaining(["autodiff", "optim", "rnn", "tensor", "testing", "workers", "onnx"]),
    );
    for (const [pkg, files] of sources) expect(files.length, `packages/${pkg}/src has no .ts files`).toBeGreaterThan(0);
    for (const files of sources.values()) {
      for (const file of files.filter((f) => !f.endsWith("/src/node.ts") && !f.includes("/src/node/"))) {
        const text = codeLines(file).join("\n");
        for (const spec of allSpecifiers(text)) {
          expect(nodeBuiltins.has(spec), `${relative(root, file)} imports the Node module "${spec}"`).toBe(false);
          // …nor reach Node-only code through a relative import.
          expect(spec, `${relative(root, file)} imports Node-only code`).not.toMatch(/^\.{1,2}\/(.*\/)?node(\/|\.js$)/);
        }
        expect(text, relative(root, file)).not.toMatch(
          /(?<![\w/.])(process\.|require\(|Buffer\.(from|alloc|concat)|__dirname|__filename|setImmediate\()/,
        );
      }
    }
  });

  it("the Node-only check recognises every form of import", () => {
    const specs = allSpecifiers(
      'import { a } from "node:fs";\nexport * from "path";\nimport "os";\nconst m = await import("crypto");\nimport type { X } from \'./x.js\';',
    );
    expect(specs.filter((s) => nodeBuiltins.has(s)).sort()).toEqual(["crypto", "node:fs", "os", "path"]);
    expect(nodeBuiltins.has("@rewind/tensor")).toBe(false);
  });

  it("library code draws randomness only from keys", () => {
    for (const files of sources.values())
      for (const file of files) expect(codeLines(file).join("\n"), relative(root, file)).not.toMatch(/Math\.random/);
  });

  // Each internal entry point of @rewind/tensor, and the only files that may import it.
  const INTERNAL_ENTRIES: ReadonlyArray<readonly [string, RegExp]> = [
    // The compiler, the kernel threads that compute row ranges of its products (Node only; their request
    // fields included) and their tests (the property test reads the size under which products stay in JS),
    // and the WebGPU sampler (the CPU's range of uniform samples).
    [
      "@rewind/tensor/internal/codegen",
      /^(packages\/autodiff\/src\/compile\/|packages\/workers\/src\/node\/kernel(Threads?|Protocol)\.ts$|test\/kernel-threads(\.property)?\.test\.ts$|packages\/webgpu\/src\/wgsl\/random\.ts$)/,
    ],
    ["@rewind/tensor/internal/untrusted", /^packages\/optim\/src\/(checkpoint|checkpointMeta|treeSpecRead)\.ts$/],
    // Zero-copy wrapping: only for results a worker transferred to pmap's main thread, placed values
    // (shared memory that stays unwritten while their handle is usable), and psum's sums (buffers
    // the collective just allocated and filled).
    ["@rewind/tensor/internal/buffers", /^packages\/workers\/src\/(results|layout|collective)\.ts$/],
    // The shared options check: Rewind's packages and the suites that test them, never an example or a benchmark.
    [
      "@rewind/tensor/internal/check",
      /^(packages\/(autodiff|rnn|optim|testing|tensor|workers|webgpu|onnx)\/(src|test)\/|test\/)/,
    ],
  ];
  it.each(INTERNAL_ENTRIES)("only its intended readers import %s", (entry, allowed) => {
    const everywhere = ["packages", "examples", "bench", "test"].flatMap((d) =>
      walk(join(root, d)).filter((f) => !f.includes("node_modules") && !f.includes("/dist/")),
    );
    const users = everywhere.filter((f) => allSpecifiers(readFileSync(f, "utf8")).includes(entry));
    expect(users.length, "its importers are found (the check is not vacuous)").toBeGreaterThan(0);
    for (const f of users) expect(relative(root, f), `imports ${entry}`).toMatch(allowed);
  });

  it("@rewind/rnn holds no backward code", () => {
    for (const file of sources.get("rnn") ?? []) {
      expect(codeLines(file).join("\n"), relative(root, file)).not.toMatch(
        /\b(vjp|pullback|backwardPass|bpttGrad|dW|dh_next)\b|\bbackward\s*\(/i,
      );
    }
  });
});
