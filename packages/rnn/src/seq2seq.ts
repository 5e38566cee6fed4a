/**
 * @file Encoder–decoder (seq2seq): the encoder's final carry starts the decoder, with teacher
 * forcing at a ratio drawn from a key; an attention decoder also reads the encoder's outputs.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { check, keysOf, numberIn, withFix } from "@rewind/tensor/internal/check";
import {
  concat,
  expandDims,
  less,
  logicalOr,
  reshape,
  slice,
  transpose,
  treeDefKey,
  treeFlatten,
  treeLeavesWithPaths,
  type Value,
} from "@rewind/autodiff";
import type { Cell } from "./Cell.js";
import { validateLengths } from "./lengths.js";
import { rnn } from "./rnn.js";
import {
  checkFlag,
  checkFunction,
  checkKey,
  checkOptions,
  checkSteps,
  checkTokenIds,
  checkValue,
  swapBatchTime,
} from "./util.js";
import { decode } from "./decode.js";
import { manyToMany } from "./shapes.js";
import { checkContextFor } from "./context.js";
import type { AttentionContext } from "./attention/context.js";

/** Parameters of an encoder–decoder. */
export interface EncoderDecoderParams<PE, PD> {
  /** The encoder cell's parameters. */
  readonly encoder: PE;
  /** The decoder cell's parameters. */
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

const ENCODER_DECODER_KEYS = keysOf<EncoderDecoderOptions<unknown, unknown>>({
  srcLengths: true,
  embedTarget: true,
  readout: true,
  teacherForcing: true,
  key: true,
  bridge: true,
  timeMajor: true,
});

/** What `encoderDecoder` returns. */
export interface EncoderDecoderResult<CD> {
  /** Decoder logits per step, `[batch, T, V]`. */
  readonly logits: Value;
  /** bool `[batch, T]`: whether step t's input was the ground truth (step 0 always is). */
  readonly forced: Value;
  /** The decoder's carry after the last step. */
  readonly finalCarry: CD;
}

const ratioRule = withFix(
  numberIn(0, 1),
  "pass 1 for pure teacher forcing, 0 for free running, or a probability in between",
);
const checkRatio = (op: string, ratio: number): void => {
  check(op, "teacherForcing", ratio, ratioRule);
};

/**
 * The teacher-forcing coin flips as a time-major bool `[time, batch]` mask: entry (t, b) is true
 * with probability `ratio`, drawn from `key` (one flip per step and sample); row 0 is always true
 * because step 0 has no previous prediction. Ratios 0 and 1 need no key.
 * @example teacherForcingMask(random.key(0), 0.5, 6, 2).shape // [6, 2]
 */
export const teacherForcingMask = (key: Key | undefined, ratio: number, time: number, batch: number): Value => {
  checkRatio("teacherForcingMask", ratio);
  checkKey("teacherForcingMask", "key", key);
  checkSteps("teacherForcingMask", "time", time, 0);
  checkSteps("teacherForcingMask", "batch", batch, 0);
  if (key === undefined && ratio > 0 && ratio < 1) {
    T.fail({
      _tag: "ValueError",
      op: "teacherForcingMask",
      arg: "key",
      detail: `a teacher forcing ratio of ${ratio} flips coins but no key was given`,
      fix: "pass { key: random.key(seed) }",
    });
  }
  const flips =
    ratio === 0 || ratio === 1 ? T.full([time, batch], ratio, "bool") : T.random.bernoulli(key!, ratio, [time, batch]);
  return logicalOr(flips, less(expandDims(T.arange(time), 1), 1));
};

const describeCarry = (c: unknown): string =>
  treeLeavesWithPaths(c)
    .map(([path, l]) => `${path === "<root>" ? "" : path} ${l.dtype}[${l.shape.join(", ")}]`.trim())
    .join(", ") || "(no leaves)";

const checkCarries = (op: string, encCarry: unknown, decCarry: unknown, bridged: boolean): void => {
  const [el, ed] = treeFlatten(encCarry);
  const [dl, dd] = treeFlatten(decCarry);
  const same =
    treeDefKey(ed) === treeDefKey(dd) &&
    el.every((l, i) => T.shapesEqual(l.shape, dl[i]!.shape) && l.dtype === dl[i]!.dtype);
  if (!same) {
    T.fail({
      _tag: "ShapeError",
      op,
      arg: bridged ? "bridge(encoder final carry)" : "encoder final carry",
      shapes: [...el.map((l) => l.shape), ...dl.map((l) => l.shape)],
      detail:
        `the decoder starts from the encoder's final carry, but they differ: encoder carry ` +
        `{${describeCarry(encCarry)}}, decoder carry {${describeCarry(decCarry)}}`,
      fix: bridged
        ? "make bridge return a carry shaped like decoder.initialCarry(batch, params.decoder)"
        : "give both cells the same carry (same cell kind and hiddenSize), or pass { bridge: (encoderCarry) => " +
          "decoderCarry }",
    });
  }
};

/** What the decoding steps of `encoderDecoder` share, once the arguments are checked and the source is read. */
interface DecodeRun<CE, PD, CD, XD> {
  readonly decoder: Cell<PD, CD, XD>;
  readonly params: PD;
  /** The attention context `{ memory, lengths }` for a decoder that reads one. */
  readonly context: XD | undefined;
  readonly tgtIn: Value;
  readonly o: EncoderDecoderOptions<CE, CD>;
  readonly ratio: number;
  readonly tm: boolean;
  readonly batch: number;
  /** The decoder's initial carry: the encoder's final carry, bridged where a bridge is given. */
  readonly carry: CD;
}

const OP = "encoderDecoder";

/** Checks `encoderDecoder`'s arguments that need no run: options, params, values, functions, flags, ids, ratio. */
const checkArguments = <CE, CD>(params: unknown, src: Value, tgtIn: Value, o: EncoderDecoderOptions<CE, CD>): void => {
  const op = OP;
  checkOptions(op, "options", o, ENCODER_DECODER_KEYS, true);
  if (typeof params !== "object" || params === null || !("encoder" in params) || !("decoder" in params)) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "params",
      detail: `params must be { encoder, decoder }, got ${params === null ? "null" : typeof params}`,
      fix: "pass each cell's parameters under encoder and decoder",
    });
  }
  checkValue(op, "src", src);
  checkValue(op, "tgtIn", tgtIn);
  checkFunction(op, "readout", o.readout);
  checkFunction(op, "embedTarget", o.embedTarget, true);
  checkFunction(op, "bridge", o.bridge, true);
  checkKey(op, "key", o.key);
  checkFlag(op, "timeMajor", o.timeMajor);
  if (tgtIn.dtype === "int32") checkTokenIds(op, "tgtIn", tgtIn);
  checkRatio(op, o.teacherForcing ?? 1);
};

