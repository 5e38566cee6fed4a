/**
 * @file Specs of @rewind/onnx: `toOnnx` exports random small functions (every dtype, scalars and
 * size-0 axes, pytrees in and out, baked parameters, a gradient) that ONNX Runtime loads and runs
 * to Rewind's eager result, under the documented input and output names; hostile functions,
 * example arguments and options are refused naming toOnnx and the argument; every primitive
 * without a lowering is refused naming it. `exportedPrimitives` lists Rewind's registry exactly;
 * `OPSET` and `IR_VERSION` are the documented 17 and 8, and the bytes declare them.
 *
 * Decisions pinned here: a lone tensor's output is named `out` (it used to be `out<root>`); an
 * error thrown by the user's own function while tracing (not a library error) propagates as it is;
 * the graph name may be empty.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { psum } from "@rewind/workers";
import { exportedPrimitives, IR_VERSION, OPSET, toOnnx } from "@rewind/onnx";
import { NOT_OPTIONS, rejectEach, rejectPool } from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { runAndCompare } from "./run.js";

type V = A.Value;

/** Deterministic values of a dtype (floats normal, ints in [−8, 8], bools alternating from the seed). */
const values = (shape: readonly number[], dtype: T.DType, seed: number): T.Tensor => {
  if (dtype === "float32" || dtype === "float64") return T.random.normal(T.random.key(seed), shape, dtype);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: size }, (_, i) => (dtype === "bool" ? (seed + i) % 2 : ((seed + 7 * i) % 17) - 8));
  return T.fromDataOrThrow(data, shape, dtype);
};

/** A function to export, its example arguments for a shape, dtype and seed, and the options. */
interface Model {
  readonly dtypes: readonly T.DType[];
  readonly f: (...args: never[]) => unknown;
  readonly args: (shape: readonly number[], dtype: T.DType, seed: number) => unknown[];
  /** The arguments stored in the model (`bake`). */
  readonly bake?: readonly number[];
}

const F: readonly T.DType[] = ["float32", "float64"];
const MODELS: readonly Model[] = [
  { dtypes: F, f: (x: V) => A.tanh(A.mul(A.exp(A.neg(A.abs(x))), 2)), args: (s, d, k) => [values(s, d, k)] },
  {
    dtypes: ["float32", "float64", "int32"],
    f: (x: V, y: V) => A.add(A.mul(x, y), y),
    args: (s, d, k) => [values(s, d, k), values(s.slice(-1), d, k + 1)],
  },
  { dtypes: F, f: (x: V) => [A.sum(x), A.mean(x)], args: (s, d, k) => [values(s, d, k)] },
  { dtypes: ["bool"], f: (x: V) => A.logicalNot(x), args: (s, d, k) => [values(s, d, k)] },
  { dtypes: ["float32", "float64", "int32", "bool"], f: (x: V) => x, args: (s, d, k) => [values(s, d, k)] },
  { dtypes: F, f: A.grad((x: V) => A.sum(A.tanh(x))), args: (s, d, k) => [values(s, d, k)] },
  {
    dtypes: F,
    f: (p: { w: V; b: V }, x: V) => A.tanh(A.add(A.matmul(x, p.w), p.b)),
    args: (s, d, k) => {
      const n = s[s.length - 1] ?? 1;
      return [{ w: values([n, 3], d, k), b: values([3], d, k + 1) }, values([2, n], d, k + 2)];
    },
    bake: [0],
  },
];

/** Valid exports: ONNX Runtime runs them to Rewind's eager result. */
const validExports = async (): Promise<number> => {
  const cases = fc.record({
    model: fc.nat(MODELS.length - 1),
    shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
    pick: fc.nat(3),
    seed: fc.nat(1000),
  });
  let n = 0;
  await fc.assert(
    fc.asyncProperty(cases, async ({ model, shape, pick, seed }) => {
      const m = MODELS[model]!;
      const dtype = m.dtypes[pick % m.dtypes.length]!;
      const args = m.args(shape, dtype, seed);
      const bytes = toOnnx(m.f, args, m.bake === undefined ? {} : { bake: m.bake });
      const fed = args.filter((_, i) => !(m.bake ?? []).includes(i)).flatMap((a) => A.treeLeaves(a) as T.Tensor[]);
      const want = (m.f as (...a: unknown[]) => unknown)(...args);
      await runAndCompare(bytes, fed, want, `model ${model} ${dtype}${T.formatShape(shape)}`);
      n++;
    }),
    { numRuns: 16 },
  );
  return n;
};

