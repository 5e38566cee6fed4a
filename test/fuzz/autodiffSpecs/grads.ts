/**
 * @file Gradients on edge shapes: for a sample of differentiable ops, the gradient of a weighted
 * sum of the op's output must match central finite differences in float64 on scalars, size-0
 * axes and broadcasting shapes (the gradcheck suite covers ordinary shapes in depth; this one is
 * about the corners). Where the forward pass is refused, the gradient must be refused too.
 */
import fc from "fast-check";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { callClean } from "../contract.js";
import { arbShape, size } from "../common.js";
import { arbX } from "./transforms.js";

type Op = (x: A.Value) => A.Value;
const pos = (x: A.Value): A.Value => A.add(A.mul(x, x), 0.5);

/** The sampled ops (inputs mapped into each op's smooth domain inside the function). */
export const gradOps: Readonly<Record<string, Op>> = {
  exp: A.exp,
  expm1: A.expm1,
  log: (x) => A.log(pos(x)),
  log1p: (x) => A.log1p(A.mul(x, x)),
  sqrt: (x) => A.sqrt(pos(x)),
  rsqrt: (x) => A.rsqrt(pos(x)),
  reciprocal: (x) => A.reciprocal(pos(x)),
  sin: A.sin,
  cos: A.cos,
  tanh: A.tanh,
  sigmoid: A.sigmoid,
  softplus: A.softplus,
  square: A.square,
  pow: (x) => A.pow(pos(x), 1.5),
  div: (x) => A.div(x, pos(x)),
  "outer mul (broadcasting)": (x) => A.mul(A.expandDims(x, 0), A.expandDims(x, -1)),
  "sub against a broadcast row": (x) => A.sub(x, A.sum(x, { axis: 0, keepDims: true })),
  where: (x) => A.where(A.greater(x, 0.1), A.mul(x, 3), A.sin(x)),
  sum: (x) => A.sum(x, { axis: -1 }),
  mean: (x) => A.mean(x, { axis: 0, keepDims: true }),
  prod: (x) => A.prod(x, { axis: -1 }),
  logSumExp: (x) => A.logSumExp(x, { axis: -1 }),
  cumsum: (x) => A.cumsum(x, { axis: 0 }),
  cumprod: (x) => A.cumprod(x, { reverse: true }),
  // Not cummax/cummin (nor max/min): the edge inputs tie often, where FD takes a one-sided mean.
  logcumsumexp: (x) => A.logcumsumexp(x, { axis: 0 }),
  linearScan: (x) => A.linearScan(A.sin(x), x, { reverse: true }),
  softmax: (x) => A.softmax(x),
  logSoftmax: (x) => A.logSoftmax(x, 0),
  transpose: (x) => A.transpose(x),
  flip: (x) => A.flip(x),
  "reshape [-1]": (x) => A.reshape(x, [-1]),
  "slice with step -1": (x) => A.slice(x, [{ step: -1 }]),
  pad: (x) =>
    A.pad(
      x,
      x.shape.map(() => [1, 0] as [number, number]),
      2,
    ),
  concat: (x) => A.concat([x, A.mul(x, 2)], 0),
  take: (x) => A.take(x, [0, -1, 0]),
  matmul: (x) => A.matmul(x, A.transpose(x)),
  broadcastTo: (x) => A.broadcastTo(x, [2, ...x.shape]),
  sumTo: (x) =>
    A.sumTo(
      x,
      x.shape.map((d, i) => (i === 0 ? 1 : d)),
    ),
};

/** Any export may be the op an error names (the weighted sum wraps the op in mul and sum). */
const opNames = Object.keys(A);

const weighted =
  (op: Op, w: readonly number[]) =>
  (x: A.Value): A.Value => {
    const y = op(x);
    const wt = T.fromDataOrThrow(w.slice(0, T.sizeOf(y.shape)), y.shape, "float64");
    return A.sum(A.mul(y, wt));
  };

/**
 * Checks one op on `runs` random float64 inputs of small shapes (scalars and size-0 axes
 * included); returns the number of cases.
 */
export const checkGradOnEdges = (name: string, op: Op, runs: number): number => {
  fc.assert(
    fc.property(
      arbX(arbShape(3, 2)),
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 64, maxLength: 64 }),
      (x, w) => {
        const loss = weighted(op, w);
        const forward = callClean(opNames, () => loss(x));
        const g = callClean(opNames, () => A.grad(loss)(x));
        if (!forward.ok) {
          if (g.ok)
            throw new Error(`${name}: the forward pass was refused (${forward.error.message}) but grad returned`);
          return;
        }
        if (!g.ok) throw new Error(`${name}: grad refused what the forward pass accepted: ${g.error.message}`);
        const gt = g.value;
        if (gt.dtype !== "float64" || !T.shapesEqual(gt.shape, x.shape))
          throw new Error(
            `${name}: gradient is ${gt.dtype}${T.formatShape(gt.shape)} for a float64${T.formatShape(x.shape)} input`,
          );
        const h = 1e-6;
        for (let i = 0; i < size(x.shape); i++) {
          const at = (d: number): number => {
            const data = Float64Array.from(x.data);
            data[i] = data[i]! + d;
            return T.item(loss(T.fromDataOrThrow(data, x.shape, "float64")) as T.Tensor);
          };
          const fd = (at(h) - at(-h)) / (2 * h);
          if (Math.abs(fd - gt.data[i]!) > 1e-5 * (1 + Math.abs(fd)))
            throw new Error(
              `${name}: d/dx[${i}] is ${gt.data[i]}, finite differences give ${fd} (x shape ${T.formatShape(x.shape)})`,
            );
        }
      },
    ),
    { numRuns: runs },
  );
  return runs;
};
