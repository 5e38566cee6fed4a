/**
 * @file Weight initialisation from explicit keys: PyTorch's default, orthogonal, Glorot and
 * identity (IRNN), and the forget-gate bias option.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { describeArg, keysOf } from "@rewind/tensor/internal/check";
import type { InitOptions } from "./Cell.js";
import { checkOptions } from "./util.js";

/** The dtypes parameters can be initialised in: `float32` or `float64`. */
export type FloatDType = NonNullable<InitOptions["dtype"]>;

const SCHEMES: readonly string[] = ["default", "orthogonal", "glorot", "identity"];
const bad = (op: string, arg: string, detail: string, fix: string): never =>
  T.fail({ _tag: "ValueError", op, arg, detail, fix });

/** Throws unless `dtype` is a float dtype (or undefined): weights are never integers. */
const checkFloatDType = (op: string, arg: string, dtype: unknown): void => {
  if (dtype !== undefined && dtype !== "float32" && dtype !== "float64") {
    bad(
      op,
      arg,
      `dtype must be "float32" or "float64", got ${describeArg(dtype)}`,
      'pass { dtype: "float32" } (the default) or "float64"',
    );
  }
};

/** Throws unless `shape` is `[rows, cols]` of non-negative integers. */
const checkMatrixShape = (op: string, shape: unknown): void => {
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    bad(
      op,
      "shape",
      `shape must be [rows, cols] of non-negative integers, got ${JSON.stringify(shape) ?? String(shape)}`,
      "pass a matrix shape such as [64, 32]",
    );
  }
};

/** The keys of `InitOptions`. */
export const INIT_OPTION_KEYS = keysOf<InitOptions>({ dtype: true, scheme: true, forgetBias: true });

/** What a cell's init can honour beyond the dtype and the weight schemes every weight has. */
export interface InitSupport {
  /** The cell has square recurrent weights, so `scheme: "identity"` applies. */
  readonly recurrent?: boolean;
  /** The cell has a forget gate, so `forgetBias` applies. */
  readonly forgetGate?: boolean;
}

/**
 * Throws unless `options` are valid `InitOptions` (undefined, or a plain object of known keys with
 * a float dtype and a known scheme) that the cell can honour (`support`), naming `op`; an unknown
 * scheme, a misspelt key (`dtyp`) or an option the cell has no place for must not silently fall
 * back to the default.
 * @example checkInitOptions("lstm.init", { scheme: "orthogonal" }, { recurrent: true, forgetGate: true })
 */
export const checkInitOptions = (op: string, options: unknown, support: InitSupport = {}): void => {
  checkOptions(op, "options", options, INIT_OPTION_KEYS);
  const o = (options ?? {}) as Record<string, unknown>;
  checkFloatDType(op, "options.dtype", o["dtype"]);
  const scheme = o["scheme"];
  if (scheme !== undefined && !SCHEMES.includes(scheme as string)) {
    bad(
      op,
      "options.scheme",
      `unknown scheme ${describeArg(scheme)}`,
      'use "default", "orthogonal", "glorot" or "identity"',
    );
  }
  if (scheme === "identity" && support.recurrent !== true) {
    bad(
      op,
      "options.scheme",
      'scheme "identity" sets square recurrent weights to the identity, and this has none',
      'use "default", "orthogonal" or "glorot", or a cell with a recurrent weight (elmanRelu for an IRNN)',
    );
  }
  const forgetBias = o["forgetBias"];
  if (forgetBias !== undefined && (typeof forgetBias !== "number" || !Number.isFinite(forgetBias))) {
    bad(op, "options.forgetBias", `forgetBias must be a finite number, got ${describeArg(forgetBias)}`, "pass e.g. 1");
  }
  if (forgetBias !== undefined && support.forgetGate !== true) {
    bad(
      op,
      "options.forgetBias",
      "forgetBias sets a forget gate's bias, and this has no forget gate",
      "drop forgetBias, or use a cell with a forget gate (lstm, peepholeLstm, layerNormLstm, mgu, minLstm)",
    );
  }
};

/**
 * `bias` with its gate block `block` (of `hidden` entries) set to `value`: the forget-gate bias.
 * @example withGateBias(zeros([8]), 1, 2, 1) // [0, 0, 1, 1, 0, 0, 0, 0]
 */
export const withGateBias = (bias: T.Tensor, block: number, hidden: number, value: number): T.Tensor => {
  const data = bias.data.slice();
  data.fill(value, block * hidden, (block + 1) * hidden);
  return T.fromDataOrThrow(data, bias.shape, bias.dtype);
};

/**
 * PyTorch's RNN default: every weight and bias uniform in [−1/√hidden, 1/√hidden).
 * @example uniformInit(random.key(0), [8, 4], 4).shape // [8, 4]
 */
