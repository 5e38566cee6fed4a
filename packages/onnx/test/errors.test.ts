/**
 * @file Bad input gives a `RewindError` naming toOnnx, the argument and what to change: a primitive
 * without a lowering (named, with the line that traced it), a function that reads data while
 * tracing, bad example arguments and options.
 */
import { describe, expect, it } from "vitest";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { random, RewindError, tensor, type Tensor } from "@rewind/tensor";
import { exportedPrimitives, toOnnx } from "../src/index.js";
import { loweringTable } from "../src/table.js";
import type { LoweringTable } from "../src/types.js";

/** The RewindError `f` throws. */
const errorOf = (f: () => unknown): RewindError => {
  try {
    f();
  } catch (e) {
    if (e instanceof RewindError) return e;
    throw e;
  }
  throw new Error("expected a RewindError, nothing was thrown");
};

const x = tensor([[1, 2, 3]]);

describe("toOnnx errors", () => {
  it("names a primitive without a lowering and the line that traced it", () => {
    const k = random.key(1);
    const e = errorOf(() => toOnnx((v: Value) => A.mul(A.exp(v), A.random.uniform(k, [1, 3])), [x]));
    expect(e.error).toMatchObject({ _tag: "InvalidArgument", op: "toOnnx", arg: "f" });
    expect(e.message).toContain("randomSample");
    expect(e.message).toMatch(/errors\.test\.ts:\d+/);
  });

  it("a lowering table without an entry for some primitive does not compile", () => {
    const { scan: _scan, ...withoutScan } = loweringTable;
    // @ts-expect-error -- the table must have an entry (a lowering or a reason) for every PrimitiveName
    const table: LoweringTable = withoutScan;
    expect(Object.keys(table)).not.toContain("scan");
  });

  it("refuses random sampling inside the function, saying to pass the samples in", () => {
    const key = random.key(0);
    const e = errorOf(() => toOnnx((v: Value) => A.add(v, A.random.normal(key, [1, 3])), [x]));
    expect(e.message).toContain("randomSample");
    expect(e.message).toContain("pass them as an argument");
  });

  it("lists the unsupported primitives, each refused with its reason", () => {
    expect(exportedPrimitives().unsupported.sort()).toEqual(["keyFoldIn", "keySplit", "randomSample"].sort());
  });

  it("a function that reads data while tracing", () => {
    const e = errorOf(() => toOnnx((v: Value) => ((v as Tensor).data[0]! > 0 ? v : A.neg(v)), [x]));
    expect(e.error).toMatchObject({ op: "toOnnx", arg: "f" });
    expect(e.message).toContain("read through .data");
    expect(e.message).toContain("where(cond, a, b)");
  });

  it("a function whose shapes depend on data", () => {
    const e = errorOf(() => toOnnx((v: Value) => A.reshape(v, [Number(A.sum(v))]), [x]));
    expect(e.error).toMatchObject({ op: "toOnnx", arg: "f" });
    expect(e.message).toContain("used as a JavaScript number");
  });

  it("toOnnx called while another transform traces", () => {
    const inside = (v: Value) => {
      const e = errorOf(() => toOnnx((u: Value) => A.add(u, v), [x]));
      expect(e.message).toContain("while another transform");
      return v;
    };
    A.jit(inside)(x);
  });

  it("int32 division, which ONNX truncates (reachable only through the primitive itself)", () => {
    const i = tensor([4, 6], "int32");
    const e = errorOf(() =>
      toOnnx((a: Value, b: Value) => A.applyPrimitive(A.registry.div, [a, b], undefined)[0], [i, i]),
    );
    expect(e.error).toMatchObject({ op: "toOnnx", arg: "f" });
    expect(e.message).toContain("div of two int32 operands");
  });

  it("example arguments that are not tensors, and bad options", () => {
    // A plain number is a static argument (part of the trace, as in jit), not a graph input.
    expect(errorOf(() => toOnnx((v: Value) => v, [3] as never)).message).toContain("no outputs");
    expect(errorOf(() => toOnnx((v: Value) => v, x as never)).error).toMatchObject({ arg: "exampleArgs" });
    expect(errorOf(() => toOnnx((v: Value) => v, [x], { bake: [3] })).error).toMatchObject({ arg: "options.bake" });
    expect(errorOf(() => toOnnx((v: Value) => v, [x], { opset: 13 } as never)).error).toMatchObject({
      arg: "options.opset",
    });
    expect(errorOf(() => toOnnx((v: Value) => v, [x], { inputNames: ["a", "b"] })).message).toContain("arg0");
    expect(errorOf(() => toOnnx((v: Value) => [v, v], [x], { outputNames: ["y", "y"] })).message).toContain('"y"');
  });
});