/** The documented names: `arg<i><path>` in, `out<path>` out (a lone tensor: `out`), or the options' names. */
const names = async (): Promise<number> => {
  const x = T.tensor([[1, -2, 3]]);
  const lone = await runAndCompare(
    toOnnx((v: V) => A.exp(v), [x]),
    [x],
    A.exp(x),
    "a lone tensor",
  );
  expect([lone.inputNames, lone.outputNames]).toEqual([["arg0"], ["out"]]);
  const tree = (s: { readonly h: V; readonly c: readonly V[] }, y: V) => ({
    sum: A.add(s.h, y),
    list: [A.mul(s.c[0]!, 2)],
  });
  const args = [{ h: x, c: [x] }, x] as const;
  const tr = await runAndCompare(toOnnx(tree, [...args]), [x, x, x], tree(...args), "pytrees");
  expect([tr.inputNames, tr.outputNames]).toEqual([
    ["arg0.c[0]", "arg0.h", "arg1"],
    ["out.list[0]", "out.sum"],
  ]);
  const named = toOnnx(tree, [...args], { inputNames: ["c", "h", "y"], outputNames: ["l", "s"], name: "" });
  const nm = await runAndCompare(named, [x, x, x], tree(...args), "named");
  expect([nm.inputNames, nm.outputNames]).toEqual([
    ["c", "h", "y"],
    ["l", "s"],
  ]);
  // A user's name may equal a name the exporter would make for a constant: the exporter steps aside.
  const clash = toOnnx((v: V) => A.add(v, T.tensor([1, 2, 3])), [x], {
    inputNames: ["const"],
    outputNames: ["const_0"],
  });
  await runAndCompare(clash, [x], A.add(x, T.tensor([1, 2, 3])), "names of constants");
  // Static data in the result is no output; a model whose arguments are all baked has no input.
  const mixed = (v: V) => ({ a: A.exp(v), none: null, tag: "s" });
  const mx = await runAndCompare(toOnnx(mixed, [x]), [x], { a: A.exp(x) }, "static data in the result");
  expect(mx.outputNames).toEqual(["out.a"]);
  const add = (a: V, b: V) => A.add(a, b);
  const baked = await runAndCompare(toOnnx(add, [x, x], { bake: [0, 1] }), [], add(x, x), "everything baked");
  expect(baked.inputNames).toEqual([]);
  return 6;
};

const holes = (k: number): unknown[] => new Array<unknown>(k);

