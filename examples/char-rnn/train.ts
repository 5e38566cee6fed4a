/**
 * @file Training: the state, one step, the held-out loss, samples, checkpoints, and the loop.
 *
 * A step is one jitted function of `(params, optState, carry, x, y)`: the loss, its gradient, the
 * clipping, Adam and `applyUpdates`, traced and compiled once (every chunk has the same shapes and
 * the optimizer state is all tensors, its update count included), the way JAX users write
 * `@jax.jit def train_step` (`trainStep` of @rewind/optim). The old parameters and optimizer state
 * are donated: the step writes its results into the buffers given up by the step before, so it
 * allocates no parameter-sized arrays, and `Trainer.step` consumes the state it is given.
 *
 * Everything random is drawn from keys derived from one root key by `split` and `foldIn` with the
 * step or epoch number, never from a stateful generator, so the run is a pure function of
 * (config, root key) and a checkpoint holding the state, the step and the key resumes it exactly.
 */
import { item, random, type Key, type Tensor } from "@rewind/tensor";
import { jit, stopGradient, treeMap, type Value } from "@rewind/autodiff";
import { trainStep, type Checkpoint, type CheckpointTemplate, type JsonConfig } from "@rewind/optim";
import { pmap, type Placed } from "@rewind/workers/node";
import { checkConfig, type Config } from "./config.js";
import {
  decode,
  encode,
  heldOutBatches,
  makeStreams,
  trainBatch,
  unigramLoss,
  type Corpus,
  type HeldOutBatches,
  type Streams,
} from "./data.js";
import { cellOf, evalLoss, initParams, sample, trainLoss, type AnyCharCell, type Carry, type Params } from "./model.js";
import { makeOptimizer, type OptState } from "./optimizer.js";
import type { parallelStep } from "./parallelStep.js";

/** Everything that changes during training. */
export interface TrainState {
  readonly params: Params;
  readonly optState: OptState;
  /** The B streams' recurrent state after the last chunk (zero at an epoch start). */
  readonly carry: Carry;
  /** Steps done. */
  readonly step: number;
}

/**
 * What goes into a checkpoint's `optState` slot: the optimizer's state and the carried recurrent
 * state. The carry is training state too: without it a resumed run would start its next chunk
 * from zeros and drift from the uninterrupted one.
 */
interface SavedTrainingState {
  readonly optimizer: OptState;
  readonly carry: Carry;
}

/** What a step returns: the new state and the batch's mean loss (nats/char). */
export interface StepResult {
  readonly state: TrainState;
  readonly loss: number;
}

/** Options of `createTrainer` that do not change what is trained. */
export interface TrainerOptions {
  /**
   * Worker threads for the training step (default 1: this thread). With N > 1 the batch's streams
   * are split into N equal shards (`pmap` of @rewind/workers), the gradients averaged in worker
   * order; the run is then bit-reproducible for that N, and agrees with one worker within float
   * rounding (not bit for bit).
   */
  readonly workers?: number;
}

export interface Trainer {
  readonly config: Config;
  readonly corpus: Corpus;
  readonly streams: Streams;
  /** The root key: the checkpoint stores it; every other key is derived from it. */
  readonly key: Key;
  readonly heldOut: HeldOutBatches;
  /** The unigram baseline on exactly the held-out characters the model is scored on. */
  readonly unigram: number;
  readonly init: () => TrainState;
  /**
   * One optimizer step on the batch of `state.step`; returns the new state and the batch's mean loss
   * (nats/char). Consumes `state`: its tensors are donated to the step, so keep the returned state.
   * With workers the step runs on them and the result comes as a promise.
   */
  readonly step: (state: TrainState) => StepResult | Promise<StepResult>;
  /**
   * How many times the training step was traced: 1 from the first step on (it is compiled once).
   * Undefined with workers: each worker traces its own copy.
   */
  readonly stepTraces: () => number | undefined;
  /** The number of worker threads the step runs on (1: this thread). */
  readonly workers: number;
  /** Stops the worker threads, if any. */
  readonly close: () => Promise<void>;
  /** Mean nats/char over the whole held-out text. */
  readonly heldOutLoss: (params: Params) => number;
  /** A sample continuing `config.prime`, from the key of step `step` (so it is reproducible too). */
  readonly sample: (params: Params, step: number) => string;
  readonly toCheckpoint: (state: TrainState) => Checkpoint<Params, SavedTrainingState>;
  /** The shape a restored checkpoint must have. */
  readonly template: () => CheckpointTemplate<Params, SavedTrainingState>;
  readonly fromCheckpoint: (c: Checkpoint<Params, SavedTrainingState>) => TrainState;
}

