/**
 * @file Specs of autodiff's graph tools, classes, predicates and pytree functions: makeGraph,
 * traceTree, printGraph, toDot, graphKey, compileGraph, withDebugNans, setJitMode, setJitBackend,
 * getJitMode, definePrimitive, noGradient, registry, Graph, GraphException, RewindError, Tracer, formatGraphError, formatError, isTracer, isValue,
 * isTracing and the tree* family (random pytrees of arrays, objects and Immutable collections).
 */
import fc from "fast-check";
import { List, Map as IMap, Record as IRecord } from "immutable";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { expectRejected } from "../contract.js";
import {
  arbTensor,
  badOption,
  countCases,
  expectTensor,
  misspelt,
  notBoolean,
  notFunction,
  notOptionsObject,
  notTensor,
  omitted,
  returned,
  unknownOption,
  type Hostile,
  type Spec,
} from "../common.js";
import { misspeltCases } from "../options.js";
import { arbX } from "./transforms.js";

const h = (label: string, value: unknown): Hostile => ({ label, value });
const ops = [
  (x: A.Value) => A.exp(x),
  (x: A.Value) => A.sum(A.mul(x, x)),
  (x: A.Value) => A.softmax(x, 0),
  (x: A.Value) => [A.tanh(x), { s: A.sum(x) }],
] as const;
const arbX1 = arbX(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }));
const arbTraced = fc.tuple(fc.nat(ops.length - 1), arbX1).map(([i, x]) => A.makeGraph(ops[i]!)(x));
const notGraph: readonly Hostile[] = [
  h("null", null),
  h("{}", {}),
  h('"g"', "g"),
  h("a tensor", T.zeros([1])),
  h("{ graph: {} }", { graph: {}, consts: [] }),
  h("a hand-made Graph of junk", new A.Graph(null as never, null as never, null as never)),
];

const Point = IRecord<{ a: unknown; b: unknown }>({ a: null, b: null });

/** Random pytrees: tensors and static values inside arrays, objects, Lists, Maps and Records. */
const arbTree: fc.Arbitrary<unknown> = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    arbTensor(),
    fc.constantFrom(1, "s", null, true, undefined),
    fc.array(tie("tree"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("a", "b", "c"), tie("tree"), { maxKeys: 3 }),
    fc.array(tie("tree"), { maxLength: 2 }).map((xs) => List(xs)),
    fc
      .tuple(tie("tree"), tie("tree"))
      .map(([a, b]) => IMap<unknown, unknown>([["k", a] as [unknown, unknown], [2, b] as [unknown, unknown]])),
    fc.tuple(tie("tree"), tie("tree")).map(([a, b]) => Point({ a, b })),
  ),
})).tree;

const cyclic = (): unknown => {
  const o: Record<string, unknown> = { x: T.zeros([1]) };
  o["self"] = o;
  return o;
};

const leavesEqual = (what: string, got: readonly unknown[], want: readonly unknown[]): void => {
  if (got.length !== want.length || got.some((l, i) => l !== want[i])) throw new Error(`${what}: leaves differ`);
};

const notDef: readonly Hostile[] = [
  h("null", null),
  h("{}", {}),
  h('{ kind: "nope" }', { kind: "nope" }),
  h("an array node without children", { kind: "array" }),
  h("an object node with missing keys", { kind: "object", keys: [], children: [{ kind: "leaf" }] }),
  h('"leaf"', "leaf"),
];

