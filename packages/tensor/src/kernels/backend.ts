/**
 * @file Which float32 kernels run: WebAssembly SIMD or JavaScript. They give identical bits, so
 * the setting only ever changes speed; tests pin each in turn to check exactly that.
 */
import { fail } from "../errors.js";
import { wasmMatmulAvailable } from "../wasm/matmulRuntime.js";
import { codegenRefused, declineCodegen } from "../wasm/policy.js";

/**
 * Which float32 kernels run — matmul, and `exp`/`tanh`/`sigmoid` of float32 tensors: `"auto"`
 * (default) picks WebAssembly SIMD when available and the work is large enough to pay for the
 * call, else JS; `"wasm"` and `"js"` pin one, for tests and benchmarks. The compiler reads it too
 * (`"js"`: no SIMD loops). All give identical bits, so this only ever changes speed. Where the
 * engine refuses to compile WebAssembly (a Content-Security-Policy without 'wasm-unsafe-eval'),
 * `"auto"` runs JavaScript and warns once; `"js"` silences that warning.
 */
export type KernelBackend = "auto" | "wasm" | "js";
let backend: KernelBackend = "auto";

/**
 * Pins the float32 kernels (see `KernelBackend`) and returns the previous setting (to restore it).
 * @throws TensorException (`ValueError`) for `"wasm"` where WebAssembly SIMD is unavailable.
 * @example
 * const before = setKernelBackend("js");
 * try { matmul(a, b); } finally { setKernelBackend(before); }
 */
export const setKernelBackend = (next: KernelBackend): KernelBackend => {
  if (next !== "auto" && next !== "wasm" && next !== "js") {
    fail({
      _tag: "ValueError",
      op: "setKernelBackend",
      arg: "next",
      detail: `unknown backend ${typeof next === "string" ? JSON.stringify(next) : typeof next}`,
      fix: 'use "auto", "wasm" or "js"',
    });
  }
  if (next === "wasm" && !wasmMatmulAvailable()) {
    const detail = codegenRefused("wasm")
      ? "this engine refuses to compile WebAssembly (a Content-Security-Policy without 'wasm-unsafe-eval')"
      : "WebAssembly SIMD is not available in this engine";
    fail({
      _tag: "ValueError",
      op: "setKernelBackend",
      arg: "next",
      detail,
      fix: 'use "auto" or "js" (same results, slower)',
    });
  }
  const before = backend;
  backend = next;
  // "js" opts out of WebAssembly: a refusal found elsewhere then neither probes nor mentions it.
  declineCodegen("wasm", next === "js");
  return before;
};

/**
 * The current float32 kernel setting, and which kernel `"auto"` resolves to for large products.
 * @example getKernelBackend() // { setting: "auto", large: "wasm" } on Node 20
 */
export const getKernelBackend = (): {
  /** What `setKernelBackend` last set (default `"auto"`). */
  readonly setting: KernelBackend;
  /** The kernel large float32 products run on now: `"wasm"` where SIMD is available and allowed. */
  readonly large: "wasm" | "js";
} => ({
  setting: backend,
  large: backend !== "js" && wasmMatmulAvailable() ? "wasm" : "js",
});

/**
 * The current setting, for the kernels (cheaper than `getKernelBackend`).
 * @example kernelBackend() // "auto"
 */
export const kernelBackend = (): KernelBackend => backend;
