/**
 * @file The transforms' options go through the shared check and stay GraphExceptions: a misspelt
 * key names its suggestion, and the remat policy and a primitive's rules are checked too.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import { GraphException } from "../src/errors.js";
import { scan, type ScanOptions } from "../src/scan/api.js";
import { grad } from "../src/api.js";
import { jit } from "../src/jit.js";
import { sum } from "../src/ops/reduce.js";
import { add } from "../src/ops/index.js";
import { definePrimitive, noGradient } from "../src/Primitive.js";
import { estimateScanResiduals } from "../src/memory.js";

const step = (c: T.Tensor, x: T.Tensor): [T.Tensor, T.Tensor] => [add(c, x) as T.Tensor, c];
const xs = T.tensor([1, 2, 3], "float64");
const init = T.scalar(0, "float64");

/** A GraphException whose message matches `text` and whose error value holds `fields`. */
const refused = (text: RegExp, fields: object = {}) =>
  expect.objectContaining({
    constructor: GraphException,
    message: expect.stringMatching(text),
    error: expect.objectContaining(fields),
  });

describe("misspelt options of the transforms", () => {
  it("scan refuses { revers } with a suggestion (it used to list the keys only)", () => {
    expect(() => scan(step, init, xs, { revers: true } as never)).toThrow(
      refused(/did you mean "reverse"\?/, { _tag: "InvalidArgument", op: "scan", arg: "options.revers" }),
    );
  });

  it("scan's remat policy { evrey } is checked like an options object, under the name the caller used", () => {
    expect(() => scan(step, init, xs, { remat: { evrey: 2 } } as never)).toThrow(
      refused(/^scan: unknown key "evrey" in options\.remat .*did you mean "every"\?/),
    );
    expect(() => scan(step, init, xs, { checkpoint: { evrey: 2 } } as never)).toThrow(
      refused(/^scan: unknown key "evrey" in options\.checkpoint .*did you mean "every"\?/),
    );
    expect(() => scan(step, init, xs, { checkpoint: "some" } as never)).toThrow(/unknown checkpoint policy "some"/);
    expect(() => scan(step, init, xs, { remat: "some" } as never)).toThrow(/unknown remat policy "some"/);
  });

  it("scan keeps the deprecated checkpoint option as an alias of remat, and refuses both at once", () => {
    const run = (o: ScanOptions) => scan(step, init, xs, o);
    expect(run({ checkpoint: { every: 2 } })).toEqual(run({ remat: { every: 2 } }));
    expect(() => run({ remat: "carries", checkpoint: "carries" })).toThrow(
      refused(/options\.remat and options\.checkpoint were both given/, {
        _tag: "InvalidArgument",
        op: "scan",
        arg: "checkpoint",
        fix: "pass only options.remat",
      }),
    );
    // estimateScanResiduals reads the policy the same way.
    expect(estimateScanResiduals(step, init, xs, { checkpoint: "carries" })).toEqual(
      estimateScanResiduals(step, init, xs, { remat: "carries" }),
    );
  });

  it("grad, jit, reductions and estimateScanResiduals name their own op", () => {
    expect(() => grad((x: T.Tensor) => sum(x), { has_aux: true } as never)).toThrow(
      refused(/^grad: .*did you mean "hasAux"\?/),
    );
    expect(() => jit((x: T.Tensor) => x, { complie: false } as never)).toThrow(
      refused(/^jit: .*did you mean "compile"\?/),
    );
    expect(() => sum(xs, { keepdims: true } as never)).toThrow(refused(/^sum: .*did you mean "keepDims"\?/));
    expect(() => estimateScanResiduals(step, init, xs, { lenght: 3 } as never)).toThrow(
      refused(/^estimateScanResiduals: .*did you mean "length"\?/),
    );
  });

  it("definePrimitive refuses a misspelt optional rule", () => {
    const prim = {
      name: "myNeg",
      abstractEval: (ins: readonly { shape: readonly number[]; dtype: T.DType }[]) => [ins[0]!],
      impl: (ins: readonly T.Tensor[]) => [T.neg(ins[0]!)],
      vjp: noGradient,
    };
    expect(() => definePrimitive({ ...prim, fowrard: () => ({ outs: [], residuals: [] }) } as never)).toThrow(
      refused(/^definePrimitive: .*did you mean "forward"\?/),
    );
    expect(Object.isFrozen(definePrimitive(prim as never))).toBe(true);
  });
});
