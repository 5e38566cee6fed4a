/**
 * @file float32 exp / sigmoid / tanh: the scalar definitions (kernels/f32math.ts) against the
 * WebAssembly SIMD code (wasm/f32mathWasm.ts) bit for bit, both against float64 Math (accuracy,
 * specials, signs), and the tensor kernels through WebAssembly and JavaScript.
 */
import { describe, expect, it } from "vitest";
import { EXP_HI, EXP_LO, expF32, LOG2E, sigmoidF32, tanhF32 } from "../src/kernels/f32math.js";
import { encodeModule, FunctionBuilder, i32, v128 } from "../src/wasm/emitter.js";
import { emitExpF32x4, emitSigmoidF32x4, emitTanhF32x4 } from "../src/wasm/f32mathWasm.js";
import { simdAvailable } from "../src/wasm/matmulRuntime.js";
import { wasmApi } from "../src/wasm/api.js";
import { setKernelBackend } from "../src/kernels/backend.js";
import { exp, sigmoid, tanh } from "../src/kernels/unary.js";
import { fromBuffer } from "../src/Tensor.js";

type Emit = (f: FunctionBuilder, x: number) => void;

/** A module exporting `map(src, dst, n)`: dst[i..i+4) = op(src[i..i+4)) for i < n, step 4. */
const mapModule = (emit: Emit): ((src: Float32Array) => Float32Array) => {
  const f = new FunctionBuilder("map", [i32, i32, i32], []);
  const i = f.local(i32),
    x = f.local(v128);
  f.block().loop();
  f.get(i).get(2).op("i32GeU").brIf(1);
  f.get(0).get(i).op("i32Add").v128Load().set(x);
  f.get(1).get(i).op("i32Add");
  emit(f, x);
  f.v128Store();
  f.get(i).i32Const(16).op("i32Add").set(i).br(0);
  f.op("end").op("end");
  const api = wasmApi()!;
  const memory = new api.Memory({ initial: 64 });
  const inst = new api.Instance(new api.Module(encodeModule([f], 64)), { env: { memory } });
  const run = inst.exports["map"] as (s: number, d: number, n: number) => void;
  return (src) => {
    const n = Math.ceil(src.length / 4) * 4;
    const heap = new Float32Array(memory.buffer);
    heap.fill(0, 0, 2 * n);
    heap.set(src, 0);
    run(0, n * 4, n * 4);
    return heap.slice(n, n + src.length);
  };
};

/** Specials, every power of two, the thresholds' neighbourhoods, and random bit patterns. */
const inputs = (): Float32Array => {
  const v: number[] = [
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    1,
    -1,
    0.5,
    0.625,
    -0.625,
    88.72283935546875,
    88.7228,
    88.73,
    -104,
    -103.9,
    -104.1,
    -87.3,
    1e-45,
    -1e-45,
    3.4e38,
    -3.4e38,
  ];
  for (let e = -149; e <= 127; e++) v.push(2 ** e, -(2 ** e));
  const bits = new Uint32Array(1),
    f = new Float32Array(bits.buffer);
  let s = 12345;
  const rnd = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s);
  for (let k = 0; k < 60000; k++) {
    bits[0] = rnd();
    v.push(f[0]!);
    v.push(Math.fround((rnd() / 2 ** 32 - 0.5) * 220)); // dense over exp's finite range
    v.push(Math.fround((rnd() / 2 ** 32 - 0.5) * 4)); // tanh's polynomial range and around it
  }
  return Float32Array.from(v);
};

/** Distance in float32 ulps of the reference (as a float64) from the float32 result. */
const ulps = (got: number, want: number): number => {
  if (Number.isNaN(want)) return Number.isNaN(got) ? 0 : Infinity;
  if (got === want) return 0;
  const ref = Math.fround(want);
  const e = Math.max(Math.floor(Math.log2(Math.abs(ref) || 2 ** -149)), -126);
  return Math.abs(got - want) / 2 ** (e - 23);
};

