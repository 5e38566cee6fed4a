/**
 * @file Every contract break the autodiff fuzz suite (and the probe before it) found, as an
 * explicit case: each used to throw a TypeError, name the wrong op, or return a wrong answer.
 */
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { expectRejected } from "../contract.js";
import { expectTensor } from "../common.js";
import type { Regression } from "../tensorSpecs/regressions.js";

const rejects = (name: string, op: string, thunk: () => unknown): Regression => ({
  name,
  run: () => {
    const msg = expectRejected([op], thunk);
    if (!msg.startsWith(`${op}:`)) throw new Error(`message should start with "${op}:": ${msg}`);
  },
});

const equals = (
  name: string,
  thunk: () => unknown,
  want: { dtype: T.DType; shape: number[]; values: number[] },
): Regression => ({
  name,
  run: () => expectTensor(thunk(), want, {}, name),
});

const x = T.tensor(
  [
    [1, 2, 3],
    [4, 5, 6],
  ],
  "float64",
);
const int = T.tensor([1, 2], "int32");

/** The autodiff package's regressions. */
export const autodiffRegressions: readonly Regression[] = [
  equals("relu(NaN) answered 0 (the kernel and JAX give NaN)", () => A.relu(T.tensor([NaN, -1, 2])), {
    dtype: "float32",
    shape: [3],
    values: [NaN, 0, 2],
  }),
  rejects("add(int32 tensor, 2**40) wrapped the number to 0 silently", "add", () => A.add(int, 2 ** 40)),
  equals(
    "logSumExp over an empty axis threw an error naming max (now −Inf, as the kernel)",
    () => A.logSumExp(T.zeros([2, 0], "float64"), { axis: 1 }),
    { dtype: "float64", shape: [2], values: [-Infinity, -Infinity] },
  ),
  equals("softmax over an empty axis threw an error naming max", () => A.softmax(T.zeros([0], "float64")), {
    dtype: "float64",
    shape: [0],
    values: [],
  }),
  rejects("sumTo(x [3], [2, 3]) (a target of higher rank) failed with an error naming reshape", "sumTo", () =>
    A.sumTo(T.zeros([3]), [2, 3]),
  ),
  equals(
    "sumTo(bool, its own shape) stayed bool while every other sumTo of bool is int32",
    () => A.sumTo(T.tensor([true, false]), [2]),
    { dtype: "int32", shape: [2], values: [1, 0] },
  ),
  rejects("reshape(x, null) threw TypeError reading 'filter'", "reshape", () => A.reshape(x, null as never)),
  rejects("transpose(x, null) threw TypeError reading 'map'", "transpose", () => A.transpose(x, null as never)),
  rejects("permute(x, undefined) reversed the axes (permute needs a perm)", "permute", () =>
    A.permute(x, undefined as never),
  ),
  rejects("slice(x, null) threw TypeError reading 'length'", "slice", () => A.slice(x, null as never)),
  rejects("slice(x, [5]) (a number as spec) kept the whole axis", "slice", () => A.slice(x, [5] as never)),
  rejects("sliceWindow of a window past the end read out of bounds", "sliceWindow", () =>
    A.sliceWindow(x, { start: [0, 0], step: [1, 1], size: [9, 9] }),
  ),
  rejects("unslice(x, null, w) threw TypeError", "unslice", () =>
    A.unslice(x, null as never, { start: [0, 0], step: [1, 1], size: [2, 3] }),
  ),
  rejects("pad(x, null) threw TypeError reading 'length'", "pad", () => A.pad(x, null as never)),
  rejects('pad(x, widths, "x") put a string into the graph params', "pad", () =>
    A.pad(
      x,
      [
        [1, 0],
        [0, 0],
      ],
      "x" as never,
    ),
  ),
  rejects("concat(null) threw TypeError", "concat", () => A.concat(null as never)),
  rejects("stack(null) threw TypeError", "stack", () => A.stack(null as never)),
  rejects("split(x, [0.5]) failed with an error naming slice", "split", () => A.split(x, [0.5])),
  rejects("take(x, [1.5]) truncated the index to 1", "take", () => A.take(x, [1.5])),
  equals(
    "addAt without an axis used axis 0 (take without an axis reads the flattened tensor)",
    () => A.addAt(T.zeros([2, 2], "float64"), [3], T.tensor([5], "float64")),
    { dtype: "float64", shape: [2, 2], values: [0, 0, 0, 5] },
  ),
  rejects("oneHot(idx, 1.5) made an arange of floats", "oneHot", () => A.oneHot(int, 1.5)),
  rejects("sum(x, null) threw TypeError reading 'axis'", "sum", () => A.sum(x, null as never)),
  rejects("mean(x, { axes: 0 }) ignored the misspelt option", "mean", () => A.mean(x, { axes: 0 } as never)),
  rejects("argmax(x, null) threw TypeError reading 'axis'", "argmax", () => A.argmax(x, null as never)),
  rejects("zerosLike(null) threw TypeError reading 'dtype'", "zerosLike", () => A.zerosLike(null as never)),
  rejects("astype(null, ...) threw TypeError", "astype", () => A.astype(null as never, "float32")),
  rejects("broadcastTo(x [2, 3], [1, 3]) recorded a wrong aval under tracing", "broadcastTo", () =>
    A.makeGraph((y: A.Value) => A.broadcastTo(y, [1, 3]))(x),
  ),
  rejects("sigmoid(null) named the primitive logistic instead of sigmoid", "sigmoid", () => A.sigmoid(null as never)),
  rejects("grad(5) returned a function that threw TypeError when called", "grad", () => A.grad(5 as never)),
  rejects("grad(f, { argnums: null }) differentiated argument 0", "grad", () =>
    A.grad((y: A.Value) => A.sum(y), { argnums: null } as never)(x),
  ),
  rejects("jvp(f, x, t) (no arrays) threw TypeError spreading a tensor", "jvp", () =>
    A.jvp((y: never) => y, x as never, x as never),
  ),
  rejects("jvp with a float32 tangent for a float64 primal named vjp", "jvp", () =>
    A.jvp((y: A.Value) => A.sin(y), [x], [T.zeros([2, 3])]),
  ),
  rejects("hessian(f, 3)(x) named jacfwd", "hessian", () => A.hessian((y: A.Value) => A.sum(y), 3)(x)),
  rejects("jit(f, null) threw TypeError reading 'compile'", "jit", () => A.jit((y: A.Value) => y, null as never)),
  rejects("scan(f, c, xs, null) threw TypeError", "scan", () =>
    A.scan((c: A.Value, v: A.Value) => [c, v], T.zeros([1]), T.zeros([2, 1]), null as never),
  ),
  rejects('scan(..., { reverse: "yes" }) reversed on a string', "scan", () =>
    A.scan((c: A.Value, v: A.Value) => [c, v], T.zeros([1]), T.zeros([2, 1]), { reverse: "yes" } as never),
  ),
  rejects("scan(..., { checkpoint: null }) used the default policy", "scan", () =>
    A.scan((c: A.Value, v: A.Value) => [c, v], T.zeros([1]), T.zeros([2, 1]), { checkpoint: null } as never),
  ),
  rejects("scan(..., { revers: true }) ignored the misspelt option", "scan", () =>
    A.scan((c: A.Value, v: A.Value) => [c, v], T.zeros([1]), T.zeros([2, 1]), { revers: true } as never),
  ),
  rejects("checkpoint(null) returned a function that threw TypeError", "checkpoint", () => A.checkpoint(null as never)),
  rejects("customVjp with fwd returning a non-pair threw TypeError (not iterable)", "customVjp", () =>
    A.grad((y: A.Value) =>
      A.sum(
        A.customVjp(
          (z: A.Value) => z,
          ((z: A.Value) => z) as never,
          (_r: unknown, c: A.Value) => [c],
        )(y),
      ),
    )(x),
  ),
  rejects("makeGraph(5) threw TypeError when called", "makeGraph", () => A.makeGraph(5 as never)),
  rejects("printGraph(null) threw TypeError", "printGraph", () => A.printGraph(null as never)),
  rejects("toDot({}) threw TypeError", "toDot", () => A.toDot({} as never)),
  rejects("graphKey of a hand-made junk Graph named printGraph", "graphKey", () =>
    A.graphKey(new A.Graph(null as never, null as never, null as never)),
  ),
  rejects("compileGraph(null) threw TypeError reading 'inputs'", "compileGraph", () => A.compileGraph(null as never)),
  rejects(
    "a compiled graph called with a float32 input for a float64 graph read the wrong buffer type",
    "compileGraph",
    () => A.compileGraph(A.makeGraph((y: A.Value) => A.exp(y))(x).graph)([T.zeros([2, 3])]),
  ),
  rejects("estimateResiduals(null) threw TypeError", "estimateResiduals", () => A.estimateResiduals(null as never)),
  rejects("withDebugNans(null) threw TypeError", "withDebugNans", () => A.withDebugNans(null as never)),
  rejects("definePrimitive(null) returned null", "definePrimitive", () => A.definePrimitive(null as never)),
  rejects("formatGraphError(null) threw TypeError reading '_tag'", "formatGraphError", () =>
    A.formatGraphError(null as never),
  ),
  rejects(
    "new Tracer(null, null) made a tracer that crashed the next op",
    "Tracer",
    () => new A.Tracer(null as never, null as never),
  ),
  rejects("treeUnflatten(null, []) threw TypeError reading 'kind'", "treeUnflatten", () =>
    A.treeUnflatten(null as never, []),
  ),
  rejects("treeLeafCount({}) threw TypeError reading 'reduce'", "treeLeafCount", () => A.treeLeafCount({} as never)),
  rejects("treeDefKey(null) threw TypeError", "treeDefKey", () => A.treeDefKey(null as never)),
  rejects("treeDiff(null, null) threw TypeError", "treeDiff", () => A.treeDiff(null as never, null as never)),
  rejects("treeMap(5, tree) threw TypeError (f is not a function)", "treeMap", () => A.treeMap(5 as never, [x])),
];
