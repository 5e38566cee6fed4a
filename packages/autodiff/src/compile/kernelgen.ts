/**
 * @file Sources of the non-elementwise kernels the compiler specialises to shapes: reductions
 * (sum, prod, max, min, argmax, argmin) and concat.
 *
 * A reduction visits each output's group of input elements in row-major order of the reduced
 * axes, exactly as `planReduction` in the tensor package lists them, and accumulates the same
 * way (a double from 0 or 1, `| 0` / `Math.imul` for int32, a NaN that sticks for max/min), so
 * results are bit-identical whatever the loop order. Offsets that form an arithmetic progression
 * become arithmetic; others are tables passed in as parameters.
 */
import { viewOffsets, type DType } from "@rewind/tensor";
import type { ReduceOp, StridedView } from "./ir.js";
import { int, type KernelText } from "./loopgen.js";

/** The start and step of an arithmetic progression, or undefined. */
const progression = (xs: Int32Array): { start: number; step: number } | undefined => {
  const start = xs[0] ?? 0;
  const step = xs.length > 1 ? xs[1]! - start : 0;
  for (let i = 0; i < xs.length; i++) if (xs[i] !== start + i * step) return undefined;
  return { start, step };
};

const term = (idx: string, p: { start: number; step: number } | undefined, table: string): string => {
  if (p === undefined) return `${table}[${idx}]`;
  const mul = p.step === 0 ? "" : p.step === 1 ? idx : `${idx} * ${int(p.step)}`;
  return [p.start !== 0 ? int(p.start) : "", mul].filter((s) => s !== "").join(" + ") || "0";
};

/** A reduction kernel and the offset tables it reads (passed after `o, oo, x, xo`). */
export interface ReduceKernel {
  readonly text: KernelText;
  readonly tables: ReadonlyArray<Int32Array | Float64Array>;
  /**
   * For a float32 sum over leading axes ("by rows"): `count` rows of `n` contiguous elements,
   * `stride` elements apart from element `start` (a SIMD kernel can run it, see `rowSum.ts`).
   */
  readonly rows?: { readonly n: number; readonly count: number; readonly stride: number; readonly start: number };
}

/**
 * The kernel of `op` over `axes` of the strided view `v` (of the input's shape).
 * Parameters: `o, oo, x, xo[, T0][, T1]`.
 * @example genReduce("sum", identityView([2, 3]), [1], "float32").text.params // ["o", "oo", "x", "xo"]
 */