const cases: ReadonlyArray<readonly [string, Emit, (x: number) => number, (x: number) => number, number]> = [
  ["exp", emitExpF32x4, expF32, Math.exp, 2],
  [
    "sigmoid",
    emitSigmoidF32x4,
    sigmoidF32,
    (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
    3,
  ],
  ["tanh", emitTanhF32x4, tanhF32, Math.tanh, 3],
];

describe("float32 exp, sigmoid and tanh", () => {
  const xs = inputs();
  for (const [name, emit, scalar, ref, maxUlps] of cases) {
    it.runIf(simdAvailable())(
      `${name}: the SIMD kernel gives the scalar definition's bits for ${xs.length} inputs`,
      () => {
        const simd = mapModule(emit)(xs);
        const js = xs.map(scalar);
        const sb = new Uint32Array(simd.buffer),
          jb = new Uint32Array(js.buffer);
        const diff: string[] = [];
        for (let k = 0; k < xs.length && diff.length < 5; k++) {
          const bothNaN = Number.isNaN(simd[k]!) && Number.isNaN(js[k]!);
          if (sb[k] !== jb[k] && !bothNaN) diff.push(`${name}(${xs[k]}): simd ${simd[k]} js ${js[k]}`);
        }
        expect(diff).toEqual([]);
      },
    );
    it(`${name}: within ${maxUlps} ulp of float64 Math in the normal range, specials and signs exact`, () => {
      let worst = 0,
        at = 0;
      const wrong: string[] = [];
      for (const x of xs) {
        const got = scalar(x),
          want = ref(x);
        if (Number.isNaN(want) || !Number.isFinite(want) || want === 0) {
          if (!Object.is(got, want) && !(Number.isNaN(got) && Number.isNaN(want)))
            wrong.push(`${name}(${x}) = ${got}, want ${want}`);
        } else if (Math.abs(want) < 2 ** -126) {
          // Subnormal results: absolute error below the smallest normal (sigmoid flushes to 0 below −88.7).
          if (!(Math.abs(got - want) < 2 ** -126)) wrong.push(`${name}(${x}) = ${got}, want ${want}`);
        } else {
          const u = ulps(got, want);
          if (u > worst) [worst, at] = [u, x];
        }
        if (got !== 0 && !Number.isNaN(want) && Math.sign(got) !== Math.sign(want))
          wrong.push(`${name}(${x}) has the wrong sign`);
      }
      expect(wrong.slice(0, 5)).toEqual([]);
      expect({ worst, at, ok: worst <= maxUlps }).toMatchObject({ ok: true });
    });
  }

  // The SIMD e^x rounds n = x·log2 e with a magic-number sum and drops the scalar code's branches
  // for x < EXP_LO and x > EXP_HI (those lanes clamp to EXP_LO, whose e^x rounds to +0, and to
  // EXP_HI, whose e^x rounds to +∞): the inputs where that could go wrong, which random bit patterns
  // almost never hit.
  it.runIf(simdAvailable())("exp: ties of x·log2 e round half to even; x ≤ EXP_LO gives +0, x ≥ EXP_HI +∞", () => {
    const bits = new Uint32Array(1),
      f = new Float32Array(bits.buffer);
    const step = (x: number, by: number): number => {
      f[0] = x;
      bits[0] = bits[0]! + by; // by ulps away from zero (towards it for by < 0)
      return f[0];
    };
    const ties: number[] = [];
    for (let k = -151; k <= 128; k++) {
      const h = k + 0.5;
      const x0 = Math.fround(h / LOG2E);
      for (let j = -64; j <= 64; j++) {
        const x = step(x0, j);
        if (Math.fround(x * LOG2E) === h) ties.push(x);
      }
    }
    const low: number[] = [EXP_LO, -Infinity, -3.4e38];
    for (let x = EXP_LO; x > -112; x = step(x, 61)) low.push(x);
    const high: number[] = [EXP_HI, step(EXP_HI, -1), Infinity, 3.4e38, NaN];
    for (let x = EXP_HI; x < 200; x = step(x, 61)) high.push(x);
    const xs = Float32Array.from([...ties, ...low, ...high]);
    const simd = mapModule(emitExpF32x4)(xs);
    const wrong: string[] = [];
    xs.forEach((x, k) => {
      const want = expF32(x);
      if (!Object.is(simd[k], want) && !(Number.isNaN(want) && Number.isNaN(simd[k]!)))
        wrong.push(`exp(${x}): simd ${simd[k]}, scalar ${want}`);
      if (x <= EXP_LO && !Object.is(want, 0)) wrong.push(`exp(${x}) = ${want}, want +0`);
      if (x >= EXP_HI && want !== Infinity) wrong.push(`exp(${x}) = ${want}, want +∞`);
    });
    expect([ties.length > 100, low.length > 10000]).toEqual([true, true]);
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it.runIf(simdAvailable())(
    "the tensor kernels give the same bits through WebAssembly and JavaScript, any length",
    () => {
      const ops = { exp, tanh, sigmoid };
      for (const n of [1, 3, 63, 64, 65, 1023, xs.length]) {
        const x = fromBuffer("float32", [n], xs.slice(0, n));
        for (const [name, op] of Object.entries(ops)) {
          const before = setKernelBackend("wasm");
          let viaWasm: Float32Array, viaJs: Float32Array;
          try {
            viaWasm = op(x).data as Float32Array;
            setKernelBackend("js");
            viaJs = op(x).data as Float32Array;
          } finally {
            setKernelBackend(before);
          }
          const a = new Uint32Array(viaWasm.buffer, viaWasm.byteOffset, n),
            b = new Uint32Array(viaJs.buffer, viaJs.byteOffset, n);
          const k = a.findIndex((v, i) => v !== b[i] && !(Number.isNaN(viaWasm[i]) && Number.isNaN(viaJs[i])));
          expect(k, `${name} n=${n} differs at ${k}: ${viaWasm[k]} vs ${viaJs[k]}`).toBe(-1);
        }
      }
    },
  );
});
