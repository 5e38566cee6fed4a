/**
 * The laws of DESIGN.md, on random scan problems: random body families (Elman RNN, LSTM-like
 * `{ h, c }` carry, pytree xs/ys, length-only with an int32 counter), random weights, lengths
 * 0–8 and both directions. Each law is one instance check from @rewind/testing; fast-check draws
 * the instances (seeded globally in setup.ts).
 */
import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import {
  arbPyTree,
  arbScanProblem,
  arbTensor,
  laws,
  readout,
  scanCase,
  scanProblem,
  scanUnrolled,
  type FunctionCase,
} from "@rewind/testing";

const runs = { numRuns: 25 };
const forward = arbScanProblem({ reverse: false });
const backward = arbScanProblem({ reverse: true });
const pytreeCarries = arbScanProblem({ families: ["lstm", "lengthOnly"] });

describe("BPTT law: grad through scan = grad through the unrolled loop", () => {
  test.prop([forward], runs)("forward scans (w.r.t. params, init and xs)", (p) => laws.bptt(p));
  test.prop([backward], runs)("reverse scans", (p) => laws.bptt(p));
  test.prop([pytreeCarries], runs)("pytree carries", (p) => laws.bptt(p));
  test.prop([arbScanProblem({ maxLength: 1 })], { numRuns: 20 })("edge cases T = 0 and T = 1", (p) => {
    laws.bptt(p);
    const [carry, ys] = p.run(p.params, p.init, p.xs);
    if (p.length === 0) expect(carry).toBeAllClose(p.init, { rtol: 0, atol: 0 });
    for (const y of A.treeLeaves(ys)) expect(y.shape[0]).toBe(p.length);
    expect([carry, ys]).toBeAllClose(p.run(p.params, p.init, p.xs, scanUnrolled), { rtol: 1e-12, atol: 1e-14 });
  });
});

describe("reverse law: scan(f, { reverse }) = flip ∘ scan ∘ flip", () => {
  test.prop([forward], runs)("reverse = false against flipped reverse = true", (p) => laws.reverse(p));
  test.prop([backward], runs)("reverse = true against flipped reverse = false", (p) => laws.reverse(p));
});

describe("remat invariance", () => {
  test.prop([arbScanProblem()], runs)('"all", "carries", { every: 1, 2, 3, T + 1 } and remat(f) agree', (p) =>
    laws.remat(p),
  );
  test.prop([arbScanProblem({ minLength: 4 }), fc.integer({ min: 1, max: 8 })], { numRuns: 15 })(
    "{ every: k } for random k",
    (p, k) => laws.remat(p, { sizes: [k] }),
  );
});

describe("unroll invariance", () => {
  test.prop([arbScanProblem()], runs)("unroll 1, 2, 3, T + 1 and true agree", (p) => laws.unroll(p));
});

describe("jit invariance", () => {
  test.prop([arbScanProblem().map((p) => scanCase(p, "loss"))], { numRuns: 15 })(
    "jit(loss) = loss, values and grads",
    (c) => laws.jit(c),
  );
  test.prop([arbScanProblem().map((p) => scanCase(p))], { numRuns: 15 })(
    "jit(scan outputs) = scan outputs, values and VJPs",
    (c) => laws.jit(c),
  );
});

describe("truncation law", () => {
  test.prop([arbScanProblem(), fc.integer({ min: 1, max: 4 })], runs)(
    "truncate ≥ T is full BPTT; truncate = k is manual chunking",
    (p, k) => laws.truncation(p, { k }),
  );
  test("truncate = 1: init's gradient flows through the first step only", () => {
    const t = (x: T.NestedArray) => T.fromArrayOrThrow(x, "float64");
    const params = {
      wx: t([[0.5, -0.3]]),
      wh: t([
        [0.4, 0.7],
        [-0.6, 0.2],
      ]),
      b: t([0.1, -0.2]),
    };
    const [init, xs] = [t([[0.3, -0.8]]), t([[[0.9]], [[-0.4]], [[0.2]]])];
    const p = scanProblem("rnn", { params, init, xs, length: 3, reverse: false });
    const truncated = A.grad(p.lossWith(A.scan, { truncate: 1 }), { argnums: 1 })(params, init, xs);
    // The loss sees h1 = f(init, x0) as ys[0] (readout weight 1.25); later steps see h1 stopped.
    const x0 = A.reshape(A.slice(xs, [{ start: 0, stop: 1 }]), [1, 1]);
    const firstStep = (h0: A.Value) => A.sum(A.sin(A.mul(p.f(h0, x0)[0] as A.Value, 1.25)));
    expect(truncated).toBeAllClose(A.grad(firstStep)(init), { rtol: 1e-12 });
    expect(truncated).not.toBeAllClose(A.grad(p.loss, { argnums: 1 })(params, init, xs), { rtol: 1e-3 });
  });
});

describe("stopGradient law", () => {
  test.prop([arbScanProblem().map((p) => scanCase(p))], { numRuns: 15 })(
    "on scan outputs, for params, init and xs",
    (c) => laws.stopGradient(c),
  );
  const pytreeCase = fc
    .tuple(arbPyTree(arbTensor({ shape: [2], uniform: true })), arbPyTree(arbTensor({ shape: [3], uniform: true })))
    .map(([a, b]): FunctionCase => ({
      f: (x: unknown, y: unknown) => A.mul(readout(x), readout(A.treeMap(A.tanh, y))),
      args: [a, b],
      name: "readout(a)·readout(tanh(b))",
    }));
  test.prop([pytreeCase], runs)("on random pytrees of arguments", (c) => laws.stopGradient(c));
});

describe("VJP/JVP adjointness", () => {
  test.prop([arbScanProblem().map((p) => scanCase(p)), fc.nat()], runs)(
    "⟨u, J v⟩ = ⟨Jᵀ u, v⟩ through scan",
    (c, seed) => laws.adjoint(c, { key: T.random.key(seed) }),
  );
  test.prop([arbScanProblem({ families: ["lstm"] }), fc.nat()], { numRuns: 10 })(
    "through scan with remat and truncation",
    (p, seed) =>
      laws.adjoint(
        {
          f: (w: unknown, c: unknown, x: unknown) => p.run(w, c, x, A.scan, { remat: { every: 2 }, truncate: 3 }),
          args: [p.params, p.init, p.xs],
        },
        { key: T.random.key(seed) },
      ),
  );
});
