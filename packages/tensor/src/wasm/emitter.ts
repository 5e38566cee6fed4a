/**
 * @file A tiny WebAssembly binary emitter: just enough of the format to generate numeric kernels
 * from TypeScript at run time, so no binary blob or build step has to be checked in.
 *
 * What it covers: value types i32, f32 and v128; one imported linear memory; functions with
 * parameters, locals, one result at most, and exports; the instructions the kernels use (i32
 * arithmetic and comparisons, f32 and v128 loads and stores, structured control flow, calls, and
 * the 128-bit SIMD lane operations). What it leaves out on purpose: tables, globals, data
 * segments, start functions, and every name except the fixed export and import names written in
 * this repository, so no user-provided string can ever reach generated code.
 *
 * Format reference: the WebAssembly core specification, section 5 (binary format), and the SIMD
 * proposal (merged into the core specification in 2.0) for the 0xFD-prefixed instructions.
 */

import { OP, SIMD, type SimdOp } from "./opcodes.js";

export type { SimdOp } from "./opcodes.js";

/**
 * A WebAssembly value type, by its binary code.
 * @example const params: ValType[] = [i32, i32]; // two addresses
 */
export type ValType = 0x7f | 0x7d | 0x7b;
/** 32-bit integer (also used for every address: memories are 32-bit). @example new FunctionBuilder("f", [i32], []) */
export const i32 = 0x7f;
/** 32-bit IEEE float. @example new FunctionBuilder("f", [], [f32]) */
export const f32 = 0x7d;
/** 128-bit SIMD vector (four f32 lanes in our kernels). @example fb.local(v128) // an accumulator */
export const v128 = 0x7b;

/**
 * Appends `n` as unsigned LEB128 (7 bits a byte, low first, high bit = "more").
 * @example const out: number[] = []; uleb(out, 624485); // out: [0xe5, 0x8e, 0x26]
 */
export const uleb = (out: number[], n: number): void => {
  let v = n >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
};

/**
 * Appends the 32-bit integer `n` as signed LEB128 (stops when the rest is all sign bits).
 * @example const out: number[] = []; sleb(out, -123456); // out: [0xc0, 0xbb, 0x78]
 */
export const sleb = (out: number[], n: number): void => {
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
};

/** A length-prefixed vector of already encoded items, as every section and list is stored. */
const vec = (out: number[], items: readonly (readonly number[])[]): void => {
  uleb(out, items.length);
  for (const it of items) out.push(...it);
};