export const uniformInit = (
  key: Key,
  shape: readonly number[],
  hiddenSize: number,
  dtype: FloatDType = "float32",
): T.Tensor => {
  if (typeof hiddenSize !== "number" || !Number.isSafeInteger(hiddenSize) || hiddenSize <= 0) {
    bad(
      "uniformInit",
      "hiddenSize",
      `hiddenSize must be a positive integer (the bound is 1/√hiddenSize), got ${String(hiddenSize)}`,
      "pass the layer's hidden size",
    );
  }
  const k = 1 / Math.sqrt(hiddenSize);
  return T.random.uniform(key, shape, { min: -k, max: k, dtype });
};

/**
 * Glorot (Xavier) uniform: U(±√(6 / (fanIn + fanOut))) for a `[fanOut, fanIn]` matrix.
 * @example glorotInit(random.key(0), [8, 4]).shape // [8, 4]
 */
export const glorotInit = (key: Key, shape: readonly [number, number], dtype: FloatDType = "float32"): T.Tensor => {
  checkMatrixShape("glorotInit", shape);
  const limit = Math.sqrt(6 / (shape[0] + shape[1]));
  return T.random.uniform(key, shape, { min: -limit, max: limit, dtype });
};

/**
 * A random orthogonal matrix (rows or columns orthonormal, whichever is fewer), by Gram–Schmidt
 * on a Gaussian matrix with the sign convention that makes the result uniformly distributed.
 * Stacked gate matrices (`[4H, H]`) are initialised one `[H, H]` block at a time, as is usual.
 * @example orthogonalInit(random.key(0), [3, 3]) // Q with Qᵀ Q = I
 */
export const orthogonalInit = (key: Key, shape: readonly [number, number], dtype: FloatDType = "float32"): T.Tensor => {
  checkFloatDType("orthogonalInit", "dtype", dtype);
  checkMatrixShape("orthogonalInit", shape);
  const [rows, cols] = shape;
  const tall = rows >= cols;
  const [n, m] = tall ? [rows, cols] : [cols, rows];
  // m orthonormal vectors of length n, from Gaussian columns by modified Gram–Schmidt.
  const g = T.random.normal(key, [m, n], "float64").data;
  const q = new Float64Array(m * n);
  for (let j = 0; j < m; j++) {
    for (let i = 0; i < n; i++) q[j * n + i] = g[j * n + i]!;
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += q[p * n + i]! * q[j * n + i]!;
      for (let i = 0; i < n; i++) q[j * n + i] = q[j * n + i]! - dot * q[p * n + i]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += q[j * n + i]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < n; i++) q[j * n + i] = q[j * n + i]! / norm;
  }
  // q holds m orthonormal rows of length n: as [rows, cols] it is q itself (wide) or qᵀ (tall).
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[r * cols + c] = tall ? q[c * n + r]! : q[r * n + c]!;
  return T.astype(T.fromDataOrThrow(out, [rows, cols], "float64"), dtype);
};

/**
 * A gate-stacked weight `[gates·hidden, fanIn]` under a scheme; orthogonal and Glorot apply per
 * gate block so each gate's matrix has the intended spectrum.
 * @throws TensorException for gates that are not a positive integer, or an unknown scheme or dtype.
 * @example gateWeight(random.key(0), 4, 16, 8, { scheme: "orthogonal" }).shape // [64, 8]
 */
export const gateWeight = (
  key: Key,
  gates: number,
  hidden: number,
  fanIn: number,
  options: InitOptions = {},
): T.Tensor => {
  checkInitOptions("gateWeight", options, { recurrent: true, forgetGate: true }); // biases are not its concern
  if (!Number.isSafeInteger(gates) || gates < 1)
    bad(
      "gateWeight",
      "gates",
      `gates must be a positive integer, got ${String(gates)}`,
      "pass the number of stacked gates (1 Elman, 3 GRU, 4 LSTM)",
    );
  const dtype = options.dtype ?? "float32";
  const scheme = options.scheme ?? "default";
  if (scheme === "default") return uniformInit(key, [gates * hidden, fanIn], hidden, dtype);
  if (scheme === "identity") {
    if (fanIn !== hidden)
      bad(
        "gateWeight",
        "fanIn",
        `scheme "identity" needs square blocks, got ${hidden} rows per gate and fanIn ${fanIn}`,
        "use it for recurrent weights [gates·hidden, hidden]; input weights keep another scheme",
      );
    // Row r of the stack is row r mod hidden of the identity.
    const data = new Float64Array(gates * hidden * hidden);
    for (let r = 0; r < gates * hidden; r++) data[r * hidden + (r % hidden)] = 1;
    return T.astype(T.fromDataOrThrow(data, [gates * hidden, hidden], "float64"), dtype);
  }
  const keys = T.random.split(key, gates);
  const blocks = keys.map((k) =>
    scheme === "orthogonal" ? orthogonalInit(k, [hidden, fanIn], dtype) : glorotInit(k, [hidden, fanIn], dtype),
  );
  return T.concat(blocks, 0);
};
