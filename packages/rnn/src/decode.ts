/**
 * @file The decoding loop shared by `generate` and `encoderDecoder`: ONE `scan` whose step runs
 * the cell, reads out logits, picks a token and embeds it as the next input. All randomness
 * (Gumbel noise for sampling, teacher-forcing coin flips) is drawn from keys before the loop and
 * fed to it as `xs`, so the body is pure and its gradient is the scan's BPTT.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { keysOf } from "@rewind/tensor/internal/check";
import {
  add,
  argmax,
  astype,
  div,
  equal,
  less,
  logicalNot,
  logicalOr,
  max,
  oneHot,
  scan,
  sum,
  traceTree,
  treeMap,
  where,
  type Aval,
  type Value,
} from "@rewind/autodiff";
import type { Cell } from "./Cell.js";
import { checkOptions, checkSteps, checkValue, maskFor } from "./util.js";

/** How `generate` picks each token from the logits. */
export type Sampling =
  | {
      /** Always the most likely token (argmax of the logits). */
      readonly kind: "greedy";
    }
  | {
      /** Sample from `softmax(logits / temperature)`. */
      readonly kind: "temperature";
      /** A finite number > 0: below 1 sharpens the distribution, above 1 flattens it. */
      readonly temperature: number;
    }
  | {
      /** Sample among the k most likely tokens only. */
      readonly kind: "topK";
      /** How many tokens stay candidates, an integer ≥ 1. */
      readonly k: number;
      /** Temperature applied to the k logits kept (default 1). */
      readonly temperature?: number;
    };

/**
 * Logits outside the k largest of each row set to −∞ (rows of `[batch, V]`), in the graph: the
 * k-th largest is found by removing the row maximum k − 1 times. Ties with the k-th largest value
 * are kept (as PyTorch/HF's filter); `k ≥ V` keeps everything.
 * @example topKLogits(tensor([[1, 3, 2]]), 2) // [[-Infinity, 3, 2]]
 */
export const topKLogits = (logits: Value, k: number): Value => {
  checkValue("topKLogits", "logits", logits);
  checkSteps("topKLogits", "k", k, 1);
  const v = logits.shape[logits.shape.length - 1]!;
  if (k >= v) return logits;
  let rest = logits;
  for (let i = 0; i < k - 1; i++) rest = where(oneHot(argmax(rest, { axis: -1 }), v, "bool"), -Infinity, rest);
  return where(less(logits, max(rest, { axis: -1, keepDims: true })), -Infinity, logits);
};

/** The keys each kind of sampling reads. */
const SAMPLING_KEYS: Readonly<Record<Sampling["kind"], readonly string[]>> = {
  greedy: keysOf<Extract<Sampling, { kind: "greedy" }>>({ kind: true }),
  temperature: keysOf<Extract<Sampling, { kind: "temperature" }>>({ kind: true, temperature: true }),
  topK: keysOf<Extract<Sampling, { kind: "topK" }>>({ kind: true, k: true, temperature: true }),
};

/**
 * Throws unless `s` is a sampling of a known kind with its own keys only (`{ kind: "topK", K: 5 }`
 * must not sample from every token), a positive finite temperature and an integer k ≥ 1, and
 * `key` is given for random sampling.
 * @example checkSampling("generate", { kind: "topK", k: 5 }, random.key(0))
 */
export const checkSampling = (op: string, s: Sampling, key: Key | undefined): void => {
  const bad = (arg: string, detail: string, fix: string): never => T.fail({ _tag: "ValueError", op, arg, detail, fix });
  checkOptions(op, "sampling", s, ["kind", "k", "temperature"], true);
  const kind = (s as { kind?: unknown }).kind;
  if (kind !== "greedy" && kind !== "temperature" && kind !== "topK") {
    bad(
      "sampling.kind",
      `unknown sampling ${JSON.stringify(kind)}`,
      'use { kind: "greedy" }, { kind: "temperature", temperature } or { kind: "topK", k }',
    );
  }
  checkOptions(op, "sampling", s, SAMPLING_KEYS[s.kind]);
  if (s.kind === "greedy") return;
  const t = s.kind === "temperature" ? s.temperature : (s.temperature ?? 1);
  if (typeof t !== "number" || !Number.isFinite(t) || t <= 0) {
    bad(
      "sampling.temperature",
      `temperature must be a finite number > 0, got ${String(t)}`,
      'pass e.g. 0.8; for temperature → 0 use { kind: "greedy" }',
    );
  }
  if (s.kind === "topK" && (!Number.isSafeInteger(s.k) || s.k < 1))
    bad(
      "sampling.k",
      `k must be an integer ≥ 1, got ${String(s.k)}`,
      "pass the number of most likely tokens to sample from, e.g. 10",
    );
  if (key === undefined)
    bad(
      "key",
      `${s.kind} sampling draws random numbers but no key was given`,
      "pass { key: random.key(seed) } (the same key gives the same tokens)",
    );
};

/** Gumbel(0, 1) noise `-log(-log u)`, u ∈ (0, 1): argmax(logits/T + g) samples softmax(logits/T). */
export const gumbel = (key: Key, shape: readonly number[], dtype: T.DType): T.Tensor =>
  T.neg(T.log(T.neg(T.log(T.random.uniform(key, shape, { min: 1e-30, max: 1, dtype })))));

