/**
 * @file The runtime form of a tensor record, and what JavaScript's conversions do with it.
 *
 * Every tensor the library makes is a frozen instance of one class whose prototype carries
 * `Symbol.toPrimitive`. Without it `x > 0 ? a : b` compared `NaN` and was silently false, eager
 * and traced alike. Now a tensor holding exactly one element (any shape of size 1, as `item`
 * accepts, and NumPy's `float()`) converts to its number; any other tensor throws a `ShapeError`
 * naming `where`, a reduction and `item` as the fixes. Conversion to a string (`${x}`,
 * `String(x)`) gives the text of `toString(x)`, so messages and logs keep working.
 *
 * Only `Symbol.toPrimitive` is defined, not `valueOf`: Immutable's `is` and `hash` call a custom
 * `valueOf`, which would make two scalar tensors of one value equal map keys (and throw for
 * larger ones); with `Symbol.toPrimitive` alone, Immutable keeps comparing tensors by identity.
 *
 * `if (x)` and `!x` cannot be intercepted (every object is truthy in JavaScript): compare first,
 * e.g. `item(x) > 0`. A record that lost its prototype (a structured clone, `{ ...x }`) is still a
 * tensor to every op — `isTensor` is structural — but converts as a plain object.
 */
import type { ReadonlyTypedArray } from "./Buffer.js";
import { DETACHED_FIX, detachedTensorProblem } from "./detached.js";
import type { DType } from "./DType.js";
import { fail, formatShape } from "./errors.js";
import { toString } from "./format.js";
import type { Shape } from "./Shape.js";

/** The class of tensor records; named `Tensor` so `console.log` prints `Tensor { dtype: … }`. */
export const TensorRecord = class Tensor {
  constructor(
    readonly dtype: DType,
    readonly shape: Shape,
    readonly data: ReadonlyTypedArray,
  ) {
    Object.freeze(this);
  }

  /**
   * The number of a one-element tensor for hints "number" and "default" (`x > 0`, `x + 1`,
   * `Number(x)`, `x == 1`); the text of `toString(x)` for hint "string".
   * @throws TensorException (`ShapeError`) when a number is asked of a tensor with other than one element.
   */
  [Symbol.toPrimitive](hint: string): number | string {
    if (hint === "string") return text(this);
    if (this.data.length === 1) return this.data[0]!;
    // A scalar whose buffer was donated or transferred holds no element either: say so, not "0 elements".
    const gone = detachedTensorProblem(this);
    if (gone !== undefined)
      return fail({
        _tag: "ValueError",
        op: "toPrimitive",
        arg: "x",
        detail: `expected a tensor, got ${gone}`,
        fix: DETACHED_FIX,
      });
    return fail({
      _tag: "ShapeError",
      op: "toPrimitive",
      arg: "x",
      shapes: [this.shape],
      detail:
        `a ${this.dtype} tensor of shape ${formatShape(this.shape)} (${this.data.length} elements) was used as ` +
        `a JavaScript number (x > 0, x + 1, Number(x), x == y), which only a tensor with exactly one element can be`,
      fix:
        "compare elementwise with greater(x, 0) and choose with where(cond, a, b), reduce first (sum, max), or " +
        "read one element with item; to print it, use toString(x) or `${x}`",
    });
  }
};

/** `toString(t)`, or a short description when the record cannot be printed (a detached buffer). */
const text = (t: InstanceType<typeof TensorRecord>): string => {
  try {
    return toString(t);
  } catch {
    // `${x}` goes into messages and logs, so it never throws; a donated tensor says why it is empty.
    const gone = detachedTensorProblem(t) === undefined ? "" : ", donated or transferred";
    return `Tensor<${t.dtype}${formatShape(t.shape)}${gone}>`;
  }
};
