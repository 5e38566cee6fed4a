/**
 * @file The code generation policy (src/wasm/policy.ts): each kind is probed once, only when asked,
 * and a refusal is reported once with a warning that says what was refused, what runs instead,
 * that results do not change, and how to silence it. The first refusal probes the other kind, so
 * one warning names both; a kind the program opted out of is never probed that way. The engine's
 * refusals are stubs here (a `Function` that throws the EvalError of a strict CSP, a
 * `WebAssembly.Module` that throws its CompileError); test/csp.test.ts runs the real thing in
 * child processes, through jit and an LSTM.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { codegenRefused, codegenWarning, declineCodegen, resetCodegenProbes } from "../src/wasm/policy.js";
import { setKernelBackend } from "../src/kernels/backend.js";

const realWasm = (globalThis as unknown as { WebAssembly: object }).WebAssembly;
const made = { functions: 0, modules: 0 };

/** Engines refusing `new Function`, WebAssembly compilation, or neither; each counts its attempts. */
const engine = (refuse: { eval: boolean; wasm: boolean }): void => {
  const RealFunction = Function;
  vi.stubGlobal("Function", function (...args: string[]) {
    made.functions++;
    if (refuse.eval)
      throw new EvalError(
        "Refused to evaluate a string as JavaScript because 'unsafe-eval' is not an allowed source of script",
      );
    return RealFunction(...args);
  });
  const RealModule = (realWasm as { Module: new (b: Uint8Array) => object }).Module;
  const Module = function (bytes: Uint8Array) {
    made.modules++;
    if (refuse.wasm)
      throw new Error(
        "WebAssembly.Module(): Refused to compile or instantiate WebAssembly module because 'wasm-unsafe-eval' is not an allowed source of script",
      );
    return new RealModule(bytes);
  };
  vi.stubGlobal("WebAssembly", Object.assign(Object.create(realWasm) as object, { Module }));
};

let warn: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  resetCodegenProbes();
  made.functions = 0;
  made.modules = 0;
  warn = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  resetCodegenProbes();
  setKernelBackend("auto");
});

describe("the code generation policy", () => {
  it("probes a kind only when asked and only once; an allowed engine gets no warning", () => {
    engine({ eval: false, wasm: false });
    expect(made).toEqual({ functions: 0, modules: 0 });
    expect([codegenRefused("eval"), codegenRefused("eval"), codegenRefused("wasm"), codegenRefused("wasm")]).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(made).toEqual({ functions: 1, modules: 1 });
    expect(warn).not.toHaveBeenCalled();
  });

  it("a refused new Function is reported once, with the cause, the fallback, the unchanged results and the opt-out", () => {
    engine({ eval: true, wasm: false });
    expect([codegenRefused("eval"), codegenRefused("eval"), codegenRefused("wasm")]).toEqual([true, true, false]);
    expect(warn).toHaveBeenCalledTimes(1);
    const text = String(warn.mock.calls[0]![0]);
    expect(text).toBe(codegenWarning(["eval"]));
    expect(text).toContain(
      "forbids generating JavaScript from strings (a Content-Security-Policy without 'unsafe-eval'",
    );
    expect(text).toContain("jit runs its graphs with the interpreter");
    expect(text).toContain("same bit for bit");
    expect(text).toContain('setJitMode("interpret")');
    expect(text).not.toContain("WebAssembly");
    expect(made).toEqual({ functions: 1, modules: 1 });
  });

  it("the first refusal probes the other kind, so one warning names both", () => {
    engine({ eval: true, wasm: true });
    expect(codegenRefused("wasm")).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toBe(codegenWarning(["eval", "wasm"]));
    // Both answers are cached: nothing is probed or reported again.
    expect([codegenRefused("eval"), codegenRefused("wasm")]).toEqual([true, true]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(made).toEqual({ functions: 1, modules: 1 });
    expect(codegenWarning(["eval", "wasm"])).toContain("allow 'unsafe-eval' and 'wasm-unsafe-eval'");
    expect(codegenWarning(["eval", "wasm"])).toContain(
      'setJitMode("interpret") from @rewind/autodiff and setKernelBackend("js") from @rewind/tensor',
    );
  });

  it("a kind the program opted out of is not probed by another's refusal; found later, it gets its own warning", () => {
    engine({ eval: true, wasm: true });
    setKernelBackend("js"); // declines WebAssembly
    expect(codegenRefused("eval")).toBe(true);
    expect(made.modules).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toBe(codegenWarning(["eval"]));
    setKernelBackend("auto");
    expect(codegenRefused("wasm")).toBe(true);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(String(warn.mock.calls[1]![0])).toBe(codegenWarning(["wasm"]));
    // The same with the kinds swapped (setJitMode("interpret") declines eval this way).
    resetCodegenProbes();
    made.functions = 0;
    declineCodegen("eval", true);
    expect(codegenRefused("wasm")).toBe(true);
    expect(made.functions).toBe(0);
    expect(String(warn.mock.calls[2]![0])).toBe(codegenWarning(["wasm"]));
  });

  it("an engine without WebAssembly refuses nothing (its callers use JavaScript silently)", () => {
    vi.stubGlobal("WebAssembly", undefined);
    expect(codegenRefused("wasm")).toBe(false);
    expect(warn).not.toHaveBeenCalled();
  });

  it('setKernelBackend("wasm") where WebAssembly compilation is refused says so', async () => {
    engine({ eval: false, wasm: true });
    // A fresh module graph: the kernels' compiled runtimes are cached per process.
    vi.resetModules();
    try {
      const fresh = await import("../src/kernels/backend.js");
      expect(() => fresh.setKernelBackend("wasm")).toThrow(
        /setKernelBackend: this engine refuses to compile WebAssembly \(a Content-Security-Policy without 'wasm-unsafe-eval'\)/,
      );
      expect(fresh.getKernelBackend()).toEqual({ setting: "auto", large: "js" });
    } finally {
      vi.resetModules();
    }
  });
});
