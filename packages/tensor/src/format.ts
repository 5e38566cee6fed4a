/**
 * @file Printing tensors the way NumPy prints arrays.
 *
 * The layout follows NumPy's `array_repr` (NumPy ≥ 1.14 rules): `tensor([[1., 2.],` with rows
 * aligned under the first bracket, one blank line between blocks of rank ≥ 3, rows wrapped at 75
 * columns, every element padded to a common width so columns line up, and `...` in place of the
 * middle of each axis when the tensor has more than `threshold` elements. Floats use NumPy's
 * "maxprec" mode: each value is written with the fewest digits that identify it in its own dtype
 * (so float32 `0.1` prints as `0.1`), at most `precision` digits after the point, and integral
 * values keep their point (`1.`), as NumPy and PyTorch write them; exact ties round to even.
 * Values at or above 1e8 (1e6 for float32, as NumPy ≥ 2.3), or below 1e-4, or spanning more than
 * three decades switch the whole tensor to scientific notation.
 * Non-finite values are `nan`, `inf`, `-inf`; booleans are `true`/`false`. The dtype is always
 * shown, and empty tensors also show their shape (except `[0]`, where `[]` says it all).
 */
import { checkOptions, checkTensor } from "./check.js";
import { fail, formatShape } from "./errors.js";
import { sizeOf, stridesOf } from "./Shape.js";
import type { DType } from "./DType.js";
import type { Tensor } from "./Tensor.js";

/**
 * Options of `toString`.
 * @example toString(t, { precision: 2, threshold: 100, edgeItems: 2 })
 */
export interface FormatOptions {
  /**
   * Most digits after the decimal point (in scientific notation: of the mantissa). Default 4,
   * PyTorch's default; NumPy's is 8. Shorter values are not padded with zeros.
   */
  readonly precision?: number;
  /** Elide with `...` when the tensor has more elements than this. Default 1000, as NumPy. */
  readonly threshold?: number;
  /**
   * Items kept at each edge of every axis when eliding. Default 3, as NumPy. With 0 an elided
   * axis prints as `[...]` (NumPy would still print its last item).
   */
  readonly edgeItems?: number;
  /** Wrap rows longer than this many characters. Default 75, as NumPy. */
  readonly lineWidth?: number;
}

const PREFIX = "tensor(";

/** A decimal `d[0].d[1..] × 10^exp`; `digits` has no trailing zeros (zero is `"0"`, exponent 0). */
interface Decimal {
  readonly digits: string;
  readonly exp: number;
}

/** Parses `"1.2300e+5"` into the digits `"123"` and the exponent 5. */
const parseExponential = (s: string): Decimal => {
  const [mantissa = "0", exp = "0"] = s.split("e");
  const digits = mantissa.replace(".", "").replace(/0+$/, "");
  return digits === "" ? { digits: "0", exp: 0 } : { digits, exp: Number(exp) };
};

/**
 * The exact decimal value of `abs`. `toExponential(100)` is exact for every value whose
 * expansion has at most 101 significant digits; longer ones (tiny doubles) are never exact
 * rounding ties at the ≤ 21 digits printed, so the last of 101 digits cannot change a result.
 */
const exactDecimal = (abs: number): Decimal => parseExponential(abs.toExponential(100));

/**
 * Rounds `d` to `n` significant digits, half to even, as NumPy's Dragon4 does (JavaScript's
 * `toFixed`/`toExponential` round ties away from zero, so they cannot be used for this).
 */
const roundDecimal = (d: Decimal, n: number): Decimal => {
  if (d.digits.length <= n) return d;
  if (n < 0) return { digits: "0", exp: 0 };
  const head = d.digits.slice(0, n);
  const rest = d.digits.slice(n);
  const lastOdd = n > 0 && Number(head[n - 1]) % 2 === 1;
  const up = rest[0]! > "5" || (rest[0] === "5" && (rest.length > 1 || lastOdd));
  if (!up) return head === "" ? { digits: "0", exp: 0 } : parseExponential(`${head}e${d.exp}`);
  // Add one unit in the last kept place; a carry out of the first digit raises the exponent.
  const digits = [...head].map(Number);
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === 9) digits[i--] = 0;
  if (i < 0) return { digits: "1", exp: d.exp + 1 };
  digits[i]!++;
  return parseExponential(`${digits.join("")}e${d.exp}`);
};

