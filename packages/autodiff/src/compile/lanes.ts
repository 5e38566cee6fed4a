/**
 * @file Lane expressions: the one description of an elementwise op's arithmetic from which both
 * of the compiler's forms come — the JavaScript text a fused loop evaluates per element
 * (`renderLane`) and the WebAssembly SIMD code evaluating four float32 lanes at once
 * (`simdLanes.ts`). Every node is an operation with an exact counterpart in both languages: a
 * JavaScript operator on doubles holding float32 values, rounded once by the caller (`fr`), gives
 * what the float32x4 instruction gives per lane (IEEE operations on float32 operands are exact
 * after one rounding), and a JavaScript condition is a lane mask (all ones or zeros).
 */

/** Binary operators with a float32x4 counterpart (`||` combines conditions: `v128.or` of masks). */
export type Infix = "+" | "-" | "*" | "/" | ">" | "<" | ">=" | "<=" | "===" | "!==" | "||";

/** Unary functions with a float32x4 counterpart (`-` is negation). */
export type Prefix = "-" | "Math.abs" | "Math.sqrt";

/** A lane expression over the op's operands (see the file comment). */
export type Lane =
  | { readonly k: "arg"; readonly i: number }
  | { readonly k: "infix"; readonly op: Infix; readonly a: Lane; readonly b: Lane }
  | { readonly k: "prefix"; readonly op: Prefix; readonly a: Lane }
  /** `c ? a : b`; in SIMD, a bitwise select by the mask c. */
  | { readonly k: "pick"; readonly c: Lane; readonly a: Lane; readonly b: Lane }
  /** `a !== 0` as a condition; a bool operand's lanes are masks already. */
  | { readonly k: "truthy"; readonly a: Lane };

/** Operand i. */
export const arg = (i: number): Lane => ({ k: "arg", i });
/** `a op b`. */
export const infix = (op: Infix, a: Lane, b: Lane): Lane => ({ k: "infix", op, a, b });
/** `op(a)`. */
export const prefix = (op: Prefix, a: Lane): Lane => ({ k: "prefix", op, a });
/** `c ? a : b`. */
export const pick = (c: Lane, a: Lane, b: Lane): Lane => ({ k: "pick", c, a, b });
/** `a !== 0`. */
export const truthy = (a: Lane): Lane => ({ k: "truthy", a });

/** JavaScript precedence of each operator, to parenthesise only where the grammar needs it. */
const PRECEDENCE: Readonly<Record<Infix, number>> = {
  "*": 13,
  "/": 13,
  "+": 12,
  "-": 12,
  ">": 10,
  "<": 10,
  ">=": 10,
  "<=": 10,
  "===": 9,
  "!==": 9,
  "||": 4,
};
/** `truthy` renders as a `!==`; `pick` as a parenthesised conditional; the rest bind tightest. */
const precedenceOf = (t: Lane): number =>
  t.k === "infix" ? PRECEDENCE[t.op] : t.k === "truthy" ? PRECEDENCE["!=="] : Number.POSITIVE_INFINITY;

/**
 * The JavaScript text of `t` over the operand expressions `x` (generated identifiers).
 * @example renderLane(infix("+", arg(0), arg(1)), ["x0", "x1"]) // "x0 + x1"
 */
export const renderLane = (t: Lane, x: readonly string[]): string => {
  switch (t.k) {
    case "arg":
      return x[t.i]!;
    case "infix": {
      const p = PRECEDENCE[t.op];
      const left = renderLane(t.a, x);
      const right = renderLane(t.b, x);
      const l = precedenceOf(t.a) < p ? `(${left})` : left;
      const r = precedenceOf(t.b) <= p ? `(${right})` : right;
      return `${l} ${t.op} ${r}`;
    }
    case "prefix":
      return t.op === "-" ? `(-${renderLane(t.a, x)})` : `${t.op}(${renderLane(t.a, x)})`;
    case "pick":
      return `(${renderLane(t.c, x)} ? ${renderLane(t.a, x)} : ${renderLane(t.b, x)})`;
    case "truthy":
      return `${renderLane(t.a, x)} !== 0`;
  }
};
