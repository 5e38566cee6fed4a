/**
 * @file Specs of the transforms (grad, valueAndGrad, vjp, jvp, jacrev, jacfwd, hessian, jit,
 * remat (and its deprecated alias checkpoint), customVjp, scan, estimateScanResiduals, estimateResiduals). Each is called the way
 * users call it (`grad(f, options)(x)`), on functions whose derivatives are known in closed
 * form, over shapes that include scalars and size-0 axes; hostile values go into every slot.
 */
import fc from "fast-check";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { expectRejected as rejectedCall, type Outcome } from "../contract.js";
import {
  arbShape,
  badOption,
  expectTensor,
  notBoolean,
  notFunction,
  misspelt,
  notOptionsObject,
  notTensor,
  omitted,
  returned,
  size,
  unknownOption,
  type Hostile,
  type Slot,
  type Spec,
} from "../common.js";

const h = (label: string, value: unknown): Hostile => ({ label, value });
const tol = { rtol: 1e-12, atol: 1e-12 };

/** float64 tensors with moderate values (derivatives in closed form stay accurate). */
export const arbX = (shape: fc.Arbitrary<number[]> = arbShape(3, 3)): fc.Arbitrary<T.Tensor> =>
  shape.chain((s) =>
    fc
      .array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: size(s), maxLength: size(s) })
      .map((d) => T.fromDataOrThrow(d, s, "float64")),
  );

const map = (x: T.Tensor, f: (v: number) => number): number[] => Array.from(x.data, f);
const like = (x: T.Tensor, values: number[]) => ({ dtype: x.dtype, shape: x.shape, values });

/** Scalar functions with known gradients. */
const losses = [
  { f: (x: A.Value) => A.sum(A.mul(x, x)), df: (v: number) => 2 * v },
  { f: (x: A.Value) => A.sum(A.sin(x)), df: Math.cos },
  { f: (x: A.Value) => A.sum(A.tanh(x)), df: (v: number) => 1 - Math.tanh(v) ** 2 },
] as const;

const nonScalar = (x: A.Value): A.Value => A.mul(x, 2);

const gradSlots = (op: string, argCount: number): readonly Slot[] => [
  { reject: [...notFunction] },
  {
    reject: [
      ...notOptionsObject,
      ...badOption("argnums", [
        h("1.5", 1.5),
        h("-1", -1),
        h("5", 5),
        h('"0"', "0"),
        h("null", null),
        h("[0, 7]", [0, 7]),
      ]),
      ...badOption("hasAux", notBoolean),
      unknownOption,
      ...misspelt(["argnums", "hasAux"], { error: A.GraphException, names: [op], base: { argnums: 0, hasAux: false } }),
    ],
    tolerate: [omitted],
  },
  ...Array.from({ length: argCount }, () => ({
    reject: [h("null", null), h('"x"', "x"), h("[1, 2] (no tensor leaf)", [1, 2])],
  })),
];

const gradLike = (op: "grad" | "valueAndGrad"): Spec => ({
  valid: fc.tuple(fc.nat(losses.length - 1), arbX()).map(([i, x]) => [losses[i]!.f, { argnums: 0 }, x, i]),
  invoke: (g, [f, opts, x]) => (g as (f: unknown, o: unknown) => (x: unknown) => unknown)(f, opts)(x),
  check: (args, out) => {
    const [, , x, i] = args as [unknown, unknown, T.Tensor, number | undefined];
    const got = returned(out, op);
    const grad = op === "grad" ? got : (got as unknown[])[1];
    if (i !== undefined) expectTensor(grad, like(x, map(x, losses[i]!.df)), tol, op);
  },
  slots: gradSlots(op, 1),
  // A bad x reaches f, and the op inside f that receives it names itself.
  names: [op, "sum", "sin", "tanh", "mul"],
});

const checkPair = (op: string, out: Outcome<unknown>, check: (v: unknown, d: unknown) => void): void => {
  const [v, d] = returned(out, op) as [unknown, unknown];
  check(v, d);
};

