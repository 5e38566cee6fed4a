/**
 * @file Internal entry point `@rewind/tensor/internal/codegen`: the pieces a compiler needs to
 * generate kernels that agree with this package bit for bit. Its only user is the autodiff
 * compiler (test/architecture.test.ts checks that nothing else imports it); it is not part of the
 * public API, so it makes no stability promise and checks no arguments (its callers generate them).
 * - the WebAssembly module emitter and the SIMD float32 e^x / logistic / tanh emitters;
 * - their scalar definitions, which the float32 tensor kernels use, for generated JavaScript;
 * - the feature test and a typed handle on the engine's WebAssembly API (this package compiles
 *   without DOM typings);
 * - whether the engine refuses run-time code generation (a Content-Security-Policy), probed once
 *   and warned about once for the whole process;
 * - the cumulative kernels and linearScan writing into a given array (the compiler's buffers);
 * - the matmul kernels on a shared memory and the hook through which @rewind/workers/node gives
 *   compiled runners kernel threads (`arenaThreads`);
 * - the range of `uniform`'s samples, for generators that draw them on another device.
 */
export { encodeModule, FunctionBuilder, f32, i32, v128, type SimdOp, type ValType } from "./wasm/emitter.js";
export { emitExpF32x4, emitSigmoidF32x4, emitTanhF32x4 } from "./wasm/f32mathWasm.js";
export { expF32, sigmoidF32, tanhF32 } from "./kernels/f32math.js";
export { productInto, WASM_MIN_MACS } from "./kernels/matmul.js";
export { cumulativeInto, type CumulativeOp } from "./kernels/cumulative.js";
export { linearScanInto } from "./kernels/linearScan.js";
export { productScratchBytes, simdAvailable, type ArenaProduct } from "./wasm/matmulRuntime.js";
export {
  arenaKernels,
  packedBBytes,
  type ArenaKernels,
  type ArenaMatmul,
  type SecondProduct,
} from "./wasm/matmulArena.js";
export { shareMemoryImport, sharedArenaKernels } from "./wasm/sharedKernels.js";
export {
  arenaThreads,
  setArenaThreads,
  type ArenaThreads,
  type LoopKernel,
  type LoopSplit,
  type ThreadedArena,
} from "./wasm/arenaThreads.js";
export { wasmApi, type WasmApi, type WasmMemory } from "./wasm/api.js";
export { uniformRange } from "./uniformRange.js";
export { codegenRefused, declineCodegen, type Codegen } from "./wasm/policy.js";
