/**
 * @file The textbook shapes of a recurrent layer, each a short combinator over `rnn` / `scan`:
 * many-to-one, many-to-many (synchronised), one-to-many (a repeated or once-fed vector, and
 * autoregressive generation) and encoder–decoder with teacher forcing.
 *
 * Generation is ONE `scan` over `maxLength` steps: the step runs the cell, the readout, picks a
 * token and embeds it as the next input. All randomness (Gumbel noise for sampling, teacher
 * forcing coin flips) is drawn from keys before the loop and fed to it as `xs`, so the loop body
 * is a pure function and its gradient is the scan's BPTT — there is no backward code here.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import {
  add, argmax, astype, broadcastTo, concat, div, equal, expandDims, gather, less, logicalNot, logicalOr, max, maximum,
  oneHot, pad, reshape, scan, slice, sub, sum, traceTree, transpose, treeDefKey, treeFlatten, treeLeavesWithPaths, treeMap, where, type Aval, type Value,
} from "@rewind/autodiff";
import type { Cell } from "./Cell.js";
import { validateLengths } from "./lengths.js";
import { rnn, type RnnOptions, type RnnResult } from "./rnn.js";

/** Broadcasts a `[B]` mask against a `[B, ...]` value. */
const maskFor = (m: Value, v: Value): Value => reshape(m, [m.shape[0]!, ...v.shape.slice(1).map(() => 1)]);
/** `[B, T, ...]` ⇄ `[T, B, ...]`. */
const swap01 = (x: Value): Value => transpose(x, [1, 0, ...x.shape.slice(2).map((_, i) => i + 2)]);

const checkVector = (op: string, arg: string, v: Value): void => {
  if (v.shape.length !== 2) {
    T.fail({ _tag: "ShapeError", op, arg, shapes: [v.shape], detail: `${arg} must be one vector per sample, [batch, features]`, fix: "reshape it to [batch, features]" });
  }
};

const checkSteps = (op: string, arg: string, n: number, min: number): void => {
  if (!Number.isSafeInteger(n) || n < min) {
    T.fail({ _tag: "ValueError", op, arg, detail: `${arg} must be an integer ≥ ${min}, got ${n}`, fix: `pass the number of steps to run (≥ ${min})` });
  }
};

// ---------------------------------------------------------------------------------------------
// many-to-one, many-to-many, one-to-many with a vector input

/** What `manyToOne` returns: the last valid output per sample, all outputs, and the final carry. */
export interface ManyToOneResult<C> extends RnnResult<C> {
  /** `[batch, features]`: each sample's output at its last valid step (zeros for length 0). */
  readonly output: Value;
}

/**
 * Many-to-one (e.g. sentiment classification): runs `rnn` and picks each sample's output at its
 * last valid step, `length − 1` (with `reverse`, the last step read is step 0). A sample of
 * length 0 has no valid step: its output is zeros (and its final carry the initial carry).
 * @example const { output } = manyToOne(gru, params, xs, { lengths: [5, 3] }) // output [2, H]
 */
export const manyToOne = <P, C>(cell: Cell<P, C>, params: P, xs: Value, opts: RnnOptions<C> = {}): ManyToOneResult<C> => {
  const res = rnn(cell, params, xs, opts);
  const seq = opts.timeMajor ?? false ? res.outputs : swap01(res.outputs);
  const [time, batch, features] = seq.shape as [number, number, number];
  if (time === 0) return { ...res, output: broadcastTo(T.scalar(0, seq.dtype), [batch, features]) };
  let output: Value;
  if (opts.reverse ?? false) output = reshape(slice(seq, [{ start: 0, stop: 1 }]), [batch, features]);
  else if (opts.lengths === undefined) output = reshape(slice(seq, [{ start: time - 1, stop: time }]), [batch, features]);
  else {
    // Length 0 gathers step 0, which rnn has already zeroed (outputs past a length are 0).
    const last = maximum(sub(validateLengths("manyToOne", opts.lengths, batch, time), 1), 0);
    output = reshape(gather(seq, reshape(last, [1, batch, 1]), 0), [batch, features]);
  }
  return { ...res, output };
};

