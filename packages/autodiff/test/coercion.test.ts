/**
 * @file Tracers in JavaScript conditions (issue 13, items 9 and 10). Before, `x > 0 ? a : b` on a
 * tracer was silently false under grad and jit, `Number(x)` was NaN, and `x.data[0]` died with
 * "Cannot read properties of undefined". Now each throws a GraphException (ConcretizationError)
 * naming the transform that was tracing and the fixes: `where`, `scan`, a static argument.
 */
import { describe, expect, it } from "vitest";
import { is, List } from "immutable";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";

/** The exception `thunk` throws; fails the test when it returns. */
const thrown = (thunk: () => unknown): Error => {
  try {
    thunk();
  } catch (e) {
    if (e instanceof Error) return e;
    throw new Error(`threw a non-Error: ${String(e)}`, { cause: e });
  }
  throw new Error("expected an error, but nothing was thrown");
};

// What a plain JavaScript caller can write (TypeScript refuses these on a Value).
const js = (x: A.Value): any => x;

/** Runs `body` on a traced [2] float64 value under each transform, named as errors name it. */
const underEachTransform = (body: (x: A.Value) => unknown): ReadonlyArray<readonly [string, () => unknown]> => {
  const x = T.tensor([1, -2], "float64");
  const run = (v: A.Value): A.Value => {
    body(v);
    return A.sum(v);
  };
  return [
    ["grad", () => A.grad(run)(x)],
    ["valueAndGrad", () => A.valueAndGrad(run)(x)],
    ["jit", () => A.jit(run)(x)],
    ["vjp", () => A.vjp(run, x)],
    [
      "scan",
      () =>
        A.scan(
          (c: A.Value, xt: A.Value) => [A.add(c, run(xt)), null] as const,
          T.scalar(0, "float64"),
          T.zeros([3, 2], "float64"),
        ),
    ],
    ["remat", () => A.grad((v: A.Value) => A.remat(run)(v))(x)],
    ["makeGraph", () => A.makeGraph(run)(x)],
  ];
};

const concretization = (e: Error, transform: string, use: RegExp): void => {
  expect(e).toBeInstanceOf(A.GraphException);
  expect((e as A.GraphException).error).toMatchObject({ _tag: "ConcretizationError", op: transform });
  expect(e.message).toMatch(new RegExp(`^${transform}: a traced value f64\\[(2)?\\] was `));
  expect(e.message).toMatch(use);
  expect(e.message).toMatch(/while \w+ traces the function its values have a shape and a dtype, not numbers/);
  expect(e.message).toMatch(/where\(cond, a, b\) instead of \?: or if/);
  expect(e.message).toMatch(/with scan/);
};

describe("a tracer used as a number throws a concretization error naming the transform", () => {
  const uses: ReadonlyArray<readonly [string, (x: any) => unknown]> = [
    ["x > 0 ? a : b", (x) => (x > 0 ? 1 : 2)],
    ["Number(x)", (x) => Number(x)],
    ["x + 1", (x) => x + 1],
    ["x == 1", (x) => x == 1],
    ["Math.abs(x)", (x) => Math.abs(x)],
  ];
  for (const [name, use] of uses) {
    it(`${name} under grad, valueAndGrad, jit, vjp, scan, remat and makeGraph`, () => {
      for (const [transform, call] of underEachTransform((x) => use(js(x)))) {
        concretization(thrown(call), transform, /used as a JavaScript number \(x > 0, x \+ 1, Number\(x\), x == y\)/);
      }
    });
  }
  it("on a rank-0 tracer too (the case that looked like it should work)", () => {
    const e = thrown(() =>
      A.grad((x: A.Value) => (js(A.sum(x)) > 0 ? A.sum(x) : A.neg(A.sum(x))))(T.tensor([1, 2], "float64")),
    );
    concretization(e, "grad", /f64\[\] was used as a JavaScript number/);
  });
});

describe("reading .data of a tracer throws the same error instead of a TypeError", () => {
  it("x.data[0] under every transform", () => {
    for (const [transform, call] of underEachTransform((x) => js(x).data[0])) {
      concretization(thrown(call), transform, /was read through \.data/);
    }
  });
  it("TypeScript still refuses .data on an unnarrowed Value", () => {
    // @ts-expect-error: a Value may be a tracer, which has no `data` in its type.
    const read = (v: A.Value) => v.data;
    expect(read(T.scalar(1)).length).toBe(1);
  });
});

