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

/** Items of one array or keys of one object that messages show; the rest are counted. */
const SHOWN_ITEMS = 8;
/** Values written in all by `showValue`, after which containers print as `…`. */
const SHOWN_VALUES = 48;
/** Characters of a string or a class name that messages show. */
const SHOWN_CHARS = 40;

const clip = (s: string): string => (s.length > SHOWN_CHARS ? `${s.slice(0, SHOWN_CHARS)}…` : s);

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
      return `the string ${JSON.stringify(clip(x))}`;
    case "number":
    case "boolean":
    case "bigint":
      return `the ${typeof x} ${clip(String(x))}`;
    case "object":
      return ArrayBuffer.isView(x) ? `a ${clip(String(x.constructor?.name))}` : "an object";
    default:
      return typeof x;
  }
};

/** Marks a placeholder string for `showValue` to print unquoted. */
const mark = (text: string): string => `\u0000${text}\u0000`;

/**
 * A value as JSON for error messages, with NaN, ±Infinity and bigints readable; falls back to
 * `describeValue` when the value cannot be serialised (a cycle, a prototype-less object). Bounded
 * whatever the input: arrays and objects show their first items and count the rest
 * (`[1,1,1,1,1,1,1,… 199993 more]`), long strings are cut, and after 48 values the rest is `…`.
 * @example showValue([1.5, NaN]) // "[1.5,NaN]"
 */
export const showValue = (x: unknown): string => {
  let written = 0;
  try {
    const json = JSON.stringify(x, (_k, v: unknown) => {
      if (++written > SHOWN_VALUES) return mark("…");
      if (typeof v === "bigint") return `${v}n`;
      if (typeof v === "number" && !Number.isFinite(v)) return mark(String(v));
      if (typeof v === "string") return clip(v);
      if (Array.isArray(v) || ArrayBuffer.isView(v)) {
        const items = v as ArrayLike<unknown>;
        if (items.length <= SHOWN_ITEMS) return v;
        const head = Array.from({ length: SHOWN_ITEMS - 1 }, (_, i) => items[i]);
        return [...head, mark(`… ${items.length - head.length} more`)];
      }
      if (typeof v === "object" && v !== null) {
        // Stop looking after SHOWN_ITEMS + 1 keys: only an object with more is cut.
        const keys: string[] = [];
        for (const key in v) {
          if (Object.prototype.hasOwnProperty.call(v, key) && keys.push(key) > SHOWN_ITEMS) break;
        }
        if (keys.length <= SHOWN_ITEMS) return v;
        const shown = Object.fromEntries(
          keys.slice(0, SHOWN_ITEMS - 1).map((k) => [k, (v as Record<string, unknown>)[k]]),
        );
        return { ...shown, "…": mark(`${Object.keys(v).length - SHOWN_ITEMS + 1} more keys`) };
      }
      return v;
    }) as string | undefined;
    return json === undefined ? describeValue(x) : json.replace(/"\\u0000([^"]*)\\u0000"/g, "$1");
  } catch {
    return describeValue(x);
  }
};