/** Options of `manyToMany`: `rnn`'s, plus a readout applied to every step's output. */
export interface ManyToManyOptions<C> extends RnnOptions<C> {
  /** Maps y_t `[batch, H]` to `[batch, V]` inside the loop (e.g. a linear layer for per-frame labels). */
  readonly readout?: (y: Value) => Value;
}

/** The cell with `readout` applied to its output (inside the scan, so it sees exactly y_t). */
const withReadout = <P, C>(cell: Cell<P, C>, readout: (y: Value) => Value): Cell<P, C> => ({
  ...cell,
  name: `${cell.name}+readout`,
  step: (p) => {
    const step = cell.step(p);
    return (c, x, n) => {
      const [next, y] = step(c, x, n);
      return [next, readout(y)];
    };
  },
});

/**
 * Many-to-many, synchronised (per-frame labelling): one output per input step, optionally through
 * a readout. Outputs past a sample's length are zero (also after the readout).
 * @example const { outputs } = manyToMany(lstm, p, xs, { readout: (y) => add(matmul(y, W), b) }) // [B, T, V]
 */
export const manyToMany = <P, C>(cell: Cell<P, C>, params: P, xs: Value, opts: ManyToManyOptions<C> = {}): RnnResult<C> => {
  const { readout, ...rest } = opts;
  return rnn(readout === undefined ? cell : withReadout(cell, readout), params, xs, rest);
};

/**
 * One-to-many with the vector repeated: `v` `[batch, features]` is the input at every one of
 * `steps` steps (e.g. an image embedding conditioning every step of a caption).
 * @example const { outputs } = repeatInput(gru, p, imageVec, 10) // [B, 10, H]
 */
export const repeatInput = <P, C>(cell: Cell<P, C>, params: P, v: Value, steps: number, opts: RnnOptions<C> = {}): RnnResult<C> => {
  checkVector("repeatInput", "v", v);
  checkSteps("repeatInput", "steps", steps, 0);
  const [batch, features] = v.shape as [number, number];
  const tm = opts.timeMajor ?? false;
  const xs = broadcastTo(expandDims(v, tm ? 0 : 1), tm ? [steps, batch, features] : [batch, steps, features]);
  return rnn(cell, params, xs, opts);
};

/**
 * One-to-many with the vector fed once: `v` is the input at step 0 and zeros follow, so later
 * steps run on the carry alone.
 * @example const { outputs } = feedOnce(gru, p, v, 10) // [B, 10, H]
 */
export const feedOnce = <P, C>(cell: Cell<P, C>, params: P, v: Value, steps: number, opts: RnnOptions<C> = {}): RnnResult<C> => {
  checkVector("feedOnce", "v", v);
  checkSteps("feedOnce", "steps", steps, 1);
  const tm = opts.timeMajor ?? false;
  const xs = pad(expandDims(v, tm ? 0 : 1), tm ? [[0, steps - 1], [0, 0], [0, 0]] : [[0, 0], [0, steps - 1], [0, 0]]);
  return rnn(cell, params, xs, opts);
};

// ---------------------------------------------------------------------------------------------
// Token choice

/** How `generate` picks each token from the logits. */
export type Sampling =
  | { readonly kind: "greedy" }
  | { readonly kind: "temperature"; readonly temperature: number }
  | { readonly kind: "topK"; readonly k: number; readonly temperature?: number };

/**
 * Logits outside the k largest of each row set to −∞ (rows of `[batch, V]`), in the graph: the
 * k-th largest is found by removing the row maximum k − 1 times. Ties with the k-th largest value
 * are kept (as PyTorch/HF's filter); `k ≥ V` keeps everything.
 * @example topKLogits(tensor([[1, 3, 2]]), 2) // [[-Infinity, 3, 2]]
 */
