import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { checkGrads } from "../src/index.js";

const t = (x: T.NestedArray) => T.fromArrayOrThrow(x, "float64");

describe("checkGrads", () => {
  it("accepts correct gradients, order 2", () => {
    checkGrads((x: A.Value) => A.tanh(A.mul(x, x)), [t([0.3, -1.2, 2])], { order: 2 });
    checkGrads((x: A.Value, w: A.Value) => A.sum(A.matmul(x, w)), [t([[1, 2]]), t([[0.5], [-1]])], { order: 2 });
  });
  it("rejects a wrong VJP (customVjp with a doubled gradient)", () => {
    const wrong = A.customVjp(
      (x: A.Value) => A.exp(x),
      (x: A.Value) => [A.exp(x), A.exp(x)] as const,
      (y: A.Value, g: A.Value) => [A.mul(A.mul(g, y), 2)],
    );
    expect(() => checkGrads(wrong, [t([0.1, 0.2])], { modes: ["rev"] })).toThrow(/checkGrads \(rev/);
  });
});
