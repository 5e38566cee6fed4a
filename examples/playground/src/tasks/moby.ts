/**
 * @file char-rnn on an excerpt of Moby Dick: predict every next character of random windows of
 * the text. A batch is 16 windows of 48 characters starting at offsets drawn from the step's key,
 * each read from a zero state (simpler than the Node example's carried streams, and the windows
 * are independent, so any step can be replayed from its key). Samples continue a fixed prime.
 */
import { fromDataOrThrow, random, type Key, type Tensor } from "@rewind/tensor";
import { mean, type Value } from "@rewind/autodiff";
import type { Preview, RunConfig } from "../protocol.js";
import { cellOf, charLogits, initChar, sampleChars, tokenNll, type CharParams } from "./charModel.js";
import type { Task } from "./types.js";

const BATCH = 16;
const WINDOW = 48;
const EMBED = 16;
const SAMPLE_LENGTH = 240;
const PRIME = "Call me ";

/** Ids of B windows `[B, T]` and the same windows shifted by one character. */
export interface TextBatch {
  readonly x: Tensor;
  readonly y: Tensor;
}

/** A stretch of text and where it comes from (e.g. "Moby Dick, chapters 1–5"). */
export interface Excerpt {
  readonly text: string;
  readonly source: string;
}

/**
 * The char-rnn task on an excerpt.
 * @throws Error when the text is shorter than two windows.
 * @example mobyTask({ task: "moby", cell: "lstm", hidden: 64, seed: 0 }, { text, source: "Moby Dick" }).lossLabel // "nats/char"
 */
export const mobyTask = (config: RunConfig, { text, source }: Excerpt): Task<CharParams, TextBatch> => {
  if (text.length < 2 * (WINDOW + 1))
    throw new Error(`char-rnn task: the text has ${text.length} characters, fewer than two windows of ${WINDOW + 1}`);
  const chars = [...new Set(text)].sort();
  const idOf = new Map(chars.map((c, i) => [c, i]));
  const ids = Int32Array.from(text, (c) => idOf.get(c)!);
  const cell = cellOf(config.cell);
  // Characters the prime uses must be in the text; an excerpt without them starts from its first character.
  const prime = [...PRIME].every((c) => idOf.has(c)) ? [...PRIME].map((c) => idOf.get(c)!) : [ids[0]!];

  const windows = (starts: readonly number[], width: number): TextBatch => {
    const x = new Int32Array(starts.length * width);
    const y = new Int32Array(starts.length * width);
    starts.forEach((s, b) => {
      x.set(ids.subarray(s, s + width), b * width);
      y.set(ids.subarray(s + 1, s + width + 1), b * width);
    });
    return {
      x: fromDataOrThrow(x, [starts.length, width], "int32"),
      y: fromDataOrThrow(y, [starts.length, width], "int32"),
    };
  };

  const decode = (row: ArrayLike<number>): string => Array.from(row, (i) => chars[i]!).join("");

  const preview = (p: CharParams, key: Key): Preview => {
    const { ids: drawn } = sampleChars(cell, p, { prime, batch: 1, length: SAMPLE_LENGTH, temperature: 0.7, key });
    const text = decode(prime) + decode(drawn);
    return {
      kind: "samples",
      title: "Sample (temperature 0.7)",
      lines: text.split("\n"),
      note: `continuing "${decode(prime)}"`,
    };
  };

  return {
    summary: `${source}: ${text.length.toLocaleString("en")} characters, ${chars.length} distinct; embedding ${EMBED}, ${config.cell.toUpperCase()} ${config.hidden}, batch ${BATCH} × ${WINDOW} characters`,
    lossLabel: "nats/char",
    init: (key) => initChar(cell, key, { vocab: chars.length, embed: EMBED, hidden: config.hidden }),
    loss: (p: CharParams, b: TextBatch): Value => mean(tokenNll(charLogits(cell, p, b.x), b.y)),
    batch: (key) => {
      const u = random.uniform(key, [BATCH], { dtype: "float64" }).data;
      return windows(
        Array.from(u, (r) => Math.floor(r * (ids.length - WINDOW - 1))),
        WINDOW,
      );
    },
    graphBatch: windows([0], 4),
    tracedOn: `one window of 4 characters, "${decode(ids.subarray(0, 4))}"`,
    preview,
    learningRate: 5e-3,
    clip: 5,
  };
};
