/**
 * @file Weight initialisation from explicit keys: PyTorch's default, orthogonal and Glorot.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import type { InitOptions } from "./Cell.js";

type FloatDType = NonNullable<InitOptions["dtype"]>;

/**
 * PyTorch's RNN default: every weight and bias uniform in [−1/√hidden, 1/√hidden).
 * @example uniformInit(random.key(0), [8, 4], 4).shape // [8, 4]
 */
export const uniformInit = (key: Key, shape: readonly number[], hiddenSize: number, dtype: FloatDType = "float32"): T.Tensor => {
  const k = 1 / Math.sqrt(hiddenSize);
  return T.random.uniform(key, shape, { min: -k, max: k, dtype });
};

/**
 * Glorot (Xavier) uniform: U(±√(6 / (fanIn + fanOut))) for a `[fanOut, fanIn]` matrix.
 * @example glorotInit(random.key(0), [8, 4]).shape // [8, 4]
 */
export const glorotInit = (key: Key, shape: readonly [number, number], dtype: FloatDType = "float32"): T.Tensor => {
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
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = tall ? q[c * n + r]! : q[r * n + c]!;
  return T.astype(T.fromDataOrThrow(out, [rows, cols], "float64"), dtype);
};

/**
 * A gate-stacked weight `[gates·hidden, fanIn]` under a scheme; orthogonal and Glorot apply per
 * gate block so each gate's matrix has the intended spectrum.
 * @example gateWeight(random.key(0), 4, 16, 8, { scheme: "orthogonal" }).shape // [64, 8]
 */
export const gateWeight = (key: Key, gates: number, hidden: number, fanIn: number, options: InitOptions = {}): T.Tensor => {
  const dtype = options.dtype ?? "float32";
  const scheme = options.scheme ?? "default";
  if (scheme === "default") return uniformInit(key, [gates * hidden, fanIn], hidden, dtype);
  const keys = T.random.split(key, gates);
  const blocks = keys.map((k) => (scheme === "orthogonal" ? orthogonalInit(k, [hidden, fanIn], dtype) : glorotInit(k, [hidden, fanIn], dtype)));
  return T.concat(blocks, 0);
};
