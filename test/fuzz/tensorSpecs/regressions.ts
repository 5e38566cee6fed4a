/**
 * @file Every contract break the tensor fuzz suite (and the probe before it) found, as an
 * explicit case: before the fix each threw a TypeError/RangeError, hung, or returned a wrong
 * answer; now each throws a TensorException naming the op (or returns the right value).
 */
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import { expectRejected } from "../contract.js";

/** One regression: a name saying what used to happen, and the check. */
export interface Regression {
  readonly name: string;
  readonly run: () => void;
}

const rejects = (name: string, op: string, thunk: () => unknown, arg?: string): Regression => ({
  name,
  run: () => {
    const msg = expectRejected([op], thunk);
    if (!msg.startsWith(`${op}:`)) throw new Error(`message should start with "${op}:": ${msg}`);
    if (arg !== undefined && !msg.includes(arg)) throw new Error(`message should name ${arg}: ${msg}`);
  },
});

const x = T.tensor([
  [1, 2, 3],
  [4, 5, 6],
]);
const cyclic: unknown[] = [];
cyclic.push(cyclic);

/** The tensor package's regressions. */
export const tensorRegressions: readonly Regression[] = [
  rejects("neg(null) threw TypeError reading 'dtype'", "neg", () => T.neg(null as never), "x"),
  rejects("sum(null) threw TypeError reading 'shape'", "sum", () => T.sum(null as never)),
  rejects("add([1, 2], x) (a plain array) threw TypeError", "add", () => T.add([1, 2] as never, x), "a"),
  rejects("matmul of a forged record read past its buffer", "matmul", () =>
    T.matmul({ dtype: "float32", shape: [2, 2], data: Float32Array.of(1) } as never, x),
  ),
  rejects(
    "sum(x, { keepdims: true }) ignored the misspelt option",
    "sum",
    () => T.sum(x, { keepdims: true } as never),
    "keepdims",
  ),
  rejects(
    'sum(x, { keepDims: "yes" }) kept dims on a string',
    "sum",
    () => T.sum(x, { keepDims: "yes" } as never),
    "keepDims",
  ),
  rejects("sum(x, null) threw TypeError reading 'axis'", "sum", () => T.sum(x, null as never)),
  rejects("argmax(x, { axis: [0, 1] }) searched two axes silently", "argmax", () =>
    T.argmax(x, { axis: [0, 1] } as never),
  ),
  rejects('full([2], "x") filled NaN silently', "full", () => T.full([2], "x" as never), "value"),
  rejects(
    'zeros([2], "float16") threw TypeError (allocate returned undefined)',
    "zeros",
    () => T.zeros([2], "float16" as never),
    "dtype",
  ),
  rejects("zeros([2**31]) threw RangeError from the typed array", "zeros", () => T.zeros([2 ** 31])),
  rejects("arange(0, 2**40) threw RangeError", "arange", () => T.arange(0, 2 ** 40)),
  rejects("linspace(0, 1, 2**40) threw RangeError", "linspace", () => T.linspace(0, 1, 2 ** 40)),
  rejects("eye(2**20) threw RangeError", "eye", () => T.eye(2 ** 20)),
  rejects("pad(x, [[2**40, 0], [0, 0]]) threw RangeError", "pad", () =>
    T.pad(x, [
      [2 ** 40, 0],
      [0, 0],
    ]),
  ),
  rejects(
    'pad(x, widths, "x") padded with NaN',
    "pad",
    () =>
      T.pad(
        x,
        [
          [1, 0],
          [0, 0],
        ],
        "x" as never,
      ),
    "value",
  ),
  rejects("oneHot([0], 2**40) threw RangeError", "oneHot", () => T.oneHot([0], 2 ** 40)),
  rejects('oneHot([0], 2, "float16") threw TypeError', "oneHot", () => T.oneHot([0], 2, "float16" as never)),
  {
    name: "fromArray of a self-containing array looped forever",
    run: () => {
      if (!E.isLeft(T.fromArray(cyclic as never))) throw new Error("expected Left");
    },
  },
  rejects('promoteTypes("float16", "int32") answered "int32"', "promoteTypes", () =>
    T.promoteTypes("float16" as never, "int32"),
  ),
  rejects('floatResultType("x") answered "float32"', "floatResultType", () => T.floatResultType("x" as never)),
  rejects('coerce("float16", 1) answered 1', "coerce", () => T.coerce("float16" as never, 1)),
  rejects('setKernelBackend("gpu") stored an unknown backend', "setKernelBackend", () =>
    T.setKernelBackend("gpu" as never),
  ),
  rejects("matmulKernel with an offset past the buffer read undefined as NaN", "matmulKernel", () =>
    T.matmulKernel(new Float32Array(4), 0, new Float32Array(4), 3, new Float32Array(4), 0, 2, 2, 2),
  ),
  rejects("matmulInto(..., null) threw TypeError reading 'transA'", "matmulInto", () =>
    T.matmulInto(new Float64Array(1), 0, new Float64Array(1), 0, new Float64Array(1), 0, 1, 1, 1, null as never),
  ),
  rejects("gatherView reading past its buffer returned undefined as NaN", "gatherView", () =>
    T.gatherView("float32", new Float32Array(2), [3], [1], 0),
  ),
  rejects("viewOffsets(null, ...) threw TypeError", "sizeOf", () => T.viewOffsets(null as never, [], 0)),
  rejects("broadcastStrides([3], [2]) returned strides for shapes that do not broadcast", "broadcastStrides", () =>
    T.broadcastStrides([3], [2]),
  ),
  rejects("slice(x, [[0, 1]]) (an array spec) kept the whole axis", "slice", () => T.slice(x, [[0, 1]] as never)),
  rejects("slice(x, [{ begin: 1 }]) ignored the unknown field", "slice", () => T.slice(x, [{ begin: 1 }] as never)),
  rejects("safetensors.encode(null) threw TypeError", "safetensors.encode", () => T.safetensors.encode(null as never)),
  rejects('safetensors.encode({ a }, "meta") stored the characters of a string as metadata', "safetensors.encode", () =>
    T.safetensors.encode({ a: x }, "meta" as never),
  ),
  rejects(
    "safetensors.encode of a record whose buffer class mismatches its dtype wrote wrong bytes",
    "safetensors.encode",
    () => T.safetensors.encode({ a: { dtype: "int32", shape: [1], data: Float64Array.of(1.5) } as never }),
  ),
  rejects("toString(x, null) threw TypeError", "toString", () => T.toString(x, null as never)),
  rejects('toString(x, { threshold: "5" }) compared a string', "toString", () =>
    T.toString(x, { threshold: "5" } as never),
  ),
  rejects("random.uniform(k, [2], null) threw TypeError", "uniform", () =>
    T.random.uniform(T.random.key(0), [2], null as never),
  ),
  rejects("random.uniform(k, [2], { mni: 0 }) ignored the misspelt option", "uniform", () =>
    T.random.uniform(T.random.key(0), [2], { mni: 0 } as never),
  ),
  rejects("random.split(k, 2**32) tried to build four billion keys", "split", () =>
    T.random.split(T.random.key(0), 2 ** 32),
  ),
  rejects("random.categorical(k, null) threw TypeError", "categorical", () =>
    T.random.categorical(T.random.key(0), null as never),
  ),
  rejects("formatShape(null) threw TypeError", "formatShape", () => T.formatShape(null as never)),
  rejects("fail(null) threw TypeError reading '_tag'", "formatTensorError", () => T.fail(null as never)),
  rejects("sizeOf([1.5]) answered 1.5", "sizeOf", () => T.sizeOf([1.5])),
  rejects("normalizeAxis(op, arg, 0, NaN) answered 0", "normalizeAxis", () => T.normalizeAxis("op", "axis", 0, NaN)),
  rejects("zerosLike(x, null) used x's dtype", "zerosLike", () => T.zerosLike(x, null as never)),
  rejects("fromBuffer with a buffer of the wrong length made a broken tensor", "fromBuffer", () =>
    T.fromBuffer("float32", [3], new Float32Array(1)),
  ),
  rejects("item(undefined) threw TypeError", "item", () => T.item(undefined as never)),
  {
    name: "isTensor accepted a record whose buffer is shorter than its shape (ops then read past the end)",
    run: () => {
      if (T.isTensor({ dtype: "float32", shape: [3], data: Float32Array.of(1) }))
        throw new Error("a short-buffer record is not a tensor");
    },
  },
  {
    name: "shapesEqual(null, null) threw TypeError",
    run: () => {
      if (T.shapesEqual(null as never, null as never)) throw new Error("expected false");
    },
  },
];