export const genReduce = (op: ReduceOp, v: StridedView, axes: readonly number[], inDtype: DType): ReduceKernel => {
  const kept = v.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const reduced = v.shape.map((d, i) => (axes.includes(i) ? d : 1));
  const outer = viewOffsets(kept, v.strides, v.offset);
  const inner = viewOffsets(reduced, v.strides, 0);
  const po = progression(outer);
  const pi = progression(inner);
  const tables: Array<Int32Array | Float64Array> = [];
  const params = ["o", "oo", "x", "xo"];
  const table = (t: Int32Array | Float64Array): string => {
    const name = `T${tables.length}`;
    tables.push(t);
    params.push(name);
    return name;
  };
  const base = term("q", po, po === undefined ? table(outer) : "");
  const innerTerm = term("j", pi, pi === undefined ? table(inner) : "");
  const at = (_j: "j"): string => `x[b + ${innerTerm}]`;
  const int32 = inDtype === "int32";
  const n = int(outer.length);
  const count = int(inner.length);
  if (op === "sum" && !int32 && po?.step === 1 && pi !== undefined && pi.step >= outer.length && outer.length > 1) {
    // Summing over leading axes (a bias gradient over T and B): walk the input row by row into
    // one double accumulator per output, the same additions in the same order as per output.
    // Four rows per pass: acc + x₀ + x₁ + x₂ + x₃ adds left to right, as four passes would, with
    // a quarter of the accumulator loads and stores.
    const acc = table(new Float64Array(outer.length));
    const row = term("j", pi, "");
    const [s1, s2, s3] = [1, 2, 3].map((k) => int(k * pi.step));
    const body = [
      `${acc}.fill(0);`,
      `let j = 0;`,
      `for (; j + 4 <= ${count}; j += 4) {`,
      `  const b = xo + ${int(po.start)} + ${row};`,
      `  for (let q = 0; q < ${n}; q++)`,
      `    ${acc}[q] = ${acc}[q] + x[b + q] + x[b + ${s1} + q] + x[b + ${s2} + q] + x[b + ${s3} + q];`,
      `}`,
      `for (; j < ${count}; j++) {`,
      `  const b = xo + ${int(po.start)} + ${row};`,
      `  for (let q = 0; q < ${n}; q++) ${acc}[q] += x[b + q];`,
      `}`,
      `for (let q = 0; q < ${n}; q++) o[oo + q] = ${acc}[q];`,
    ];
    const text = { params, body: `// sum ${inDtype} by rows\n${body.join("\n")}\n` };
    if (inDtype !== "float32") return { text, tables };
    return { text, tables, rows: { n: outer.length, count: inner.length, stride: pi.step, start: po.start } };
  }
  if (op === "sum" && !int32 && po !== undefined && outer.length >= 8) {
    // Four outputs at a time, each its own chain of additions in its own order: the same sums,
    // but four independent chains keep the adder busy where one waits on its previous add.
    const [b0, b1, b2, b3] = [0, 1, 2, 3].map(
      (k) => `xo + ${term("q", po, "")}${k === 0 ? "" : ` + ${int(k * po.step)}`}`,
    );
    const body = [
      `let q = 0;`,
      `for (; q + 4 <= ${n}; q += 4) {`,
      `  const b0 = ${b0!}, b1 = ${b1!}, b2 = ${b2!}, b3 = ${b3!};`,
      `  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;`,
      `  for (let j = 0; j < ${count}; j++) {`,
      `    const i = ${innerTerm};`,
      `    s0 += x[b0 + i]; s1 += x[b1 + i]; s2 += x[b2 + i]; s3 += x[b3 + i];`,
      `  }`,
      `  o[oo + q] = s0; o[oo + q + 1] = s1; o[oo + q + 2] = s2; o[oo + q + 3] = s3;`,
      `}`,
      `for (; q < ${n}; q++) {`,
      `  const b = xo + ${base};`,
      `  let s = 0;`,
      `  for (let j = 0; j < ${count}; j++) s += ${at("j")};`,
      `  o[oo + q] = s;`,
      `}`,
    ];
    return { text: { params, body: `// sum ${inDtype} by fours\n${body.join("\n")}\n` }, tables };
  }
  if (EXTREMES.has(op) && po !== undefined && outer.length >= 8 && inner.length > 1) {
    const body = extremesByFours(op, po, innerTerm, n, count);
    return { text: { params, body: `// ${op} ${inDtype} by fours\n${body.join("\n")}\n` }, tables };
  }
  const lines = [`for (let q = 0; q < ${n}; q++) {`, `  const b = xo + ${base};`];
  switch (op) {
    case "sum":
    case "prod": {
      const init = op === "sum" ? "0" : "1";
      const step =
        op === "sum"
          ? int32
            ? `s = (s + ${at("j")}) | 0;`
            : `s += ${at("j")};`
          : int32
            ? `s = Math.imul(s, ${at("j")});`
            : `s *= ${at("j")};`;
      lines.push(`  let s = ${init};`, `  for (let j = 0; j < ${count}; j++) ${step}`, `  o[oo + q] = s;`);
      break;
    }
    // Every reduction is a case: a new reduction primitive fails to compile at the default.
    case "reduceMax":
    case "reduceMin":
    case "argmax":
    case "argmin":
      lines.push(...extremeRow(op, innerTerm, count).map((l) => `  ${l}`), `  o[oo + q] = r;`);
      break;
    default: {
      const unhandled: never = op;
      throw new Error(`Rewind internal error: no reduction kernel for ${String(unhandled)}`);
    }
  }
  lines.push("}");
  return { text: { params, body: `// ${op} ${inDtype}\n${lines.join("\n")}\n` }, tables };
};

/** The reductions to an extreme: the first element, then each later one that beats it (NaN sticks). */
const EXTREMES: ReadonlySet<ReduceOp> = new Set(["reduceMax", "reduceMin", "argmax", "argmin"]);

/** `v` beats `s` (the kernels' exact test; never true for a NaN on either side). */
const beats = (op: ReduceOp, v: string, s: string): string =>
  op === "reduceMax" || op === "argmax" ? `${v} - ${s} > 0` : `${v} - ${s} < 0`;

/**
 * One row's extreme (or its index) into `r`, from `x[b + …]`: the first element, then the kernels'
 * exact test, stopping at a NaN, which is the result.
 */