export const topKLogits = (logits: Value, k: number): Value => {
  checkSteps("topKLogits", "k", k, 1);
  const v = logits.shape[logits.shape.length - 1]!;
  if (k >= v) return logits;
  let rest = logits;
  for (let i = 0; i < k - 1; i++) rest = where(oneHot(argmax(rest, { axis: -1 }), v, "bool"), -Infinity, rest);
  return where(less(logits, max(rest, { axis: -1, keepDims: true })), -Infinity, logits);
};

const checkSampling = (op: string, s: Sampling, key: Key | undefined): void => {
  const bad = (arg: string, detail: string, fix: string): never => T.fail({ _tag: "ValueError", op, arg, detail, fix });
  const kind = (s as { kind?: unknown } | undefined)?.kind;
  if (kind !== "greedy" && kind !== "temperature" && kind !== "topK") {
    bad("sampling.kind", `unknown sampling ${JSON.stringify(kind)}`, 'use { kind: "greedy" }, { kind: "temperature", temperature } or { kind: "topK", k }');
  }
  if (s.kind === "greedy") return;
  const t = s.kind === "temperature" ? s.temperature : s.temperature ?? 1;
  if (typeof t !== "number" || !Number.isFinite(t) || t <= 0) {
    bad("sampling.temperature", `temperature must be a finite number > 0, got ${String(t)}`, 'pass e.g. 0.8; for temperature → 0 use { kind: "greedy" }');
  }
  if (s.kind === "topK" && (!Number.isSafeInteger(s.k) || s.k < 1)) bad("sampling.k", `k must be an integer ≥ 1, got ${String(s.k)}`, "pass the number of most likely tokens to sample from, e.g. 10");
  if (key === undefined) bad("key", `${s.kind} sampling draws random numbers but no key was given`, "pass { key: random.key(seed) } (the same key gives the same tokens)");
};

/** Gumbel(0, 1) noise `-log(-log u)`, u ∈ (0, 1): argmax(logits/T + g) samples softmax(logits/T). */
const gumbel = (key: Key, shape: readonly number[], dtype: T.DType): T.Tensor =>
  T.neg(T.log(T.neg(T.log(T.random.uniform(key, shape, { min: 1e-30, max: 1, dtype })))));

/** The token chooser for a sampling; `noise` is that step's Gumbel row (null for greedy). */
const chooser = (s: Sampling) => (logits: Value, noise: Value | null): Value => {
  if (s.kind === "greedy" || noise === null) return argmax(logits, { axis: -1 });
  const t = s.kind === "temperature" ? s.temperature : s.temperature ?? 1;
  const filtered = s.kind === "topK" ? topKLogits(logits, s.k) : logits;
  return argmax(add(div(filtered, t), noise), { axis: -1 });
};

// ---------------------------------------------------------------------------------------------
// The autoregressive loop shared by generate and encoderDecoder

