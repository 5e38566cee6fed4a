/**
 * @file Guards for issue 15's pass pipeline (docs/prototypes/passes/README.md, step 1), written
 * before the refactor so that it can show it changes no bits. Today `bindScan` hoists a scan
 * body's loop invariants and lifts its x-projections out of the loop on every bind, eager
 * included; the refactor moves both into named passes that each entry point runs. Two facts must
 * survive the move:
 *
 * - An eager scan gives the same bits as `jit` compiled and `jit(…, { compile: false })`
 *   interpreted, forward and gradient. In float64 this depends on eager runs lifting too: the
 *   float64 matmul kernel sums rows in blocks of 4, so one `[T·B, in]` matmul and T `[B, in]`
 *   matmuls round differently when B is not a multiple of 4 (B = 3 and 5 here; the determinism
 *   suite only uses B = 3 through `valueAndGrad`, which traces before it evaluates).
 * - Equations of a body that read only constants (a weight's transpose, `exp(U)`) run once,
 *   before the loop.
 *
 * Tolerance zero everywhere: all three modes run the same kernels on the same operands in the
 * same order, so any difference is a bug, not rounding. Leaves are compared by their bytes.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Eqn, Graph, Value } from "@rewind/autodiff";
import { lstm, rnn, type TorchCellParams } from "@rewind/rnn";

type Float = "float32" | "float64";
type Fn = (...args: never[]) => unknown;
const call = (f: Fn, args: readonly unknown[]): unknown => (f as (...a: unknown[]) => unknown)(...args);

/** Every leaf as `dtype[shape]:hex bytes`, so equal strings mean equal bits (NaN payloads and −0 included). */
const bytes = (tree: unknown): string[] =>
  A.treeLeaves(tree).map((l) => {
    const t = l as T.Tensor;
    return `${t.dtype}[${t.shape}]:${Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString("hex")}`;
  });

/** `f(...args)` eager, `jit` compiled and `jit` interpreted: the same bytes. Returns the eager result. */
const expectSameBits = (label: string, f: Fn, args: readonly unknown[]): unknown => {
  const eager = call(f, args);
  const want = bytes(eager);
  expect(want.length, label).toBeGreaterThan(0);
  expect(bytes(call(A.jit(f as (...a: unknown[]) => unknown) as Fn, args)), `${label}: jit compiled`).toEqual(want);
  expect(
    bytes(call(A.jit(f as (...a: unknown[]) => unknown, { compile: false }) as Fn, args)),
    `${label}: jit interpreted`,
  ).toEqual(want);
  return eager;
};

const normal = (shape: number[], seed: number, dtype: Float, scale = 1): T.Tensor =>
  T.astype(T.mul(T.random.normal(T.random.key(seed), shape, "float64"), scale), dtype);

const sumSquares = (v: unknown): Value => A.sum(A.square(v as Value));

// ---- an eager float64 scan forward with an x-projection, B not a multiple of 4 ---------------

// inSize ≥ 8: with fewer than two groups of four products per output, the kernel's grouped and
// one-by-one sums happen to associate alike (0 + (a+b+c+d) is ((0+a)+b+c)+d), and lifting would
// change no bits even in float64.
const [steps, inSize, hidden] = [9, 12, 8];

/** A raw scan whose body projects x_t (`x_t · W + h · U + b`), the pattern lifting matches. */
const elman = (w: Value, u: Value, b: Value, h0: Value, xs: Value, remat: "all" | "carries" = "all"): unknown =>
  A.scan(
    (h: Value, x: Value): [Value, Value] => {
      const next = A.tanh(A.add(A.add(A.matmul(x, w), b), A.matmul(h, u)));
      return [next, next];
    },
    h0,
    xs,
    { remat },
  );
const elmanArgs = (batch: number, dtype: Float) => [
  normal([inSize, hidden], 1, dtype, 0.5),
  normal([hidden, hidden], 2, dtype, 0.3),
  normal([hidden], 3, dtype),
  normal([batch, hidden], 4, dtype),
  normal([steps, batch, inSize], 5, dtype),
];

const lstmForward = (p: TorchCellParams, xs: Value): unknown => {
  const { outputs, finalCarry } = rnn(lstm, p, xs);
  return [outputs, finalCarry];
};
const lstmArgs = (batch: number, dtype: Float) => [
  lstm.init(T.random.key(6), { inputSize: inSize, hiddenSize: hidden }, { dtype }),
  normal([batch, steps, inSize], 7, dtype),
];

describe("scan with an x-projection: eager = jit compiled = jit interpreted, bit for bit, B not a multiple of 4", () => {
  for (const dtype of ["float64", "float32"] as const) {
    for (const batch of [3, 5]) {
      it(`raw scan x·W + h·U + b, ${dtype}, B ${batch}: forward and valueAndGrad`, () => {
        const args = elmanArgs(batch, dtype);
        expectSameBits("forward", elman, args);
        const loss = (...a: Value[]) => sumSquares((elman(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!) as [Value, Value])[1]);
        const [l, grads] = expectSameBits("valueAndGrad", A.valueAndGrad(loss, { argnums: [0, 1, 2, 3, 4] }), args) as [
          T.Tensor,
          T.Tensor[],
        ];
        expect(Number.isFinite(T.item(l))).toBe(true);
        expect(grads.map((g) => g.data.some((x) => x !== 0))).toEqual([true, true, true, true, true]);
      });

      it(`rnn(lstm), ${dtype}, B ${batch}: forward and valueAndGrad`, () => {
        const args = lstmArgs(batch, dtype);
        expectSameBits("forward", lstmForward, args);
        const loss = (p: TorchCellParams, xs: Value) => sumSquares((lstmForward(p, xs) as [Value])[0]);
        expectSameBits("valueAndGrad", A.valueAndGrad(loss, { argnums: [0, 1] }), args);
      });
    }
  }

  it("not vacuous: in float64 at B 3 and 5 the lifted forward's bits differ from the loop's own per-step matmuls", () => {
    // "carries" does not lift, so its forward runs T matmuls of [B, in]; "all" runs one of
    // [T·B, in]. If eager runs stopped lifting while jit still did, the tests above would see
    // exactly this difference. (Should the float64 kernel ever round every row alike, this check
    // can go; the guards above stand on their own.)
    for (const batch of [3, 5]) {
      const args = elmanArgs(batch, "float64") as Value[];
      const lifted = bytes((elman(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, "all") as unknown[])[1]);
      const looped = bytes((elman(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, "carries") as unknown[])[1]);
      expect(lifted, `B ${batch}`).not.toEqual(looped);
    }
  });
});