const readsBack = (d: Decimal, abs: number, dtype: DType): boolean => {
  const v = Number(`${d.digits}e${d.exp - d.digits.length + 1}`);
  return (dtype === "float32" ? Math.fround(v) : v) === abs;
};

/** The shortest digits that read back as `abs` in `dtype` (nearest such decimal, ties to even). */
const shortestDecimal = (abs: number, dtype: DType, exact: Decimal): Decimal => {
  // For float64 the language already gives the shortest round-trip digits (nearest, ties to even).
  if (dtype !== "float32") return parseExponential(abs.toExponential());
  for (let k = 1; k < 9; k++) {
    const candidate = abs.toExponential(k - 1);
    if (Math.fround(Number(candidate)) !== abs) continue;
    // toExponential rounds exact ties away from zero; NumPy rounds them to even.
    return exact.digits.length === k + 1 && exact.digits.endsWith("5")
      ? roundDecimal(exact, k)
      : parseExponential(candidate);
  }
  return roundDecimal(exact, 9); // 9 significant digits identify any float32
};

/**
 * NumPy's digits for `abs` (Dragon4 in "unique" mode): the shortest digits that identify it in
 * its dtype, unless those need more than `maxDigits(exponent)` significant digits, in which case
 * the exact value rounded to that many; then extended from the exact value to `minDigits`.
 */
const decimalFor = (abs: number, dtype: DType, maxDigits: (exp: number) => number, minDigits = 0): Decimal => {
  const exact = exactDecimal(abs);
  // If the rounded value still reads back, the shortest form is no longer: use it instead.
  const cut = roundDecimal(exact, maxDigits(exact.exp));
  const d = readsBack(cut, abs, dtype) ? shortestDecimal(abs, dtype, exact) : cut;
  return d.digits.length < minDigits ? roundDecimal(exact, minDigits) : d;
};

/** Integer and fraction digits of `abs` in positional notation, at most `precision` fraction digits. */
const positional = (abs: number, dtype: DType, precision: number): readonly [string, string] => {
  const { digits, exp } = decimalFor(abs, dtype, (e) => e + 1 + precision);
  if (exp < 0) return ["0", "0".repeat(-exp - 1) + digits];
  return [digits.slice(0, exp + 1).padEnd(exp + 1, "0"), digits.slice(exp + 1)];
};

/**
 * Leading digit, fraction digits and exponent of `abs` in scientific notation: at most
 * `precision` fraction digits, and at least `minDigits` taken from the exact value.
 */
const scientific = (
  abs: number,
  dtype: DType,
  precision: number,
  minDigits = 0,
): { lead: string; frac: string; exp: number } => {
  const d = decimalFor(abs, dtype, () => precision + 1, minDigits + 1);
  return { lead: d.digits.slice(0, 1), frac: d.digits.slice(1), exp: d.exp };
};

const isNegative = (x: number): boolean => x < 0 || Object.is(x, -0);

/** The largest of some lengths, 0 for none (a loop: spreading a huge array into Math.max overflows). */
const maxOf = (xs: readonly number[]): number => xs.reduce((a, b) => (b > a ? b : a), 0);

