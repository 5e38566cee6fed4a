/**
 * @file The one formatter of Rewind's errors: completes a hand-built value (the tags whose
 * `detail` and `fix` follow from their own fields), checks it, and writes its sentence
 * `op: detail (argument `arg`; shapes …); fix`, the same shape for every tag of every package.
 * Pure functions without exceptions: `errors.ts` throws for the values these reject.
 */
import type { ErrorAval, RewindErrorInput, RewindErrorTag, RewindErrorValue } from "./errorTypes.js";
import type { Shape } from "./Shape.js";

/** The tags of @rewind/tensor's errors (`TensorException`). */
export const TENSOR_TAGS: ReadonlySet<string> = new Set<RewindErrorTag>([
  "ShapeError",
  "AxisError",
  "DTypeError",
  "ValueError",
  "DecodeError",
]);
/** The tags of @rewind/autodiff's errors (`GraphException`). */
export const GRAPH_TAGS: ReadonlySet<string> = new Set<RewindErrorTag>([
  "CarryMismatch",
  "NonScalarOutput",
  "TreeMismatch",
  "TracerLeak",
  "InvalidArgument",
  "NonFinite",
  "ConcretizationError",
]);
/** The tags of @rewind/testing's errors, whose `detail` is the whole sentence. */
const SENTENCE_TAGS: ReadonlySet<string> = new Set<RewindErrorTag>(["TestFailure", "TestArgumentError"]);

/** Tags that must name the argument at fault. */
const ARG_TAGS: ReadonlySet<string> = new Set<RewindErrorTag>([
  "ShapeError",
  "AxisError",
  "DTypeError",
  "ValueError",
  "InvalidArgument",
]);
/** Tags that carry the aval of a traced value. */
const AVAL_TAGS: ReadonlySet<string> = new Set<RewindErrorTag>([
  "NonScalarOutput",
  "TracerLeak",
  "ConcretizationError",
]);

/** Shapes of at most this rank print in full; longer ones keep a few dimensions and state the rank. */
const FULL_RANK = 12;
const HEAD_DIMS = 6;
const TAIL_DIMS = 3;

/**
 * A shape as messages show it (`[2, 3]`); the caller has checked that it is an array.
 * @example shapeText([2, 3]) // "[2, 3]"
 */
export const shapeText = (shape: readonly unknown[]): string => {
  const dim = (d: unknown): string => (typeof d === "number" ? String(d) : typeof d);
  if (shape.length <= FULL_RANK) return `[${shape.map(dim).join(", ")}]`;
  const head = shape.slice(0, HEAD_DIMS).map(dim);
  const tail = shape.slice(shape.length - TAIL_DIMS).map(dim);
  return `[${[...head, "…", ...tail].join(", ")}] (rank ${shape.length})`;
};

const SHORT_DTYPE: Readonly<Record<string, string>> = { float32: "f32", float64: "f64", int32: "i32", bool: "bool" };

/**
 * An aval as graphs print it (`f32[2,3]`), long shapes elided like `shapeText`.
 * @example avalText({ shape: [2, 3], dtype: "float32" }) // "f32[2,3]"
 */
export const avalText = (a: ErrorAval): string => {
  const short = SHORT_DTYPE[a.dtype] ?? String(a.dtype);
  if (a.shape.length <= FULL_RANK) return `${short}[${a.shape.join(",")}]`;
  const dims = [...a.shape.slice(0, HEAD_DIMS), "…", ...a.shape.slice(-TAIL_DIMS)];
  return `${short}[${dims.join(",")}] (rank ${a.shape.length})`;
};

const isAval = (a: unknown): a is ErrorAval =>
  typeof a === "object" &&
  a !== null &&
  Array.isArray((a as ErrorAval).shape) &&
  typeof (a as ErrorAval).dtype === "string";

const isAvalOrText = (a: unknown): boolean => typeof a === "string" || isAval(a);

