/**
 * Error messages are part of the API: each names the op, the argument or pytree path, what was
 * seen (shapes, avals), and what to change. Errors are tagged values carried by an exception.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { thrown } from "./thrown.js";

const t = (x: T.NestedArray) => T.fromArrayOrThrow(x, "float64");
const f64 = (shape: T.Shape) => T.zeros(shape, "float64");

const FIX_CARRY =
  "make the step function return a carry with the same pytree structure, shapes and dtypes as its input carry";

describe("shape errors name the op and both shapes", () => {
  it("add of [2, 3] and [4], eager and traced", () => {
    for (const e of [
      thrown(() => A.add(f64([2, 3]), f64([4]))),
      thrown(() => A.grad((x: A.Value) => A.sum(A.add(x, f64([4]))))(f64([2, 3]))),
    ]) {
      expect(e).toBeInstanceOf(T.TensorException);
      expect(e.message).toMatch(/^add: /);
      expect(e.message).toContain("[2, 3], [4]");
      expect(e.message).toMatch(/axis -1 has sizes 3 and 4/);
      expect(e.message).toMatch(/make each aligned axis equal or 1/);
      expect((e as T.TensorException).error).toMatchObject({ _tag: "ShapeError", op: "add", shapes: [[2, 3], [4]] });
    }
  });
  it("matmul inner-dimension mismatch", () => {
    const e = thrown(() => A.matmul(f64([3, 4]), f64([5, 2])));
    expect(e.message).toMatch(/^matmul: inner dimensions differ \(4 vs 5\)/);
    expect(e.message).toContain("[3, 4], [5, 2]");
    expect(e.message).toMatch(/make a\.shape\[-1\] equal b\.shape\[-2\]/);
  });
});

describe("scan carry mismatch names the path, both avals and the fix", () => {
  type Carry = { readonly h: A.Value; readonly c: A.Value };
  const init: Carry = { h: f64([2]), c: f64([2]) };
  const xs = f64([3, 1]);
  const carryError = (step: (c: Carry, x: A.Value) => unknown): A.GraphException => {
    const e = thrown(() => A.scan(step as A.ScanFn<Carry, A.Value, A.Value>, init, xs));
    expect(e).toBeInstanceOf(A.GraphException);
    expect(e.message).toContain(FIX_CARRY);
    return e as A.GraphException;
  };
  it("a shape change", () => {
    const e = carryError((c, x) => [{ h: A.concat([c.h, x]), c: c.c }, x]);
    expect(e.message).toMatch(/^scan: the carry output at carry\.h is f64\[3\] but the carry input is f64\[2\]/);
    expect(e.error).toMatchObject({ _tag: "CarryMismatch", path: "carry.h" });
  });
  it("a dtype change", () => {
    const e = carryError((c, x) => [{ h: c.h, c: A.astype(c.c, "float32") }, x]);
    expect(e.message).toMatch(/^scan: the carry output at carry\.c is f32\[2\] but the carry input is f64\[2\]/);
  });
  it("a structure change", () => {
    const e = carryError((c, x) => [{ h: c.h }, x]);
    expect(e.message).toMatch(
      /^scan: the carry output at carry\.c is missing but the carry input is a tensor; make the step function return a carry with the same pytree structure/,
    );
  });
  it("inside grad too, for nested carries", () => {
    const e = thrown(() =>
      A.grad((h: A.Value) => {
        const [out] = A.scan(
          (c: { s: [A.Value] }, x: A.Value) => [{ s: [A.sum(A.add(c.s[0], x))] as [A.Value] }, x] as const,
          { s: [h] as [A.Value] },
          f64([2, 3]),
        );
        return A.sum(out.s[0]);
      })(f64([3])),
    );
    expect(e.message).toMatch(/^scan: the carry output at carry\.s\[0\] is f64\[\] but the carry input is f64\[3\]/);
  });
});

describe("other transform errors", () => {
  it("grad of a non-scalar names the aval and suggests sum or vjp", () => {
    const e = thrown(() => A.grad((x: A.Value) => A.mul(x, 2))(t([1, 2, 3])));
    expect(e).toBeInstanceOf(A.GraphException);
    expect(e.message).toMatch(
      /^grad: the function must return a scalar \(shape \[\]\) float to be differentiated, got f64\[3\]/,
    );
    expect(e.message).toMatch(/reduce it first \(e\.g\. sum or mean\), or use vjp/);
    expect(thrown(() => A.valueAndGrad((x: A.Value) => x)(t([1, 2]))).message).toMatch(/^valueAndGrad: .*got f64\[2\]/);
  });
  it("grad of an integer scalar says a float is needed and what arrived, not 'reduce it first'", () => {
    const e = thrown(() => A.grad((x: A.Value) => A.sum(A.astype(x, "int32")))(t([1, 2])));
    expect(e).toBeInstanceOf(A.GraphException);
    expect(e.message).toMatch(
      /^grad: the function must return a float scalar \(shape \[\], float32 or float64\) to be differentiated, got an int32 scalar i32\[\]/,
    );
    expect(e.message).toMatch(
      /an int32 value has no gradient; keep the loss in floats: convert integer or boolean inputs with astype\(x, "float32"\)/,
    );
    expect(e.message).not.toMatch(/reduce it first/);
    // A non-scalar of an integer dtype needs both fixes.
    const both = thrown(() => A.valueAndGrad((x: A.Value) => A.greater(x, 0))(t([1, 2]))).message;
    expect(both).toMatch(
      /^valueAndGrad: .*got bool\[2\]; reduce it \(e\.g\. sum or mean\) and keep the loss in floats/,
    );
  });
  it("grad of a function that returns a number or a pair without hasAux says what it returned", () => {
    expect(thrown(() => A.grad((_x: A.Value) => 3)(t([1]))).message).toMatch(
      /^grad: f must be a scalar tensor, got the plain number 3 \(a number computed outside Rewind's ops has no gradient\)/,
    );
    expect(thrown(() => A.grad((x: A.Value) => [A.sum(x), 1])(t([1]))).message).toMatch(
      /got an array of length 2 .*if f returns \[loss, aux\], pass \{ hasAux: true \}/,
    );
  });
  it("scan xs leaves with different lengths name every leaf", () => {
    const e = thrown(() => A.scan((c: A.Value) => [c, null] as const, t(0), { a: f64([3, 2]), b: f64([4]) }));
    expect(e.message).toMatch(/^scan: leaves have different leading sizes: xs\.a: f64\[3,2\], xs\.b: f64\[4\]/);
    expect(e.message).toMatch(/give every xs leaf the same number of steps on axis 0/);
    expect(
      thrown(() => A.scan((c: A.Value, x: A.Value) => [c, x] as const, t(0), f64([3]), { length: 4 })).message,
    ).toMatch(/^scan: .*\b4 but xs has 3 steps .*argument `length`/);
  });
  it("a tracer used after its transform returned (grad, scan, jit)", () => {
    let fromGrad: A.Value | undefined;
    A.grad((x: A.Value) => {
      fromGrad = x;
      return A.sum(x);
    })(t([1, 2]));
    let fromScan: A.Value | undefined;
    A.scan(
      (c: A.Value, x: A.Value) => {
        fromScan = c;
        return [c, x] as const;
      },
      t(0),
      t([1]),
    );
    const leakMessage =
      /a traced value f64\[.*\] was used after the transform that created it returned .*return it from the function instead/;
    const e1 = thrown(() => A.add(fromGrad!, 1));
    expect(e1.message).toMatch(/^add: a traced value f64\[2\]/);
    expect(e1.message).toMatch(leakMessage);
    expect((e1 as A.GraphException).error._tag).toBe("TracerLeak");
    expect(thrown(() => A.grad((y: A.Value) => A.sum(A.mul(y, fromGrad!)))(t([1, 2]))).message).toMatch(
      /^mul: a traced value f64\[2\]/,
    );
    expect(thrown(() => A.tanh(fromScan!)).message).toMatch(/^tanh: a traced value f64\[\]/);
  });
});