/** Refuses a source without batch and time axes. */
const checkSourceRank = (src: Value, tm: boolean): void => {
  // Batch and time axes are required; what each step holds is the encoder cell's business (features
  // for a plain cell, token ids [batch, S] for one wrapped in mapInput(cell, embedding(...))).
  if (src.shape.length < 2) {
    T.fail({
      _tag: "ShapeError",
      op: OP,
      arg: "src",
      shapes: [src.shape],
      detail:
        `src must have batch and time axes, ${tm ? "[S, batch, …]" : "[batch, S, …]"}, ` +
        `got rank ${src.shape.length}`,
      fix: "add a batch axis of size 1 for a single sequence",
    });
  }
};

/** Refuses a target that is not ids `[batch, T]` or embedded inputs `[batch, T, F]` of the source's batch, T ≥ 1. */
const checkTarget = (src: Value, tgtIn: Value, batch: number, tm: boolean): void => {
  const ids = tgtIn.dtype === "int32";
  const tgtBatch = tgtIn.shape[tm ? 1 : 0];
  if (tgtIn.shape.length !== (ids ? 2 : 3) || tgtBatch !== batch || tgtIn.shape[tm ? 0 : 1] === 0) {
    T.fail({
      _tag: "ShapeError",
      op: OP,
      arg: "tgtIn",
      shapes: [src.shape, tgtIn.shape],
      detail:
        `tgtIn must be ${ids ? "int32 ids" : "embedded inputs"} ` +
        `${tm ? "[T, batch" : "[batch, T"}${ids ? "" : ", F"}] with T ≥ 1 and the source's batch of ${batch}`,
      fix: "pass the target sequence shifted right (starting with a start token), one row per source sample",
    });
  }
};