/** NumPy's FloatingFormat: decides fixed or scientific notation and the common widths from the shown values. */
const floatFormatter = (values: readonly number[], dtype: DType, precision: number): ((x: number) => string) => {
  const finite = values.filter(Number.isFinite);
  const nonzero = finite.map(Math.abs).filter((a) => a !== 0);
  const max = nonzero.reduce((a, b) => (b > a ? b : a), 0);
  const min = nonzero.reduce((a, b) => (b < a ? b : a), Infinity);
  // NumPy ≥ 2.3 lowers the fixed-notation ceiling for float32 to 1e6 (10^precision of the dtype).
  const ceiling = dtype === "float32" ? 1e6 : 1e8;
  const expMode = nonzero.length > 0 && (max >= ceiling || min < 1e-4 || max / min > 1000);

  let padLeft = 0;
  let padRight = 0;
  let format: (x: number) => string;
  if (expMode) {
    const parts = finite.map((x) => ({ sign: isNegative(x) ? "-" : "", ...scientific(Math.abs(x), dtype, precision) }));
    const fracDigits = maxOf(parts.map((p) => p.frac.length));
    const expDigits = Math.max(2, maxOf(parts.map((p) => String(Math.abs(p.exp)).length)));
    padLeft = maxOf(parts.map((p) => p.sign.length + p.lead.length));
    padRight = expDigits + 2 + fracDigits;
    format = (x) => {
      // As NumPy's min_digits: a value with fewer digits than the widest shows more digits of its
      // exact value rather than zeros (float32 9.202887e-04 among 8-digit values: 9.2028867e-04).
      const p = scientific(Math.abs(x), dtype, precision, fracDigits);
      const e = `${p.exp < 0 ? "-" : "+"}${String(Math.abs(p.exp)).padStart(expDigits, "0")}`;
      return `${(isNegative(x) ? "-" : "") + p.lead}`.padStart(padLeft) + `.${p.frac.padEnd(fracDigits, "0")}e${e}`;
    };
  } else {
    const parts = finite.map((x) => positional(Math.abs(x), dtype, precision));
    finite.forEach((x, i) => {
      padLeft = Math.max(padLeft, (isNegative(x) ? 1 : 0) + parts[i]![0].length);
      padRight = Math.max(padRight, parts[i]![1].length);
    });
    format = (x) => {
      const [int, frac] = positional(Math.abs(x), dtype, precision);
      return `${isNegative(x) ? "-" : ""}${int}`.padStart(padLeft) + `.${frac.padEnd(padRight)}`;
    };
  }
  if (finite.length < values.length) {
    // Make room for "nan", "inf" and "-inf" in the common width.
    const negInf = values.some((x) => x === -Infinity) ? 1 : 0;
    padLeft = Math.max(padLeft, 3 - (padRight + 1), 3 + negInf - (padRight + 1));
  }
  const width = padLeft + padRight + 1;
  return (x) =>
    Number.isNaN(x)
      ? "nan".padStart(width)
      : !Number.isFinite(x)
        ? (x > 0 ? "inf" : "-inf").padStart(width)
        : format(x);
};

/** The element formatter for `dtype`, with widths decided by the values that will be shown. */
const elementFormatter = (
  dtype: DType,
  values: readonly number[],
  rank: number,
  precision: number,
): ((x: number) => string) => {
  switch (dtype) {
    case "bool":
      // As NumPy, " true" is padded to the width of "false" except in a scalar.
      return (x) => (x !== 0 ? (rank === 0 ? "true" : " true") : "false");
    case "int32": {
      const width = maxOf(values.map((x) => String(x).length));
      return (x) => String(x).padStart(width);
    }
    default:
      return floatFormatter(values, dtype, precision);
  }
};

const checkOption = (name: string, value: number, ok: boolean, fix: string): number =>
  ok
    ? value
    : fail({ _tag: "ValueError", op: "toString", arg: `options.${name}`, detail: `invalid ${name} ${value}`, fix });

/**
 * Renders a tensor as text in NumPy's style, with aligned columns, `nan`/`inf`, `true`/`false`,
 * and `...` eliding the middle of each axis of tensors with more than `threshold` elements.
 * @throws TensorException for invalid options (negative or non-integer precision, edgeItems, ...).
 * @example
 * toString(tensor([[1, 2], [3, 4]]))
 * // "tensor([[1., 2.],\n        [3., 4.]], dtype=float32)"
 * toString(tensor([0.5, NaN, -Infinity], "float64")) // "tensor([ 0.5,  nan, -inf], dtype=float64)"
 */