// ---- hoisting: body equations that read only constants run once, before the loop -------------

/** Every equation of a graph and of the graphs nested in it, with the depth it sits at. */
const allEqns = (g: Graph, depth = 0): Array<{ eqn: Eqn; depth: number }> =>
  g.eqns
    .toArray()
    .flatMap((eqn) => [
      { eqn, depth },
      ...(eqn.prim.subgraphs?.(eqn.params as never) ?? []).flatMap(([, sub]) => allEqns(sub, depth + 1)),
    ]);
const where = (g: Graph, prim: string): number[] =>
  allEqns(g)
    .filter(({ eqn }) => eqn.prim.name === prim)
    .map(({ depth }) => depth);

/**
 * `x_t · Wᵀ` and `h · exp(U)`: `transpose(w)` and `exp(u)` read only the body's constants, so
 * hoisting moves them before the loop. Once `Wᵀ` is a constant, `x_t · Wᵀ` becomes liftable:
 * the float64 bits at B = 3 depend on hoisting running before lifting in every mode.
 */
const hoistable = (w: Value, u: Value, h0: Value, xs: Value): unknown =>
  A.scan(
    (h: Value, x: Value): [Value, Value] => {
      const next = A.tanh(A.add(A.matmul(x, A.transpose(w)), A.matmul(h, A.exp(u))));
      return [next, next];
    },
    h0,
    xs,
  )[1];
const hoistArgs = (batch: number, dtype: Float) => [
  normal([hidden, inSize], 8, dtype, 0.5),
  normal([hidden, hidden], 9, dtype, 0.1),
  normal([batch, hidden], 10, dtype),
  normal([steps, batch, inSize], 11, dtype),
];
const hoistLoss = (w: Value, u: Value, h0: Value, xs: Value): Value => sumSquares(hoistable(w, u, h0, xs));

describe("scan hoisting: equations reading only constants", () => {
  for (const dtype of ["float64", "float32"] as const) {
    for (const batch of [3, 5]) {
      it(`give the same bits eager, jit compiled and jit interpreted (${dtype}, B ${batch}): forward and valueAndGrad`, () => {
        const args = hoistArgs(batch, dtype);
        expectSameBits("forward", hoistable, args);
        expectSameBits("valueAndGrad", A.valueAndGrad(hoistLoss, { argnums: [0, 1, 2, 3] }), args);
      });
    }
  }

  // Tracing records the program as written (makeGraph(f) shows transpose and exp inside the
  // body); hoisting is the "hoist" pass that jit, grad and eager scans run, which
  // makeGraph(f, { optimize: true }) shows.
  it("stay where they were written in makeGraph(f): transpose and exp inside the scan body", () => {
    const { graph } = A.makeGraph(hoistable)(...hoistArgs(3, "float64"));
    expect(where(graph, "transpose")).toEqual([1]);
    expect(where(graph, "exp")).toEqual([1]);
  });

  it("run once before the loop: makeGraph(f, { optimize: true }) shows transpose and exp outside every scan body, forward and reverse", () => {
    const args = hoistArgs(3, "float64");
    const { graph } = A.makeGraph(hoistable, { optimize: true })(...args);
    expect(where(graph, "scan")).toEqual([0]);
    expect(where(graph, "transpose")).toEqual([0]);
    expect(where(graph, "exp")).toEqual([0]);
    // The body keeps only the loop proper: h · exp(U), the add and the tanh.
    expect(
      allEqns(graph)
        .filter(({ depth }) => depth === 1)
        .map(({ eqn }) => eqn.prim.name),
    ).toEqual(["matmul", "add", "tanh"]);
    // And with Wᵀ a constant, x_t · Wᵀ was lifted: one [T·B, in] · [in, hidden] matmul outside the loop.
    const outside = allEqns(graph).filter(({ eqn, depth }) => eqn.prim.name === "matmul" && depth === 0);
    expect(outside.map(({ eqn }) => eqn.inputs.map((a) => a.aval.shape))).toEqual([
      [
        [steps * 3, inSize],
        [inSize, hidden],
      ],
    ]);

    // The gradient's scans are hoisted too: the reverse body's exp(U)ᵀ (for dh) is computed once.
    const grad = A.makeGraph(A.valueAndGrad(hoistLoss, { argnums: [0, 1] }), { optimize: true })(...args).graph;
    expect(where(grad, "scan")).toEqual([0, 0]);
    expect(where(grad, "exp")).toEqual([0]);
    const insideBodies = allEqns(grad)
      .filter(({ depth }) => depth > 0)
      .map(({ eqn }) => eqn.prim.name);
    expect(insideBodies).not.toContain("transpose");
    expect(insideBodies).not.toContain("exp");
  });
});
