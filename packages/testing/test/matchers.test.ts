import { describe, expect, it } from "vitest";
import "../src/vitest.js";
import * as T from "@rewind/tensor";
import { assertAllClose, closeWithPaths, toBeAllClose } from "../src/index.js";

const t = (x: T.NestedArray) => T.fromArrayOrThrow(x, "float64");

describe("toBeAllClose", () => {
  it("passes within tolerance and fails outside it", () => {
    expect(t([1, 2])).toBeAllClose(t([1, 2 + 1e-7]));
    expect(t([1, 2])).not.toBeAllClose(t([1, 2.1]));
    expect(t([1, 2])).toBeAllClose([1, 2]);
    expect(t([1, 2])).toBeAllClose(t([1, 2.1]), { atol: 0.2 });
  });
  it("reports the pytree path, the count and the worst element", () => {
    const r = toBeAllClose.call(
      undefined,
      {
        h: t([
          [1, 2],
          [3, 4],
        ]),
        c: [t([0])],
      },
      {
        h: t([
          [1, 2],
          [3, 5],
        ]),
        c: [t([0])],
      },
      { rtol: 1e-9 },
    );
    expect(r.pass).toBe(false);
    expect(r.message()).toBe(
      "expected values to be all close: received.h: 1 of 4 elements differ (rtol 1e-9, atol 1e-8); worst at [1, 1]: 4 vs 5",
    );
    expect(() => expect({ h: t([1]) }).toBeAllClose({ h: t([2]) })).toThrow(/received\.h: 1 of 1 elements differ/);
  });
  it("reports structure, shape and dtype differences", () => {
    expect(closeWithPaths({ h: t([1]) }, { c: t([1]) }).message).toMatch(/pytree structures differ/);
    expect(closeWithPaths([t([1, 2])], [t([1, 2, 3])]).message).toMatch(/value\[0\]: shapes differ: \[2\] vs \[3\]/);
    expect(closeWithPaths([t([1])], [T.fromArrayOrThrow([1], "float32")]).message).toMatch(
      /dtypes differ: float64 vs float32/,
    );
  });
  it("works as an asymmetric matcher", () => {
    expect({ g: t([1, 2]), n: 3 }).toEqual({ g: expect.toBeAllClose(t([1, 2 + 1e-9])), n: 3 });
  });
  it("has a runner-independent form", () => {
    expect(() => assertAllClose("grad", t([1]), t([1.5]))).toThrow(/^grad: value: 1 of 1 elements differ/);
    expect(() => assertAllClose("grad", t([1]), t([1]))).not.toThrow();
  });
});
