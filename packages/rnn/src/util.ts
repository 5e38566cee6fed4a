/**
 * @file Small helpers the layer shapes share.
 */
import * as T from "@rewind/tensor";
import { check, flag, func, intAtLeast, optional, optionsProblem } from "@rewind/tensor/internal/check";
import { rule, withFix } from "@rewind/tensor/internal/check";
import { isValue, reshape, transpose, type Value } from "@rewind/autodiff";

/**
 * Broadcasts a `[B]` mask against a `[B, ...]` value.
 * @example where(maskFor(m, h), h, 0)
 */
export const maskFor = (m: Value, v: Value): Value => reshape(m, [m.shape[0]!, ...v.shape.slice(1).map(() => 1)]);

/**
 * `[B, T, ...]` ⇄ `[T, B, ...]`: swaps the two leading axes, keeping the rest.
 * @example swapBatchTime(zeros([2, 5, 3])).shape // [5, 2, 3]
 */
export const swapBatchTime = (x: Value): Value =>
  transpose(
    x,
    x.shape.map((_, i) => (i < 2 ? 1 - i : i)),
  );

/**
 * Throws unless `v` is one vector per sample, `[batch, features]`.
 * @example checkVector("repeatInput", "v", v)
 */
export const checkVector = (op: string, arg: string, v: Value): void => {
  checkValue(op, arg, v);
  if (v.shape.length !== 2) {
    T.fail({
      _tag: "ShapeError",
      op,
      arg,
      shapes: [v.shape],
      detail: `${arg} must be one vector per sample, [batch, features]`,
      fix: "reshape it to [batch, features]",
    });
  }
};

/**
 * Throws unless `n` is an integer ≥ `min` (a number of steps).
 * @example checkSteps("generate", "maxLength", 10, 1)
 */
export const checkSteps = (op: string, arg: string, n: number, min: number): void => {
  check(op, arg, n, withFix(intAtLeast(min), `pass the number of steps to run (≥ ${min})`));
};

const tensorRule = rule("a tensor", isValue, "wrap plain data with tensor(...) or fromArray(...) from @rewind/tensor");
const keyRule = rule(
  "a PRNG key",
  (k) => k === undefined || T.random.isKey(k),
  "pass random.key(seed) or a key derived from one with split / foldIn",
);
const optionalFunc = optional(func);

/**
 * Throws unless `v` is a tensor or traced value (plain arrays and numbers are not), naming the op.
 * @example checkValue("rnn", "xs", xs)
 */
export const checkValue = (op: string, arg: string, v: unknown): void => {
  check(op, arg, v, tensorRule);
};

/**
 * Throws unless `options` is a plain object whose keys are all in `known` (or undefined, unless
 * `required`), with the shared check of @rewind/tensor: a misspelt option (`{ lenghts }`) would
 * otherwise be ignored silently, and the message suggests the key it most likely meant.
 * @example checkOptions("rnn", "options", opts, RNN_OPTION_KEYS)
 */
export const checkOptions = (
  op: string,
  arg: string,
  options: unknown,
  known: readonly string[],
  required = false,
): void => {
  const problem = optionsProblem(op, arg, options, known, required);
  if (problem !== undefined)
    T.fail({ _tag: "ValueError", op, arg: problem.arg, detail: problem.detail, fix: problem.fix });
};

/**
 * Throws unless `flag` is a boolean or undefined (a truthy string must not switch an option on).
 * @example checkFlag("rnn", "options.reverse", opts.reverse)
 */
export const checkFlag = (op: string, arg: string, value: unknown): void => {
  check(op, arg, value, flag);
};

/**
 * Throws unless `key` is a PRNG key or undefined.
 * @example checkKey("rnn", "options.key", opts.key)
 */
export const checkKey = (op: string, arg: string, key: unknown): void => {
  check(op, arg, key, keyRule);
};

/**
 * Throws unless `f` is a function (or undefined when `optional`).
 * @example checkFunction("generate", "embed", o.embed)
 */
export const checkFunction = (op: string, arg: string, f: unknown, isOptional = false): void => {
  check(op, arg, f, isOptional ? optionalFunc : func);
};

/**
 * Throws unless concrete token ids are all ≥ 0 (a negative id would silently wrap around in `take`).
 * Traced ids are not known yet and pass.
 * @example checkTokenIds("generate", "teacherTokens", tokens)
 */
export const checkTokenIds = (op: string, arg: string, ids: Value): void => {
  if (!T.isTensor(ids)) return;
  for (let i = 0; i < ids.data.length; i++) {
    if (ids.data[i]! < 0) {
      T.fail({
        _tag: "ValueError",
        op,
        arg,
        detail: `${arg} holds the negative token id ${ids.data[i]} (at flat index ${i})`,
        fix: "token ids must be ≥ 0; map special tokens to ids of the vocabulary",
      });
    }
  }
};

/**
 * Throws unless `sizes` is an object (the fields are checked by the cells that read them);
 * `example` is the sizes the fix suggests.
 * @example checkSizesObject("stack.init", sizes)
 */
export const checkSizesObject = (op: string, sizes: unknown, example = "{ inputSize: 8, hiddenSize: 32 }"): void => {
  if (typeof sizes !== "object" || sizes === null) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "sizes",
      detail: `sizes must be an object, got ${String(sizes)}`,
      fix: `pass e.g. ${example}`,
    });
  }
};
