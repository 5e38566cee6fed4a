/**
 * @file The pass pipeline (src/passes/): `makeGraph(f, { optimize })`, the `-- passes:` header of
 * `printGraph` and `toDot`, `graphKey` without it, and `optimize`'s log.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

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
    expect(header).toMatch(/^-- passes: hoist \(\d+ eqns\), lift \(\d+\)$/);
    const { passes, ...plain } = optimized;
    expect(passes?.map((r) => r.name)).toEqual(["hoist", "lift"]);
    expect(rest.join("\n")).toBe(A.printGraph(plain));
    expect(A.graphKey(optimized.graph)).toBe(A.printGraph(optimized.graph));
    expect(A.graphKey(optimized.graph)).not.toContain("-- passes");
    expect(A.printGraph(A.makeGraph(loss)(...args))).not.toContain("-- passes");
    expect(A.toDot(optimized)).toContain(`label="${header}"`);
  });

  it("runs jit's pipeline: the optimized graph is the one jit caches", () => {
    const optimized = A.makeGraph(loss, { optimize: true })(...args);
    expect(A.graphKey(optimized.graph)).toBe(A.graphKey(A.jit(loss).graphFor(...args).graph));
  });
});