/** The name bytes, UTF-8 with a length prefix. Only constant ASCII names are ever passed. */
const name = (out: number[], s: string): void => {
  if (!/^[a-z_][a-z0-9_]*$/.test(s)) throw new Error(`emitter: unexpected name ${JSON.stringify(s)}`);
  uleb(out, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
};

/**
 * Builds one function body. Instructions are appended in stack-machine order by chained calls;
 * locals are allocated by `local(type)`, which returns the index to pass to `get`/`set`/`tee`.
 * @example
 * const f = new FunctionBuilder("add", [i32, i32], [i32]);
 * f.get(0).get(1).op("i32Add"); // the last value on the stack is the result
 */
export class FunctionBuilder {
  /** The encoded instructions, without the final `end` (added by `encodeBody`). */
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];

  constructor(
    readonly name: string,
    readonly params: readonly ValType[],
    readonly results: readonly ValType[],
  ) {}

  /** Declares a new local of `type` and returns its index (parameters come first). */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  /** One of the plain single-byte instructions (no immediates), by name. */
  op(
    o:
      | "i32Eqz"
      | "i32Eq"
      | "i32Ne"
      | "i32LtS"
      | "i32LtU"
      | "i32GtS"
      | "i32GtU"
      | "i32LeS"
      | "i32LeU"
      | "i32GeS"
      | "i32GeU"
      | "i32Add"
      | "i32Sub"
      | "i32Mul"
      | "i32And"
      | "i32Shl"
      | "f32Add"
      | "f32Mul"
      | "drop"
      | "select"
      | "return"
      | "else"
      | "end",
  ): this {
    this.code.push(OP[o]);
    return this;
  }

  /** A SIMD instruction without immediates. */
  simd(o: SimdOp): this {
    this.code.push(0xfd);
    uleb(this.code, SIMD[o]);
    return this;
  }

  get(i: number): this {
    return this.withIndex(OP.localGet, i);
  }
  set(i: number): this {
    return this.withIndex(OP.localSet, i);
  }
  tee(i: number): this {
    return this.withIndex(OP.localTee, i);
  }
  call(fnIndex: number): this {
    return this.withIndex(OP.call, fnIndex);
  }
  /** Branch to the `depth`-th enclosing block/loop/if (0 = innermost). */
  br(depth: number): this {
    return this.withIndex(OP.br, depth);
  }
  brIf(depth: number): this {
    return this.withIndex(OP.brIf, depth);
  }

  i32Const(v: number): this {
    this.code.push(OP.i32Const);
    sleb(this.code, v);
    return this;
  }

  f32Const(v: number): this {
    // Immediates are little-endian whatever the host's byte order.
    const bytes = new DataView(new ArrayBuffer(4));
    bytes.setFloat32(0, v, true);
    this.code.push(OP.f32Const, bytes.getUint8(0), bytes.getUint8(1), bytes.getUint8(2), bytes.getUint8(3));
    return this;
  }

  /** `v128.const` with `v` in all four f32 lanes (`v` is rounded to float32). */
  f32x4Const(v: number): this {
    return this.v128Const((view, lane) => view.setFloat32(lane * 4, v, true));
  }

  /** `v128.const` with `v` in all four i32 lanes. */
  i32x4Const(v: number): this {
    return this.v128Const((view, lane) => view.setInt32(lane * 4, v, true));
  }

  /** `v128.const` with all bits zero: the f32x4 vector (+0, +0, +0, +0). */
  v128Zero(): this {
    this.code.push(0xfd);
    uleb(this.code, SIMD.v128Const);
    for (let i = 0; i < 16; i++) this.code.push(0);
    return this;
  }

  // Memory access: [address] -> value, or [address, value] -> (). `offset` is a constant byte
  // offset folded into the instruction; the alignment hint is the natural one (never a promise
  // that changes results, only a hint, so unaligned addresses still work).
  f32Load(offset = 0): this {
    return this.mem([OP.f32Load], 2, offset);
  }
  /** An i32 from 4 bytes at any alignment (the hint says 1-byte aligned). */
  i32Load(offset = 0): this {
    return this.mem([OP.i32Load], 0, offset);
  }
  /** One byte, zero-extended to i32. */
  i32Load8U(offset = 0): this {
    return this.mem([OP.i32Load8U], 0, offset);
  }
  f32Store(offset = 0): this {
    return this.mem([OP.f32Store], 2, offset);
  }
  v128Load(offset = 0): this {
    return this.mem(this.simdPrefix(SIMD.v128Load), 4, offset);
  }
  v128Store(offset = 0): this {
    return this.mem(this.simdPrefix(SIMD.v128Store), 4, offset);
  }
  /** Loads one f32 and copies it into all four lanes. */
  v128Load32Splat(offset = 0): this {
    return this.mem(this.simdPrefix(SIMD.v128Load32Splat), 2, offset);
  }

  f32x4ExtractLane(lane: number): this {
    this.code.push(...this.simdPrefix(SIMD.f32x4ExtractLane), lane);
    return this;
  }

  i32x4ReplaceLane(lane: number): this {
    this.code.push(...this.simdPrefix(SIMD.i32x4ReplaceLane), lane);
    return this;
  }

  /** `v128.const` with the four given i32 lanes. */
  i32x4ConstLanes(lanes: readonly [number, number, number, number]): this {
    return this.v128Const((view, lane) => view.setInt32(lane * 4, lanes[lane]!, true));
  }

  /**
   * `i8x16.shuffle`: byte i of the result is byte `bytes[i]` of the operands (0–15: the first,
   * 16–31: the second).
   */
  i8x16Shuffle(bytes: readonly number[]): this {
    if (bytes.length !== 16 || !bytes.every((b) => Number.isInteger(b) && b >= 0 && b < 32))
      throw new Error("emitter: i8x16.shuffle takes 16 byte indices below 32");
    this.code.push(...this.simdPrefix(SIMD.i8x16Shuffle), ...bytes);
    return this;
  }

  f32x4ReplaceLane(lane: number): this {
    this.code.push(...this.simdPrefix(SIMD.f32x4ReplaceLane), lane);
    return this;
  }

  /** Opens a `block` (branch target at its end), `loop` (branch target at its start) or `if`, with no result. */
  block(): this {
    this.code.push(OP.block, 0x40);
    return this;
  }
  loop(): this {
    this.code.push(OP.loop, 0x40);
    return this;
  }
  if(): this {
    this.code.push(OP.if, 0x40);
    return this;
  }

  /** The body as stored in the code section: local declarations, instructions, `end`. */
  encodeBody(): number[] {
    // Locals are declared as runs of equal type; one run per local is simplest and valid.
    const runs = this.localTypes.map((t) => [1, t]);
    const body: number[] = [];
    vec(body, runs);
    body.push(...this.code, OP.end);
    const out: number[] = [];
    uleb(out, body.length);
    out.push(...body);
    return out;
  }

  private v128Const(setLane: (view: DataView, lane: number) => void): this {
    const view = new DataView(new ArrayBuffer(16));
    for (let lane = 0; lane < 4; lane++) setLane(view, lane);
    this.code.push(0xfd);
    uleb(this.code, SIMD.v128Const);
    for (let i = 0; i < 16; i++) this.code.push(view.getUint8(i));
    return this;
  }

  private simdPrefix(op: number): number[] {
    const out = [0xfd];
    uleb(out, op);
    return out;
  }

  private mem(opcode: readonly number[], align: number, offset: number): this {
    this.code.push(...opcode);
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }

  private withIndex(opcode: number, i: number): this {
    this.code.push(opcode);
    uleb(this.code, i);
    return this;
  }
}