/** Decodes pre-embedded targets `[batch, T, F]`: pure teacher forcing, the only ratio possible. */
const decodeEmbedded = <CE, PD, CD, XD>(d: DecodeRun<CE, PD, CD, XD>): EncoderDecoderResult<CD> => {
  const { tgtIn, ratio, tm, batch } = d;
  if (ratio !== 1) {
    T.fail({
      _tag: "ValueError",
      op: OP,
      arg: "teacherForcing",
      detail:
        `tgtIn holds embedded inputs (${tgtIn.dtype}), ` +
        `so the model's predictions cannot be fed back (ratio ${ratio})`,
      fix: "pass token ids (int32) with embedTarget, or use teacherForcing: 1",
    });
  }
  const r = manyToMany(d.decoder, d.params, tgtIn, {
    initialCarry: d.carry,
    timeMajor: tm,
    readout: d.o.readout,
    ...(d.context === undefined ? {} : { context: d.context }),
  });
  const time = tgtIn.shape[tm ? 0 : 1]!;
  return {
    logits: r.outputs,
    forced: T.full(tm ? [time, batch] : [batch, time], 1, "bool"),
    finalCarry: r.finalCarry,
  };
};

/** Decodes token-id targets `[batch, T]`, each step forced to the ground truth by the teacher-forcing mask. */
const decodeIds = <CE, PD, CD, XD>(d: DecodeRun<CE, PD, CD, XD>): EncoderDecoderResult<CD> => {
  const { tgtIn, o, ratio, tm, batch } = d;
  if (o.embedTarget === undefined) {
    return T.fail({
      _tag: "ValueError",
      op: OP,
      arg: "embedTarget",
      detail: "tgtIn holds token ids but no embedTarget was given",
      fix: "pass embedTarget: (ids) => take(table, ids, 0) (or oneHot(ids, V))",
    });
  }
  const tgt = tm ? tgtIn : transpose(tgtIn); // [T, B]
  const time = tgt.shape[0]!;
  const mask = teacherForcingMask(o.key, ratio, time, batch);
  // Step t's output is followed by step t + 1's input: the ground truth tgt[t + 1] where forced.
  const next = time > 1 ? concat([slice(tgt, [{ start: 1, stop: time }]), slice(tgt, [{ start: 0, stop: 1 }])]) : tgt;
  const force =
    time > 1
      ? concat([slice(mask, [{ start: 1, stop: time }]), T.full([1, batch], 0, "bool")])
      : T.full([1, batch], 0, "bool");
  const r = decode({
    op: OP,
    cell: d.decoder,
    params: d.params,
    context: d.context,
    carry: d.carry,
    embed: o.embedTarget,
    readout: o.readout,
    steps: time,
    sampling: { kind: "greedy" },
    key: undefined,
    stopToken: undefined,
    teacher: next,
    force,
    x0: o.embedTarget(reshape(slice(tgt, [{ start: 0, stop: 1 }]), [batch])),
  });
  return {
    logits: tm ? r.logits : swapBatchTime(r.logits),
    forced: tm ? mask : transpose(mask),
    finalCarry: r.finalCarry,
  };
};

