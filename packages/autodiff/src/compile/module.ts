/**
 * @file The generated module under construction: the buffer pool, constants, kernel functions
 * (deduplicated by text), fresh identifiers, and the final assembly of the source.
 *
 * Nothing from the graph reaches the source as text: numbers and objects (constant buffers,
 * offset tables, dtype/shape descriptors, fallback closures) are handed to the generated code as
 * the arrays `S` (scalars) and `C` (objects) and named by generated identifiers.
 */
import { allocate, type DType, type Tensor } from "@rewind/tensor";
import { expF32, sigmoidF32, tanhF32 } from "@rewind/tensor/codegen";
import { EW_PRELUDE } from "./ewOps.js";
import { int, type KernelText } from "./loopgen.js";
import { mm } from "./matmul.js";
import * as R from "./runtime.js";

/** Where a value lives in generated code: a buffer expression and an offset expression. */
export interface Loc {
  readonly buf: string;
  readonly off: string;
}

/**
 * `a + b` for offset expressions, simplified when either is a literal 0.
 * @example addOff("w3", 0) // "w3"
 */
export const addOff = (a: string, b: number | string): string => {
  const bs = typeof b === "number" ? int(b) : b;
  if (bs === "0") return a;
  if (a === "0") return bs;
  return `${a} + ${bs}`;
};

/**
 * Planned buffers: allocated once per compiled runner and handed out by liveness. A request
 * takes the smallest free buffer of its dtype that is large enough, else grows the largest free
 * one, else adds a buffer.
 * @example const pool = new Pool(); const a = pool.alloc("float32", 8); pool.free(a); pool.alloc("float32", 4) === a // true
 */
export class Pool {
  readonly #entries: Array<{ readonly dtype: DType; size: number; busy: boolean }> = [];

  alloc(dtype: DType, size: number): number {
    let best = -1;
    this.#entries.forEach((e, i) => {
      if (!e.busy && e.dtype === dtype && e.size >= size && (best < 0 || e.size < this.#entries[best]!.size)) best = i;
    });
    if (best < 0) {
      // Grow the largest free buffer of this dtype rather than adding one more.
      this.#entries.forEach((e, i) => {
        if (!e.busy && e.dtype === dtype && (best < 0 || e.size > this.#entries[best]!.size)) best = i;
      });
      if (best >= 0) this.#entries[best]!.size = size;
    }
    if (best < 0) {
      best = this.#entries.length;
      this.#entries.push({ dtype, size, busy: false });
    }
    this.#entries[best]!.busy = true;
    return best;
  }

  free(id: number): void {
    this.#entries[id]!.busy = false;
  }

  /** Number of planned buffers. */
  get count(): number {
    return this.#entries.length;
  }

  static bufName(id: number): string {
    return `B${id}`;
  }

  /** The buffers, allocated now. */
  buffers(): unknown[] {
    return this.#entries.map((e) => allocate(e.dtype, e.size));
  }

  /** Total bytes of planned buffers. */
  bytes(): number {
    return this.#entries.reduce((n, e) => n + e.size * (e.dtype === "float64" ? 8 : e.dtype === "bool" ? 1 : 4), 0);
  }
}

/** The helpers generated code may call, by the names it uses. */
const HELPERS = {
  mm,
  takeInto: R.take,
  addAtInto: R.addAt,
  gatherInto: R.gather,
  addAlongInto: R.addAlongAxis,
  tensorAt: R.tensorAt,
  wrap: R.wrap,
  freshTensor: R.freshTensor,
  copy: R.copy,
  expf: expF32,
  tanhf: tanhF32,
  sigf: sigmoidF32,
} as const;

/** Typed-array constructors by dtype, for per-call output buffers. */
export const ARRAY_OF: Readonly<Record<DType, string>> = {
  float32: "Float32Array",
  float64: "Float64Array",
  int32: "Int32Array",
  bool: "Uint8Array",
};

/**
 * The generated module under construction (see the file comment).
 * @example const mod = new Module(); const run = mod.instantiate(mod.source(["  return [];"])); run([]) // []
 */
export class Module {
  readonly pool = new Pool();
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

  /** Number of distinct kernel functions. */
  get kernelCount(): number {
    return this.#kernels.size;
  }

  /** The whole source: a function of (P, C, S, H) returning `run(inputs)`. */
  source(runBody: readonly string[]): string {
    const decl = (prefix: string, arr: string, n: number): string =>
      n === 0 ? "" : `const ${Array.from({ length: n }, (_, i) => `${prefix}${i} = ${arr}[${i}]`).join(", ")};\n`;
    return [
      '"use strict";\n',
      EW_PRELUDE,
      `const { ${Object.keys(HELPERS).join(", ")} } = H;\n`,
      decl("B", "P", this.pool.count),
      decl("D", "C", this.#objects.length),
      decl("N", "S", this.#scalars.length),
      this.#kernelDefs.join("\n"),
      "\nreturn function run(inputs) {\n",
      runBody.join("\n"),
      "\n};\n",
    ].join("");
  }

  /** Instantiates the source: buffers are allocated here, once. */
  instantiate(source: string): (inputs: readonly Tensor[]) => readonly Tensor[] {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the source is built from generated identifiers only
    const factory = new Function("P", "C", "S", "H", source) as (P: unknown[], C: unknown[], S: number[], H: typeof HELPERS) => (inputs: readonly Tensor[]) => readonly Tensor[];
    return factory(this.pool.buffers(), this.#objects, this.#scalars, HELPERS);
  }
}