/** Hostile functions, example arguments and options. */
const refusals = (): number => {
  const x = T.tensor([[1, 2, 3]]);
  const f = (v: V) => A.tanh(v);
  const self: unknown[] = [x];
  self.push(self);
  let n = rejectPool(["toOnnx"], [null, undefined, 3, "f", {}, [f]], (g) => toOnnx(g as never, [x]));
  n += rejectPool(
    ["toOnnx"],
    [null, undefined, 3, "x", {}, x, holes(1), self, [{ shape: [1, 3], dtype: "float32" }]],
    (a) => toOnnx(f, a as never),
  );
  n += rejectEach(["toOnnx"], {
    "a string argument": () => toOnnx(f, ["x"]),
    "a number argument (static: no outputs)": () => toOnnx((v: V) => v, [3]),
    "f returns nothing": () => toOnnx(() => undefined, [x]),
    "f reads data while tracing": () => toOnnx((v: V) => ((v as T.Tensor).data[0]! > 0 ? v : A.neg(v)), [x]),
    "a shape that depends on data": () => toOnnx((v: V) => A.reshape(v, [Number(A.sum(v))]), [x]),
    "called inside jit": () =>
      A.jit((v: V) => {
        toOnnx((u: V) => A.add(u, v), [x]);
        return v;
      })(x),
    "an int32 division (ONNX truncates)": () =>
      toOnnx(
        (a: V, b: V) => A.applyPrimitive(A.registry.div, [a, b], undefined)[0],
        [T.tensor([4], "int32"), T.tensor([3], "int32")],
      ),
    "a workers collective (no ONNX form)": () => toOnnx((v: V) => psum(v), [x]),
  });
  // Regression: a class instance, and lists with holes, passed as options (outputNames with a hole threw a TypeError).
  n += rejectPool(["toOnnx"], [...NOT_OPTIONS, [], new Date(0)], (o) => toOnnx(f, [x], o as never));
  const pools: Record<string, readonly unknown[]> = {
    bake: [[1], [-1], [0.5], [NaN], "0", null, 0, holes(1)],
    inputNames: [["a", "b"], [""], [3], "x", null, holes(1), []],
    outputNames: [["y", "z"], [""], [3], "y", null, holes(1), []],
    name: [3, null, {}, ["g"]],
  };
  for (const [key, pool] of Object.entries(pools)) {
    try {
      n += rejectPool(["toOnnx"], pool, (v) => toOnnx(f, [x], { [key]: v }));
    } catch (e) {
      throw new Error(`options.${key}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    expect(() => toOnnx(f, [x], { [key]: { bad: 1 } })).toThrow(`options.${key}`);
  }
  n += rejectEach(["toOnnx"], {
    "one name for an input and an output": () => toOnnx(f, [x], { inputNames: ["a"], outputNames: ["a"] }),
    "two outputs of one name": () => toOnnx((v: V) => [v, A.exp(v)], [x], { outputNames: ["y", "y"] }),
  });
  n += misspeltCases({
    names: ["toOnnx"],
    error: A.GraphException,
    known: ["bake", "inputNames", "outputNames", "name"],
    base: { name: "g" },
    call: (o) => toOnnx(f, [x], o),
  });
  // The user's own bug is not the library's to restate: it propagates as it was thrown.
  expect(() =>
    toOnnx(() => {
      throw new TypeError("the user's bug");
    }, [x]),
  ).toThrow(new TypeError("the user's bug"));
  return n + 1;
};

export const toOnnxSpec = async (): Promise<number> => refusals() + (await validExports()) + (await names());

/** A function using each primitive that has no lowering, with its example arguments. */
const UNSUPPORTED: Readonly<Record<string, readonly [(...a: never[]) => unknown, unknown[]]>> = {
  randomSample: [(k: V, x: V) => A.add(x, A.random.uniform(k, [2])), [A.random.keyData(T.random.key(0)), T.ones([2])]],
  keySplit: [(k: V) => A.random.split(k, 2), [A.random.keyData(T.random.key(1))]],
  keyFoldIn: [(k: V) => A.random.foldIn(k, 3), [A.random.keyData(T.random.key(2))]],
};

export const exportedPrimitivesSpec = (): number => {
  const { lowered, unsupported } = exportedPrimitives();
  expect([...lowered, ...unsupported].sort()).toEqual(Object.keys(A.registry).sort());
  expect(lowered.filter((p) => unsupported.includes(p))).toEqual([]);
  expect(lowered).toContain("scan");
  // Fresh lists each call: a caller that edits one changes nothing.
  lowered.push("edited");
  expect(exportedPrimitives().lowered).not.toContain("edited");
  // Arguments are ignored.
  const withArgs: (...a: unknown[]) => ReturnType<typeof exportedPrimitives> = exportedPrimitives;
  expect(withArgs(1, "x")).toEqual(exportedPrimitives());
  // Every primitive listed as unsupported is refused by name, pointing at the line that traced it.
  expect(Object.keys(UNSUPPORTED).sort()).toEqual([...unsupported].sort());
  for (const [name, [f, args]] of Object.entries(UNSUPPORTED)) {
    const e = rejectEach(["toOnnx"], { [name]: () => toOnnx(f, args) });
    expect(e).toBe(1);
    expect(() => toOnnx(f, args)).toThrow(
      new RegExp(`primitive ${name}, which has no ONNX lowering \\(traced at .*toOnnx\\.ts:\\d+`),
    );
  }
  return 5 + unsupported.length;
};

/** A constant is its documented number, and every exported model's bytes declare it. */
export const constantSpec =
  (which: "OPSET" | "IR_VERSION"): (() => number) =>
  () => {
    const value = which === "OPSET" ? OPSET : IR_VERSION;
    expect(value).toBe(which === "OPSET" ? 17 : 8);
    const bytes = Array.from(toOnnx((v: V) => A.exp(v), [T.ones([2])]));
    // ModelProto: field 1 (ir_version) first; opset_import (field 8) holds { domain: "", version }.
    const declared =
      which === "IR_VERSION"
        ? bytes[0] === 0x08 && bytes[1] === value
        : bytes.some((_, i) => [0x42, 0x04, 0x0a, 0x00, 0x10, value].every((b, j) => bytes[i + j] === b));
    expect(declared, `the model's bytes declare ${which} ${value}`).toBe(true);
    return 2;
  };