/**
 * Encodes a module that imports one memory as `env.memory` (at least `minPages` 64 KiB pages,
 * no maximum, so the host can grow it) and defines `functions` in order, so function `i` has
 * index `i` for `call`. Every function is exported under its name.
 * @example
 * const f = new FunctionBuilder("answer", [], [i32]);
 * f.i32Const(42);
 * WebAssembly.validate(encodeModule([f], 1)); // true
 */
export const encodeModule = (functions: readonly FunctionBuilder[], minPages: number): Uint8Array => {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // "\0asm", version 1
  const section = (id: number, content: number[]): void => {
    out.push(id);
    uleb(out, content.length);
    out.push(...content);
  };
  // Type section: one function type per function (duplicates are allowed and keep this simple).
  const types = functions.map((f) => {
    const t = [0x60];
    vec(
      t,
      f.params.map((p) => [p]),
    );
    vec(
      t,
      f.results.map((r) => [r]),
    );
    return t;
  });
  const typeSec: number[] = [];
  vec(typeSec, types);
  section(1, typeSec);
  // Import section: env.memory, kind 2 (memory), limits flag 0 (minimum only).
  const imp: number[] = [];
  name(imp, "env");
  name(imp, "memory");
  imp.push(0x02, 0x00);
  uleb(imp, minPages);
  const importSec: number[] = [];
  vec(importSec, [imp]);
  section(2, importSec);
  // Function section: function i has type i.
  const funcSec: number[] = [];
  vec(
    funcSec,
    functions.map((_, i) => {
      const b: number[] = [];
      uleb(b, i);
      return b;
    }),
  );
  section(3, funcSec);
  // Export section: kind 0 (function).
  const exportSec: number[] = [];
  vec(
    exportSec,
    functions.map((f, i) => {
      const b: number[] = [];
      name(b, f.name);
      b.push(0x00);
      uleb(b, i);
      return b;
    }),
  );
  section(7, exportSec);
  // Code section.
  const codeSec: number[] = [];
  vec(
    codeSec,
    functions.map((f) => f.encodeBody()),
  );
  section(10, codeSec);
  return Uint8Array.from(out);
};