/** A hand-built value, read field by field before it is trusted. */
type Loose = Readonly<Record<string, unknown>>;

/**
 * Why `e` is not an error value `completeError` can read, or undefined when it is one. Checks
 * exactly the fields formatting reads, so a bad value cannot make formatting throw a TypeError.
 * @example errorValueProblem({ _tag: "ValueError", op: "f" }) // "a ValueError without its string field detail"
 */
export const errorValueProblem = (e: unknown): string | undefined => {
  if (typeof e !== "object" || e === null) return "not an object";
  const v = e as Loose;
  const tag = v["_tag"];
  if (typeof tag !== "string" || !(TENSOR_TAGS.has(tag) || GRAPH_TAGS.has(tag) || SENTENCE_TAGS.has(tag)))
    return "no known _tag";
  const strings = ["op"];
  if (ARG_TAGS.has(tag)) strings.push("arg");
  if (tag === "TreeMismatch" || tag === "CarryMismatch") strings.push("path");
  if (tag === "NonFinite") strings.push("source");
  if (tag === "ConcretizationError") strings.push("use");
  const derived = tag === "AxisError" || AVAL_TAGS.has(tag) || tag === "CarryMismatch";
  if (!derived) strings.push("detail");
  if (!derived && !(tag === "DecodeError" || tag === "NonFinite" || SENTENCE_TAGS.has(tag))) strings.push("fix");
  const missing = strings.find((f) => typeof v[f] !== "string");
  if (missing !== undefined) return `a ${tag} without its string field ${missing}`;
  if (v["arg"] !== undefined && typeof v["arg"] !== "string") return `a ${tag} whose arg is not a string`;
  for (const f of ["detail", "fix"])
    if (v[f] !== undefined && typeof v[f] !== "string") return `a ${tag} whose ${f} is not a string`;
  const shapes = v["shapes"];
  if ((tag === "ShapeError" || shapes !== undefined) && !(Array.isArray(shapes) && shapes.every(Array.isArray)))
    return `a ${tag} whose shapes are not an array of shapes`;
  if (tag === "AxisError" && !(typeof v["axis"] === "number" && typeof v["rank"] === "number"))
    return "an AxisError without a numeric axis and rank";
  if (AVAL_TAGS.has(tag) && !isAval(v["aval"])) return `a ${tag} without an aval (shape and dtype)`;
  if (tag === "CarryMismatch" && !(isAvalOrText(v["expected"]) && isAvalOrText(v["actual"])))
    return "a CarryMismatch whose expected or actual is neither an aval nor a string";
  return undefined;
};

/** The `detail` and `fix` of the tags whose sentence follows from their own fields. */
const derive = (v: Loose): { readonly detail: string; readonly fix: string } => {
  const op = v["op"] as string;
  const aval = v["aval"] as ErrorAval;
  switch (v["_tag"]) {
    case "AxisError": {
      const axis = v["axis"] as number;
      const rank = v["rank"] as number;
      return {
        detail: `axis ${axis} is out of range for a rank-${rank} tensor`,
        fix: rank === 0 ? "a scalar has no axes" : `use an axis in [${-rank}, ${rank - 1}]`,
      };
    }
    case "CarryMismatch": {
      const show = (a: unknown): string => (typeof a === "string" ? a : avalText(a as ErrorAval));
      return {
        detail:
          `the carry output at ${v["path"] as string} is ${show(v["actual"])} ` +
          `but the carry input is ${show(v["expected"])}`,
        fix:
          "make the step function return a carry with the same pytree structure, shapes and dtypes as its input " +
          "carry",
      };
    }
    case "NonScalarOutput":
      return nonScalar(aval);
    case "TracerLeak":
      return {
        detail:
          `a traced value ${avalText(aval)} was used after the transform that created it returned ` +
          "(a tracer leaked, e.g. stored in an outer variable inside grad/jit/scan)",
        fix: "return it from the function instead",
      };
    default:
      return {
        detail:
          `a traced value ${avalText(aval)} was ${v["use"] as string}, but while ${op} traces the function ` +
          "its values have a shape and a dtype, not numbers (a concretization error)",
        fix:
          `read the number after ${op} returns (return the value from the function), or compute it outside ` +
          `${op} and pass it in as a plain number (a static argument, part of the trace's signature); ` +
          "choose between values with where(cond, a, b) instead of ?: or if, and write loops whose step " +
          "count depends on values with scan",
      };
  }
};

