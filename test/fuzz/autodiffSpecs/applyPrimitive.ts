/**
 * @file Fuzz spec of `applyPrimitive`: a primitive declared outside Rewind applies eagerly, under
 * jit and under grad like a built-in op; anything but a declared primitive, or inputs that are not
 * an array of values, is refused with a library error.
 */
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { expectRejected } from "../contract.js";
import { countCases, type Spec } from "../common.js";

/** The specs of this file, keyed by export name. */
export const applyPrimitiveSpecs: Record<string, Spec> = {
  applyPrimitive: {
    cases: () => {
      // d/dx 3x = 3.
      const triple: A.Primitive<"fuzzTriple", void> = A.definePrimitive<"fuzzTriple", void>({
        name: "fuzzTriple",
        abstractEval: ([x]) => [x!],
        impl: ([x]) => [T.mul(x!, 3)],
        vjp: ([g], _ctx, k) => [k.mul(g!, 3)],
      });
      const f = (x: A.Value): A.Value => A.sum(A.applyPrimitive(triple, [x], undefined)[0]!);
      const x = T.tensor([1, -2], "float64");
      const bad: unknown[] = [null, {}, { name: "x", impl: () => [] }, "exp", A.exp];
      return countCases([
        () => {
          if (T.item(f(x) as T.Tensor) !== -3 || T.item(A.jit(f)(x)) !== -3)
            throw new Error("applyPrimitive: eager and jit must compute 3 · (1 − 2)");
          if (!Array.from(A.grad(f)(x).data).every((g) => g === 3))
            throw new Error("applyPrimitive: the gradient of sum(3x) is 3 everywhere");
        },
        ...bad.map(
          (p) => () => void expectRejected(["applyPrimitive"], () => A.applyPrimitive(p as never, [x], undefined)),
        ),
        ...[null, x, [1], [x, "y"]].map(
          (ins) => () =>
            void expectRejected(["applyPrimitive"], () => A.applyPrimitive(triple, ins as never, undefined)),
        ),
      ]);
    },
  },
};
