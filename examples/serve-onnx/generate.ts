/**
 * @file Text generation from char-rnn's exported sampler with onnxruntime-node alone (no Rewind):
 * the prime is fed one character at a time to set the state, then each drawn character is fed
 * back. Sampling is softmax(logits / temperature) with a seeded generator, so a seed gives the
 * same text every time.
 */
import { InferenceSession, Tensor } from "onnxruntime-node";

/** `model.json` beside `model.onnx` (written by char-rnn's onnx.ts). */
export interface ServingInfo {
  readonly vocab: readonly string[];
  readonly state: ReadonlyArray<{ readonly input: string; readonly output: string; readonly shape: readonly number[] }>;
}

/** Options of `generateText`. */
export interface GenerateOptions {
  readonly prime: string;
  readonly length: number;
  readonly temperature: number;
  readonly seed: number;
}

/** A small seeded generator (mulberry32): uniform numbers in [0, 1). */
const uniforms = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** An index drawn from softmax(logits / temperature). */
const draw = (logits: Float32Array, temperature: number, u: number): number => {
  let max = -Infinity;
  for (const l of logits) max = Math.max(max, l / temperature);
  const weights = Array.from(logits, (l) => Math.exp(l / temperature - max));
  let r = u * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) if ((r -= weights[i]!) < 0) return i;
  return weights.length - 1;
};

/** One step of the sampler: the logits of the next character, and the state after `id`. */
export type Step = (id: number, state: Record<string, Tensor>) => Promise<[Float32Array, Record<string, Tensor>]>;

/** The sampler step of an ONNX Runtime session, with `info`'s state names. */
export const sessionStep =
  (session: InferenceSession, info: ServingInfo): Step =>
  async (id, state) => {
    const out = await session.run({ id: new Tensor("int32", Int32Array.of(id), [1]), ...state });
    const next = Object.fromEntries(info.state.map((s) => [s.input, out[s.output]!]));
    return [out["logits"]!.data as Float32Array, next];
  };

/** The zero state the sampler starts from. */
export const zeroState = (info: ServingInfo): Record<string, Tensor> =>
  Object.fromEntries(
    info.state.map((s) => [
      s.input,
      new Tensor("float32", new Float32Array(s.shape.reduce((a, b) => a * b, 1)), [...s.shape]),
    ]),
  );

/**
 * `length` characters continuing `prime`, drawn at `temperature` from `seed`. Characters of the
 * prime that are not in the vocabulary are refused, naming them.
 */
export const generateText = async (step: Step, info: ServingInfo, o: GenerateOptions): Promise<string> => {
  const idOf = new Map(info.vocab.map((c, i) => [c, i]));
  const unknown = [...new Set(o.prime)].filter((c) => !idOf.has(c));
  if (o.prime.length === 0 || unknown.length > 0)
    throw new Error(
      o.prime.length === 0
        ? "--prime must hold at least one character"
        : `--prime holds characters the model never saw: ${unknown.map((c) => JSON.stringify(c)).join(", ")}`,
    );
  const next = uniforms(o.seed);
  let state = zeroState(info);
  let logits: Float32Array = new Float32Array(0);
  for (const c of o.prime) [logits, state] = await step(idOf.get(c)!, state);
  let text = "";
  for (let i = 0; i < o.length; i++) {
    const id = draw(logits, o.temperature, next());
    text += info.vocab[id]!;
    [logits, state] = await step(id, state);
  }
  return text;
};
