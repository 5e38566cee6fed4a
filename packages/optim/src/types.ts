/**
 * @file The shapes every optimizer shares: a gradient transformation is a pair of pure functions
 * over pytrees (Optax's `GradientTransformation`), and a learning rate is a number or a schedule.
 */
import * as T from "@rewind/tensor";

/**
 * A learning-rate (or any hyperparameter) schedule: the value to use at an update count.
 * Counts start at 0, so `schedule(0)` is used by the first update, as in Optax.
 * @example const halve: Schedule = (step) => 0.1 * 0.5 ** step;
 */
export type Schedule = (step: number) => number;

/**
 * A learning rate: a constant, or a schedule of the update count.
 * @example const lr: LearningRate = cosineDecay({ initValue: 1e-3, decaySteps: 1000 });
 */
export type LearningRate = number | Schedule;

/**
 * A gradient transformation: a pair of pure functions. `init(params)` builds the state (a pytree
 * of tensors and plain numbers, safe to checkpoint); `update(grads, state, params?)` returns the
 * updates (a pytree shaped like `grads`) and the next state. Neither writes its arguments.
 * Updates are added to parameters with `applyUpdates`, so descent transformations return
 * `−lr · direction`.
 *
 * Every update is built from @rewind/autodiff ops, so it also runs on traced values (under
 * `jit`, `grad`, `scan`). Update counts are plain numbers (schedules are plain functions of
 * them), which makes them static under `jit`: a jitted `update` gives the same bits as the eager
 * one but is traced anew at every step. The usual split is `jit(valueAndGrad(loss))` and an eager
 * `update`, which is elementwise and cheap.
 * @example
 * const opt = adam({ learningRate: 1e-3 });
 * let state = opt.init(params);
 * const [updates, next] = opt.update(grads, state, params);
 * params = applyUpdates(params, updates); state = next;
 */
export interface GradientTransformation<S> {
  /** The initial state for parameters shaped like `params`. */
  readonly init: <P>(params: P) => S;
  /** The updates for `grads` and the next state; `params` is needed by some (e.g. weight decay). */
  readonly update: <P>(grads: P, state: S, params?: P) => readonly [P, S];
}

/**
 * The state type of a transformation.
 * @example type S = StateOf<typeof opt>;
 */
export type StateOf<G> = G extends GradientTransformation<infer S> ? S : never;

/**
 * Any transformation, whatever its state. `any` (not `unknown`) because the state appears both
 * as an input and an output, so `GradientTransformation<AdamState>` is not assignable to
 * `GradientTransformation<unknown>`.
 * @example const parts: readonly AnyTransformation[] = [clipByGlobalNorm(1), adam({ learningRate: 1e-3 })];
 */
export type AnyTransformation = GradientTransformation<any>;

/**
 * The value of a learning rate at an update count.
 * @example learningRateAt((s) => 1 / (s + 1), 1) // 0.5
 */
export const learningRateAt = (lr: LearningRate, count: number): number => (typeof lr === "number" ? lr : lr(count));

/**
 * Checks a hyperparameter: a finite number, optionally within `[min, max]`; fails like the
 * tensor package does (a `TensorException` naming the optimizer and the argument).
 * @example checkNumber("adam", "b1", 0.9, 0, 1)
 */
export const checkNumber = (op: string, arg: string, value: unknown, min = -Infinity, max = Infinity): number => {
  if (typeof value === "number" && Number.isFinite(value) && value >= min && value <= max) return value;
  const range = min === -Infinity && max === Infinity ? "a finite number" : `a number in [${min}, ${max}]`;
  return invalidArgument(op, arg, `${arg} must be ${range}, got ${String(value)}`, `pass ${range}`);
};

/**
 * Throws a `TensorException` (`ValueError`) for a bad hyperparameter, naming the op and argument.
 * @example invalidArgument("joinSchedules", "boundaries", "2 schedules need 1 boundary, got 2", "pass one boundary fewer than schedules")
 */
export const invalidArgument = (op: string, arg: string, detail: string, fix: string): never => T.fail({ _tag: "ValueError", op, arg, detail, fix });

/**
 * Checks a learning rate: a finite number or a function.
 * @example checkLearningRate("sgd", 0.1)
 */
export const checkLearningRate = (op: string, lr: unknown): LearningRate =>
  typeof lr === "function" ? (lr as Schedule) : checkNumber(op, "learningRate", lr);
