/**
 * @file The slice of the WebAssembly JS API this repository uses, typed here because the
 * packages compile without DOM typings; one place for the matmul runtime, the float32 map and
 * the compiler.
 */

/** A WebAssembly linear memory: its current buffer, and growth by 64 KiB pages. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** The constructors and the validator used to build and run generated modules. */
export interface WasmApi {
  readonly Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

/**
 * The engine's WebAssembly API, or undefined where there is none (read when called, so a test
 * that stubs the global sees its stub).
 * @example const memory = new (wasmApi()!.Memory)({ initial: 1 })
 */
export const wasmApi = (): WasmApi | undefined => (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