/** `remat(f)` (and its deprecated alias `checkpoint`): the values and gradients of f. */
const rematSpec = (name: string): Spec => ({
  valid: fc.tuple(fc.nat(losses.length - 1), arbX()).map(([i, x]) => [losses[i]!.f, x, i]),
  invoke: (c, [f, x]) => {
    const g = (c as typeof A.remat)(f as (x: A.Value) => A.Value);
    return [g(x as A.Value), A.grad((y: A.Value) => g(y))(x as A.Value)];
  },
  check: (args, out) =>
    checkPair(name, out, (v, g) => {
      const [f, x, i] = args as [(x: A.Value) => A.Value, T.Tensor, number];
      const want = f(x) as T.Tensor;
      expectTensor(v, { dtype: want.dtype, shape: want.shape, values: Array.from(want.data) }, {}, `${name} value`);
      expectTensor(g, like(x, map(x, losses[i]!.df)), tol, `${name} gradient`);
    }),
  slots: [{ reject: notFunction }],
});

/** Specs of the differentiation transforms and jit. */
export const transformSpecs: Record<string, Spec> = {
  grad: {
    ...gradLike("grad"),
    cases: () => {
      const x = T.tensor([1, 2], "float64");
      // Non-scalar outputs, aux without hasAux, and non-float outputs are library errors.
      const bad = [
        () => A.grad(nonScalar)(x),
        () => A.grad((y: A.Value) => [A.sum(y), 1], { hasAux: false })(x),
        () => A.grad((y: A.Value) => A.sum(A.astype(y, "int32")))(x),
        () => A.grad((y: A.Value) => A.sum(y), { hasAux: true })(x),
      ];
      for (const b of bad) rejectedCall(["grad"], b);
      return bad.length;
    },
  },
  valueAndGrad: gradLike("valueAndGrad"),
  vjp: {
    valid: arbX().chain((x) =>
      fc.tuple(
        fc.constant((y: A.Value) => A.mul(y, 3)),
        fc.constant(x),
        arbX(fc.constant([...x.shape])),
      ),
    ),
    invoke: (v, [f, x, ct]) => {
      const [y, pb] = (v as typeof A.vjp)(f as (x: unknown) => unknown, x);
      return [y, pb(ct)];
    },
    check: (args, out) =>
      checkPair("vjp", out, (_y, cts) => {
        const ct = args[2] as T.Tensor;
        expectTensor(
          (cts as unknown[])[0],
          like(
            ct,
            map(ct, (v) => 3 * v),
          ),
          tol,
          "vjp",
        );
      }),
    slots: [
      { reject: notFunction },
      {},
      {
        reject: [
          h("null", null),
          h("a float32 cotangent", T.zeros([2], "float32")),
          h("a cotangent of another shape", T.zeros([5, 5], "float64")),
          h("[ct] (wrong structure)", [T.zeros([1], "float64")]),
          h('"x"', "x"),
        ],
      },
    ],
  },
  jvp: {
    valid: arbX().chain((x) =>
      fc.tuple(
        fc.constant((y: A.Value) => A.sin(y)),
        fc.constant([x]),
        arbX(fc.constant([...x.shape])).map((t) => [t]),
      ),
    ),
    check: (args, out) =>
      checkPair("jvp", out, (y, dy) => {
        const [x] = args[1] as [T.Tensor];
        const [t] = args[2] as [T.Tensor];
        expectTensor(y, like(x, map(x, Math.sin)), tol, "jvp value");
        expectTensor(
          dy,
          like(
            x,
            map(x, (v) => Math.cos(v)).map((c, i) => c * t.data[i]!),
          ),
          tol,
          "jvp tangent",
        );
      }),
    slots: [
      { reject: notFunction },
      { reject: [h("null", null), h("a tensor (not a list)", T.zeros([2], "float64")), h('"x"', "x")] },
      {
        reject: [
          h("null", null),
          h("[]", []),
          h("[float32 tangent]", [T.zeros([2, 2], "float32")]),
          h("[tangent of another shape]", [T.zeros([7], "float64")]),
          h("[t, t] (extra)", [T.zeros([1], "float64"), T.zeros([1], "float64")]),
        ],
      },
    ],
  },
  jacrev: jacobianSpec("jacrev"),
  jacfwd: jacobianSpec("jacfwd"),
  hessian: {
    valid: fc
      .tuple(arbX(arbShape(2, 2)), arbJacobianSpec())
      .map(([x, spec]) => [(y: A.Value) => A.sum(A.mul(y, A.mul(y, y))), spec, x]),
    invoke: (hs, [f, spec, x]) => (hs as typeof A.hessian)(f as (x: never) => unknown, spec as A.JacobianSpec)(x),
    check: (args, out) => {
      const x = args[2] as T.Tensor;
      const n = size(x.shape);
      const values = Array.from({ length: n * n }, (_, p) => (Math.floor(p / n) === p % n ? 6 * x.data[p % n]! : 0));
      expectTensor(
        returned(out, "hessian"),
        { dtype: "float64", shape: [...x.shape, ...x.shape], values },
        tol,
        "hessian",
      );
    },
    slots: [{ reject: notFunction }, jacobianSpecSlot("hessian"), { reject: notTensor.slice(0, 8) }],
  },
  jit: {
    valid: fc
      .tuple(
        fc.nat(losses.length - 1),
        // A new jit per case: its retrace warning (about doing so in a loop) is silenced.
        fc.record({ compile: fc.boolean(), warnRetraces: fc.constant(false) }, { requiredKeys: ["warnRetraces"] }),
        arbX(),
      )
      .map(([i, o, x]) => [losses[i]!.f, o, x, i]),
    invoke: (j, [f, o, x]) => (j as typeof A.jit)(f as (x: unknown) => unknown, o as A.JitOptions)(x),
    check: (args, out) => {
      const [f, , x] = args as [(x: A.Value) => A.Value, unknown, T.Tensor];
      const want = f(x) as T.Tensor;
      expectTensor(
        returned(out, "jit"),
        { dtype: want.dtype, shape: want.shape, values: Array.from(want.data) },
        {},
        "jit",
      );
    },
    slots: [
      // Regression: an async function resolved to a leaked tracer (its promise traced as static data).
      { reject: [...notFunction, h("an async function", async (x: A.Value) => Promise.resolve(A.exp(x)))] },
      {
        reject: [
          ...notOptionsObject,
          ...badOption("compile", notBoolean),
          ...badOption("donate", [h("[-1]", [-1]), h("[0.5]", [0.5]), h('"0"', "0"), h("[null]", [null])]),
          ...badOption("warnRetraces", [h("-1", -1), h("1.5", 1.5), h('"3"', "3"), h("true", true)]),
          // Neither a back end (an object with a jit method) nor a registered name.
          ...badOption("backend", [h("3", 3), h("null", null), h("{}", {}), h('"unregistered"', "unregistered")]),
          unknownOption,
          ...misspelt(["backend", "compile", "donate", "warnRetraces"], { error: A.GraphException, names: ["jit"] }),
        ],
        tolerate: [omitted],
      },
    ],
  },
  remat: rematSpec("remat"),
  // The deprecated alias of remat: the same contract.
  checkpoint: rematSpec("checkpoint"),
  customVjp: {
    valid: arbX().map((x) => [
      (y: A.Value) => A.mul(y, 1),
      (y: A.Value) => [A.mul(y, 1), null],
      (_r: unknown, ct: A.Value) => [A.mul(ct, 3)],
      x,
    ]),
    invoke: (cv, [f, fwd, bwd, x]) => {
      const g = (cv as (a: unknown, b: unknown, c: unknown) => (x: A.Value) => A.Value)(f, fwd, bwd);
      return [g(x as A.Value), A.grad((y: A.Value) => A.sum(g(y)))(x as A.Value)];
    },
    check: (args, out) =>
      checkPair("customVjp", out, (v, g) => {
        const x = args[3] as T.Tensor;
        expectTensor(v, like(x, Array.from(x.data)), {}, "customVjp value");
        expectTensor(
          g,
          like(
            x,
            map(x, () => 3),
          ),
          {},
          "customVjp gradient (from bwd)",
        );
      }),
    slots: [
      { reject: notFunction },
      { reject: [...notFunction, h("fwd returning a non-pair", (y: A.Value) => y)] },
      {
        reject: [
          ...notFunction,
          h("bwd returning no list", () => 5),
          h("bwd returning a wrong shape", () => [T.zeros([9, 9], "float64")]),
          h("bwd returning two cotangents for one argument", (_r: unknown, ct: A.Value) => [ct, ct]),
        ],
      },
    ],
  },
  ...scanSpecs(),
  estimateResiduals: {
    valid: fc.tuple(fc.nat(losses.length - 1), arbX()).map(([i, x]) => [losses[i]!.f, x]),
    check: (_args, out) => {
      const r = returned(out, "estimateResiduals") as { bytes: number; arrays: number };
      if (!Number.isSafeInteger(r.bytes) || r.bytes < 0 || !Number.isSafeInteger(r.arrays) || r.arrays < 0)
        throw new Error(`estimateResiduals: ${JSON.stringify(r)}`);
    },
    slots: [{ reject: notFunction }],
  },
};