interface DecodeSpec<P, C> {
  readonly op: string;
  readonly cell: Cell<P, C>;
  readonly params: P;
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

interface DecodeResult<C> {
  readonly tokens: Value;
  readonly logits: Value;
  readonly lengths: Value;
  readonly finalCarry: C;
}

/** One scan: run the cell, read out logits, choose a token, embed the next input. Time-major results. */
const decode = <P, C>(s: DecodeSpec<P, C>): DecodeResult<C> => {
  const step = s.cell.step(s.params);
  const batch = s.x0.shape[0]!;
  // Trace one step abstractly (no numbers computed) to learn V and check embed/readout shapes.
  const probe = traceTree((c: C, x: Value) => {
    const logits = s.readout(step(c, x)[1]);
    return [logits, s.embed(T.zeros([batch], "int32"))];
  }, [s.carry, s.x0]).graph.outAvals;
  const [lAval, eAval] = probe as [Aval, Aval];
  if (lAval.shape.length !== 2 || lAval.shape[0] !== batch || !T.isFloating(lAval.dtype)) {
    T.fail({ _tag: "ShapeError", op: s.op, arg: "readout", shapes: [lAval.shape], detail: `readout must map y_t to float logits [${batch}, vocab], got ${lAval.dtype} [${lAval.shape.join(", ")}]`, fix: "return one row of logits per sample from readout" });
  }
  if (!T.shapesEqual(eAval.shape, s.x0.shape) || eAval.dtype !== s.x0.dtype) {
    T.fail({
      _tag: "ShapeError", op: s.op, arg: "embed", shapes: [eAval.shape, s.x0.shape],
      detail: `embed(token ids [${batch}]) must return the step input's shape and dtype (${s.x0.dtype}), got ${eAval.dtype}`,
      fix: "make embed return [batch, inputSize] in the parameters' dtype (e.g. take(table, ids, 0))",
    });
  }
  const vocab = lAval.shape[1]!;
  if (s.stopToken !== undefined && (!Number.isSafeInteger(s.stopToken) || s.stopToken < 0 || s.stopToken >= vocab)) {
    T.fail({ _tag: "ValueError", op: s.op, arg: "stopToken", detail: `stopToken must be a token id in [0, ${vocab}), got ${s.stopToken}`, fix: "pass the id of the end-of-sequence token" });
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
    if (stop === undefined) return [{ c, x, done: lc.done }, { logits, token: chosen, live: logicalNot(lc.done) }];
    // A sample that has emitted the stop token is frozen (carry, input) and pads with the stop token.
    const live = logicalNot(lc.done);
    const keep = (a: Value, b: Value): Value => where(maskFor(live, a), a, b);
    return [
      { c: treeMap<C>(keep, c, lc.c), x: keep(x, lc.x), done: logicalOr(lc.done, equal(chosen, stop)) },
      { logits: where(maskFor(live, logits), logits, 0), token: where(live, chosen, stop), live },
    ];
  };
  const init: Loop = { c: s.carry, x: s.x0, done: T.full([batch], 0, "bool") };
  const [last, ys] = scan(body, init, { n: noise, tok: s.teacher ?? null, force: s.force ?? null }, { length: s.steps });
  return { tokens: ys.token, logits: ys.logits, lengths: sum(astype(ys.live, "int32"), { axis: 0 }), finalCarry: last.c };
};

// ---------------------------------------------------------------------------------------------
// generate

/** Options of `generate`. */
export interface GenerateOptions<C> {
  /** The carry at step 0 (default: `cell.initialCarry(batch, params)`), e.g. an encoder's state. */
  readonly initialCarry?: C;
  /** Input of step 0, `[batch, F]` (e.g. an image embedding). Give this or `startToken`. */
  readonly firstInput?: Value;
  /** Token(s) whose embedding is the input of step 0: one id for all, or int32 `[batch]`. */
  readonly startToken?: number | Value;
  /** Needed only when the batch size cannot be read from firstInput, startToken or initialCarry. */
  readonly batch?: number;
  /** Token ids int32 `[batch]` → inputs `[batch, F]`. */
  readonly embed: (ids: Value) => Value;
  /** y_t `[batch, H]` → logits `[batch, V]`. */
  readonly readout: (y: Value) => Value;
  /** Number of steps (tokens per sample). */
  readonly maxLength: number;
  /** A sample stops after emitting this token; later tokens repeat it. */
  readonly stopToken?: number;
  /** Default greedy. */
  readonly sampling?: Sampling;
  /** Required for temperature and top-k sampling. */
  readonly key?: Key;
  /**
   * Teacher forcing: int32 `[batch, maxLength]` (time-major: `[maxLength, batch]`), column t fed
   * as the input of step t + 1 instead of the model's token; `tokens` stay the model's choices.
   */
  readonly teacherTokens?: Value;
  /** tokens `[maxLength, batch]`, logits `[maxLength, batch, V]`. */
  readonly timeMajor?: boolean;
}

/** What `generate` returns. */
export interface GenerateResult<C> {
  /** int32 `[batch, maxLength]`; past a sample's length, the stop token. */
  readonly tokens: Value;
  /** int32 `[batch]`: tokens up to and including the stop token (maxLength if it never stopped). */
  readonly lengths: Value;
  /** The readout's logits at each step `[batch, maxLength, V]` (zero past a sample's length). */
  readonly logits: Value;
  /** Each sample's carry after its last valid step. */
  readonly finalCarry: C;
}

/** The batch size, read from whichever of firstInput, startToken, initialCarry and batch are given (they must agree). */
const batchOf = <C>(op: string, o: GenerateOptions<C>): number => {
  const seen: Array<readonly [string, number]> = [];
  if (o.firstInput !== undefined) seen.push(["firstInput", o.firstInput.shape[0]!]);
  if (typeof o.startToken === "object") seen.push(["startToken", o.startToken.shape[0]!]);
  const leaf = o.initialCarry === undefined ? undefined : treeFlatten(o.initialCarry)[0][0];
  if (leaf !== undefined && leaf.shape.length > 0) seen.push(["initialCarry", leaf.shape[0]!]);
  if (o.batch !== undefined) seen.push(["batch", o.batch]);
  if (seen.length === 0) {
    T.fail({ _tag: "ValueError", op, arg: "batch", detail: "the batch size is unknown: startToken is a single id and there is no initialCarry", fix: "pass { batch }, an int32 [batch] startToken, or an initialCarry" });
  }
  if (new Set(seen.map(([, n]) => n)).size > 1) {
    T.fail({ _tag: "ValueError", op, arg: "batch", detail: `the batch sizes disagree: ${seen.map(([k, n]) => `${k}: ${n}`).join(", ")}`, fix: "give every per-sample input the same batch size" });
  }
  return seen[0]![1];
};

/**
 * Autoregressive generation (one-to-many): one `scan` over `maxLength` steps that runs the cell,
 * turns y_t into logits with `readout`, chooses a token (greedy, temperature or top-k, by the
 * Gumbel-max trick with noise drawn from `key` before the loop) and feeds `embed(token)` back.
 * After a sample emits `stopToken`, its carry freezes and its later tokens are the stop token.
 * With `teacherTokens` the loop follows the given tokens (a differentiable training path).
 * @throws TensorException for a bad sampling/temperature/k, a missing key, maxLength < 1,
 *   both or neither of firstInput/startToken, an out-of-range stopToken or mismatched embed/readout.
 * @example
 * const { tokens, lengths } = generate(gru, p, {
 *   startToken: 0, batch: 4, embed: (ids) => take(E, ids, 0), readout: (y) => matmul(y, W),
 *   maxLength: 20, stopToken: 1, sampling: { kind: "topK", k: 5 }, key: random.key(7),
 * });
 */
export const generate = <P, C>(cell: Cell<P, C>, params: P, o: GenerateOptions<C>): GenerateResult<C> => {
  const op = "generate";
  checkSteps(op, "maxLength", o.maxLength, 1);
  const sampling = o.sampling ?? { kind: "greedy" };
  checkSampling(op, sampling, o.key);
  if ((o.firstInput === undefined) === (o.startToken === undefined)) {
    T.fail({ _tag: "ValueError", op, arg: "firstInput, startToken", detail: `give exactly one of firstInput and startToken, got ${o.firstInput === undefined ? "neither" : "both"}`, fix: "pass firstInput: [batch, F] or startToken: an id" });
  }
  const batch = batchOf(op, o);
  if (o.firstInput !== undefined) checkVector(op, "firstInput", o.firstInput);
  const start = o.startToken === undefined ? undefined : typeof o.startToken === "number" ? T.full([batch], o.startToken, "int32") : o.startToken;
  if (start !== undefined && (start.dtype !== "int32" || start.shape.length !== 1 || start.shape[0] !== batch)) {
    T.fail({ _tag: "ValueError", op, arg: "startToken", detail: `startToken must be an id or int32 [${batch}], got ${start.dtype} [${start.shape.join(", ")}]`, fix: "pass one int32 id per sample" });
  }
  const tm = o.timeMajor ?? false;
  let teacher: Value | undefined;
  if (o.teacherTokens !== undefined) {
    const want = tm ? [o.maxLength, batch] : [batch, o.maxLength];
    if (o.teacherTokens.dtype !== "int32" || !T.shapesEqual(o.teacherTokens.shape, want)) {
      T.fail({ _tag: "ShapeError", op, arg: "teacherTokens", shapes: [o.teacherTokens.shape], detail: `teacherTokens must be int32 [${want.join(", ")}], got ${o.teacherTokens.dtype}`, fix: "pass one token id per sample and step" });
    }
    teacher = tm ? o.teacherTokens : transpose(o.teacherTokens);
  }
  const r = decode({
    op, cell, params, embed: o.embed, readout: o.readout, steps: o.maxLength, sampling, key: o.key, stopToken: o.stopToken,
    carry: o.initialCarry ?? cell.initialCarry(batch, params),
    x0: o.firstInput ?? o.embed(start!),
    ...(teacher === undefined ? {} : { teacher }),
  });
  return { tokens: tm ? r.tokens : transpose(r.tokens), logits: tm ? r.logits : swap01(r.logits), lengths: r.lengths, finalCarry: r.finalCarry };
};

// ---------------------------------------------------------------------------------------------
// encoder–decoder

/** Parameters of an encoder–decoder. */
export interface EncoderDecoderParams<PE, PD> {
  readonly encoder: PE;
  readonly decoder: PD;
}

/** Options of `encoderDecoder`. */
export interface EncoderDecoderOptions<CE, CD> {
  /** Valid source steps per sample; the decoder starts from each sample's own last valid state. */
  readonly srcLengths?: Value | readonly number[];
  /** Target ids int32 `[batch]` → decoder inputs `[batch, F]`; required when tgtIn holds ids. */
  readonly embedTarget?: (ids: Value) => Value;
  /** Decoder output y_t `[batch, H]` → logits `[batch, V]`. */
  readonly readout: (y: Value) => Value;
  /** Probability that a step's input is the ground truth rather than the model's own greedy token (default 1). */
  readonly teacherForcing?: number;
  /** Draws the teacher-forcing coin flips; required when 0 < teacherForcing < 1. */
  readonly key?: Key;
  /** Maps the encoder's final carry to the decoder's carry when they differ (e.g. LSTM → GRU: `(c) => c.h`). */
  readonly bridge?: (encoderCarry: CE) => CD;
  /** src `[S, B, F]`, tgtIn `[T, B]`, logits `[T, B, V]`. */
  readonly timeMajor?: boolean;
}

/** What `encoderDecoder` returns. */
export interface EncoderDecoderResult<CD> {
  /** Decoder logits per step, `[batch, T, V]`. */
  readonly logits: Value;
  /** bool `[batch, T]`: whether step t's input was the ground truth (step 0 always is). */
  readonly forced: Value;
  readonly finalCarry: CD;
}

const checkRatio = (op: string, ratio: number): void => {
  if (typeof ratio !== "number" || !(ratio >= 0 && ratio <= 1)) {
    T.fail({ _tag: "ValueError", op, arg: "teacherForcing", detail: `the teacher forcing ratio must be a number in [0, 1], got ${String(ratio)}`, fix: "pass 1 for pure teacher forcing, 0 for free running, or a probability in between" });
  }
};

/**
 * The teacher-forcing coin flips as a time-major bool `[time, batch]` mask: entry (t, b) is true
 * with probability `ratio`, drawn from `key` (one flip per step and sample); row 0 is always true
 * because step 0 has no previous prediction. Ratios 0 and 1 need no key.
 * @example teacherForcingMask(random.key(0), 0.5, 6, 2).shape // [6, 2]
 */
export const teacherForcingMask = (key: Key | undefined, ratio: number, time: number, batch: number): Value => {
  checkRatio("teacherForcingMask", ratio);
  if (key === undefined && ratio > 0 && ratio < 1) {
    T.fail({ _tag: "ValueError", op: "teacherForcingMask", arg: "key", detail: `a teacher forcing ratio of ${ratio} flips coins but no key was given`, fix: "pass { key: random.key(seed) }" });
  }
  const flips = ratio === 0 || ratio === 1 ? T.full([time, batch], ratio, "bool") : T.random.bernoulli(key!, ratio, [time, batch]);
  return logicalOr(flips, less(expandDims(T.arange(time), 1), 1));
};

const describeCarry = (c: unknown): string =>
  treeLeavesWithPaths(c).map(([path, l]) => `${path === "<root>" ? "" : path} ${l.dtype}[${l.shape.join(", ")}]`.trim()).join(", ") || "(no leaves)";

const checkCarries = (op: string, encCarry: unknown, decCarry: unknown, bridged: boolean): void => {
  const [el, ed] = treeFlatten(encCarry);
  const [dl, dd] = treeFlatten(decCarry);
  const same = treeDefKey(ed) === treeDefKey(dd) && el.every((l, i) => T.shapesEqual(l.shape, dl[i]!.shape) && l.dtype === dl[i]!.dtype);
  if (!same) {
    T.fail({
      _tag: "ShapeError", op, arg: bridged ? "bridge(encoder final carry)" : "encoder final carry",
      shapes: [...el.map((l) => l.shape), ...dl.map((l) => l.shape)],
      detail: `the decoder starts from the encoder's final carry, but they differ: encoder carry {${describeCarry(encCarry)}}, decoder carry {${describeCarry(decCarry)}}`,
      fix: bridged
        ? "make bridge return a carry shaped like decoder.initialCarry(batch, params.decoder)"
        : "give both cells the same carry (same cell kind and hiddenSize), or pass { bridge: (encoderCarry) => decoderCarry }",
    });
  }
};

/**
 * Encoder–decoder (seq2seq, translation style): the encoder reads `src`; its final carry (each
 * sample's state at its last valid source step) starts the decoder, which reads `tgtIn` (the
 * target shifted right, starting with a start token) and returns logits per step. With teacher
 * forcing at a ratio, each step after the first takes the ground-truth token with that
 * probability and the model's own greedy prediction otherwise (coin flips from `key`, drawn
 * before the loop): 1 is pure teacher forcing, 0 is free running. `tgtIn` may also be
 * pre-embedded floats `[batch, T, F]` (then only ratio 1 is possible).
 * @throws TensorException for a ratio outside [0, 1], a missing key, mismatched carries, ids
 *   without embedTarget, or bad srcLengths.
 * @example
 * const { logits } = encoderDecoder(gru, gru, { encoder: pe, decoder: pd }, src, tgtIn, {
 *   srcLengths: [7, 4], embedTarget: (ids) => take(E, ids, 0), readout: (y) => matmul(y, W),
 *   teacherForcing: 0.5, key: random.key(1),
 * }); // [B, T, V]
 */
export const encoderDecoder = <PE, CE, PD, CD>(
  encoder: Cell<PE, CE>,
  decoder: Cell<PD, CD>,
  params: EncoderDecoderParams<PE, PD>,
  src: Value,
  tgtIn: Value,
  o: EncoderDecoderOptions<CE, CD>,
): EncoderDecoderResult<CD> => {
  const op = "encoderDecoder";
  const ratio = o.teacherForcing ?? 1;
  checkRatio(op, ratio);
  const tm = o.timeMajor ?? false;
  if (src.shape.length !== 3) {
    T.fail({ _tag: "ShapeError", op, arg: "src", shapes: [src.shape], detail: `src must be rank 3, ${tm ? "[S, batch, features]" : "[batch, S, features]"}`, fix: "add a batch axis of size 1 for a single sequence" });
  }
  const batch = src.shape[tm ? 1 : 0]!;
  const srcLengths = o.srcLengths === undefined ? undefined : validateLengths(op, o.srcLengths, batch, src.shape[tm ? 0 : 1]!);
  const enc = rnn(encoder, params.encoder, src, { timeMajor: tm, ...(srcLengths === undefined ? {} : { lengths: srcLengths }) });
  const carry = o.bridge === undefined ? (enc.finalCarry as unknown as CD) : o.bridge(enc.finalCarry);
  checkCarries(op, carry, decoder.initialCarry(batch, params.decoder), o.bridge !== undefined);
  const ids = tgtIn.dtype === "int32";
  const tgtBatch = tgtIn.shape[tm ? 1 : 0];
  if (tgtIn.shape.length !== (ids ? 2 : 3) || tgtBatch !== batch || tgtIn.shape[tm ? 0 : 1] === 0) {
    T.fail({
      _tag: "ShapeError", op, arg: "tgtIn", shapes: [src.shape, tgtIn.shape],
      detail: `tgtIn must be ${ids ? "int32 ids" : "embedded inputs"} ${tm ? "[T, batch" : "[batch, T"}${ids ? "" : ", F"}] with T ≥ 1 and the source's batch of ${batch}`,
      fix: "pass the target sequence shifted right (starting with a start token), one row per source sample",
    });
  }
  if (!ids) {
    if (ratio !== 1) {
      T.fail({ _tag: "ValueError", op, arg: "teacherForcing", detail: `tgtIn holds embedded inputs (${tgtIn.dtype}), so the model's predictions cannot be fed back (ratio ${ratio})`, fix: "pass token ids (int32) with embedTarget, or use teacherForcing: 1" });
    }
    const r = manyToMany(decoder, params.decoder, tgtIn, { initialCarry: carry, timeMajor: tm, readout: o.readout });
    const time = tgtIn.shape[tm ? 0 : 1]!;
    return { logits: r.outputs, forced: T.full(tm ? [time, batch] : [batch, time], 1, "bool"), finalCarry: r.finalCarry };
  }
  if (o.embedTarget === undefined) {
    return T.fail({ _tag: "ValueError", op, arg: "embedTarget", detail: "tgtIn holds token ids but no embedTarget was given", fix: "pass embedTarget: (ids) => take(table, ids, 0) (or oneHot(ids, V))" });
  }
  const tgt = tm ? tgtIn : transpose(tgtIn); // [T, B]
  const time = tgt.shape[0]!;
  const mask = teacherForcingMask(o.key, ratio, time, batch);
  // Step t's output is followed by step t + 1's input: the ground truth tgt[t + 1] where forced.
  const next = time > 1 ? concat([slice(tgt, [{ start: 1, stop: time }]), slice(tgt, [{ start: 0, stop: 1 }])]) : tgt;
  const force = time > 1 ? concat([slice(mask, [{ start: 1, stop: time }]), T.full([1, batch], 0, "bool")]) : T.full([1, batch], 0, "bool");
  const r = decode({
    op, cell: decoder, params: params.decoder, carry, embed: o.embedTarget, readout: o.readout, steps: time,
    sampling: { kind: "greedy" }, key: undefined, stopToken: undefined, teacher: next, force,
    x0: o.embedTarget(reshape(slice(tgt, [{ start: 0, stop: 1 }]), [batch])),
  });
  return { logits: tm ? r.logits : swap01(r.logits), forced: tm ? mask : transpose(mask), finalCarry: r.finalCarry };
};