/** The token chooser for a sampling; `noise` is that step's Gumbel row (null for greedy). */
export const chooser =
  (s: Sampling) =>
  (logits: Value, noise: Value | null): Value => {
    if (s.kind === "greedy" || noise === null) return argmax(logits, { axis: -1 });
    const t = s.kind === "temperature" ? s.temperature : (s.temperature ?? 1);
    const filtered = s.kind === "topK" ? topKLogits(logits, s.k) : logits;
    return argmax(add(div(filtered, t), noise), { axis: -1 });
  };

// ---------------------------------------------------------------------------------------------
// The autoregressive loop shared by generate and encoderDecoder

export interface DecodeSpec<P, C, X> {
  readonly op: string;
  readonly cell: Cell<P, C, X>;
  readonly params: P;
  /** The cell's context (already checked), bound once outside the loop. */
  readonly context: X | undefined;
  readonly carry: C;
  /** Input of step 0, `[batch, F]`. */
  readonly x0: Value;
  readonly embed: (ids: Value) => Value;
  readonly readout: (y: Value) => Value;
  readonly steps: number;
  readonly sampling: Sampling;
  readonly key: Key | undefined;
  readonly stopToken: number | undefined;
  /** Time-major int32 `[steps, B]`: the token fed after step t (instead of the model's choice). */
  readonly teacher?: Value;
  /** Time-major bool `[steps, B]`: where `teacher` is used (default: everywhere). */
  readonly force?: Value;
}

export interface DecodeResult<C> {
  readonly tokens: Value;
  readonly logits: Value;
  readonly lengths: Value;
  readonly finalCarry: C;
}

/** One scan: run the cell, read out logits, choose a token, embed the next input. Time-major results. */
export const decode = <P, C, X>(s: DecodeSpec<P, C, X>): DecodeResult<C> => {
  const step = s.cell.step(s.params, s.context);
  const batch = s.x0.shape[0]!;
  // Trace one step abstractly (no numbers computed) to learn V and check embed/readout shapes.
  const probe = traceTree(
    (c: C, x: Value) => {
      const logits = s.readout(step(c, x)[1]);
      return [logits, s.embed(T.zeros([batch], "int32"))];
    },
    [s.carry, s.x0],
  ).graph.outAvals;
  const [lAval, eAval] = probe as [Aval, Aval];
  if (lAval.shape.length !== 2 || lAval.shape[0] !== batch || !T.isFloating(lAval.dtype)) {
    T.fail({
      _tag: "ShapeError",
      op: s.op,
      arg: "readout",
      shapes: [lAval.shape],
      detail: `readout must map y_t to float logits [${batch}, vocab], got ${lAval.dtype} [${lAval.shape.join(", ")}]`,
      fix: "return one row of logits per sample from readout",
    });
  }
  if (!T.shapesEqual(eAval.shape, s.x0.shape) || eAval.dtype !== s.x0.dtype) {
    T.fail({
      _tag: "ShapeError",
      op: s.op,
      arg: "embed",
      shapes: [eAval.shape, s.x0.shape],
      detail:
        `embed(token ids [${batch}]) must return the step input's shape and dtype ` +
        `(${s.x0.dtype}), got ${eAval.dtype}`,
      fix: "make embed return [batch, inputSize] in the parameters' dtype (e.g. take(table, ids, 0))",
    });
  }
  const vocab = lAval.shape[1]!;
  if (s.stopToken !== undefined && (!Number.isSafeInteger(s.stopToken) || s.stopToken < 0 || s.stopToken >= vocab)) {
    T.fail({
      _tag: "ValueError",
      op: s.op,
      arg: "stopToken",
      detail: `stopToken must be a token id in [0, ${vocab}), got ${s.stopToken}`,
      fix: "pass the id of the end-of-sequence token",
    });
  }
  const noise = s.sampling.kind === "greedy" ? null : gumbel(s.key!, [s.steps, batch, vocab], lAval.dtype);
  const choose = chooser(s.sampling);
  const stop = s.stopToken;

  type Loop = { readonly c: C; readonly x: Value; readonly done: Value };
  type Xs = { readonly n: Value | null; readonly tok: Value | null; readonly force: Value | null };
  const body = (lc: Loop, xs: Xs): readonly [Loop, { logits: Value; token: Value; live: Value }] => {
    const [c, y] = step(lc.c, lc.x);
    const logits = s.readout(y);
    const chosen = choose(logits, xs.n);
    const fed = xs.tok === null ? chosen : xs.force === null ? xs.tok : where(xs.force, xs.tok, chosen);
    const x = s.embed(fed);
    if (stop === undefined)
      return [
        { c, x, done: lc.done },
        { logits, token: chosen, live: logicalNot(lc.done) },
      ];
    // A sample that has emitted the stop token is frozen (carry, input) and pads with the stop token.
    const live = logicalNot(lc.done);
    const keep = (a: Value, b: Value): Value => where(maskFor(live, a), a, b);
    return [
      { c: treeMap<C>(keep, c, lc.c), x: keep(x, lc.x), done: logicalOr(lc.done, equal(chosen, stop)) },
      { logits: where(maskFor(live, logits), logits, 0), token: where(live, chosen, stop), live },
    ];
  };
  const init: Loop = { c: s.carry, x: s.x0, done: T.full([batch], 0, "bool") };
  const [last, ys] = scan(
    body,
    init,
    { n: noise, tok: s.teacher ?? null, force: s.force ?? null },
    { length: s.steps },
  );
  return {
    tokens: ys.token,
    logits: ys.logits,
    lengths: sum(astype(ys.live, "int32"), { axis: 0 }),
    finalCarry: last.c,
  };
};

// ---------------------------------------------------------------------------------------------
// generate
