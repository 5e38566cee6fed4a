/**
 * @file Helpers shared by the argument checks and the allocator, below both so neither imports
 * the other (not re-exported from the package index).
 */

/**
 * The most elements a tensor may hold: 2^31 − 1, because the kernels address elements with int32
 * offsets (`viewOffsets` returns an `Int32Array`). Larger requests are a `ValueError` naming the
 * op instead of a `RangeError` from the typed-array constructor or a silent offset wrap.
 */
export const MAX_ELEMENTS = 2147483647;

/**
 * A short description of any value for error messages (never throws, unlike `JSON.stringify` on a
 * bigint or `String` on a prototype-less object).
 * @example describeValue([1, 2]) // "an array of length 2"
 */
export const describeValue = (x: unknown): string => {
  if (x === null) return "null";
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  switch (typeof x) {
    case "string":
      return `the string ${JSON.stringify(x.length > 20 ? `${x.slice(0, 20)}…` : x)}`;
    case "number":
    case "boolean":
    case "bigint":
      return `the ${typeof x} ${String(x)}`;
    case "object":
      return ArrayBuffer.isView(x) ? `a ${x.constructor.name}` : "an object";
    default:
      return typeof x;
  }
};

/**
 * A value as JSON for error messages, with NaN, ±Infinity and bigints readable; falls back to
 * `describeValue` when the value cannot be serialised (a cycle, a prototype-less object).
 * @example showValue([1.5, NaN]) // "[1.5,NaN]"
 */
export const showValue = (x: unknown): string => {
  try {
    const json = JSON.stringify(x, (_k, v: unknown) =>
      typeof v === "bigint" ? `${v}n` : typeof v === "number" && !Number.isFinite(v) ? `<${v}>` : v,
    ) as string | undefined;
    return json === undefined ? describeValue(x) : json.replace(/"<(-?Infinity|NaN)>"/g, "$1");
  } catch {
    return describeValue(x);
  }
};