export const toString = (t: Tensor, options: FormatOptions = {}): string => {
  checkTensor("toString", "t", t);
  const opts = checkOptions("toString", options, ["precision", "threshold", "edgeItems", "lineWidth"]) as FormatOptions;
  const { precision = 4, threshold = 1000, edgeItems = 3, lineWidth = 75 } = opts;
  checkOption(
    "precision",
    precision,
    Number.isInteger(precision) && precision >= 0 && precision <= 20,
    "use an integer in [0, 20]",
  );
  checkOption(
    "threshold",
    threshold,
    typeof threshold === "number" && threshold >= 0,
    "use a non-negative number (Infinity never elides)",
  );
  checkOption("edgeItems", edgeItems, Number.isSafeInteger(edgeItems) && edgeItems >= 0, "use a non-negative integer");
  checkOption("lineWidth", lineWidth, Number.isSafeInteger(lineWidth) && lineWidth > 0, "use a positive integer");

  const { shape, data, dtype } = t;
  const rank = shape.length;
  const dtypeStr = `dtype=${dtype})`;
  if (sizeOf(shape) === 0) {
    return `${PREFIX}[], ${rank === 1 ? "" : `shape=${formatShape(shape)}, `}${dtypeStr}`;
  }
  const strides = stridesOf(shape);
  const summarize = sizeOf(shape) > threshold;
  /** The indices shown along an axis of length n, with -1 marking the elision. */
  const shown = (n: number): number[] =>
    summarize && 2 * edgeItems < n
      ? [
          ...Array.from({ length: edgeItems }, (_, i) => i),
          -1,
          ...Array.from({ length: edgeItems }, (_, i) => n - edgeItems + i),
        ]
      : Array.from({ length: n }, (_, i) => i);

  const visible: number[] = [];
  const collect = (axis: number, offset: number): void => {
    if (axis === rank) visible.push(data[offset]!);
    else for (const i of shown(shape[axis]!)) if (i >= 0) collect(axis + 1, offset + i * strides[axis]!);
  };
  collect(0, 0);
  const fmt = elementFormatter(dtype, visible, rank, precision);

  // NumPy's _formatArray: `currWidth` is what is left of the line for this level's closing "]".
  const recurse = (axis: number, offset: number, indent: string, currWidth: number): string => {
    if (axis === rank) return fmt(data[offset]!);
    const child = (i: number): string =>
      i < 0 ? "..." : recurse(axis + 1, offset + i * strides[axis]!, `${indent} `, currWidth - 1);
    const items = shown(shape[axis]!);
    let s = "";
    if (axis === rank - 1) {
      const elemWidth = currWidth - 1;
      let line = indent;
      items.forEach((i, k) => {
        const word = child(i);
        // Wrap when the word would pass the width, unless the line holds only the indent.
        if (line.length + word.length > elemWidth && line.length > indent.length) {
          s += `${line.trimEnd()}\n`;
          line = indent;
        }
        line += k < items.length - 1 ? `${word}, ` : word;
      });
      s += line;
    } else {
      const lineSep = `,${"\n".repeat(rank - axis - 1)}`;
      s = items.map((i) => indent + child(i)).join(lineSep);
    }
    return `[${s.slice(indent.length)}]`;
  };
  const body = recurse(0, 0, " ".repeat(PREFIX.length + 1), lineWidth - 1);
  const head = `${PREFIX}${body},`;
  const lastLine = head.length - (head.lastIndexOf("\n") + 1);
  const spacer = lastLine + dtypeStr.length + 1 > lineWidth ? `\n${" ".repeat(PREFIX.length)}` : " ";
  return head + spacer + dtypeStr;
};
