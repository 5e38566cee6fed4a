/**
 * @file Argument checks at the public entry points. TypeScript's types vanish at run time, so a
 * caller from plain JavaScript, a deserialised config or a typo can pass `null` where a tensor
 * goes, a string where an axis goes, or `{ keepdims: true }` as options. Without these checks
 * such calls died with a `TypeError` deep inside a kernel or, worse, returned a wrong answer
 * (an ignored misspelt option, a NaN-filled tensor). Each check throws a `TensorException`
 * naming the op, the argument, what arrived, and what to pass instead. They cost O(rank) per
 * call, which is noise next to the allocation every op makes anyway.
 *
 * Not re-exported from the package index: the sibling packages use these through the ops.
 */
import { DETACHED_FIX, detachedProblem, isDetachedProblem } from "./detached.js";
import { BUFFER_CLASS } from "./bufferClass.js";
import { isDType, type DType } from "./DType.js";
import { fail } from "./errors.js";
import { describeValue, MAX_ELEMENTS, showValue } from "./internal.js";
import { optionsProblem } from "./optionKeys.js";
import type { Tensor } from "./Tensor.js";

/**
 * `%TypedArray%.prototype`: the last prototype before `Object.prototype` on a typed array's chain.
 * Found by walking the chain rather than one step up, because a program may replace the global
 * `Uint8Array` with a subclass (the memory tests do, to count allocations), which adds a level.
 */
const TYPED_ARRAY_PROTOTYPE = ((): object => {
  let p = Object.getPrototypeOf(Uint8Array.prototype) as object;
  for (
    let up = Object.getPrototypeOf(p) as object | null;
    up !== null && up !== Object.prototype;
    up = Object.getPrototypeOf(up) as object | null
  )
    p = up;
  return p;
})();
/** A getter of `%TypedArray%.prototype`, to call on a value whatever its own properties say. */
const intrinsic = <R>(key: string | symbol): ((this: unknown) => R) =>
  // eslint-disable-next-line @typescript-eslint/unbound-method -- every caller passes the receiver with .call
  Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTOTYPE, key)!.get as (this: unknown) => R;
/**
 * `%TypedArray%.prototype[Symbol.toStringTag]`: the element type's name ("Float32Array") for a
 * genuine typed array, undefined for anything else, and it never throws. It reads the array's
 * internal slot, so unlike `instanceof` it is not fooled by an object that merely inherits from
 * `Float32Array.prototype` (whose every typed-array getter throws a TypeError).
 */
const typedArrayTag = intrinsic<string | undefined>(Symbol.toStringTag);
const bufferOf = intrinsic<ArrayBufferLike>("buffer");
const byteOffsetOf = intrinsic<number>("byteOffset");
const lengthOf = intrinsic<number>("length");

/**
 * The kind of a genuine typed array ("Float32Array", "Uint8Array", ...), or undefined for
 * anything else (a forged object inheriting from a typed-array prototype included). Never throws.
 * @example typedArrayName(Float32Array.of(1)) // "Float32Array"
 */
export const typedArrayName = (x: unknown): string | undefined => typedArrayTag.call(x);

/**
 * A fresh view of the bytes of a genuine `Uint8Array` (a Node `Buffer` included), built from the
 * intrinsic getters so that own properties shadowing `length` or `buffer` change nothing; or
 * undefined for anything else. Never throws.
 * @example bytesOf(Object.create(Uint8Array.prototype)) // undefined
 */
export const bytesOf = (x: unknown): Uint8Array | undefined => {
  if (typedArrayTag.call(x) !== "Uint8Array") return undefined;
  const length = lengthOf.call(x);
  // A detached buffer (transferred to a worker) reads as empty; a view of it cannot be built.
  return length === 0 ? new Uint8Array(0) : new Uint8Array(bufferOf.call(x), byteOffsetOf.call(x), length);
};

/**
 * Why `x` is not a well-formed tensor record, or undefined when it is one.
 * @example
 * tensorProblem({ dtype: "float32", shape: [2], data: [1, 2] })
 * // "a float32 record whose data is not a Float32Array"
 */
export const tensorProblem = (x: unknown): string | undefined => {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return describeValue(x);
  const t = x as { dtype?: unknown; shape?: unknown; data?: unknown; _tag?: unknown };
  // A tracer of @rewind/autodiff has a shape and a dtype but no data: reading its `data` throws.
  if (t._tag === "Tracer") return TRACED;
  return recordProblem(t.dtype, t.shape, t.data);
};

const TRACED = "a traced value (a Tracer: inside grad, jit or scan a value has a shape and a dtype but no data)";

/**
 * `tensorProblem` on the three fields, without building a record (for `fromBuffer`, on every op).
 * @example recordProblem("float32", [1], Float32Array.of(0)) // undefined
 */