/** Specs of the graph tools, classes, predicates and pytree functions. */
export const toolSpecs: Record<string, Spec> = {
  makeGraph: {
    valid: fc
      .tuple(
        fc.nat(ops.length - 1),
        fc.option(fc.record({ optimize: fc.boolean() }, { requiredKeys: [] }), { nil: undefined }),
        arbX1,
      )
      .map(([i, o, x]) => [ops[i]!, o, x]),
    invoke: (m, [f, o, x]) => (m as typeof A.makeGraph)(f as (x: never) => unknown, o as A.MakeGraphOptions)(x),
    check: (_args, out) => {
      const g = returned(out, "makeGraph") as A.ClosedGraph;
      if (!(g.graph instanceof A.Graph) || g.graph.inAvals.length !== 1 + g.consts.length)
        throw new Error("makeGraph: one input per argument leaf and constant");
    },
    slots: [
      // Regression: an async function's promise was traced as static data (an empty graph).
      { reject: [...notFunction, h("an async function", async (x: A.Value) => Promise.resolve(A.exp(x)))] },
      {
        reject: [
          ...notOptionsObject,
          ...badOption("optimize", notBoolean),
          unknownOption,
          ...misspelt(["optimize"], { error: A.GraphException, names: ["makeGraph"] }),
        ],
        tolerate: [omitted],
      },
    ],
  },
  traceTree: {
    valid: fc.tuple(fc.nat(ops.length - 1), arbX1).map(([i, x]) => [ops[i]!, [x]]),
    check: (_args, out) => {
      if (!((returned(out, "traceTree") as A.ClosedGraph).graph instanceof A.Graph))
        throw new Error("traceTree: no graph");
    },
    slots: [
      { reject: notFunction },
      { reject: [h("null", null), h("a tensor (not a list)", T.zeros([1])), h('"x"', "x")] },
    ],
  },
  printGraph: graphToText("printGraph", (s) => s.startsWith("{ lambda")),
  toDot: graphToText("toDot", (s) => s.startsWith("digraph G {") && s.endsWith("}")),
  graphKey: {
    valid: arbTraced.map((g) => [g.graph]),
    check: (args, out) => {
      if (returned(out, "graphKey") !== A.printGraph(args[0] as A.Graph))
        throw new Error("graphKey is the printed graph");
    },
    slots: [{ reject: notGraph }],
  },
  compileGraph: {
    valid: fc.tuple(fc.nat(1), arbX()).map(([i, x]) => [A.makeGraph(ops[i]!)(x), [x], i]),
    invoke: (c, [g, ins]) => {
      // A closed graph passes its graph and prepends its constants; anything else goes in as is.
      const closed = typeof g === "object" && g !== null && "consts" in g ? (g as A.ClosedGraph) : undefined;
      const inputs = closed === undefined || !Array.isArray(ins) ? ins : [...closed.consts, ...(ins as T.Tensor[])];
      return (c as typeof A.compileGraph)((closed?.graph ?? g) as A.Graph)(inputs as T.Tensor[]);
    },
    check: (args, out) => {
      const [, [x], i] = args as [A.ClosedGraph, [T.Tensor], number];
      const want = ops[i]!(x) as T.Tensor;
      expectTensor(
        (returned(out, "compileGraph") as T.Tensor[])[0],
        { dtype: want.dtype, shape: want.shape, values: Array.from(want.data) },
        {},
        "compileGraph",
      );
    },
    slots: [
      {
        reject: [
          h("null", null),
          h("a closed graph of junk", { graph: new A.Graph(null as never, null as never, null as never), consts: [] }),
        ],
      },
      {
        reject: [
          h("[] (too few inputs)", []),
          h("[a float32 tensor]", [T.zeros([2])]),
          h("[null]", [null]),
          h('"x"', "x"),
          h("[x, x] (too many)", [T.zeros([1], "float64"), T.zeros([1], "float64")]),
        ],
      },
    ],
  },
  withDebugNans: {
    valid: arbX().map((x) => [() => A.exp(x), x]),
    check: (args, out) => {
      const x = args[1] as T.Tensor;
      expectTensor(
        returned(out, "withDebugNans"),
        { dtype: x.dtype, shape: x.shape, values: Array.from(x.data, Math.exp) },
        {},
        "withDebugNans",
      );
    },
    cases: () => {
      const msg = expectRejected(["log"], () => A.withDebugNans(() => A.log(T.tensor([-1], "float64"))));
      if (!/NaN|Inf/.test(msg)) throw new Error("withDebugNans must report the NaN");
      return 1;
    },
    slots: [{ reject: notFunction }],
  },
  setJitMode: {
    cases: () => {
      const before = A.getJitMode();
      try {
        return countCases([
          ...[
            h('"fast"', "fast"),
            h("null", null),
            h("undefined", undefined),
            h("true", true),
            h('"Interpret"', "Interpret"),
          ].map((v) => () => void expectRejected(["setJitMode"], () => A.setJitMode(v.value as A.JitMode))),
          () => {
            const prev = A.setJitMode("interpret");
            const x = T.tensor([0.5, -1], "float64");
            const got = A.jit((y: A.Value) => A.exp(y))(x);
            if (A.getJitMode() !== "interpret" || !T.isTensor(got) || got.data[0] !== Math.exp(0.5))
              throw new Error("setJitMode('interpret') must run jit through the interpreter, same values");
            A.setJitMode(prev);
          },
        ]);
      } finally {
        A.setJitMode(before);
      }
    },
  },
  setJitBackend: {
    cases: () =>
      countCases([
        ...[
          [3, undefined],
          ["", undefined],
          ["fuzz", null],
          ["fuzz", {}],
          ["fuzz", { jit: 1 }],
          ["fuzz", "webgpu"],
        ].map(
          ([name, backend]) =>
            () =>
              void expectRejected(["setJitBackend"], () =>
                A.setJitBackend(name as string, backend as unknown as A.JitBackend),
              ),
        ),
        () => {
          // Registered under a name, jit finds it; removed, the name is refused.
          const backend: A.JitBackend = { name: "fuzz", jit: () => "delegated" as never };
          A.setJitBackend("fuzz", backend);
          try {
            if ((A.jit((x: A.Value) => x, { backend: "fuzz" }) as unknown) !== "delegated")
              throw new Error("setJitBackend: jit did not delegate to the registered back end");
          } finally {
            A.setJitBackend("fuzz", undefined);
          }
          expectRejected(["jit"], () => A.jit((x: A.Value) => x, { backend: "fuzz" }));
        },
      ]),
  },
  getJitMode: {
    cases: () =>
      countCases([
        () => {
          if (!["compile", "interpret"].includes(A.getJitMode()))
            throw new Error(`getJitMode: ${String(A.getJitMode())}`);
        },
      ]),
  },
  definePrimitive: {
    cases: () => {
      const ok = {
        name: "myNeg",
        abstractEval: (ins: readonly A.Aval[]) => [ins[0]!],
        impl: (ins: readonly T.Tensor[]) => [T.neg(ins[0]!)],
        vjp: A.noGradient,
      };
      const bad = [
        null,
        {},
        { ...ok, name: 3 },
        { ...ok, impl: undefined },
        { ...ok, vjp: "x" },
        { ...ok, batch: "loop" },
        { ...ok, forward: 5 },
      ];
      return (
        countCases([
          () => {
            const p = A.definePrimitive(ok);
            if (p !== ok || !Object.isFrozen(p)) throw new Error("definePrimitive returns the frozen primitive");
          },
          ...bad.map((b) => () => void expectRejected(["definePrimitive"], () => A.definePrimitive(b as never))),
        ]) +
        // A primitive is a record of named rules: a misspelt optional one must not be dropped silently.
        misspeltCases({
          names: ["definePrimitive"],
          error: A.GraphException,
          known: ["name", "abstractEval", "impl", "vjp", "batch", "forward", "printParams", "subgraphs"],
          base: ok,
          call: (o) => A.definePrimitive(o as never),
        })
      );
    },
  },
  noGradient: {
    cases: () =>
      countCases([
        () => {
          if (A.noGradient !== "noGradient" || A.registry.argmax.vjp !== A.noGradient)
            throw new Error("noGradient marks non-differentiable primitives");
        },
      ]),
  },
  registry: {
    cases: () =>
      countCases(
        Object.entries(A.registry).map(([name, prim]) => () => {
          if (prim.name !== name || A.definePrimitive(prim as never) !== prim)
            throw new Error(`registry.${name} is not a well-formed primitive under its name`);
        }),
      ),
  },
  Graph: {
    cases: () =>
      countCases([
        () => {
          const g = A.makeGraph((x: A.Value) => A.exp(x))(T.zeros([2])).graph;
          if (!(g instanceof A.Graph) || g.inAvals[0]!.shape[0] !== 2 || g.outAvals.length !== 1)
            throw new Error("traced graphs are Graphs with avals");
        },
        ...["printGraph", "toDot", "compileGraph"].map(
          (op) => () =>
            void expectRejected([op], () =>
              (A as unknown as Record<string, (g: unknown) => unknown>)[op]!(
                new A.Graph(null as never, null as never, null as never),
              ),
            ),
        ),
      ]),
  },
  GraphException: {
    cases: () =>
      countCases([
        () => {
          const e = new A.GraphException({ _tag: "InvalidArgument", op: "myOp", arg: "x", detail: "bad", fix: "good" });
          if (!(e instanceof Error) || e.name !== "GraphException" || e.message !== "myOp: bad (argument `x`); good")
            throw new Error("GraphException fields");
        },
        () => void expectRejected(["formatGraphError"], () => new A.GraphException(null as never)),
      ]),
  },
  RewindError: {
    cases: () =>
      countCases([
        () => {
          if (A.RewindError !== T.RewindError)
            throw new Error("@rewind/autodiff must re-export the one RewindError of @rewind/tensor");
          const e = new A.GraphException({ _tag: "TracerLeak", op: "jit", aval: { shape: [2], dtype: "float32" } });
          if (!(e instanceof A.RewindError) || e.error.op !== "jit")
            throw new Error("GraphException must be a RewindError");
        },
      ]),
  },
  formatError: {
    cases: () =>
      countCases([
        () => {
          if (
            !A.formatError({ _tag: "NonScalarOutput", op: "grad", aval: { shape: [3], dtype: "float32" } }).startsWith(
              "grad: the function must return a scalar",
            )
          )
            throw new Error("formatError of a GraphError");
        },
        () => {
          const v = { _tag: "AxisError", op: "sum", arg: "axis", axis: 2, rank: 2 } as const;
          if (A.formatError(v) !== T.formatError(v))
            throw new Error("formatError of a TensorError must match @rewind/tensor's");
        },
        () => {
          const e = new A.GraphException({ _tag: "InvalidArgument", op: "myOp", arg: "x", detail: "bad", fix: "good" });
          if (A.formatError(e) !== e.message) throw new Error("formatError of a thrown error is its message");
        },
        ...[
          null,
          {},
          { _tag: "Nope", op: "f" },
          { _tag: "NonScalarOutput", op: "grad" },
          { _tag: "TreeMismatch", op: "f", path: 1 },
          "x",
        ].map((v) => () => void expectRejected(["formatError"], () => A.formatError(v as never))),
      ]),
  },
  formatGraphError: {
    cases: () =>
      countCases([
        () => {
          if (
            !A.formatGraphError({
              _tag: "NonScalarOutput",
              op: "grad",
              aval: { shape: [3], dtype: "float32" },
            }).startsWith("grad: the function must return a scalar")
          )
            throw new Error("formatGraphError text");
        },
        () => {
          const text = A.formatGraphError({
            _tag: "ConcretizationError",
            op: "jit",
            aval: { shape: [2], dtype: "float32" },
            use: "read through .data",
          });
          if (
            !text.startsWith("jit: a traced value f32[2] was read through .data") ||
            !text.includes("where(cond, a, b)")
          )
            throw new Error(`formatGraphError text: ${text}`);
        },
        ...[
          null,
          {},
          { _tag: "Nope", op: "f" },
          { _tag: "NonScalarOutput", op: "grad" },
          { _tag: "TreeMismatch", op: "f", path: 1 },
          { _tag: "ConcretizationError", op: "jit", use: "x" },
          "x",
        ].map((v) => () => void expectRejected(["formatGraphError"], () => A.formatGraphError(v as never))),
      ]),
  },
  Tracer: {
    cases: () => {
      let leaked: A.Value | undefined;
      A.jit((x: A.Value) => {
        leaked = x;
        return A.exp(x);
      })(T.zeros([2]));
      return countCases([
        () => {
          if (
            !(leaked instanceof A.Tracer) ||
            !A.isTracer(leaked) ||
            leaked.shape[0] !== 2 ||
            leaked.dtype !== "float32"
          )
            throw new Error("values traced by jit are Tracers with avals");
        },
        () => void expectRejected(["exp"], () => A.exp(leaked!)),
        () => void expectRejected(["Tracer"], () => new A.Tracer(null as never, null as never)),
        // JavaScript's conversions: a number or .data of a live tracer is a concretization error
        // naming the transform; of a leaked one, a leak; a string always describes it.
        () => void expectRejected(["jit"], () => A.jit((x: A.Value) => A.exp(A.mul(x, Number(x))))(T.zeros([2]))),
        () =>
          void expectRejected(["grad"], () =>
            A.grad((x: A.Value) => A.sum(A.mul(x, (x as unknown as { data: number[] }).data[0]!)))(T.zeros([2])),
          ),
        () => void expectRejected(["toPrimitive"], () => Number(leaked)),
        () => void expectRejected(["data"], () => (leaked as unknown as { data: unknown }).data),
        () => {
          if (`${leaked}` !== "Tracer<float32[2]>") throw new Error(`a tracer as a string: ${String(leaked)}`);
        },
      ]);
    },
  },
  isTracer: predicateSpec("isTracer", (v) => v instanceof A.Tracer),
  isValue: predicateSpec("isValue", (v) => v instanceof A.Tracer || T.isTensor(v)),
  isTracing: {
    cases: () =>
      countCases([
        () => {
          let inside = false;
          A.jit((x: A.Value) => ((inside = A.isTracing()), x))(T.zeros([1]));
          if (A.isTracing() || !inside) throw new Error("isTracing is true exactly under a transform");
        },
      ]),
  },
  treeFlatten: treeSpec("treeFlatten", (t, out) => {
    const [leaves, def] = returned(out, "treeFlatten") as [A.Value[], A.TreeDef];
    leavesEqual("treeFlatten", A.treeLeaves(A.treeUnflatten(def, leaves)), leaves);
    if (A.treeLeafCount(def) !== leaves.length || A.treeDefKey(A.treeStructure(t)) !== A.treeDefKey(def))
      throw new Error("treeFlatten: structure");
  }),
  treeLeaves: treeSpec("treeLeaves", (t, out) =>
    leavesEqual("treeLeaves", returned(out, "treeLeaves") as unknown[], A.treeFlatten(t)[0]),
  ),
  treeStructure: treeSpec("treeStructure", (t, out) => {
    if (A.treeDiff(returned(out, "treeStructure") as A.TreeDef, A.treeFlatten(t)[1]) !== undefined)
      throw new Error("treeStructure: differs from treeFlatten's");
  }),
  treeLeavesWithPaths: treeSpec("treeLeavesWithPaths", (t, out) => {
    const pairs = returned(out, "treeLeavesWithPaths") as Array<[string, A.Value]>;
    leavesEqual(
      "treeLeavesWithPaths",
      pairs.map((p) => p[1]),
      A.treeLeaves(t),
    );
    if (new Set(pairs.map((p) => p[0])).size !== pairs.length)
      throw new Error("treeLeavesWithPaths: paths must be distinct");
  }),
  treeMap: {
    valid: arbTree.map((t) => [(x: T.Tensor) => T.neg(x), t]),
    check: (args, out) => {
      const t = args[1];
      const mapped = A.treeLeaves(returned(out, "treeMap"));
      const orig = A.treeLeaves(t) as T.Tensor[];
      orig.forEach((x, i) =>
        expectTensor(
          mapped[i],
          { dtype: T.neg(x).dtype, shape: x.shape, values: Array.from(T.neg(x).data) },
          {},
          "treeMap",
        ),
      );
    },
    slots: [
      { reject: notFunction },
      { reject: [h("a cyclic object", cyclic())] },
      { reject: [h("a tree of another structure", [[T.zeros([1])], 5])] },
    ],
    names: ["treeMap", "treeFlatten"],
  },
  treeUnflatten: {
    valid: arbTree.map((t) => [A.treeStructure(t), A.treeLeaves(t)]),
    check: (args, out) =>
      leavesEqual("treeUnflatten", A.treeLeaves(returned(out, "treeUnflatten")), args[1] as unknown[]),
    slots: [{ reject: notDef }, { reject: [h("null", null), h("too many leaves", Array(40).fill(T.zeros([1])))] }],
  },
  treeLeafCount: defSpec("treeLeafCount", (t, v) => v === A.treeLeaves(t).length),
  treeDefKey: defSpec("treeDefKey", (t, v) => v === A.treeDefKey(A.treeStructure(A.treeMap((x) => x, t)))),
  treeDiff: {
    valid: fc.tuple(arbTree, arbTree).map(([a, b]) => [A.treeStructure(a), A.treeStructure(b)]),
    check: (args, out) => {
      const d = returned(out, "treeDiff");
      const same = A.treeDefKey(args[0] as A.TreeDef) === A.treeDefKey(args[1] as A.TreeDef);
      if ((d === undefined) !== same) throw new Error("treeDiff is undefined exactly for equal structures");
    },
    slots: [{ reject: notDef }, { reject: notDef }],
  },
};