/** Builds the trainer of a configuration; `key` defaults to `random.key(config.seed)` (a resumed run passes its checkpoint's). */
export const createTrainer = (
  config: Config,
  corpus: Corpus,
  key: Key = random.key(config.seed),
  options: TrainerOptions = {},
): Trainer => {
  checkConfig(config);
  const workers = options.workers ?? 1;
  if (!(Number.isSafeInteger(workers) && workers >= 1 && config.batch % workers === 0))
    throw new RangeError(
      `--workers ${workers}: the batch of ${config.batch} streams must split into equal shards; ` +
        `pass a divisor of ${config.batch} (or change --batch)`,
    );
  const cell: AnyCharCell = cellOf(config.cell);
  const vocab = corpus.chars.length;
  const streams = makeStreams(corpus, config.batch, config.chunk);
  const heldOut = heldOutBatches(corpus, config.evalStreams, config.evalChunk);
  const prime = encode(corpus, config.prime);
  const [kInit, kData, kSample] = random.split(key, 3) as [Key, Key, Key];

  const optimizer = makeOptimizer(config);
  // Each chunk is its own graph and the carry enters it as an input, so no gradient can reach
  // earlier chunks; stopGradient says so in the graph as well.
  const loss = trainLoss(cell);
  // The whole step is one jitted program (see the file comment); the final carry is the loss's aux.
  const jittedStep = trainStep(
    (p: Params, carry: Carry, x: Value, y: Value) => loss(p, treeMap<Carry>(stopGradient, carry), x, y),
    optimizer,
    { hasAux: true },
  );
  const evalChunk = jit(
    evalLoss(cell) as (p: Params, carry: Carry, x: Tensor, y: Tensor, mask: Tensor) => [Tensor, Carry],
  );

  const zeroCarry = (batch: number, params: Params): Carry => cell.initialCarry(batch, params.cell);

  const init = (): TrainState => {
    const params = initParams(kInit, config, vocab);
    return { params, optState: optimizer.init(params), carry: zeroCarry(config.batch, params), step: 0 };
  };

  const oneThreadStep = (s: TrainState): StepResult => {
    const batch = trainBatch(corpus, streams, kData, s.step);
    const carry = batch.startsEpoch ? zeroCarry(config.batch, s.params) : s.carry;
    const r = jittedStep(s.params, s.optState, carry, batch.x, batch.y);
    return { state: { params: r.params, optState: r.optState, carry: r.aux, step: s.step + 1 }, loss: item(r.loss) };
  };
  // Each worker gets the same parameters and optimizer state and its own streams (batch rows). The
  // new parameters, optimizer state and carry stay with the workers (keep) and the old ones' memory
  // holds the next results (donate): no step ships them through a message or copies them into
  // fresh memory. The main thread reads them only when it evaluates, samples or saves.
  const pool =
    workers > 1
      ? pmap<typeof parallelStep, 0 | 1 | 3>(new URL("./parallelStep.ts", import.meta.url), "parallelStep", {
          workers,
          inAxes: [null, null, null, 0, 0, 0],
          outAxes: [null, null, null, 0],
          keep: [0, 1, 3],
          donate: [1, 2, 3],
        })
      : undefined;
  const held = new WeakMap<TrainState, readonly [Placed<Params>, Placed<OptState>, Placed<Carry>]>();
  let zeroTrainCarry: Carry | undefined;
  const workerStep = async (s: TrainState): Promise<StepResult> => {
    const batch = trainBatch(corpus, streams, kData, s.step);
    const placed = held.get(s);
    // Made once, from the first state (concrete: fresh or restored), and passed as is (not donated).
    zeroTrainCarry ??= zeroCarry(config.batch, s.params);
    const zero = batch.startsEpoch ? zeroTrainCarry : undefined;
    const [params, optState, loss, carry] = await pool!(
      config,
      placed?.[0] ?? s.params,
      placed?.[1] ?? s.optState,
      zero ?? placed?.[2] ?? s.carry,
      batch.x,
      batch.y,
    );
    const state = placedState(params, optState, carry, s.step + 1);
    held.set(state, [params, optState, carry]);
    return { state, loss: item(loss) };
  };

  const heldOutLoss = (params: Params): number => {
    let carry = zeroCarry(config.evalStreams, params);
    let total = 0; // float64 on the host: the sum of ~60k per-character losses
    for (const c of heldOut.chunks) {
      const [nll, next] = evalChunk(params, carry, c.x, c.y, c.mask);
      total += item(nll);
      carry = next;
    }
    return total / heldOut.count;
  };

  const sampleAt = (params: Params, at: number): string =>
    decode(corpus, sample(cell, params, prime, config.sampleLength, config.temperature, random.foldIn(kSample, at)));

  const template = (): CheckpointTemplate<Params, SavedTrainingState> => {
    const s = init();
    return { params: s.params, optState: { optimizer: s.optState, carry: s.carry } };
  };

  return {
    config,
    corpus,
    streams,
    key,
    heldOut,
    unigram: unigramLoss(corpus, heldOut.targets),
    init,
    step: pool === undefined ? oneThreadStep : workerStep,
    stepTraces: () => (pool === undefined ? jittedStep.traceCount() : undefined),
    workers,
    close: async () => pool?.close(),
    heldOutLoss,
    sample: sampleAt,
    template,
    toCheckpoint: (s) => ({
      params: s.params,
      optState: { optimizer: s.optState, carry: s.carry },
      step: s.step,
      key,
      config: config as unknown as JsonConfig,
    }),
    fromCheckpoint: (c) => ({
      params: c.params,
      optState: c.optState.optimizer,
      carry: c.optState.carry,
      step: c.step,
    }),
  };
};