/**
 * Encoder–decoder (seq2seq, translation style): the encoder reads `src`; its final carry (each
 * sample's state at its last valid source step) starts the decoder, which reads `tgtIn` (the
 * target shifted right, starting with a start token) and returns logits per step. With teacher
 * forcing at a ratio, each step after the first takes the ground-truth token with that
 * probability and the model's own greedy prediction otherwise (coin flips from `key`, drawn
 * before the loop): 1 is pure teacher forcing, 0 is free running. `tgtIn` may also be
 * pre-embedded floats `[batch, T, F]` (then only ratio 1 is possible).
 * Attention: give a decoder that reads a context (`additiveAttention(gru)`, `dotAttention(…)`,
 * `generalAttention(…)`; its parameters come from its own `init`, so the choice of attention
 * lives in the decoder cell, not in an option). The encoder's outputs are then stacked and passed
 * as the decoder's context `{ memory: [batch, S, H], lengths: srcLengths }` (batch-major in either
 * layout), so padded source steps get no attention.
 * @throws TensorException for a ratio outside [0, 1], a missing key, mismatched carries, ids
 *   without embedTarget, bad srcLengths, or encoder outputs an attention decoder cannot read.
 * @example
 * const { logits } = encoderDecoder(gru, gru, { encoder: pe, decoder: pd }, src, tgtIn, {
 *   srcLengths: [7, 4], embedTarget: (ids) => take(E, ids, 0), readout: (y) => matmul(y, W),
 *   teacherForcing: 0.5, key: random.key(1),
 * }); // [B, T, V]
 * @example
 * const dec = additiveAttention(gru) // attends over the encoder's outputs, masked by srcLengths
 * const pd = dec.init(random.key(2), { inputSize: F, hiddenSize: H })
 * encoderDecoder(gru, dec, { encoder: pe, decoder: pd }, src, tgtIn, { srcLengths, embedTarget, readout })
 */
export const encoderDecoder = <PE, CE, PD, CD, XD extends AttentionContext | undefined = undefined>(
  encoder: Cell<PE, CE>,
  decoder: Cell<PD, CD, XD>,
  params: EncoderDecoderParams<PE, PD>,
  src: Value,
  tgtIn: Value,
  o: EncoderDecoderOptions<CE, CD>,
): EncoderDecoderResult<CD> => {
  checkArguments(params, src, tgtIn, o);
  const ratio = o.teacherForcing ?? 1;
  const tm = o.timeMajor ?? false;
  checkSourceRank(src, tm);
  const batch = src.shape[tm ? 1 : 0]!;
  const srcLengths =
    o.srcLengths === undefined ? undefined : validateLengths(OP, o.srcLengths, batch, src.shape[tm ? 0 : 1]!);
  // Without attention only the encoder's final state is read: its per-step outputs are never
  // stacked. An attention decoder reads them all, batch-major, as its memory.
  const attends = decoder.checkContext !== undefined;
  const enc = rnn(encoder, params.encoder, src, {
    timeMajor: tm,
    outputs: attends,
    ...(srcLengths === undefined ? {} : { lengths: srcLengths }),
  });
  let context: XD | undefined;
  if (attends) {
    const memory = tm ? swapBatchTime(enc.outputs!) : enc.outputs!;
    context = { memory, ...(srcLengths === undefined ? {} : { lengths: srcLengths }) } as XD;
    checkContextFor(OP, "decoder", decoder, context, batch, params.decoder);
  }
  const carry = o.bridge === undefined ? (enc.finalCarry as unknown as CD) : o.bridge(enc.finalCarry);
  checkCarries(OP, carry, decoder.initialCarry(batch, params.decoder), o.bridge !== undefined);
  checkTarget(src, tgtIn, batch, tm);
  const run: DecodeRun<CE, PD, CD, XD> = {
    decoder,
    params: params.decoder,
    context,
    tgtIn,
    o,
    ratio,
    tm,
    batch,
    carry,
  };
  return tgtIn.dtype === "int32" ? decodeIds(run) : decodeEmbedded(run);
};