/** `grad` of a non-scalar: a scalar of the wrong dtype needs a different fix from a float of the wrong shape. */
const nonScalar = (aval: ErrorAval): { readonly detail: string; readonly fix: string } => {
  const floating = aval.dtype === "float32" || aval.dtype === "float64";
  const keepFloat =
    'keep the loss in floats: convert integer or boolean inputs with astype(x, "float32") before computing it, ' +
    `and do not cast the result to ${aval.dtype}`;
  const an = aval.dtype === "int32" ? "an" : "a";
  const got = aval.shape.length === 0 ? `${an} ${aval.dtype} scalar ${avalText(aval)}` : avalText(aval);
  const want = floating ? "a scalar (shape []) float" : "a float scalar (shape [], float32 or float64)";
  return {
    detail: `the function must return ${want} to be differentiated, got ${got}`,
    fix: floating
      ? "reduce it first (e.g. sum or mean), or use vjp/jacrev for non-scalar outputs"
      : aval.shape.length === 0
        ? `${an} ${aval.dtype} value has no gradient; ${keepFloat}`
        : `reduce it (e.g. sum or mean) and ${keepFloat}; ${an} ${aval.dtype} value has no gradient`,
  };
};

/**
 * The value with every uniform field present: `e` itself when it has them, otherwise a frozen
 * copy with `detail` and `fix` derived (or `fix: ""`). The caller has checked `e` with
 * `errorValueProblem`.
 * @example
 * completeError({ _tag: "AxisError", op: "sum", arg: "axis", axis: 2, rank: 2 }).fix // "use an axis in [-2, 1]"
 */
export const completeError = (e: RewindErrorInput): RewindErrorValue => {
  const v = e as unknown as Loose;
  if (typeof v["detail"] === "string" && typeof v["fix"] === "string") return e as RewindErrorValue;
  const filled =
    typeof v["detail"] === "string"
      ? { fix: "" }
      : { ...derive(v), ...(typeof v["fix"] === "string" ? { fix: v["fix"] } : {}) };
  return Object.freeze({ ...v, ...filled }) as unknown as RewindErrorValue;
};

/**
 * The sentence a user reads for a complete error value, the same shape for every tag:
 * `op: detail (argument `arg`; shapes …); fix`, with the parts that are absent left out.
 * `TreeMismatch` names its path, `NonFinite` where it was traced, and the testing tags' detail
 * is already the whole sentence.
 * @example
 * errorSentence({ _tag: "ValueError", op: "f", arg: "x", detail: "bad", fix: "use 1" })
 * // "f: bad (argument `x`); use 1"
 */
export const errorSentence = (e: RewindErrorValue): string => {
  const fix = e.fix === "" ? "" : `; ${e.fix}`;
  if (SENTENCE_TAGS.has(e._tag)) return `${e.detail}${fix}`;
  const where = e._tag === "TreeMismatch" ? `pytree mismatch at ${e.path}: ` : "";
  const parts: string[] = [];
  if (e.arg !== undefined) parts.push(`argument \`${e.arg}\``);
  if (e.shapes !== undefined) parts.push(`shapes ${e.shapes.map((s: Shape) => shapeText(s)).join(", ")}`);
  const context = parts.length === 0 ? "" : ` (${parts.join("; ")})`;
  const traced = e._tag === "NonFinite" && e.source !== "" ? `\n  traced at ${e.source}` : "";
  return `${e.op}: ${where}${e.detail}${context}${fix}${traced}`;
};
