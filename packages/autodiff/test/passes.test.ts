/**
 * @file The pass pipeline (src/passes/): `makeGraph(f, { optimize })`, the `-- passes:` header of
 * `printGraph` and `toDot`, `graphKey` without it, and `optimize`'s log.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { accumulate, optimize } from "../src/passes/index.js";

const [steps, batch, inSize, hidden] = [6, 3, 4, 5];
const rand = (shape: number[], seed: number): T.Tensor => T.random.normal(T.random.key(seed), shape, "float64");
const w = rand([hidden, inSize], 1);
const u = rand([hidden, hidden], 2);

/** `tanh(x_t · Wᵀ + h · exp(U))`: transpose and exp read only constants; x_t · Wᵀ then lifts. */
const loss = (h0: Value, xs: Value): Value =>
  A.sum(
    A.scan(
      (h: Value, x: Value): [Value, Value] => {
        const next = A.tanh(A.add(A.matmul(x, A.transpose(w)), A.matmul(h, A.exp(u))));
        return [next, next];
      },
      h0,
      xs,
    )[1],
  );
const args = [rand([batch, hidden], 3), rand([steps, batch, inSize], 4)] as const;

describe("makeGraph(f, { optimize })", () => {
  it("refuses an unknown option or a non-boolean optimize, naming makeGraph and the option", () => {
    expect(() => A.makeGraph(loss, { optimise: true } as never)).toThrow(/makeGraph.*optimise/s);
    expect(() => A.makeGraph(loss, { optimize: "yes" } as never)).toThrow(/makeGraph.*options\.optimize/s);
  });

  it("prints a header naming each pass; graphKey and the plain graph have none", () => {
    const optimized = A.makeGraph(loss, { optimize: true })(...args);
    const text = A.printGraph(optimized);
    const [header, ...rest] = text.split("\n");
    expect(header).toMatch(/^-- passes: hoist \(\d+ eqns\), lift \(\d+\), dce \(\d+\)$/);
    const { passes, ...plain } = optimized;
    expect(passes?.map((r) => r.name)).toEqual(["hoist", "lift", "dce"]);
    expect(rest.join("\n")).toBe(A.printGraph(plain));
    expect(A.graphKey(optimized.graph)).toBe(A.printGraph(optimized.graph));
    expect(A.graphKey(optimized.graph)).not.toContain("-- passes");
    expect(A.printGraph(A.makeGraph(loss)(...args))).not.toContain("-- passes");
    expect(A.toDot(optimized)).toContain(`label="${header}"`);
  });

  it("counts what each pass changed: transpose and exp hoisted (2), x_t · Wᵀ lifted (1), W and U unread (1)", () => {
    // The body: transpose(W), x·Wᵀ, exp(U), h·exp(U), add, tanh. Only the two reading constants
    // alone hoist; then x_t · Wᵀ reads x and a constant, so it lifts; the add reads the carry.
    // After hoisting the body reads Wᵀ and exp(U), not W and U: dce stops passing them to the scan.
    const optimized = A.makeGraph(loss, { optimize: true })(...args);
    expect(A.printGraph(optimized).split("\n")[0]).toBe("-- passes: hoist (2 eqns), lift (1), dce (1)");
    const scan = [...optimized.graph.eqns].find((e) => e.prim.name === "scan")!;
    expect((scan.params as A.ScanParams).numConsts).toBe(1); // exp(U) only: x·Wᵀ was lifted out
  });

  it("runs jit's pipeline: the optimized graph is the one jit caches", () => {
    const optimized = A.makeGraph(loss, { optimize: true })(...args);
    expect(A.graphKey(optimized.graph)).toBe(A.graphKey(A.jit(loss).graphFor(...args).graph));
  });
});

// ---- entry points that evaluate a traced body: remat and customVjp --------------------------

/** Every leaf's bytes, so equal arrays mean equal bits. */
const bytes = (v: unknown): string[] =>
  A.treeLeaves(v).map((l) => {
    const d = (l as T.Tensor).data;
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength).join(",");
  });

/** x_t · W + h · U in float64 with B = 3: lifting changes the bits (the kernel blocks rows by 4). */
const elman = (wIn: Value, h0: Value, xs: Value): Value =>
  A.scan(
    (h: Value, x: Value): [Value, Value] => {
      const next = A.tanh(A.add(A.matmul(x, wIn), A.matmul(h, u)));
      return [next, next];
    },
    h0,
    xs,
  )[1];
const elmanArgs = [rand([12, hidden], 5), rand([3, hidden], 6), rand([9, 3, 12], 7)] as const;

