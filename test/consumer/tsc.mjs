/**
 * @file The consumer settings the published declarations are type-checked under. Every run has
 * `skipLibCheck: false`, so tsc checks the declarations in node_modules (Rewind's and those they
 * import, such as immutable's) as well as the consumer's code.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { StepFailure } from "./steps.mjs";

const base = { target: "ES2022", lib: ["ES2022"], types: ["node"], noEmit: true, skipLibCheck: false };
const nodenext = { module: "nodenext", moduleResolution: "nodenext" };
const bundler = { module: "esnext", moduleResolution: "bundler" };
/** The strictest flags a consumer may set; a superset of `strict: true`, so it covers "strict" too. */
const strictest = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noPropertyAccessFromIndexSignature: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  erasableSyntaxOnly: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
};

/** Name, compiler options and files of each run. */
export const TSC_RUNS = [
  {
    name: "nodenext, strictest (strict + exactOptionalPropertyTypes, noUncheckedIndexedAccess, erasableSyntaxOnly, …)",
    options: { ...nodenext, ...strictest },
    files: ["consumer.ts"],
  },
  { name: "nodenext, strict off", options: { ...nodenext, strict: false }, files: ["consumer.ts"] },
  { name: "bundler, strict", options: { ...bundler, strict: true }, files: ["consumer.ts"] },
  { name: "bundler, strict off", options: { ...bundler, strict: false }, files: ["consumer.ts"] },
  {
    name: "browser: bundler, strict, lib DOM, no Node types (core entry points only)",
    options: { ...bundler, strict: true, lib: ["ES2022", "DOM"], types: [] },
    files: ["core.ts"],
    noNodeTypes: true,
  },
];

/** Runs one command, resolving to its exit code, combined output and time. */
const exec = (cmd, args, cwd) =>
  new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code, signal) =>
      resolve({ status: code ?? `signal ${signal}`, out, ms: performance.now() - started }),
    );
    child.on("error", (e) => resolve({ status: e.message, out, ms: performance.now() - started }));
  });

/**
 * Runs tsc once per setting in `dir` (which holds the consumer files and node_modules), as many
 * at once as there are cores (at most 2: each takes ~0.5 GB), prints each run in order and fails
 * the step on any error; errors inside node_modules/@rewind are counted apart as Rewind's.
 * @example await checkTypes(consumerDir)
 */
export const checkTypes = async (dir) => {
  const tsc = join(dir, "node_modules", "typescript", "bin", "tsc");
  const runs = TSC_RUNS.map((t, i) => {
    const config = `tsconfig.${i + 1}.json`;
    writeFileSync(
      join(dir, config),
      JSON.stringify({ compilerOptions: { ...base, ...t.options }, files: t.files }, null, 2),
    );
    return { ...t, config, args: [tsc, "-p", config, ...(t.noNodeTypes ? ["--listFiles"] : [])] };
  });
  const results = new Array(runs.length);
  let next = 0;
  const worker = async () => {
    while (next < runs.length) {
      const i = next++;
      results[i] = await exec(process.execPath, runs[i].args, dir);
    }
  };
  await Promise.all(Array.from({ length: Math.min(2, availableParallelism()) }, worker));
  const failures = [];
  runs.forEach((t, i) => {
    const r = results[i];
    console.log(`  [${i + 1}/${runs.length}] ${t.name}`);
    console.log(
      `    $ tsc -p ${t.config}${t.noNodeTypes ? " --listFiles" : ""}   # ${t.files.join(", ")} with ${JSON.stringify({ ...base, ...t.options })}`,
    );
    const lines = r.out.split("\n");
    const errors = lines.filter((l) => /error TS\d+/.test(l));
    const fromRewind = errors.filter((l) => l.includes("node_modules/@rewind/"));
    for (const l of errors) console.log(`    ${l}`);
    const nodeTypes = lines.filter((l) => l.includes("/node_modules/@types/node/"));
    const extra = t.noNodeTypes ? `; files of @types/node in the program: ${nodeTypes.length}` : "";
    console.log(
      `    → exit ${r.status} in ${(r.ms / 1000).toFixed(1)} s: ${errors.length} errors, ${fromRewind.length} of them in Rewind's declarations${extra}`,
    );
    if (r.status !== 0 || errors.length > 0)
      failures.push(`${t.name}: ${errors.length} errors (${fromRewind.length} from Rewind), exit ${r.status}`);
    if (t.noNodeTypes && nodeTypes.length > 0)
      failures.push(`${t.name}: @types/node entered the program (${nodeTypes[0]})`);
  });
  if (failures.length > 0) throw new StepFailure(failures.join("; "));
};
