/**
 * @file A child process for csp.test.ts: an engine that refuses code generation the way a page
 * with a strict Content-Security-Policy does, then the LSTM run of lstmStep.ts.
 *
 * `node --disallow-code-generation-from-strings` refuses `new Function` with an EvalError, as a
 * CSP without 'unsafe-eval' does. That flag leaves WebAssembly alone in Node 20, so
 * `--refuse-wasm` makes `WebAssembly.Module`, `compile`, `instantiate` and their streaming forms
 * throw the CompileError a CSP without 'wasm-unsafe-eval' throws. Both are in place before any
 * Rewind module loads. `--interpret` calls `setJitMode("interpret")` and `--js-kernels`
 * `setKernelBackend("js")` before the first jit call (and leaves out the final `compileGraph`).
 *
 * Prints one JSON line: the warnings, how many times code was generated (or tried) before and
 * after the run — `new Function` or `Function()`, and WebAssembly modules — and the run's result.
 */
const args = new Set(process.argv.slice(2));

const counts = { functions: 0, wasmModules: 0 };
const RealFunction = Function;
// Counts every construction (refused or not) and still lets the engine decide.
globalThis.Function = new Proxy(RealFunction, {
  construct: (target, a: unknown[], newTarget) => {
    counts.functions++;
    return Reflect.construct(target, a, newTarget === globalThis.Function ? target : newTarget) as object;
  },
  apply: (target, self, a: unknown[]) => {
    counts.functions++;
    return Reflect.apply(target, self, a) as unknown;
  },
});

// The root tests compile without DOM typings, where WebAssembly has no value type.
const wasm = (
  globalThis as unknown as {
    WebAssembly: Record<string, unknown> & { CompileError: ErrorConstructor; Module: new (b: Uint8Array) => object };
  }
).WebAssembly;
const refused = (): Error =>
  new wasm.CompileError(
    "WebAssembly.Module(): Refused to compile or instantiate WebAssembly module because 'wasm-unsafe-eval' is not an allowed source of script",
  );
const RealModule = wasm.Module;
wasm["Module"] = new Proxy(RealModule, {
  construct: (target, a: unknown[]) => {
    counts.wasmModules++;
    if (args.has("--refuse-wasm")) throw refused();
    return Reflect.construct(target, a) as object;
  },
});
if (args.has("--refuse-wasm")) {
  for (const name of ["compile", "instantiate", "compileStreaming", "instantiateStreaming"]) {
    wasm[name] = () => {
      counts.wasmModules++;
      return Promise.reject(refused());
    };
  }
}

const warnings: string[] = [];
console.warn = (...a: unknown[]) => void warnings.push(a.map(String).join(" "));

const A = await import("@rewind/autodiff");
const T = await import("@rewind/tensor");
const { trainLstm } = await import("./lstmStep.js");
const atImport = { ...counts };
if (args.has("--interpret")) A.setJitMode("interpret");
if (args.has("--js-kernels")) T.setKernelBackend("js");
const result = trainLstm(3, !args.has("--interpret"));
process.stdout.write(`${JSON.stringify({ warnings, atImport, after: counts, ...result })}\n`);