/** What the loop reports. */
export interface Hooks {
  /**
   * After every step: the step number (steps done), its loss, training steps/s over the recent
   * steps, and the seconds left (the remaining steps at that rate plus the evaluations and samples
   * still scheduled at their measured cost).
   */
  readonly onStep?: (step: number, loss: number, stepsPerSecond: number, secondsLeft: number) => void;
  readonly onEval?: (step: number, heldOut: number) => void;
  readonly onSample?: (step: number, text: string) => void;
  /** Polled after every step; true stops the loop (Ctrl-C). */
  readonly shouldStop?: () => boolean;
  /** Called at every evaluation with the current state, e.g. to write a checkpoint. */
  readonly onCheckpoint?: (state: TrainState) => void;
}

/**
 * Lets pending timers, messages and signal handlers run between steps, so the loop also behaves
 * on a main thread (a progress bar redraws, a Ctrl-C handler can set the stop flag).
 */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Trains from `state` until `config.steps` or until `shouldStop()`. Evaluates at the start of a
 * fresh run, at the quarters of the first `evalEvery` steps, every `evalEvery` steps and at the
 * end; samples every `sampleEvery` steps and at the end. Evaluations and samples only read the
 * parameters: they never change the run.
 */
export const train = async (
  t: Trainer,
  start: TrainState,
  hooks: Hooks = {},
): Promise<{
  readonly state: TrainState;
  readonly stopped: boolean;
  /** Time spent in training steps alone. */ readonly stepSeconds: number;
}> => {
  const { config } = t;
  let state = start;
  let lastEval = -1;
  const cost = { eval: [0, 0], sample: [0, 0] }; // [total ms, count], for the time left
  const timed = <A>(what: "eval" | "sample", f: () => A): A => {
    const began = performance.now();
    const out = f();
    cost[what][0]! += performance.now() - began;
    cost[what][1]! += 1;
    return out;
  };
  const evaluate = (): void => {
    hooks.onEval?.(
      state.step,
      timed("eval", () => t.heldOutLoss(state.params)),
    );
    lastEval = state.step;
  };
  if (state.step === 0) evaluate();
  // The loss falls fastest at the start, so the first interval is measured at its quarters too:
  // otherwise the held-out curve would be a straight line across the steepest part.
  const quarter = Math.max(1, Math.floor(config.evalEvery / 4));
  const evalDue = (s: number): boolean =>
    s % config.evalEvery === 0 || (s < config.evalEvery && s % quarter === 0) || s === config.steps;
  const sampleDue = (s: number): boolean => s % config.sampleEvery === 0 || s === config.steps;
  const secondsLeft = (stepsPerSecond: number): number => {
    let ms = (1000 * (config.steps - state.step)) / stepsPerSecond;
    for (let s = state.step + 1; s <= config.steps; s++) {
      if (evalDue(s)) ms += cost.eval[0]! / Math.max(1, cost.eval[1]!);
      if (sampleDue(s)) ms += cost.sample[0]! / Math.max(1, cost.sample[1]!);
    }
    return ms / 1000;
  };
  const recent: number[] = []; // durations of the last steps, for steps/s
  let stopped = false;
  let stepMs = 0;
  while (state.step < config.steps) {
    const began = performance.now();
    const r = await t.step(state);
    state = r.state;
    recent.push(performance.now() - began);
    stepMs += recent[recent.length - 1]!;
    if (recent.length > 20) recent.shift();
    const rate = (1000 * recent.length) / recent.reduce((a, b) => a + b, 0);
    hooks.onStep?.(state.step, r.loss, rate, secondsLeft(rate));
    if (!Number.isFinite(r.loss))
      throw new Error(`the training loss is ${r.loss} at step ${state.step}; lower the learning rate (--lr)`);
    const last = state.step === config.steps;
    if (evalDue(state.step)) {
      evaluate();
      hooks.onCheckpoint?.(state);
    }
    if (sampleDue(state.step))
      hooks.onSample?.(
        state.step,
        timed("sample", () => t.sample(state.params, state.step)),
      );
    await yieldToEventLoop();
    if (hooks.shouldStop?.() === true && !last) {
      stopped = true;
      break;
    }
  }
  // Stopped early: measure where it stopped, so the report ends on a held-out figure.
  if (lastEval !== state.step) evaluate();
  return { state, stopped, stepSeconds: stepMs / 1000 };
};

/**
 * A training state whose tensors stay with the workers until read: each field is copied to this
 * thread on first use (an evaluation, a sample, a checkpoint) and kept.
 */
const placedState = (
  params: Placed<Params>,
  optState: Placed<OptState>,
  carry: Placed<Carry>,
  step: number,
): TrainState => {
  const cache: { params?: Params; optState?: OptState; carry?: Carry } = {};
  return {
    get params() {
      return (cache.params ??= params.value() as Params);
    },
    get optState() {
      return (cache.optState ??= optState.value() as OptState);
    },
    get carry() {
      return (cache.carry ??= carry.value() as Carry);
    },
    step,
  };
};