const extremeRow = (op: ReduceOp, innerTerm: string, count: string): string[] => {
  const arg = op === "argmax" || op === "argmin";
  return [
    `let s = x[b];${arg ? " let a = 0;" : ""}`,
    `for (let j = 1; j < ${count} && s === s; j++) {`,
    `  const v = x[b + ${innerTerm}];`,
    `  if (v !== v || ${beats(op, "v", "s")}) { s = v;${arg ? " a = j;" : ""} }`,
    `}`,
    `const r = ${arg ? "a" : "s"};`,
  ];
};

/**
 * Extremes of four rows at a time, each row its own chain in its own order: a row's test
 * depends on its previous result, and four independent chains keep the core busy where one waits
 * (the char-rnn step's max over 2048 rows of 89 logits: 0.38 → 0.18 ms). NaN is the one value the
 * plain test cannot carry (it never beats, nor is beaten): a row that read one after its first
 * element is done again by the exact one-row loop (`extremeRow`), so every result, NaN's own bits
 * included, is the one-row loop's. A NaN first element never changes, as in that loop.
 */
const extremesByFours = (
  op: ReduceOp,
  po: { start: number; step: number },
  innerTerm: string,
  n: string,
  count: string,
): string[] => {
  const arg = op === "argmax" || op === "argmin";
  const scalarRow = extremeRow(op, innerTerm, count);
  const k4 = [0, 1, 2, 3];
  const rowAt = (row: string): string => term(row, po, "");
  return [
    `let q = 0;`,
    `for (; q + 4 <= ${n}; q += 4) {`,
    `  const b0 = xo + ${rowAt("q")}, ${k4
      .slice(1)
      .map((k) => `b${k} = b0 + ${int(k * po.step)}`)
      .join(", ")};`,
    `  let ${k4.map((k) => `s${k} = x[b${k}]`).join(", ")};`,
    ...(arg ? [`  let ${k4.map((k) => `a${k} = 0`).join(", ")};`] : []),
    `  let nan = false;`,
    `  for (let j = 1; j < ${count}; j++) {`,
    `    const i = ${innerTerm};`,
    `    const ${k4.map((k) => `v${k} = x[b${k} + i]`).join(", ")};`,
    ...k4.map((k) => `    if (${beats(op, `v${k}`, `s${k}`)}) { s${k} = v${k};${arg ? ` a${k} = j;` : ""} }`),
    `    if (${k4.map((k) => `v${k} !== v${k}`).join(" || ")}) nan = true;`,
    `  }`,
    ...k4.map((k) => `  o[oo + q + ${k}] = ${arg ? `a${k}` : `s${k}`};`),
    `  if (nan) for (let p = q; p < q + 4; p++) {`,
    `    const b = xo + ${rowAt("p")};`,
    ...scalarRow.map((l) => `    ${l}`),
    `    o[oo + p] = r;`,
    `  }`,
    `}`,
    `for (; q < ${n}; q++) {`,
    `  const b = xo + ${rowAt("q")};`,
    ...scalarRow.map((l) => `  ${l}`),
    `  o[oo + q] = r;`,
    `}`,
  ];
};

/** Concat chunks at least this long are copied with `set` (below it, creating the view costs more). */
const CONCAT_SET_MIN = 64;

/**
 * Concatenation of contiguous inputs along an axis: `outer` rows, each made of one chunk
 * (`chunks[i]` elements) of every input in turn. Parameters: `o, oo, x0, xo0, x1, xo1, …`.
 * @example genConcat(2, [3, 1], "float64").params // ["o", "oo", "x0", "xo0", "x1", "xo1"]
 */
export const genConcat = (outer: number, chunks: readonly number[], dtype: DType): KernelText => {
  const params = ["o", "oo", ...chunks.flatMap((_, i) => [`x${i}`, `xo${i}`])];
  const lines = [`let p = oo;`, `for (let q = 0; q < ${int(outer)}; q++) {`];
  chunks.forEach((c, i) => {
    // Long chunks as one typed-array copy (a memcpy), short ones element by element (no view object).
    if (c >= CONCAT_SET_MIN)
      lines.push(
        `  o.set(x${i}.subarray(xo${i} + q * ${int(c)}, xo${i} + (q + 1) * ${int(c)}), p);`,
        `  p += ${int(c)};`,
      );
    else lines.push(`  for (let k = 0, b = xo${i} + q * ${int(c)}; k < ${int(c)}; k++) o[p++] = x${i}[b + k];`);
  });
  lines.push("}");
  return { params, body: `// concat ${dtype}\n${lines.join("\n")}\n` };
};
