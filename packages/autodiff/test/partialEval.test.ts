/**
 * @file The generic graph passes `partialEval` and `dce` (src/passes/), on random graphs: the known
 * half then the unknown half computes the joint graph bit for bit (any saveable predicate, any
 * staged equations), and `dce` keeps outputs and their values while dropping only dead equations.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { evalGraph, traceToGraph } from "../src/core.js";
import { Graph } from "../src/Graph.js";
import { dce, readInputs } from "../src/passes/dce.js";
import { partialEval } from "../src/passes/partialEval.js";
import { expectBits } from "./compileSupport.js";

const SHAPE = [2, 3];
const unary = [A.tanh, A.exp, A.sin, A.neg] as const;
const binary = [A.add, A.mul, A.sub, A.maximum] as const;

/** One step of a random program: an op applied to earlier values (inputs or results). */
interface Step {
  readonly op: number;
  readonly a: number;
  readonly b: number;
  readonly binary: boolean;
}

interface Program {
  readonly numInputs: number;
  readonly steps: readonly Step[];
  /** Indices (mod the number of values) of the outputs. */
  readonly outputs: readonly number[];
  readonly known: readonly boolean[];
  readonly saveable: readonly boolean[];
  readonly staged: readonly boolean[];
  readonly seed: number;
}

const arbProgram: fc.Arbitrary<Program> = fc.record({
  numInputs: fc.integer({ min: 1, max: 4 }),
  steps: fc.array(fc.record({ op: fc.nat(3), a: fc.nat(), b: fc.nat(), binary: fc.boolean() }), {
    minLength: 1,
    maxLength: 14,
  }),
  outputs: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  known: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  saveable: fc.array(fc.boolean(), { minLength: 14, maxLength: 14 }),
  staged: fc.array(fc.boolean(), { minLength: 14, maxLength: 14 }),
  seed: fc.nat(1000),
});

/** The program as a traced graph; a step may also multiply by a literal 2 (a literal input). */
const graphOf = (p: Program): Graph =>
  traceToGraph(
    (ins) => {
      const vals: Value[] = [...ins];
      for (const s of p.steps) {
        const x = vals[s.a % vals.length]!;
        const y = vals[s.b % vals.length]!;
        vals.push(s.binary ? binary[s.op]!(x, y) : s.op === 3 ? A.mul(x, 2) : unary[s.op]!(x));
      }
      return p.outputs.map((o) => vals[o % vals.length]!);
    },
    Array.from({ length: p.numInputs }, () => ({ shape: SHAPE, dtype: "float64" as const })),
    "test",
  ).graph;

const inputsOf = (p: Program): T.Tensor[] =>
  Array.from({ length: p.numInputs }, (_, i) => T.random.normal(T.random.key(p.seed + i), SHAPE, "float64"));

