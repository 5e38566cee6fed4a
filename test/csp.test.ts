/**
 * @file jit under a strict Content-Security-Policy, simulated in Node: each case runs
 * test/csp/child.ts in its own process (so each probes and warns as a fresh page would), on an
 * engine that refuses `new Function` (`node --disallow-code-generation-from-strings`, the EvalError
 * of a CSP without 'unsafe-eval'), WebAssembly compilation (the CompileError of a CSP without
 * 'wasm-unsafe-eval'), or both. Every case trains the same LSTM three steps and must give the
 * bits of the compiled run here (WebAssembly SIMD loops and all), with exactly one warning naming
 * what was refused and how to silence it; the opt-outs (`setJitMode("interpret")`,
 * `setKernelBackend("js")`) silence it without generating, or trying to generate, any code.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./interrupt/harness.js";
import { trainLstm, type RunResult } from "./csp/lstmStep.js";

const run = promisify(execFile);
const NO_EVAL = "--disallow-code-generation-from-strings";

interface ChildResult extends RunResult {
  readonly warnings: readonly string[];
  /** Code generated or tried while the packages loaded, and in all. */
  readonly atImport: { readonly functions: number; readonly wasmModules: number };
  readonly after: { readonly functions: number; readonly wasmModules: number };
}

const child = async (nodeFlags: readonly string[], args: readonly string[]): Promise<ChildResult> => {
  const { stdout } = await run(
    process.execPath,
    [...nodeFlags, "--import", "tsx", join(ROOT, "test", "csp", "child.ts"), ...args],
    { cwd: ROOT, timeout: 120_000 },
  );
  return JSON.parse(stdout) as ChildResult;
};

const CASES = {
  evalRefused: [[NO_EVAL], []],
  wasmRefused: [[], ["--refuse-wasm"]],
  bothRefused: [[NO_EVAL], ["--refuse-wasm"]],
  optedOutOfBoth: [[NO_EVAL], ["--refuse-wasm", "--interpret", "--js-kernels"]],
} as const;
let got: Record<keyof typeof CASES, ChildResult>;
let reference: RunResult;

beforeAll(async () => {
  // The children run side by side while this process computes the reference.
  const pending = Promise.all(Object.values(CASES).map(([flags, args]) => child(flags, args)));
  reference = trainLstm(3, true);
  const results = await pending;
  got = Object.fromEntries(Object.keys(CASES).map((k, i) => [k, results[i]!])) as typeof got;
}, 180_000);

const EVAL_CAUSE = /forbids generating JavaScript from strings \(a Content-Security-Policy without 'unsafe-eval'/;
const WASM_CAUSE = /compiling WebAssembly \(a Content-Security-Policy without 'wasm-unsafe-eval'\)/;

describe("jit where the engine refuses to generate code (a strict Content-Security-Policy)", () => {
  it("the reference is the compiled run with WebAssembly SIMD loops", () => {
    expect(reference.compiled).toEqual({ simdKernels: expect.any(Number) });
    expect((reference.compiled as { simdKernels: number }).simdKernels).toBeGreaterThan(0);
    expect(reference.bits).toHaveLength(3 + 6); // 3 losses; LSTM weights and biases, readout weight and bias
  });

  it("new Function refused: jit interprets, same bits, one warning naming the cause and setJitMode", () => {
    const r = got.evalRefused;
    expect(r.bits).toEqual(reference.bits);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(EVAL_CAUSE);
    expect(r.warnings[0]).toContain('setJitMode("interpret")');
    expect(r.warnings[0]).toContain("same bit for bit");
    expect(r.warnings[0]).not.toMatch(/WebAssembly/);
    // One probe, at the first jit call, and no compile attempt after it; the kernels kept WebAssembly.
    expect(r.atImport).toEqual({ functions: 0, wasmModules: 0 });
    expect(r.after.functions).toBe(1);
    expect(r.after.wasmModules).toBeGreaterThan(1);
    // compileGraph itself says why it cannot run, and what to do.
    expect(r.compiled).toEqual({
      refused: expect.stringMatching(
        /^compileGraph: this engine refuses to generate JavaScript .*call the function through jit/,
      ),
    });
  });

  it("WebAssembly refused: the kernels and jit's loops run JavaScript, jit still compiles, same bits, one warning", () => {
    const r = got.wasmRefused;
    expect(r.bits).toEqual(reference.bits);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(WASM_CAUSE);
    expect(r.warnings[0]).toContain('setKernelBackend("js")');
    expect(r.warnings[0]).not.toMatch(/JavaScript from strings/);
    expect(r.compiled).toEqual({ simdKernels: 0 });
    // One refused module (the probe), after which nothing tries WebAssembly again.
    expect(r.after.wasmModules).toBe(1);
  });

  it("both refused: jit interprets on the JavaScript kernels, same bits, and one warning names both causes and both opt-outs", () => {
    const r = got.bothRefused;
    expect(r.bits).toEqual(reference.bits);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(EVAL_CAUSE);
    expect(r.warnings[0]).toMatch(WASM_CAUSE);
    expect(r.warnings[0]).toContain(
      'setJitMode("interpret") from @rewind/autodiff and setKernelBackend("js") from @rewind/tensor',
    );
    expect(r.after).toEqual({ functions: 1, wasmModules: 1 });
  });

  it('setJitMode("interpret") and setKernelBackend("js") where both are refused: same bits, no warning, no code generation tried', () => {
    const r = got.optedOutOfBoth;
    expect(r.bits).toEqual(reference.bits);
    expect(r.warnings).toEqual([]);
    expect(r.after).toEqual({ functions: 0, wasmModules: 0 });
    expect(r.compiled).toBe("not asked");
  });
});
