/**
 * @file The spec of `associativeScan`: on random float64 tensors (edge values, size-0 and size-1
 * axes included), any axis, forwards and reversed, with `maximum` (exactly associative, so the
 * tree of combines must give exactly the running maximum of a plain loop); hostile functions,
 * elements and options are refused with library errors.
 */
import fc from "fast-check";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import {
  arbAxis,
  arbShape,
  arbTensorOf,
  badOption,
  expectTensor,
  misspelt,
  notBoolean,
  notFunction,
  notOptionsObject,
  omitted,
  ravel,
  returned,
  unknownOption,
  unravel,
  type Hostile,
  type Spec,
} from "../common.js";

const h = (label: string, value: unknown): Hostile => ({ label, value });

/** The running maximum of `x` along `axis` by a plain loop (reversed: from the end). */
const runningMax = (x: T.Tensor, axis: number, reverse: boolean): number[] => {
  const out = Array.from(x.data);
  const n = x.shape[axis]!;
  // Row-major order visits the neighbour along the axis (the one already combined) first.
  const order = [...out.keys()];
  if (reverse) order.reverse();
  for (const i of order) {
    const idx = unravel(i, x.shape);
    const t = idx[axis]! + (reverse ? 1 : -1);
    if (t < 0 || t >= n) continue;
    const neighbour = ravel(
      idx.map((v, a) => (a === axis ? t : v)),
      x.shape,
    );
    out[i] = Math.max(out[neighbour]!, out[i]!);
  }
  return out;
};

const arbCase = arbShape(3, 5, 1).chain((shape) =>
  fc.tuple(
    arbTensorOf(shape, "float64"),
    fc.option(fc.record({ axis: arbAxis(shape.length), reverse: fc.boolean() }, { requiredKeys: [] }), {
      nil: undefined,
    }),
  ),
);

const badElems: readonly Hostile[] = [
  h("null", null),
  h("5", 5),
  h("{} (no leaves)", {}),
  h("a scalar tensor", T.scalar(1, "float64")),
  h("leaves of different lengths", [T.zeros([3], "float64"), T.zeros([4], "float64")]),
];

const badFn: readonly Hostile[] = [
  ...notFunction,
  h("fn returning another structure", (a: A.Value) => [a, a]),
  h("fn reducing the axis away", (a: A.Value, b: A.Value) => A.sum(A.add(a, b), { axis: 0 })),
  h("fn changing the dtype", (a: A.Value, b: A.Value) => A.astype(A.maximum(a, b), "float32")),
];

/** Specs of associativeScan. */
export const associativeSpecs: Record<string, Spec> = {
  associativeScan: {
    valid: arbCase.map(([x, o]) => [A.maximum, x, o]),
    check: (args, out) => {
      const [, x, o] = args as [unknown, T.Tensor, A.AssociativeScanOptions | undefined];
      const axis = (o?.axis ?? 0) < 0 ? x.shape.length + o!.axis! : (o?.axis ?? 0);
      const want = runningMax(x, axis, o?.reverse ?? false);
      expectTensor(returned(out, "associativeScan"), { dtype: "float64", shape: x.shape, values: want });
    },
    slots: [
      { reject: badFn },
      { reject: badElems },
      {
        reject: [
          ...notOptionsObject.filter((v) => v.label !== "null"),
          ...badOption("axis", [h("1.5", 1.5), h('"0"', "0"), h("7 (out of range)", 7), h("-9", -9)]),
          ...badOption("reverse", notBoolean),
          unknownOption,
          ...misspelt(["axis", "reverse"], { error: A.GraphException, names: ["associativeScan"] }),
        ],
        tolerate: [omitted],
      },
    ],
    runs: 60,
  },
};