describe("partialEval", () => {
  it("known half then unknown half equals the joint graph, bit for bit", () => {
    fc.assert(
      fc.property(arbProgram, (p) => {
        const g = graphOf(p);
        const ins = inputsOf(p);
        const knownIn = g.inputs.map((_, i) => p.known[i]!);
        const eqnIndex = new Map([...g.eqns].flatMap((e, i) => e.outputs.map((v) => [v.id, i] as const)));
        const split = partialEval(g, knownIn, {
          saveable: (v) => p.saveable[eqnIndex.get(v.id)!]!,
          staged: (_, i) => p.staged[i]!,
        });
        const knownOuts = evalGraph(
          split.known,
          ins.filter((_, i) => knownIn[i]),
        );
        const nKnownOuts = split.outputKnown.filter(Boolean).length;
        const residuals = knownOuts.slice(nKnownOuts);
        const unknownOuts = evalGraph(split.unknown, [...ins.filter((_, i) => !knownIn[i]), ...residuals]);
        let [k, u] = [0, 0];
        const got = split.outputKnown.map((isKnown) => (isKnown ? knownOuts[k++]! : unknownOuts[u++]!));
        expectBits("split", got, evalGraph(g, ins));
        // The known half reads no unknown input, and every residual is a known value.
        expect(split.known.inputs.length).toBe(knownIn.filter(Boolean).length);
        expect(split.residuals.length).toBe(residuals.length);
      }),
      { numRuns: 150 },
    );
  });

  it("with nothing saveable, the residuals are known inputs only: the rest is recomputed", () => {
    fc.assert(
      fc.property(arbProgram, (p) => {
        const g = graphOf(p);
        const split = partialEval(
          g,
          g.inputs.map((_, i) => p.known[i]!),
          { saveable: () => false },
        );
        const inputIds = new Set(g.inputs.map((v) => v.id));
        expect(split.residuals.every((v) => inputIds.has(v.id))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("stages equations out on request, and an all-known graph has an empty unknown half", () => {
    const g = traceToGraph(
      ([x, y]) => [A.mul(A.exp(x!), y!)],
      [
        { shape: SHAPE, dtype: "float64" },
        { shape: SHAPE, dtype: "float64" },
      ],
    ).graph;
    const split = partialEval(g, [true, false]);
    expect(split.known.eqns.size).toBe(1); // exp(x)
    expect(split.unknown.eqns.size).toBe(1); // · y
    expect(split.residuals.length).toBe(1);
    const staged = partialEval(g, [true, false], { staged: () => true });
    expect(staged.known.eqns.size).toBe(0);
    expect(staged.residuals).toEqual([g.inputs[0]]);
    const allKnown = partialEval(g, [true, true]);
    expect(allKnown.unknown.eqns.size).toBe(0);
    expect(allKnown.outputKnown).toEqual([true]);
  });
});

describe("dce", () => {
  it("keeps the outputs and their values, drops only equations nothing reads", () => {
    fc.assert(
      fc.property(arbProgram, (p) => {
        const g = graphOf(p);
        const { graph, changed } = dce.run(g);
        expect(graph.outputs).toEqual(g.outputs);
        expect(graph.inputs).toEqual(g.inputs);
        expect(g.eqns.size - graph.eqns.size).toBe(changed);
        const ins = inputsOf(p);
        expectBits("dce", evalGraph(graph, ins), evalGraph(g, ins));
        // Every kept equation is read by a later one or an output, so a second run changes nothing.
        expect(dce.run(graph).changed).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it("drops a scan's unread const and xs from the equation and its body, keeping its values", () => {
    const [w, unused] = [T.scalar(0.5, "float64"), T.ones([2], "float64")];
    const f = (h0: Value, xs: Value, ys: Value): Value[] =>
      A.scan(
        (h: Value, xy: [Value, Value]): [Value, Value] => {
          void A.add(xy[1], unused); // dead: reads the second xs and a captured constant
          const next = A.tanh(A.add(A.mul(h, w), xy[0]));
          return [next, next];
        },
        h0,
        [xs, ys],
      );
    const args = [T.ones([2], "float64"), T.random.normal(T.random.key(1), [4, 2], "float64")] as const;
    const closed = A.makeGraph(f)(args[0], args[1], args[1]);
    const scanOf = (g: Graph) => [...g.eqns].find((e) => e.prim.name === "scan")!;
    const before = scanOf(closed.graph);
    const bodyOpt = dce.run((before.params as { body: Graph }).body).graph;
    const g = new Graph(
      closed.graph.inputs,
      closed.graph.eqns.map((e) => (e === before ? { ...e, params: { ...(e.params as object), body: bodyOpt } } : e)),
      closed.graph.outputs,
    );
    const { graph } = dce.run(g);
    const after = scanOf(graph);
    expect(after.inputs.length).toBe(before.inputs.length - 2);
    expect(readInputs((after.params as { body: Graph }).body).every(Boolean)).toBe(true);
    const ins = [...closed.consts, args[0], args[1], args[1]];
    expectBits("scan dce", evalGraph(graph, ins), evalGraph(closed.graph, ins));
  });
});

describe("scan's VJP under policy all (scan/split.ts)", () => {
  it("stacks exactly the per-step values its reverse scan reads, and passes the consts unstacked", () => {
    const w = T.random.normal(T.random.key(3), [4, 4], "float64");
    const loss = (h0: Value, xs: Value): Value =>
      A.sum(
        A.scan(
          (h: Value, x: Value): [Value, Value] => {
            const next = A.tanh(A.add(A.matmul(h, w), x));
            return [next, A.exp(next)];
          },
          h0,
          xs,
          { remat: "all" },
        )[1],
      );
    const h0 = T.random.normal(T.random.key(4), [2, 4], "float64");
    const xs = T.random.normal(T.random.key(5), [5, 2, 4], "float64");
    const g = A.makeGraph(A.grad(loss, { argnums: [0, 1] }))(h0, xs).graph;
    const scans = [...g.eqns].filter((e) => e.prim.name === "scan");
    const [fwd, back] = [scans.find((e) => !(e.params as { reverse: boolean }).reverse)!, scans.at(-1)!];
    const fp = fwd.params as { body: Graph; numCarry: number };
    const residuals = fwd.outputs.slice(fp.numCarry + 1); // after the carry and the one y
    // tanh's VJP reads its output and exp's reads its output: two stacked residuals, not every value on the tape.
    expect(residuals.length).toBe(2);
    const bp = back.params as { body: Graph };
    const ids = new Set(residuals.map((v) => v.id));
    const read = readInputs(bp.body);
    back.inputs.forEach((a, i) => {
      if (a._tag === "Var" && ids.has(a.id)) expect(read[i]).toBe(true);
    });
    expect(back.inputs.filter((a) => a._tag === "Var" && ids.has(a.id)).length).toBe(2);
    // The reverse scan reads w as a const: it is never stacked.
    expect(residuals.every((v) => v.aval.shape.length === 3)).toBe(true);
  });
});