export const recordProblem = (dtype: unknown, shape: unknown, data: unknown): string | undefined => {
  // A switch on the dtype string is the fast path: this runs on every op (measured about 2.5x faster
  // than a lookup table plus a dynamic instanceof: 11 ns against 27 ns a check). `instanceof`
  // keeps the methods the kernels call; the brand check makes sure the object is a real typed
  // array of that kind (a forged one throws a TypeError at its first `length`).
  let classOk: boolean;
  switch (dtype) {
    case "float32":
      classOk = data instanceof Float32Array && typedArrayTag.call(data) === "Float32Array";
      break;
    case "float64":
      classOk = data instanceof Float64Array && typedArrayTag.call(data) === "Float64Array";
      break;
    case "int32":
      classOk = data instanceof Int32Array && typedArrayTag.call(data) === "Int32Array";
      break;
    case "bool":
      classOk = data instanceof Uint8Array && typedArrayTag.call(data) === "Uint8Array";
      break;
    default:
      return `a record whose dtype ${showValue(dtype)} is not a dtype`;
  }
  if (!Array.isArray(shape)) return "a record without a shape array";
  if (!classOk) return `a ${dtype} record whose data is not a ${BUFFER_CLASS[dtype].name}`;
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (!(Number.isSafeInteger(d) && (d as number) >= 0))
      return `a record whose shape ${showValue(shape)} has a dimension that is not a non-negative integer`;
    n *= d as number;
  }
  const len = (data as ArrayLike<number>).length;
  if (n === len) return undefined;
  // Off the hot path: a detached buffer (donated to a jitted call, transferred) reads as empty.
  return (
    detachedProblem(dtype, shape, n, data as ArrayBufferView) ??
    `a record of shape ${showValue(shape)} (${n} elements) whose data holds ${len}`
  );
};

/**
 * Returns `x` when it is a well-formed tensor (known dtype, matching buffer class, shape of
 * non-negative integers, buffer length equal to the shape's size); throws otherwise.
 * @example checkTensor("exp", "x", tensor([1]))
 */
export const checkTensor = (op: string, arg: string, x: unknown): Tensor => {
  const problem = tensorProblem(x);
  if (problem === undefined) return x as Tensor;
  // A live tracer of @rewind/autodiff throws its own concretization error, naming the transform.
  if (problem === TRACED) (x as { refuseConcrete?: (use: string) => never }).refuseConcrete?.(`passed to ${op}`);
  return fail({
    _tag: "ValueError",
    op,
    arg,
    detail: `expected a tensor, got ${problem}`,
    fix:
      problem === TRACED
        ? `call ${op} outside the transform, or stay with traced ops: where(cond, a, b) to choose between values, ` +
          `scan for loops`
        : isDetachedProblem(problem)
          ? DETACHED_FIX
          : "build tensors with tensor(...), fromArray or fromData (plain arrays are not tensors)",
  });
};

/**
 * Returns `x` when it is a tensor or a plain number (the weakly typed operand of elementwise ops).
 * @example checkOperand("add", "b", 2)
 */
export const checkOperand = (op: string, arg: string, x: unknown): Tensor | number =>
  typeof x === "number" ? x : checkTensor(op, arg, x);

/**
 * Returns `x` when it names a dtype.
 * @example checkDType("zeros", "dtype", "float64")
 */
export const checkDType = (op: string, arg: string, x: unknown): DType =>
  isDType(x)
    ? x
    : fail({
        _tag: "DTypeError",
        op,
        arg,
        detail: `unknown dtype ${describeValue(x)}`,
        fix: 'use one of "float32", "float64", "int32", "bool"',
      });

/**
 * Returns `x` when it is a number (any number, NaN and ±Infinity included).
 * @example checkNumber("full", "value", 0.5)
 */
export const checkNumber = (op: string, arg: string, x: unknown): number =>
  typeof x === "number"
    ? x
    : fail({
        _tag: "ValueError",
        op,
        arg,
        detail: `expected a number, got ${describeValue(x)}`,
        fix: "pass a JavaScript number",
      });

/**
 * Returns `x` when it is a boolean or undefined (an optional flag).
 * @example checkFlag("sum", "options.keepDims", true)
 */
export const checkFlag = (op: string, arg: string, x: unknown): boolean | undefined =>
  x === undefined || typeof x === "boolean"
    ? x
    : fail({
        _tag: "ValueError",
        op,
        arg,
        detail: `expected true or false, got ${describeValue(x)}`,
        fix: "pass a boolean (or omit it)",
      });

/**
 * Returns an options argument as an object: `{}` for undefined, the object itself when it is a
 * plain object whose keys are all in `known`. Anything else throws a `ValueError` from the shared
 * check (`optionKeys.ts`): a misspelt option (`keepdims`) would otherwise be ignored silently,
 * and the message suggests the key it most likely meant.
 * @example checkOptions("sum", { axis: 0 }, ["axis", "keepDims"]).axis // 0
 */
export const checkOptions = <K extends string>(
  op: string,
  x: unknown,
  known: readonly K[],
  arg = "options",
): Readonly<Partial<Record<K, unknown>>> => {
  const problem = optionsProblem(op, arg, x, known);
  if (problem !== undefined)
    fail({ _tag: "ValueError", op, arg: problem.arg, detail: problem.detail, fix: problem.fix });
  return (x ?? EMPTY) as Readonly<Partial<Record<K, unknown>>>;
};

const EMPTY: Readonly<Record<string, never>> = Object.freeze({});

const COUNT_LIMIT = `a tensor holds a non-negative integer count up to ${MAX_ELEMENTS}`;

/**
 * Returns `n` when a tensor of `n` elements can exist (a non-negative integer at most 2^31 − 1,
 * the limit of the int32 offsets the kernels index with).
 * @example checkCount("arange", "stop", 10)
 */
export const checkCount = (op: string, arg: string, n: number): number =>
  Number.isSafeInteger(n) && n >= 0 && n <= MAX_ELEMENTS
    ? n
    : fail({
        _tag: "ValueError",
        op,
        arg,
        detail: `the result would have ${n} elements; ${COUNT_LIMIT}`,
        fix: "ask for fewer elements",
      });
