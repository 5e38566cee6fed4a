/**
 * @file scan on the device, the carry resident: every iteration's kernels in one submission, no
 * read-back between steps. Checked against the CPU jit, forward and reverse, and through an LSTM
 * layer's loss gradient with per-sequence lengths (its forward and backward scans).
 */
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { gru, lstm, rnn } from "@rewind/rnn";
import { random, zeros } from "@rewind/tensor";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { compileProgram } from "../../src/compile.js";
import { loweringTable } from "../../src/table.js";
import { disposeTree } from "../../src/index.js";
import { SCAN_COVERED } from "./coverage.js";
import { compare, floats, gpuOnce, RUNS, seen } from "./helpers.js";

/** The kinds of the top-level steps of `f`'s program on `args`. */
const stepKinds = (f: (...a: never[]) => unknown, args: unknown[]) =>
  compileProgram(loweringTable, A.makeGraph(f, { optimize: true })(...args)).steps.map((s) =>
    s.kind === "cpu" ? `cpu:${s.eqn.prim.name}` : s.kind,
  );

describe("scan on the device", () => {
  it("carries, consts, xs and ys, forward and reverse, match the CPU", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.boolean())
          .chain(([t, n, reverse]) => fc.tuple(floats([t, n], -1, 1), floats([n], -1, 1), fc.constant(reverse))),
        async ([xs, w, reverse]) => {
          const f = (x: Value, k: Value) =>
            A.scan(
              (c: Value, xt: Value) => {
                const h = A.tanh(A.add(A.mul(c, k), xt));
                return [h, [A.sum(h), c]];
              },
              zeros(k.shape),
              x,
              { reverse },
            );
          await compare(f, [xs, w], { terms: 4 });
        },
      ),
      RUNS,
    );
  });

  it("a literal operand (a scalar initial carry) is written into a buffer first", async () => {
    const xs = random.normal(random.key(2), [4]);
    const f = (x: Value) => A.scan((c: Value, v: Value) => [A.add(c, v), c], A.broadcastTo(0, []), x);
    expect(stepKinds(f, [xs])).toEqual(["kernel", "scan"]);
    await compare(f, [xs], { terms: 4 });
  });

  it("a scan nested in a scan's body runs inside each iteration, forward and through its gradient", async () => {
    const xs = random.normal(random.key(5), [3, 4, 2]);
    const w = random.normal(random.key(6), [2]);
    // The outer scan over 3 steps runs an inner recurrence over 4 on each step's [4, 2] slice.
    const f = (x: Value, k: Value) =>
      A.scan(
        (c: Value, xt: Value) => {
          const [h, ys] = A.scan(
            (hc: Value, v: Value) => {
              const next = A.tanh(A.add(A.mul(hc, k), A.add(v, c)));
              return [next, A.sum(next)];
            },
            A.zerosLike(k),
            xt,
            { reverse: true },
          );
          return [A.mul(h, 0.5), A.add(A.sum(ys), A.sum(c))];
        },
        A.zerosLike(k),
        x,
      );
    const inner = compileProgram(loweringTable, A.makeGraph(f, { optimize: true })(xs, w)).steps.find(
      (s) => s.kind === "scan",
    );
    expect(inner?.kind === "scan" && inner.body.steps.some((s) => s.kind === "scan")).toBe(true);
    await compare(f, [xs, w], { terms: 16 });
    const loss = (k: Value) => {
      const [c, ys] = f(xs, k);
      return A.add(A.sum(c), A.sum(ys));
    };
    expect(stepKinds(A.grad(loss), [w]).filter((k) => k.startsWith("cpu:"))).toEqual([]);
    await compare(A.grad(loss), [w], { terms: 64 });
  });

  it("runs a GRU layer's loss gradient (with lengths) on the device and matches the CPU", async () => {
    const xs = random.normal(random.key(3), [3, 4, 2]);
    const p = gru.init(random.key(4), { inputSize: 2, hiddenSize: 3 });
    const g = A.grad((q: typeof p) => A.mean(A.square(rnn(gru, q, xs, { lengths: [4, 1, 2] }).outputs)));
    expect(stepKinds(g, [p]).filter((k) => k.startsWith("cpu:"))).toEqual([]);
    await compare(g, [p], { terms: 40 });
  });

  it("runs an LSTM layer's loss gradient (with lengths) with no CPU step and matches the CPU", async () => {
    const xs = random.normal(random.key(0), [2, 5, 3]);
    const p = lstm.init(random.key(1), { inputSize: 3, hiddenSize: 4 });
    const loss = (q: typeof p, x: Value) => A.mean(A.square(rnn(lstm, q, x, { lengths: [5, 3] }).outputs));
    const g = A.valueAndGrad(loss);
    const kinds = stepKinds(g, [p, xs]);
    expect(kinds).toContain("scan");
    expect(kinds.filter((k) => k.startsWith("cpu:"))).toEqual([]);
    await compare(g, [p, xs], { terms: 40 });
    // One submission for the whole call, however many steps: no read-back between iterations.
    const gpu = await gpuOnce();
    const queue = gpu.device.queue as { submit: (b: readonly unknown[]) => void };
    const submit = queue.submit.bind(queue);
    let submits = 0;
    queue.submit = (b) => {
      submits++;
      submit(b);
    };
    try {
      const f = gpu.jit(g);
      disposeTree(await f(p, xs)); // compiles
      submits = 0;
      disposeTree(await f(p, xs));
      expect(submits).toBe(1);
    } finally {
      delete (queue as { submit?: unknown }).submit;
    }
  });
});

afterAll(() => {
  for (const p of SCAN_COVERED) expect(seen, p).toContain(p);
});
