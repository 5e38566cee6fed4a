/**
 * @file The workloads' sizes and data, generated once as plain typed arrays so that every
 * framework starts from bit-identical weights and inputs (each converts them to its own arrays).
 *
 * The generator is a small seeded PRNG (mulberry32 + Box–Muller) rather than any framework's
 * random module, so no framework's RNG decides the others' data.
 */

// ---- sizes (the reference workloads) -------------------------------------------------

/** LSTM regressor: batch, time steps, input features, hidden size. */
export const LSTM = { B: 32, T: 50, IN: 64, H: 128 } as const;
/** min-char-rnn: vocabulary, hidden size, sequence length (batch 1). */
export const CHAR = { V: 65, H: 100, T: 25 } as const;
/** Matmul sizes (square n × n · n × n). */
export const MATMUL_SIZES = [128, 512, 1024] as const;

/** Matmul FLOPs of one LSTM step, forward ×3 for forward + backward (a rough work measure). */
export const lstmFlops = 3 * (LSTM.T * 2 * LSTM.B * 4 * LSTM.H * (LSTM.IN + LSTM.H) + 2 * LSTM.B * LSTM.H);

// ---- PRNG -------------------------------------------------------------------------------------

/** mulberry32: a tiny, good-enough 32-bit generator; deterministic across machines. */
const mulberry32 = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const uniform = (rand: () => number, n: number, lo: number, hi: number): Float32Array => {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
};

const normal = (rand: () => number, n: number, scale = 1): Float32Array => {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // Box–Muller; 1 − u keeps the log argument in (0, 1].
    const u = 1 - rand();
    const v = rand();
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
};

// ---- LSTM data --------------------------------------------------------------------------------

/**
 * LSTM parameters in PyTorch's layout (gate order i, f, g, o) plus the readout, and the batch.
 * Shapes: wIh [4H, IN], wHh [4H, H], bIh [4H], bHh [4H], w [1, H], b [1], xs [B, T, IN], ys [B, 1].
 */
export interface LstmData {
  /** Batch, time steps, input features, hidden size of the arrays below. */
  readonly sizes: LstmSizes;
  readonly wIh: Float32Array;
  readonly wHh: Float32Array;
  readonly bIh: Float32Array;
  readonly bHh: Float32Array;
  readonly w: Float32Array;
  readonly b: Float32Array;
  readonly xs: Float32Array;
  readonly ys: Float32Array;
}

/** An LSTM workload's sizes: batch, time steps, input features, hidden size. */
export interface LstmSizes {
  readonly B: number;
  readonly T: number;
  readonly IN: number;
  readonly H: number;
}

/**
 * Half `k` (0: the first B/2 rows, 1: the rest) of a workload's batch, with the same weights: what
 * each of two data-parallel workers computes.
 * @example halfBatch(makeLstmData(32), 1).sizes.B // 16
 */
export const halfBatch = (d: LstmData, k: 0 | 1): LstmData => {
  const [xs, ys] = [d.xs.length / 2, d.ys.length / 2];
  return {
    ...d,
    sizes: { ...d.sizes, B: d.sizes.B / 2 },
    xs: d.xs.subarray(k * xs, (k + 1) * xs),
    ys: d.ys.subarray(k * ys, (k + 1) * ys),
  };
};

/**
 * An LSTM workload's data; PyTorch's default init (uniform ±1/√H) for the cell. The sizes default
 * to the reference workload (`LSTM`); `B` and the others override them.
 * @example makeLstmData(128) // the reference step at batch 128
 */
export const makeLstmData = (B: number = LSTM.B, { T, IN, H }: Omit<LstmSizes, "B"> = LSTM): LstmData => {
  const rand = mulberry32(42);
  const k = 1 / Math.sqrt(H);
  return {
    sizes: { B, T, IN, H },
    wIh: uniform(rand, 4 * H * IN, -k, k),
    wHh: uniform(rand, 4 * H * H, -k, k),
    bIh: uniform(rand, 4 * H, -k, k),
    bHh: uniform(rand, 4 * H, -k, k),
    w: normal(rand, H, k),
    b: normal(rand, 1),
    xs: normal(rand, B * T * IN),
    ys: normal(rand, B),
  };
};

// ---- min-char-rnn data ------------------------------------------------------------------------

/**
 * min-char-rnn parameters in Karpathy's layout and one training sequence.
 * Shapes: wxh [H, V], whh [H, H], why [V, H], bh [H], by [V]; inputs/targets are T char ids.
 */
export interface CharData {
  readonly wxh: Float32Array;
  readonly whh: Float32Array;
  readonly why: Float32Array;
  readonly bh: Float32Array;
  readonly by: Float32Array;
  readonly inputs: Int32Array;
  readonly targets: Int32Array;
}

/**
 * Karpathy draws weights as 0.01·N(0, 1) and zero biases; small random biases are used here
 * instead so a bias gradient bug cannot hide behind zeros. The "text" is a fixed scramble of the
 * vocabulary; targets are the next characters.
 */
export const makeCharData = (): CharData => {
  const { V, H, T } = CHAR;
  const rand = mulberry32(7);
  const chars = Int32Array.from({ length: T + 1 }, (_, t) => (t * 37 + 11) % V);
  return {
    wxh: normal(rand, H * V, 0.01),
    whh: normal(rand, H * H, 0.01),
    why: normal(rand, V * H, 0.01),
    bh: normal(rand, H, 0.01),
    by: normal(rand, V, 0.01),
    inputs: chars.slice(0, T),
    targets: chars.slice(1),
  };
};

/** One-hot rows `[T, V]` of char ids, as float32 (what the frameworks multiply by). */
export const oneHotRows = (ids: Int32Array, V: number): Float32Array => {
  const out = new Float32Array(ids.length * V);
  ids.forEach((id, t) => (out[t * V + id] = 1));
  return out;
};

/** A deterministic square matrix for the matmul benchmark. */
export const makeMatrix = (n: number, seed: number): Float32Array => uniform(mulberry32(seed), n * n, -1, 1);

/**
 * What every implementation returns from a training step, for the agreement check: the loss and
 * the L2 norm of the gradient of each parameter, in the workload's fixed parameter order
 * (LSTM: wIh, wHh, bIh, bHh, w, b; min-char-rnn: wxh, whh, why, bh, by).
 */
export interface StepCheck {
  readonly loss: number;
  readonly gradNorms: readonly number[];
}

/** L2 norm of a typed array (in float64). */
export const l2 = (xs: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]! * xs[i]!;
  return Math.sqrt(s);
};
