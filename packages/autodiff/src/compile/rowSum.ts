/**
 * @file A float32 sum over leading axes (a bias gradient summed over time and batch) as a
 * WebAssembly SIMD kernel on the runner's memory.
 *
 * The JavaScript kernel (`genReduce`'s "by rows" case) adds the rows, in order, into one double
 * per output starting from 0, and rounds each double to float32 once at the end. Here sixteen
 * columns at a time are promoted to doubles (eight f64x2 accumulators in registers) and every row
 * is added in turn: the same additions in the same order per output, so the same bits, without
 * the JavaScript loop's conversions and accumulator loads and stores. Sixteen columns are one
 * 64-byte cache line, so each line of the input is read once. Rows whose length is not a multiple
 * of 4 stay in JavaScript, and so does an operand outside the runner's memory (the wrapper calls
 * the JavaScript kernel then, with the same bits).
 */
import { FunctionBuilder, i32, v128 } from "@rewind/tensor/internal/codegen";
import { int } from "./loopgen.js";
import { MIN_SPLIT_WORK } from "./loopSplit.js";
import type { Module } from "./module.js";

/** Bytes 8–15 of a vector moved to bytes 0–7 (lanes 2–3 of a float32 vector to lanes 0–1). */
const UPPER_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** Lanes 0–1 of two vectors joined into one (two demoted f64x2 pairs into one float32 vector). */
const JOIN = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/**
 * `rowsum(x, o, n, rows, stride)` (byte addresses; n a multiple of 4, rows ≥ 0): o[q] = the sum
 * over r of x[r · stride + 4q], as doubles from 0 in row order, rounded to float32.
 */
const rowSumFunction = (): FunctionBuilder => {
  const f = new FunctionBuilder("rowsum", [i32, i32, i32, i32, i32], []);
  const [x, o, n, rows, stride] = [0, 1, 2, 3, 4];
  const [p, r, v] = [f.local(i32), f.local(i32), f.local(v128)];
  const acc = Array.from({ length: 8 }, () => f.local(v128));
  /** Columns `width` (16 or 4) at a time while at least `width` remain. */
  const chunks = (width: 16 | 4): void => {
    const pairs = width / 2;
    f.block().loop();
    f.get(n).i32Const(width).op("i32LtU").brIf(1);
    for (let k = 0; k < pairs; k++) f.v128Zero().set(acc[k]!);
    f.get(x).set(p).get(rows).set(r);
    f.block().get(r).op("i32Eqz").brIf(0).loop();
    for (let k = 0; k < width / 4; k++) {
      f.get(p)
        .v128Load(16 * k)
        .set(v);
      f.get(acc[2 * k]!)
        .get(v)
        .simd("f64x2PromoteLowF32x4")
        .simd("f64x2Add")
        .set(acc[2 * k]!);
      f.get(acc[2 * k + 1]!)
        .get(v)
        .get(v)
        .i8x16Shuffle(UPPER_HALF)
        .simd("f64x2PromoteLowF32x4")
        .simd("f64x2Add")
        .set(acc[2 * k + 1]!);
    }
    f.get(p).get(stride).op("i32Add").set(p);
    f.get(r).i32Const(1).op("i32Sub").tee(r).brIf(0);
    f.op("end").op("end");
    for (let k = 0; k < width / 4; k++) {
      f.get(o)
        .get(acc[2 * k]!)
        .simd("f32x4DemoteF64x2Zero")
        .get(acc[2 * k + 1]!)
        .simd("f32x4DemoteF64x2Zero")
        .i8x16Shuffle(JOIN)
        .v128Store(16 * k);
    }
    f.get(x)
      .i32Const(4 * width)
      .op("i32Add")
      .set(x);
    f.get(o)
      .i32Const(4 * width)
      .op("i32Add")
      .set(o);
    f.get(n).i32Const(width).op("i32Sub").set(n);
    f.br(0);
    f.op("end").op("end");
  };
  chunks(16);
  chunks(4);
  return f;
};

/**
 * The function summing `rows` float32 rows of `n` (a multiple of 4), `stride` elements apart from
 * element `start`, into n outputs: the SIMD kernel when both buffers are in the runner's memory,
 * else `fallback` (the JavaScript kernel's name, same parameters `o, oo, x, xo, T0`).
 * @example rowSumKernel(mod, 16384, 64, 16384, 0, "F24") // "F25", called as F25(o, oo, x, xo, T0)
 */
export const rowSumKernel = (
  mod: Module,
  n: number,
  rows: number,
  stride: number,
  start: number,
  fallback: string,
): string => {
  const w = mod.wasmKernel("rowsum", rowSumFunction);
  const body = [
    `// sum float32 by rows (WebAssembly)`,
    `if (x.buffer !== AB || o.buffer !== AB) { ${fallback}(o, oo, x, xo, T0); return; }`,
    `const xa = x.byteOffset + (xo + ${int(start)}) * 4, oa = o.byteOffset + oo * 4;`,
  ];
  const whole = `${w}(xa, oa, ${int(n)}, ${int(rows)}, ${int(4 * stride)});`;
  // Columns are summed apart, so with kernel threads a large sum goes half to one: its first
  // `half` columns here, the rest there (each output's additions, and bits, unchanged).
  const half = 4 * Math.floor(n / 8);
  const index = half > 0 && n * rows >= MIN_SPLIT_WORK ? mod.splitHandKernel("rowsum") : undefined;
  if (index !== undefined) {
    const second = [`xa + ${int(4 * half)}`, `oa + ${int(4 * half)}`, int(n - half), int(rows), int(4 * stride)];
    body.push(
      `if (SL === undefined || !SL(${int(index)}, 5, [${second.join(", ")}], ` +
        `() => ${w}(xa, oa, ${int(half)}, ${int(rows)}, ${int(4 * stride)}))) ${whole}`,
    );
  } else body.push(whole);
  return mod.kernel({ params: ["o", "oo", "x", "xo", "T0"], body: `${body.join("\n")}\n` });
};
