/**
 * @file Non-recurrent layers: the pieces `mapInput`/`mapOutput` put in front of or after a cell
 * (an embedding, a readout). A layer is a value like a cell, minus the carry: `init` makes its
 * parameters from a key, `apply(params)(x)` maps one step's `[batch, features]` to
 * `[batch, outputSize]`. Gradients come from the ops, as everywhere in this package.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { check, describeArg, positiveInt, withFix } from "@rewind/tensor/internal/check";
import { isTracer, isValue, matmul, add, reshape, take, transpose, type Concrete, type Value } from "@rewind/autodiff";
import type { InitOptions } from "./Cell.js";
import { checkInitOptions, glorotInit, orthogonalInit, uniformInit } from "./init.js";
import { checkOptions, checkValue } from "./util.js";

/**
 * A layer whose `init` returns tensors (`Concrete<Q>`): the type of `linear` and `embedding`, so
 * parameters from them flow into a jitted function whose result is then a `Tensor` (see
 * tensorInit.ts for cells). The extra signature comes first, so a call picks it.
 * @example const p = linear(2).init(random.key(0), 8); // p.weight: Tensor
 */
export type TensorInitLayer<Q> = {
  /** Parameters for inputs of `inputSize` features, drawn from `key`: tensors. */
  readonly init: (key: Key, inputSize: number, options?: InitOptions) => Concrete<Q>;
} & Layer<Q>;

/** Throws unless `q.weight` is a matrix (and `q.bias`, when present, a vector), naming `op`. */
const checkWeights = (op: string, q: unknown, bias: boolean): void => {
  const r = q as { weight?: unknown; bias?: unknown } | null;
  const w = typeof r === "object" && r !== null ? r.weight : undefined;
  const b = typeof r === "object" && r !== null ? r.bias : undefined;
  if (
    !isValue(w) ||
    w.shape.length !== 2 ||
    (bias && b !== undefined && (!isValue(b) || !T.shapesEqual(b.shape, [w.shape[0]!])))
  ) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "params",
      detail: `params must be { weight: [out, in]${bias ? ", bias?: [out]" : ""} }, got ${gotParams(r, w, b, bias)}`,
      fix: "pass the parameters this layer's init returned",
    });
  }
};

/**
 * A non-recurrent layer over parameters `Q`.
 * @example const q = linear(10).init(random.key(0), 32); const y = linear(10).apply(q)(h) // [B, 10]
 */
export interface Layer<Q = unknown> {
  /** A short name, for messages. */
  readonly name: string;
  /** Parameters for inputs of `inputSize` features, drawn from `key`. */
  readonly init: (key: Key, inputSize: number, options?: InitOptions) => Q;
  /** The map of one step: `[batch, in] → [batch, outputSize]`. */
  readonly apply: (params: Q) => (x: Value) => Value;
  /** Features of the output. */
  readonly outputSize: (params: Q) => number;
  /**
   * Features of the input, when the input is a feature vector (absent for token ids). `dropout`
   * uses it to size its masks.
   */
  readonly inputSize?: (params: Q) => number;
}

/** Parameters of `linear`: PyTorch's `nn.Linear` layout, weight `[out, in]` and bias `[out]`. */
export interface LinearParams {
  /** `[out, in]`. */
  readonly weight: Value;
  /** `[out]`; absent for a layer without bias. */
  readonly bias?: Value;
}

/** Parameters of `embedding`: PyTorch's `nn.Embedding` layout, weight `[vocab, dim]`. */
export interface EmbeddingParams {
  /** `[vocab, dim]`: row i is token i's vector. */
  readonly weight: Value;
}

/** What arrived as a layer's params, for the message: the weight's and bias's shapes, or the type. */
const gotParams = (r: unknown, w: unknown, b: unknown, bias: boolean): string => {
  if (typeof r !== "object" || r === null) return describeArg(r);
  const shapeOf = (v: unknown): string => (isValue(v) ? `[${v.shape.join(", ")}]` : typeof v);
  return `weight ${shapeOf(w)}${bias && b !== undefined ? `, bias ${shapeOf(b)}` : ""}`;
};

/** Throws unless `n` is a positive integer, naming the op and argument. */
const checkPositiveInt = (op: string, arg: string, n: unknown, example: string): number =>
  check(op, arg, n, withFix(positiveInt, `pass e.g. ${example}`)) as number;

const LINEAR_KEYS: readonly string[] = ["bias"];

/**
 * A fully connected layer `y = x Wᵀ + b` (PyTorch `nn.Linear`): weight and bias uniform
 * ±1/√in as PyTorch's default, or the weight Glorot/orthogonal under `options.scheme`.
 * Accepts any `[..., in]` input.
 * @example
 * const readout = linear(5)
 * const q = readout.init(random.key(0), 16)   // { weight: [5, 16], bias: [5] }
 * readout.apply(q)(zeros([2, 16])).shape       // [2, 5]
 */
