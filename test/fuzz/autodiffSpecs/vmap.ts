/**
 * @file Specs of `vmap` and the `batchByLoop` marker: vmap called as users call it
 * (`vmap(f, options)(x)`) over random shapes (size-0 axes included) and batch axes, checked
 * against stacking `f` over the examples; hostile values in every slot.
 */
import fc from "fast-check";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import {
  arbShape,
  badOption,
  expectTensor,
  misspelt,
  notFunction,
  notOptionsObject,
  notTensor,
  omitted,
  returned,
  size,
  unknownOption,
  type Hostile,
  type Spec,
} from "../common.js";

const h = (label: string, value: unknown): Hostile => ({ label, value });

const fns: ReadonlyArray<(x: A.Value) => A.Value> = [
  (x) => A.mul(x, x),
  (x) => A.sum(A.exp(x)),
  (x) => A.flip(A.tanh(x)),
];

/** [f, { inAxes, outAxes }, x] with axes in range for x (rank ≥ 1). */
const valid = arbShape(3, 3, 1).chain((s) =>
  fc.tuple(
    fc.nat(fns.length - 1),
    fc.integer({ min: -s.length, max: s.length - 1 }),
    fc
      .array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: size(s), maxLength: size(s) })
      .map((d) => T.fromDataOrThrow(d, s, "float64")),
  ),
);

/** The examples of x along `axis`, f applied to each, stacked on axis 0 (the default outAxes). */
const loop = (f: (x: A.Value) => A.Value, x: T.Tensor, axis: number): T.Tensor => {
  const a = axis < 0 ? axis + x.shape.length : axis;
  const n = x.shape[a]!;
  const rest = x.shape.filter((_, i) => i !== a);
  if (n === 0) return T.zeros([0, ...(f(T.zeros(rest, "float64")).shape as number[])], "float64");
  const rows = Array.from({ length: n }, (_, i) => f(A.reshape(A.take(x, [i], a), rest)));
  return A.stack(rows) as T.Tensor;
};

export const vmapSpecs: Record<string, Spec> = {
  vmap: {
    valid: valid.map(([i, axis, x]) => [fns[i]!, { inAxes: axis }, x, i]),
    invoke: (v, [f, o, x]) => (v as typeof A.vmap)(f as (x: A.Value) => A.Value, o as A.VmapOptions)(x as A.Value),
    check: (args, out) => {
      const [f, o, x] = args as [(x: A.Value) => A.Value, { inAxes?: number } | undefined, T.Tensor];
      const want = loop(f, x, o?.inAxes ?? 0); // options omitted: the defaults
      expectTensor(
        returned(out, "vmap"),
        { dtype: want.dtype, shape: want.shape, values: Array.from(want.data) },
        {},
        "vmap",
      );
    },
    slots: [
      // Regression: an async function returned a promise of a leaked tracer.
      { reject: [...notFunction, h("an async function", async (x: A.Value) => Promise.resolve(A.exp(x)))] },
      {
        reject: [
          ...notOptionsObject.filter((v) => v.value !== null),
          ...badOption("inAxes", [
            h('"0"', "0"),
            h("1.5", 1.5),
            h("99", 99),
            h("[0, 0]", [0, 0]),
            h("{ a: 0 }", { a: 0 }),
          ]),
          ...badOption("outAxes", [h('"0"', "0"), h("99", 99), h("{ a: 0 }", { a: 0 })]),
          ...badOption("axisSize", [h("-1", -1), h("1.5", 1.5), h('"3"', "3"), h("1000", 1000)]),
          unknownOption,
          ...misspelt(["inAxes", "outAxes", "axisSize"], { error: A.GraphException, names: ["vmap"] }),
        ],
        tolerate: [omitted],
      },
      { reject: notTensor.slice(0, 8) },
    ],
  },
  batchByLoop: {
    cases: () => {
      if (A.batchByLoop !== "batchByLoop" || A.registry.exp.batch === A.batchByLoop)
        throw new Error("batchByLoop marks the loop fallback; exp has a rule of its own");
      return 1;
    },
  },
};
