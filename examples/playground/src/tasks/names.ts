/**
 * @file The names generator: a character model over English first names that invents new ones.
 * Each name is read from the end token "." (also its step-0 input) and must predict its
 * characters and then ".", padded (`padSequences`) to the longest name with per-name `lengths` so
 * every batch has one shape (one trace, one compiled step); `sequenceCrossEntropy` averages over
 * the valid steps only. Samples are drawn at temperature 0.8 until ".".
 */
import { random, type Key, type Tensor } from "@rewind/tensor";
import { astype, sum, type Value } from "@rewind/autodiff";
import { padSequences, sequenceCrossEntropy } from "@rewind/rnn";
import type { Preview, RunConfig } from "../protocol.js";
import { cellOf, charLogits, initChar, sampleChars, type CharParams } from "./charModel.js";
import type { Task } from "./types.js";

const END = ".";
const BATCH = 32;
const EMBED = 16;
const SAMPLES = 10;

/** Ids `[B, T]` in and out, and each name's length + 1 `[B]` (its valid steps in both). */
export interface NamesBatch {
  readonly x: Tensor;
  readonly y: Tensor;
  readonly lengths: Tensor;
}

/**
 * The names task on `names` (any list of non-empty strings without "."; duplicates are dropped).
 * @throws Error when the list is empty or a name contains the end token.
 * @example namesTask({ task: "names", cell: "gru", hidden: 32, seed: 0 }, ["Ada", "Alan"]).lossLabel // "nats/char"
 */
export const namesTask = (config: RunConfig, names: readonly string[]): Task<CharParams, NamesBatch> => {
  const all = [...new Set(names)].sort();
  if (all.length === 0 || all.some((n) => n.length === 0 || n.includes(END))) {
    throw new Error(`names task: expected a non-empty list of non-empty names without "${END}"`);
  }
  const known = new Set(all);
  const chars = [END, ...[...new Set(all.join(""))].sort()];
  const idOf = new Map(chars.map((c, i) => [c, i]));
  const steps = Math.max(...all.map((n) => n.length)) + 1; // every name plus its end token
  const cell = cellOf(config.cell);

  /** Inputs ". n a m e" and targets "n a m e .", padded to `width`, with the lengths. */
  const encode = (batch: readonly string[], width: number): NamesBatch => {
    const ids = batch.map((name) => [...name].map((c) => idOf.get(c)!));
    const x = padSequences(
      ids.map((i) => [0, ...i]),
      { maxLength: width },
    );
    const y = padSequences(
      ids.map((i) => [...i, 0]),
      { maxLength: width },
    );
    return { x: x.xs, y: y.xs, lengths: y.lengths };
  };

  const loss = (p: CharParams, b: NamesBatch): Value =>
    sequenceCrossEntropy(charLogits(cell, p, b.x, b.lengths), b.y, b.lengths);

  const preview = (p: CharParams, key: Key): Preview => {
    const { ids, lengths } = sampleChars(cell, p, {
      prime: [0],
      batch: SAMPLES,
      length: steps,
      temperature: 0.8,
      key,
      stopToken: 0,
    });
    const lines = Array.from({ length: SAMPLES }, (_, b) => {
      const name = Array.from(ids.subarray(b * steps, b * steps + lengths[b]!), (i) => chars[i]!)
        .join("")
        .replace(/\.$/, "");
      return known.has(name) ? name : `${name} *`;
    });
    return {
      kind: "samples",
      title: "Sampled names (temperature 0.8)",
      lines,
      note: "* = not in the training list: invented",
    };
  };

  const graphName = all.find((n) => n.length === 3) ?? all[0]!;
  return {
    summary: `${all.length.toLocaleString("en")} first names, ${chars.length - 1} characters + end token; embedding ${EMBED}, ${config.cell.toUpperCase()} ${config.hidden}, batch ${BATCH} × ${steps} steps`,
    lossLabel: "nats/char",
    init: (key) => initChar(cell, key, { vocab: chars.length, embed: EMBED, hidden: config.hidden }),
    loss,
    batch: (key) => {
      const u = random.uniform(key, [BATCH], { dtype: "float64" }).data;
      return encode(
        Array.from(u, (r) => all[Math.floor(r * all.length)]!),
        steps,
      );
    },
    // The loss is a mean over valid steps, and names differ in length: a shard weighs its valid steps.
    shardWeight: (b) => astype(sum(b.lengths), "float32"),
    graphBatch: encode([graphName], graphName.length + 1),
    tracedOn: `one name, "${graphName}" (${graphName.length + 1} steps)`,
    preview,
    learningRate: 5e-3,
    clip: 5,
  };
};