export const linear = (outputSize: number, opts: { readonly bias?: boolean } = {}): TensorInitLayer<LinearParams> => {
  const out = checkPositiveInt("linear", "outputSize", outputSize, "linear(10)");
  checkOptions("linear", "options", opts, LINEAR_KEYS);
  const withBias = opts.bias ?? true;
  if (typeof withBias !== "boolean") {
    T.fail({
      _tag: "ValueError",
      op: "linear",
      arg: "bias",
      detail: `bias must be a boolean, got ${JSON.stringify(withBias)}`,
      fix: "pass { bias: false } to drop the bias",
    });
  }
  return {
    name: `linear(${out})`,
    init: (key, inputSize, options = {}) => {
      const fanIn = checkPositiveInt(`linear(${out}).init`, "inputSize", inputSize, "32");
      checkInitOptions(`linear(${out}).init`, options);
      const dtype = options.dtype ?? "float32";
      const [kw, kb] = T.random.split(key, 2) as [Key, Key];
      const scheme = options.scheme ?? "default";
      const weight =
        scheme === "glorot"
          ? glorotInit(kw, [out, fanIn], dtype)
          : scheme === "orthogonal"
            ? orthogonalInit(kw, [out, fanIn], dtype)
            : uniformInit(kw, [out, fanIn], fanIn, dtype);
      return withBias ? { weight, bias: uniformInit(kb, [out], fanIn, dtype) } : { weight };
    },
    apply: (q) => {
      checkWeights(`linear(${out}).apply`, q, true);
      return (x) => {
        checkValue(`linear(${out}).apply`, "x", x);
        const fanIn = q.weight.shape[1]!;
        if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== fanIn) {
          T.fail({
            _tag: "ShapeError",
            op: `linear(${out}).apply`,
            arg: "x",
            shapes: [x.shape, q.weight.shape],
            detail: `x must end in ${fanIn} features for weight of shape [${q.weight.shape.join(", ")}]`,
            fix: `pass [batch, ${fanIn}], or init the layer for inputSize ${x.shape[x.shape.length - 1] ?? "?"}`,
          });
        }
        // A sequence's features, [..., in], are one product of all its rows (as PyTorch's linear):
        // a batched matmul would multiply the weight once per leading index, and its gradient sum
        // those products over them.
        const y =
          x.shape.length > 2
            ? reshape(matmul(reshape(x, [-1, fanIn]), transpose(q.weight)), [...x.shape.slice(0, -1), out])
            : matmul(x, transpose(q.weight));
        return q.bias === undefined ? y : add(y, q.bias);
      };
    },
    outputSize: (q) => {
      checkWeights(`linear(${out}).outputSize`, q, true);
      return q.weight.shape[0]!;
    },
    inputSize: (q) => {
      checkWeights(`linear(${out}).inputSize`, q, true);
      return q.weight.shape[1]!;
    },
  };
};

/**
 * Checks token ids (int32, any rank ≥ 1). One step's `[B, 1]` ids — what a rank-3 `[B, T, 1]`
 * xs gives `rnn` — read as `[B]`; any other shape keeps its axes, so `[B, T]` ids looked up
 * before the loop give `[B, T, dim]`.
 */
const tokenIds = (name: string, ids: Value, vocab: number): Value => {
  checkValue(`${name}.apply`, "ids", ids);
  if (ids.dtype !== "int32") {
    T.fail({
      _tag: "DTypeError",
      op: `${name}.apply`,
      arg: "ids",
      detail: `token ids must be int32, got ${ids.dtype}`,
      fix: 'pass int32 ids (e.g. tensor([[3], [1]], "int32")), not one-hot or float features',
    });
  }
  if (ids.shape.length === 0) {
    T.fail({
      _tag: "ShapeError",
      op: `${name}.apply`,
      arg: "ids",
      shapes: [ids.shape],
      detail: "ids need a batch axis",
      fix: "pass [batch] ids for one step, or [batch, time] ids for a whole sequence",
    });
  }
  // Concrete ids are checked here; traced ids (inside scan) were concrete when the user built xs.
  if (!isTracer(ids)) {
    ids.data.forEach((id, i) => {
      if (id < 0 || id >= vocab) {
        T.fail({
          _tag: "ValueError",
          op: `${name}.apply`,
          arg: "ids",
          detail: `ids[${i}] = ${id} is outside the vocabulary [0, ${vocab})`,
          fix: `use ids in [0, ${vocab - 1}] or a larger vocabSize`,
        });
      }
    });
  }
  return ids.shape.length === 2 && ids.shape[1] === 1 ? reshape(ids, [ids.shape[0]!]) : ids;
};

/**
 * A lookup table (PyTorch `nn.Embedding`): int32 token ids `[B]` (or one step's `[B, 1]`) → rows
 * `[B, dim]`, or `[B, T]` → `[B, T, dim]` (look a whole sequence up before the loop: inside a scan
 * each step's gradient is a dense `[vocab, dim]` scatter), of a `[vocab, dim]` weight drawn from
 * N(0, 1) as PyTorch's default. `init` ignores its
 * `inputSize` (ids have no features). The gradient scatters into the rows read, via `take`.
 * Ids are range-checked when concrete; inside `rnn` they are traced, and there `take` rejects
 * ids ≥ vocab but wraps negative ones (as NumPy's), so check token data once before training.
 * @example
 * const embed = embedding(65, 16)
 * const q = embed.init(random.key(0), 1)
 * embed.apply(q)(tensor([3, 7], "int32")).shape // [2, 16]
 */
export const embedding = (vocabSize: number, dim: number): TensorInitLayer<EmbeddingParams> => {
  const vocab = checkPositiveInt("embedding", "vocabSize", vocabSize, "embedding(65, 16)");
  const d = checkPositiveInt("embedding", "dim", dim, "embedding(65, 16)");
  const name = `embedding(${vocab}, ${d})`;
  return {
    name,
    init: (key, _inputSize, options = {}) => {
      checkInitOptions(`${name}.init`, options);
      return { weight: T.random.normal(key, [vocab, d], options.dtype ?? "float32") };
    },
    apply: (q) => {
      checkWeights(`${name}.apply`, q, false);
      return (ids) => take(q.weight, tokenIds(name, ids, q.weight.shape[0]!), 0);
    },
    outputSize: (q) => {
      checkWeights(`${name}.outputSize`, q, false);
      return q.weight.shape[1]!;
    },
  };
};