/** The second argument of jacrev/jacfwd/hessian that keeps one tensor result: argnums 0, as a number or option. */
function arbJacobianSpec(): fc.Arbitrary<A.JacobianSpec | undefined> {
  return fc.constantFrom<A.JacobianSpec | undefined>(0, undefined, {}, { argnums: 0 }, { hasAux: false });
}

/** Hostile second arguments of jacrev/jacfwd/hessian: bad argnums (positional or an option) and bad options. */
function jacobianSpecSlot(op: "jacrev" | "jacfwd" | "hessian"): Slot {
  const badArgnums = [
    h("-1", -1),
    h("1.5", 1.5),
    h('"0"', "0"),
    h("3 (no such argument)", 3),
    h("[] (nothing to differentiate)", []),
    h("[0, 0] (repeated)", [0, 0]),
    h("[0, 1] (no argument 1)", [0, 1]),
  ];
  return {
    reject: [
      ...badArgnums,
      ...notOptionsObject,
      ...badOption("argnums", [...badArgnums, h("null", null)]),
      ...badOption("hasAux", notBoolean),
      unknownOption,
      ...misspelt(["argnums", "hasAux"], { error: A.GraphException, names: [op], base: { argnums: 0, hasAux: false } }),
    ],
    tolerate: [omitted],
  };
}

