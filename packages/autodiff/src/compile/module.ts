/**
 * @file The generated module under construction: the buffer pool, constants, kernel functions
 * (deduplicated by text), fresh identifiers, and the final assembly of the source.
 *
 * With `simd` on, qualifying float32 loops become WebAssembly SIMD kernels (`simdLoop.ts`) and
 * float32 products run on WebAssembly memory (`arena.ts`); the runner then owns one fixed-size
 * WebAssembly memory holding its planned float32 buffers (so those kernels read and write them in
 * place) followed by a staging area for operands that live elsewhere, then the packing slots
 * of products whose b is packed once and reused (`packedMatmul`).
 *
 * Nothing from the graph reaches the source as text: numbers and objects (constant buffers,
 * offset tables, dtype/shape descriptors, fallback closures) are handed to the generated code as
 * the arrays `S` (scalars) and `C` (objects) and named by generated identifiers. What the generated
 * code reads, and the place expressions the emitters write, are in scope.ts.
 */
import type { DType, Tensor } from "@rewind/tensor";
import {
  encodeModule,
  arenaThreads,
  packedBBytes,
  wasmApi,
  type FunctionBuilder,
  type LoopKernel,
  type ThreadedArena,
  type WasmApi,
} from "@rewind/tensor/internal/codegen";
import { EW_PRELUDE } from "./ewOps.js";
import { genLoop, type KernelText, type LoopSpec } from "./loopgen.js";
import { emitSimdLoop, planSimd, type SimdPlan } from "./simdLoop.js";
import { simdWrapper, stagingBytes, type SplitCall } from "./simdWrap.js";
import { loopParts } from "./loopSplit.js";
import { arenaMatmulBytes, arenaPairBytes, makeArenaMatmul, onArena, slotAddresses } from "./arena.js";
import { holdBuffers } from "./owned.js";
import { Pool } from "./pool.js";
import { HELPERS, type GeneratedRun, type ModuleScope } from "./scope.js";

/** Fused loops smaller than this stay in JavaScript: the call into WebAssembly would not pay. */
const SIMD_MIN_ELEMENTS = 128;

/**
 * The generated module under construction (see the file comment).
 * @example const mod = new Module(); const run = mod.instantiate(mod.source(["  return [];"])); run([], []) // []
 */