describe("bodies of remat and customVjp go through grad's passes when traced", () => {
  const wrapped: ReadonlyArray<readonly [string, (w: Value, h: Value, x: Value) => Value]> = [
    ["remat", A.remat(elman)],
    [
      "customVjp",
      A.customVjp(
        elman,
        (w: Value, h: Value, x: Value) => [elman(w, h, x), null] as const,
        () => [],
      ),
    ],
  ];
  for (const [name, f] of wrapped) {
    it(`${name}: eager = jit compiled = jit interpreted, bit for bit (float64, B 3)`, () => {
      const want = bytes(f(...elmanArgs));
      expect(bytes(A.jit(f)(...elmanArgs))).toEqual(want);
      expect(bytes(A.jit(f, { compile: false })(...elmanArgs))).toEqual(want);
      expect(bytes(elman(...elmanArgs))).toEqual(want);
    });
  }
  it("remat: its gradient too", () => {
    const loss2 = (w: Value, h: Value, x: Value): Value => A.sum(A.square(A.remat(elman)(w, h, x)));
    const g = A.grad(loss2, { argnums: [0, 1, 2] });
    const want = bytes(g(...elmanArgs));
    expect(bytes(A.jit(g)(...elmanArgs))).toEqual(want);
    expect(bytes(A.jit(g, { compile: false })(...elmanArgs))).toEqual(want);
  });
});

// ---- accumulate: gated by the `accumulators` param, which only scan's VJP sets ---------------

describe("the accumulate pass", () => {
  /** A user's running sum: `acc + x_t` has exactly the shape of a gradient accumulator's update. */
  const runningSum = (xs: Value): Value =>
    A.scan(
      (acc: Value, x: Value): [Value, Value] => [A.add(acc, x), A.mul(x, 2)],
      T.zeros([3, hidden], "float64"),
      xs,
    )[0];
  const xs = rand([steps, 3, hidden], 8);
  const scanEqn = (g: A.Graph) => g.eqns.find((e) => e.prim.name === "scan")!;

  it("never rewrites a user's scan with a running sum: jit keeps its carry, and the pass changes nothing", () => {
    const { graph } = A.jit(runningSum).graphFor(xs);
    expect((scanEqn(graph).params as A.ScanParams).numCarry).toBe(1);
    expect(optimize(graph, [accumulate]).log).toEqual([{ name: "accumulate", changed: 0 }]);
  });

  it("would rewrite that scan if it were marked: the param, not the pattern, is what gates it", () => {
    const { graph } = A.makeGraph(runningSum)(xs);
    const eqn = scanEqn(graph);
    const marked = { ...eqn, params: { ...(eqn.params as A.ScanParams), accumulators: 1 } };
    const g = new A.Graph(graph.inputs, graph.eqns.set(graph.eqns.indexOf(eqn), marked), graph.outputs);
    expect(A.printGraph(g)).toContain("accumulators=1");
    const { graph: rewritten, log } = optimize(g, [accumulate]);
    expect(log).toEqual([{ name: "accumulate", changed: 1 }]);
    // The carry became a stacked output summed after the loop; the param is gone.
    expect((scanEqn(rewritten).params as A.ScanParams).numCarry).toBe(0);
    expect(A.printGraph(rewritten)).not.toContain("accumulators");
    expect(rewritten.eqns.last()!.prim.name).toBe("sum");
  });

  it("factors the reverse scan scan's VJP binds, traced as eagerly: it carries only dh", () => {
    const loss2 = (wIn: Value, h: Value, x: Value): Value => A.sum(A.square(elman(wIn, h, x)));
    const { graph } = A.makeGraph(A.grad(loss2, { argnums: [0, 1, 2] }))(...elmanArgs);
    const reverse = graph.eqns.toArray().filter((e) => e.prim.name === "scan" && (e.params as A.ScanParams).reverse);
    expect(reverse.map((e) => (e.params as A.ScanParams).numCarry)).toEqual([1]);
    expect(A.printGraph(graph)).not.toContain("accumulators");
  });
});

describe("compileGraph runs jit's passes too", () => {
  it("a makeGraph(f) graph (as written) compiles to what eager and jit compute, bit for bit (float64, B 3)", () => {
    const closed = A.makeGraph(elman)(...elmanArgs);
    const run = A.compileGraph(closed.graph);
    const got = run([...(closed.consts as T.Tensor[]), ...elmanArgs]);
    expect(bytes(got)).toEqual(bytes([elman(...elmanArgs)]));
    expect(bytes(got)).toEqual(bytes([A.jit(elman)(...elmanArgs)]));
  });
});