function graphToText(op: "printGraph" | "toDot", ok: (s: string) => boolean): Spec {
  return {
    valid: arbTraced.map((g) => [g]),
    check: (_args, out) => {
      const s = returned(out, op);
      if (typeof s !== "string" || !ok(s)) throw new Error(`${op}: unexpected text`);
    },
    slots: [{ reject: notGraph }],
  };
}

/** A tracer, taken out of a jit trace (it has leaked, but it is a Tracer). */
function tracerOf(): A.Value {
  let t: A.Value | undefined;
  A.jit((x: A.Value) => ((t = x), x))(T.zeros([1]));
  return t!;
}

function predicateSpec(op: string, truth: (v: unknown) => boolean): Spec {
  return {
    cases: () =>
      countCases(
        [...notTensor, h("a tensor", T.zeros([1])), h("a Tracer", tracerOf())].map((v) => () => {
          const got = (A as unknown as Record<string, (x: unknown) => boolean>)[op]!(v.value);
          if (got !== truth(v.value)) throw new Error(`${op}(${v.label}) should be ${truth(v.value)}`);
        }),
      ),
  };
}

function treeSpec(op: string, check: (t: unknown, out: Parameters<NonNullable<Spec["check"]>>[1]) => void): Spec {
  return {
    valid: arbTree.map((t) => [t]),
    check: (args, out) => check(args[0], out),
    slots: [
      {
        reject: [
          h("a cyclic object", cyclic()),
          h(
            "a cyclic array",
            (() => {
              const a: unknown[] = [];
              a.push(a);
              return a;
            })(),
          ),
        ],
      },
    ],
    names: [op, "treeFlatten"],
    runs: 30,
  };
}

function defSpec(op: string, ok: (t: unknown, v: unknown) => boolean): Spec {
  return {
    valid: arbTree.map((t) => [A.treeStructure(t), t]),
    check: (args, out) => {
      if (!ok(args[1], returned(out, op))) throw new Error(`${op}: wrong answer`);
    },
    slots: [{ reject: notDef }],
    runs: 30,
  };
}