function jacobianSpec(op: "jacrev" | "jacfwd"): Spec {
  return {
    valid: fc.tuple(arbX(arbShape(2, 3)), arbJacobianSpec()).map(([x, spec]) => [(y: A.Value) => A.mul(y, y), spec, x]),
    invoke: (j, [f, spec, x]) => (j as typeof A.jacrev)(f as (x: never) => unknown, spec as A.JacobianSpec)(x),
    check: (args, out) => {
      const x = args[2] as T.Tensor;
      const n = size(x.shape);
      const values = Array.from({ length: n * n }, (_, p) => (Math.floor(p / n) === p % n ? 2 * x.data[p % n]! : 0));
      expectTensor(returned(out, op), { dtype: "float64", shape: [...x.shape, ...x.shape], values }, tol, op);
    },
    slots: [{ reject: notFunction }, jacobianSpecSlot(op), { reject: notTensor.slice(0, 8) }],
  };
}

const cumsumStep = (c: A.Value, x: A.Value): [A.Value, A.Value] => [A.add(c, x), c];

function scanSpecs(): Record<string, Spec> {
  const arbXs = fc
    .tuple(fc.integer({ min: 0, max: 4 }), arbShape(1, 2))
    .chain(([n, s]) => arbX(fc.constant([n, ...s])));
  const arbOpts = fc.option(
    fc
      .record(
        {
          reverse: fc.boolean(),
          unroll: fc.oneof(fc.boolean(), fc.integer({ min: 1, max: 3 })),
          checkpoint: fc.oneof(
            fc.constantFrom<"all" | "carries">("all", "carries"),
            fc.integer({ min: 1, max: 3 }).map((every) => ({ every })),
          ),
          truncate: fc.integer({ min: 1, max: 3 }),
        },
        { requiredKeys: [] },
      )
      .filter(
        (o) => !(typeof o.checkpoint === "object" && o.unroll !== undefined && o.unroll !== 1 && o.unroll !== false),
      ),
    { nil: undefined },
  );
  const badStep: readonly Hostile[] = [
    ...notFunction,
    h("a step returning a non-pair", (c: A.Value) => c),
    h("a step whose carry changes shape", (c: A.Value, x: A.Value) => [A.expandDims(A.add(c, x), 0), c]),
    h("a step whose carry changes dtype", (c: A.Value, x: A.Value) => [A.astype(A.add(c, x), "float32"), c]),
    h("a step whose carry changes structure", (c: A.Value, x: A.Value) => [[A.add(c, x)], c]),
  ];
  const badXs: readonly Hostile[] = [
    h("leaves with different leading sizes", { a: T.zeros([3, 1], "float64"), b: T.zeros([2, 1], "float64") }),
    h("a scalar leaf", T.scalar(1, "float64")),
    h("null without a length", null),
  ];
  const scanKeys = ["length", "reverse", "unroll", "remat", "checkpoint", "truncate"];
  const badScanOpts = (op: string): readonly Hostile[] => [
    ...notOptionsObject.filter((v) => v.label !== "null"),
    ...badOption("length", [h("-1", -1), h("1.5", 1.5), h('"3"', "3"), h("99 (differs from xs)", 99)]),
    ...badOption("reverse", notBoolean),
    ...badOption("unroll", [h("0", 0), h("-1", -1), h("1.5", 1.5), h('"2"', "2")]),
    ...["remat", "checkpoint"].flatMap((name) =>
      badOption(name, [
        h('"some"', "some"),
        h("{ every: 0 }", { every: 0 }),
        h("{ every: 1.5 }", { every: 1.5 }),
        h("{ evry: 2 }", { evry: 2 }),
        h("null", null),
      ]),
    ),
    // Both the option and its deprecated alias at once is refused, not silently resolved.
    h('{ remat: "all", checkpoint: "all" }', { remat: "all", checkpoint: "all" }),
    ...badOption("truncate", [h("0", 0), h("1.5", 1.5), h('"2"', "2")]),
    unknownOption,
    ...misspelt(scanKeys, { error: A.GraphException, names: [op], base: { reverse: false } }),
    // The remat policy { every: k } is an options object of its own (under either name).
    ...["remat", "checkpoint"].flatMap((name) =>
      misspelt(["every"], {
        error: A.GraphException,
        names: ["scan"],
        base: { every: 2 },
        wrap: (every) => ({ [name]: every }),
      }),
    ),
  ];
  const scanCheck = (op: string) => (args: readonly unknown[], out: Outcome<unknown>) => {
    const [, init, xs, opts] = args as [unknown, T.Tensor, T.Tensor, A.ScanOptions | undefined];
    if (op === "estimateScanResiduals") {
      const r = returned(out, op) as { bytes: number };
      if (!Number.isSafeInteger(r.bytes) || r.bytes < 0) throw new Error(`${op}: bytes ${r.bytes}`);
      return;
    }
    const n = xs.shape[0]!;
    const inner = size(xs.shape.slice(1));
    const order = Array.from({ length: n }, (_, t) => (opts?.reverse ? n - 1 - t : t));
    let c = Array.from(init.data);
    const ys = new Array<number[]>(n);
    for (const t of order) {
      ys[t] = c;
      c = c.map((v, i) => v + xs.data[t * inner + i]!);
    }
    checkPair(op, out, (carry, y) => {
      expectTensor(carry, { dtype: "float64", shape: init.shape, values: c }, tol, "scan carry");
      expectTensor(y, { dtype: "float64", shape: xs.shape, values: ys.flat() }, tol, "scan ys");
    });
  };
  const spec = (op: "scan" | "estimateScanResiduals"): Spec => ({
    valid: fc
      .tuple(arbXs, arbOpts)
      .chain(([xs, o]) =>
        fc.tuple(fc.constant(cumsumStep), arbX(fc.constant(xs.shape.slice(1))), fc.constant(xs), fc.constant(o)),
      ),
    check: scanCheck(op),
    slots: [{ reject: badStep }, {}, { reject: badXs }, { reject: badScanOpts(op), tolerate: [omitted] }],
    names: op === "scan" ? ["scan"] : ["estimateScanResiduals", "scan"],
    runs: 30,
  });
  return { scan: spec("scan"), estimateScanResiduals: spec("estimateScanResiduals") };
}