export class Module {
  readonly pool = new Pool();
  readonly #simdKernels: FunctionBuilder[] = [];
  readonly #simdWrappers: Array<{
    spec: LoopSpec;
    plan: SimdPlan;
    name: string;
    kernel: string;
    split: SplitCall | undefined;
  }> = [];
  /** Kernel threads were installed when compiling began: large loops also get kernels for two parts. */
  readonly #threaded = arenaThreads() !== undefined;
  /** Hand-written kernels' calls emitted split in two (`splitHandKernel`). */
  #handSplits = 0;
  /** Hand-written kernels (in the module with the SIMD loops) by name: their indices among the kernels. */
  readonly #handKernels = new Map<string, number>();
  #stagingBytes = 0;
  #arenaMatmuls = 0;
  /** Bytes of each packing slot, in slot order. */
  readonly #packSlots: number[] = [];

  /** `simd`: emit qualifying fused loops as WebAssembly SIMD kernels (see `loop`). */
  constructor(readonly simd = false) {}
  readonly #objects: unknown[] = [];
  readonly #scalars: number[] = [];
  readonly #scalarNames = new Map<string, string>();
  readonly #objectNames = new Map<unknown, string>();
  readonly #kernels = new Map<string, string>();
  readonly #kernelDefs: string[] = [];
  #uid = 0;

  /** A fresh identifier for a local of the run function. */
  fresh(): string {
    return `w${this.#uid++}`;
  }

  /** A module constant holding the number v (deduplicated, -0 and NaN included). */
  scalar(v: number): string {
    const key = Object.is(v, -0) ? "-0" : String(v);
    let name = this.#scalarNames.get(key);
    if (name === undefined) {
      name = `N${this.#scalars.length}`;
      this.#scalars.push(v);
      this.#scalarNames.set(key, name);
    }
    return name;
  }

  /** A module constant holding an object (deduplicated by identity). */
  object(o: unknown): string {
    let name = this.#objectNames.get(o);
    if (name === undefined) {
      name = `D${this.#objects.length}`;
      this.#objects.push(o);
      this.#objectNames.set(o, name);
    }
    return name;
  }

  /** The data buffer of a compile-time constant. */
  constBuffer(t: Tensor): string {
    holdBuffers([t.data.buffer]);
    return this.object(t.data);
  }

  /** The function for a kernel text (one function per distinct text). */
  kernel(k: KernelText): string {
    const key = `${k.params.join(",")}\n${k.body}`;
    let name = this.#kernels.get(key);
    if (name === undefined) {
      name = `F${this.#kernels.size}`;
      this.#kernels.set(key, name);
      this.#kernelDefs.push(`function ${name}(${k.params.join(", ")}) {\n${k.body}}`);
    }
    return name;
  }

  /**
   * The function running a fused loop: a WebAssembly SIMD kernel behind a wrapper when `simd` is
   * on and the loop qualifies (`simdLoop.ts`), else the generated JavaScript loop. Both take the
   * JavaScript loop's arguments and compute the same bits.
   */
  loop(spec: LoopSpec): string {
    const text = genLoop(spec);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const plan = this.simd && size >= SIMD_MIN_ELEMENTS ? planSimd(spec) : undefined;
    if (plan === undefined) return this.kernel(text);
    const key = `simd\n${text.params.join(",")}\n${text.body}`;
    let name = this.#kernels.get(key);
    if (name === undefined) {
      name = `F${this.#kernels.size}`;
      this.#kernels.set(key, name);
      const kernel = `W${this.#simdKernels.length}`;
      this.#simdKernels.push(emitSimdLoop(spec, plan, `k${this.#simdKernels.length}`));
      this.#simdWrappers.push({
        spec,
        plan,
        name,
        kernel,
        split: this.#threaded ? this.#splitKernels(spec) : undefined,
      });
      this.#stagingBytes = Math.max(this.#stagingBytes, stagingBytes(spec, plan));
    }
    return name;
  }

  /** Kernels for the two parts of a loop that kernel threads may split (`loopSplit.ts`), if it qualifies. */
  #splitKernels(spec: LoopSpec): SplitCall | undefined {
    const parts = loopParts(spec);
    const plans = parts && [planSimd(parts.first), planSimd(parts.second)];
    if (parts === undefined || plans?.[0] === undefined || plans[1] === undefined) return undefined;
    const first = this.#simdKernels.length;
    this.#simdKernels.push(emitSimdLoop(parts.first, plans[0], `k${first}`));
    this.#simdKernels.push(emitSimdLoop(parts.second, plans[1], `k${first + 1}`));
    return { first: `W${first}`, second: first + 1, shift: parts.shift };
  }

  /**
   * The helper computing a product: `mma` (on the runner's WebAssembly memory, see `arena.ts`)
   * for float32 products worth it when `simd` is on, else `mm`. Both take `mm`'s arguments.
   */
  matmul(dtype: DType, m: number, k: number, n: number): "mm" | "mma" {
    if (!this.simd || !onArena(dtype, m, k, n)) return "mm";
    this.#arenaMatmuls++;
    this.#stagingBytes = Math.max(this.#stagingBytes, arenaMatmulBytes(m, k, n));
    return "mma";
  }

  /**
   * Registers `mm2` (two `mma` products of one a, see `arena.ts`): the staging it needs with every
   * operand staged.
   */
  matmulPair(m: number, k: number, n1: number, n2: number): void {
    this.#arenaMatmuls++;
    this.#stagingBytes = Math.max(this.#stagingBytes, arenaPairBytes(m, k, n1, n2));
  }

  /**
   * A packing slot for the k × n op(b) of `mma` products (see `matmul`) that share one b: `mmp`
   * packs b there once and the products (`mmq`) read it packed. Packing once pays even where a
   * lone product of a few rows would read b in place: every step of a scan, or every product of a
   * batch, then reads packed panels (an LSTM step at B 1: 1.7 → 1.35 ms; B 16: 10.2 → 9.7 ms), and a
   * weight outside the runner's memory (a parameter, a pmap worker's shared value) is not copied in
   * again for every product.
   */
  packSlot(k: number, n: number): number {
    return this.#packSlots.push(packedBBytes(k, n)) - 1;
  }

  /** Whether the runner gets its own WebAssembly memory (it has SIMD loops or arena products). */
  get usesArena(): boolean {
    return this.#simdKernels.length > 0 || this.#arenaMatmuls > 0;
  }

  /** Byte offset of the staging area (SIMD loops and products alike): 64-byte aligned after the planned buffers. */
  #stageStart(): number {
    return Math.ceil(this.pool.arenaBytes() / 64) * 64;
  }

  /** Number of fused loops running as WebAssembly SIMD kernels. */
  get simdKernelCount(): number {
    // A split loop's part kernels are the same loop: counted once.
    const parts = this.#simdWrappers.filter((w) => w.split !== undefined).length * 2;
    return this.#simdKernels.length - this.#handKernels.size - parts;
  }

  /** Whether some loop or hand-written kernel's call may go half to a kernel thread (`SL`). */
  get #splitsLoops(): boolean {
    return this.#handSplits > 0 || this.#simdWrappers.some((w) => w.split !== undefined);
  }

  /**
   * For a call of the hand-written kernel `name` (built by `wasmKernel`) that may be emitted split
   * in two through `SL`: its index among the module's kernels (what `SL` takes), recording that a
   * call is split; undefined without kernel threads.
   */
  splitHandKernel(name: string): number | undefined {
    if (!this.#threaded) return undefined;
    this.#handSplits++;
    return this.#handKernels.get(name);
  }

  /** A hand-written WebAssembly kernel on the runner's memory (built once per name): its identifier. */
  wasmKernel(name: string, build: () => FunctionBuilder): string {
    let index = this.#handKernels.get(name);
    if (index === undefined) {
      index = this.#simdKernels.push(build()) - 1;
      this.#handKernels.set(name, index);
    }
    return `W${index}`;
  }

  /** Number of distinct kernel functions. */
  get kernelCount(): number {
    return this.#kernels.size;
  }

  /**
   * The whole source: the body of a function of one `ModuleScope` `M`, returning `run(inputs, outs)`
   * (`outs`: arrays for the outputs to be written into, `[]` for none).
   */
  source(runBody: readonly string[]): string {
    const wrappers = this.#simdWrappers.map(({ spec, plan, name, kernel, split }) => {
      const w = simdWrapper(spec, plan, kernel, this.#stageStart(), split);
      return `function ${name}(${w.params.join(", ")}) {\n${w.body}}`;
    });
    const decl = (prefix: string, arr: string, n: number): string =>
      n === 0 ? "" : `const ${Array.from({ length: n }, (_, i) => `${prefix}${i} = ${arr}[${i}]`).join(", ")};\n`;
    return [
      '"use strict";\n',
      "const { P, C, S, H, W, AB, HF, HI, HB, mma, mmp, mmq, mm2, SL } = M;\n",
      EW_PRELUDE,
      `const { ${Object.keys(HELPERS).join(", ")} } = H;\n`,
      decl("B", "P", this.pool.count),
      decl("D", "C", this.#objects.length),
      decl("N", "S", this.#scalars.length),
      decl("W", "W", this.#simdKernels.length),
      this.#kernelDefs.join("\n"),
      wrappers.length === 0 ? "" : `\n${wrappers.join("\n")}`,
      "\nreturn function run(inputs, outs) {\n",
      runBody.join("\n"),
      "\n};\n",
    ].join("");
  }

  /**
   * Instantiates the source: buffers are allocated here, once. With SIMD kernels, the runner gets
   * its own WebAssembly memory (never grown, so the buffer views stay valid) holding the planned
   * float32 and bool buffers and the staging area, and one module with the kernels. Throws if the engine
   * refuses the memory or the module (`compileGraph` then compiles without SIMD); if only the kernel
   * threads' shared arena fails, the runner gets an arena of its own instead.
   */
  instantiate(source: string): GeneratedRun {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- source built from generated identifiers only
    const factory = new Function("M", source) as (M: ModuleScope) => GeneratedRun;
    const plain = { C: this.#objects, S: this.#scalars, H: HELPERS };
    if (!this.usesArena) {
      const P = this.pool.buffers();
      holdBuffers(P.map((b) => (b as ArrayBufferView).buffer));
      return factory({ ...plain, P, W: [] });
    }
    const api = wasmApi();
    if (api === undefined) throw new Error("WebAssembly is not available");
    const slots = slotAddresses(this.#stageStart() + this.#stagingBytes, this.#packSlots);
    const bytes =
      slots.length === 0 ? this.#stageStart() + this.#stagingBytes : slots.at(-1)! + this.#packSlots.at(-1)!;
    // Kernel threads (when installed, see `arenaThreads`) only for runners with products or loops to split.
    const splits = this.#arenaMatmuls > 0 || this.#splitsLoops;
    const hook = splits ? arenaThreads() : undefined;
    if (hook !== undefined) {
      try {
        const threaded = hook(bytes, this.#stagingBytes);
        if (threaded !== undefined) return factory(this.#arenaScope(api, plain, slots, bytes, threaded));
      } catch {
        // The kernel threads could not take this runner (no shared memory, a module the engine
        // refuses shared): it runs on this thread alone, with the same bits, not without SIMD.
      }
    }
    return factory(this.#arenaScope(api, plain, slots, bytes, undefined));
  }

  /** The runner's scope over its WebAssembly arena: shared with kernel threads when `threaded` is given. */
  #arenaScope(
    api: WasmApi,
    plain: Pick<ModuleScope, "C" | "S" | "H">,
    slots: readonly number[],
    bytes: number,
    threaded: ThreadedArena | undefined,
  ): ModuleScope {
    const pages = Math.max(1, Math.ceil(bytes / 65536));
    const memory = threaded?.memory ?? new api.Memory({ initial: pages, maximum: pages });
    let kernels: unknown[] = [];
    let SL: unknown;
    if (this.#simdKernels.length > 0) {
      const code = encodeModule(this.#simdKernels, 1);
      const shared = threaded?.share(code);
      const { exports } = new api.Instance(new api.Module(shared ?? code), { env: { memory } });
      kernels = this.#simdKernels.map((f) => exports[f.name]);
      if (shared !== undefined && this.#splitsLoops)
        SL = threaded!.loops?.(
          shared,
          this.#simdKernels.map((f) => f.name),
          kernels as LoopKernel[],
        );
    }
    const products =
      this.#arenaMatmuls === 0 ? undefined : makeArenaMatmul(memory, this.#stageStart(), slots, threaded?.kernels);
    if (products === null) throw new Error("the WebAssembly matmul kernel cannot run here");
    const arena = memory.buffer;
    const P = this.pool.buffers(arena);
    holdBuffers([arena, ...P.map((b) => (b as ArrayBufferView).buffer)]);
    return {
      ...plain,
      P,
      W: kernels,
      AB: arena,
      HF: new Float32Array(arena),
      HI: new Int32Array(arena),
      HB: new Uint8Array(arena),
      SL,
      ...products,
    };
  }
}