describe("what still works", () => {
  it("concrete scalars captured from outside convert under jit and grad (they have values)", () => {
    const threshold = T.scalar(0.5, "float64");
    const f = (x: A.Value) => (js(threshold) > 0 ? A.sum(A.mul(x, 2)) : A.sum(x));
    expect(T.item(A.jit(f)(T.tensor([1, 2], "float64")))).toBe(6);
    expect([...A.grad(f)(T.tensor([1, 2], "float64")).data]).toEqual([2, 2]);
  });
  it("eager values are tensors and convert (the same code outside a transform)", () => {
    const x = A.sum(T.tensor([1, -3], "float64"));
    expect(js(x) > 0 ? "pos" : "neg").toBe("neg");
  });
  it("where is the traced replacement for ?:", () => {
    const relu = (x: A.Value) => A.sum(A.where(A.greater(x, 0), x, 0));
    expect([...A.grad(relu)(T.tensor([1, -2], "float64")).data]).toEqual([1, 0]);
  });
  it("a tracer converts to a string describing it, so logs and messages keep working", () => {
    const seen: string[] = [];
    A.grad((x: A.Value) => {
      seen.push(`${x}`, String(x));
      return A.sum(x);
    })(T.zeros([2, 3]));
    expect(seen).toEqual(["Tracer<float32[2, 3]>", "Tracer<float32[2, 3]>"]);
  });
  it("isTensor and isValue classify a tracer without reading its data", () => {
    A.grad((x: A.Value) => {
      expect(T.isTensor(x)).toBe(false);
      expect(A.isValue(x)).toBe(true);
      expect(A.isTracer(x)).toBe(true);
      return A.sum(x);
    })(T.zeros([2]));
  });
  it("Immutable compares tensors by identity (no valueOf that would make equal scalars one key)", () => {
    const [a, b] = [T.scalar(1), T.scalar(1)];
    expect(is(a, b)).toBe(false);
    expect(is(a, a)).toBe(true);
    expect(List([a]).equals(List([b]))).toBe(false);
  });
});

describe("tensor-only functions given a tracer say why", () => {
  // Before, these said "item: expected a tensor, got a traced value (a Tracer: inside grad, jit or
  // scan …)", whichever transform was tracing: the concretization error now names it, as `.data` does.
  const concretization = (transform: string, op: string) =>
    new RegExp(
      `^${transform}: a traced value f32\\[[0-9,]*\\] was passed to ${op}, but while ${transform} traces the ` +
        "function its values have a shape and a dtype, not numbers \\(a concretization error\\); " +
        `read the number after ${transform} returns`,
    );
  it("item(x) inside grad names grad, item and the fixes: read after, a static argument, where, scan", () => {
    const e = thrown(() => A.grad((x: A.Value) => A.mul(x, T.item(x as T.Tensor)))(T.scalar(2)));
    expect(e).toBeInstanceOf(A.GraphException);
    expect(e.message).toMatch(concretization("grad", "item"));
    expect(e.message).toMatch(/pass it in as a plain number \(a static argument/);
    expect(e.message).toMatch(/where\(cond, a, b\) instead of \?: or if, and write loops .* with scan$/);
  });
  it("item, toArray inside jit and vmap name that transform", () => {
    const readItem = (x: A.Value) => A.mul(x, T.item(A.sum(x) as T.Tensor));
    const readArray = (x: A.Value) => A.mul(x, T.toArray(x as T.Tensor) === undefined ? 0 : 1);
    expect(thrown(() => A.jit(readItem)(T.tensor([1, 2]))).message).toMatch(concretization("jit", "item"));
    expect(thrown(() => A.jit(readArray)(T.tensor([1, 2]))).message).toMatch(concretization("jit", "toArray"));
    expect(thrown(() => A.vmap(readItem)(T.tensor([[1], [2]]))).message).toMatch(concretization("vmap", "item"));
  });
  it("a tracer kept past its transform is a leak, not a concretization error", () => {
    let kept: A.Value | undefined;
    A.grad((x: A.Value) => {
      kept = x;
      return A.sum(x);
    })(T.tensor([1, 2]));
    const e = thrown(() => T.item(kept as T.Tensor));
    expect(e.message).toMatch(/a traced value f32\[2\] was used after the transform that created it returned/);
  });
});
