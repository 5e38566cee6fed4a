/**
 * @file The shapes every optimizer shares: a gradient transformation is a pair of pure functions
 * over pytrees (Optax's `GradientTransformation`), and a learning rate is a number or a schedule.
 */
import * as T from "@rewind/tensor";
import { check, describeArg, finite, flag, nonNegativeInt, optionsProblem } from "@rewind/tensor/internal/check";
import { rule, withFix, type Rule } from "@rewind/tensor/internal/check";
import * as A from "@rewind/autodiff";

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
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- variance: `unknown` rejects every concrete state
export type AnyTransformation = GradientTransformation<any>;

/**
 * The value of a learning rate at an update count.
 * @throws TensorException for a count that is not a non-negative integer, or a schedule whose value
 * is not a finite number (it would silently poison every parameter).
 * @example learningRateAt((s) => 1 / (s + 1), 1) // 0.5
 */
export const learningRateAt = (lr: LearningRate, count: number): number => {
  checkCount("learningRateAt", "count", count);
  if (typeof lr === "number") return lr;
  if (typeof lr !== "function")
    return invalidArgument(
      "learningRateAt",
      "lr",
      `a learning rate must be a number or a schedule, got ${describeArg(lr)}`,
      "pass e.g. 1e-3 or cosineDecay({ … })",
    );
  const value: unknown = lr(count);
  // A NaN or infinite rate would silently poison every parameter it touches.
  if (typeof value !== "number" || !Number.isFinite(value)) {
    return invalidArgument(
      "learningRateAt",
      "lr",
      `the schedule returned ${describeArg(value)} at update count ${count}`,
      "make the schedule return a finite number for every count ≥ 0",
    );
  }
  return value;
};

/**
 * Checks a hyperparameter: a finite number, optionally within `[min, max]`; fails like the
 * tensor package does (a `TensorException` naming the optimizer and the argument).
 * @example checkNumber("adam", "b1", 0.9, 0, 1)
 */
export const checkNumber = (op: string, arg: string, value: unknown, min = -Infinity, max = Infinity): number =>
  check(op, arg, value, min === -Infinity && max === Infinity ? finite : finiteIn(min, max)) as number;

/** A finite number in `[min, max]` (a bound may be infinite; the number may not). */
const finiteIn = (min: number, max: number): Rule =>
  rule(
    `a number in [${min}, ${max}]`,
    (x) => typeof x === "number" && Number.isFinite(x) && x >= min && x <= max,
    `pass a number in [${min}, ${max}]`,
  );

/**
 * Throws a `TensorException` (`ValueError`) for a bad hyperparameter, naming the op and argument.
 * @example
 * invalidArgument("joinSchedules", "boundaries", "2 schedules need 1 boundary, got 2", "pass one boundary fewer")
 */
export const invalidArgument = (op: string, arg: string, detail: string, fix: string): never =>
  T.fail({ _tag: "ValueError", op, arg, detail, fix });

/**
 * Checks a learning rate: a finite number or a function.
 * @example checkLearningRate("sgd", 0.1)
 */
export const checkLearningRate = (op: string, lr: unknown): LearningRate =>
  typeof lr === "function" ? (lr as Schedule) : checkNumber(op, "learningRate", lr);

/**
 * Checks an update count: a non-negative integer (what `init` starts and `update` increments).
 * @example checkCount("scaleByAdam", "state.count", state.count)
 */
export const checkCount = (op: string, arg: string, count: unknown): number =>
  check(op, arg, count, countRule) as number;

const countRule = withFix(nonNegativeInt, "pass the state that init / the previous update returned");

/**
 * Checks an optional flag: a boolean or undefined (a truthy string must not switch an option on).
 * @example checkFlag("traceMomentum", "nesterov", options.nesterov)
 */
export const checkFlag = (op: string, arg: string, value: unknown): boolean | undefined =>
  check(op, arg, value, flag) as boolean | undefined;

/**
 * Checks an options argument with the shared check of @rewind/tensor: a plain object (or
 * undefined when `optional`) whose keys are all in `known`. A misspelt hyperparameter
 * (`momentun`, `beta1`, `weight_decay`) would otherwise be ignored and the default used; the
 * message suggests the key it most likely meant.
 * @example checkOptions("adam", options, ["learningRate", "b1", "b2", "eps", "epsRoot"])
 */
export const checkOptions = (op: string, options: unknown, known: readonly string[], optional = false): void => {
  const problem = optionsProblem(op, "options", options, known, !optional);
  if (problem !== undefined) invalidArgument(op, problem.arg, problem.detail, problem.fix);
};

/**
 * Checks that `t` is a gradient transformation (`{ init, update }` functions).
 * @example checkTransformation("chain", "transforms[0]", t)
 */
export const checkTransformation = (op: string, arg: string, t: unknown): void => {
  const r = t as { init?: unknown; update?: unknown } | null;
  if (typeof r !== "object" || r === null || typeof r.init !== "function" || typeof r.update !== "function") {
    invalidArgument(
      op,
      arg,
      `expected a gradient transformation { init, update }, got ${describeArg(t)}`,
      "pass e.g. adam({ learningRate: 1e-3 }) or scale(0.5)",
    );
  }
};

/**
 * Checks the state passed to `update`: an object holding `fields` (what `init` returned), so a
 * wrong or missing state is reported instead of failing deep inside the update.
 * @example checkState("scaleByAdam", state, ["count", "mu", "nu"])
 */
export const checkState = (op: string, state: unknown, fields: readonly string[]): void => {
  const missing = typeof state !== "object" || state === null ? fields : fields.filter((f) => !(f in state));
  if (typeof state !== "object" || state === null || missing.length > 0) {
    invalidArgument(
      op,
      "state",
      typeof state !== "object" || state === null
        ? `the state must be what init returned, got ${describeArg(state)}`
        : `the state lacks ${missing.join(", ")}`,
      `pass the state ${op}'s init (or its previous update) returned, not another transformation's`,
    );
  }
};

/**
 * Checks that `grads` has the structure and leaf shapes of `tree` (the state's moments, or the
 * parameters), naming the first difference: a gradient of another shape would otherwise
 * broadcast against the state and silently change its shape.
 * @example checkLike("scaleByAdam", grads, "state.mu", state.mu)
 */
export const checkLike = (op: string, grads: unknown, arg: string, tree: unknown, what = "gradients"): void => {
  const [gs, gdef] = A.treeFlatten(grads);
  const [ts, tdef] = A.treeFlatten(tree);
  const fail = (path: string, detail: string): never =>
    T.fail({ _tag: "TreeMismatch", op, path, detail, fix: `pass ${what} shaped exactly like the parameters` });
  if (A.treeDefKey(gdef) !== A.treeDefKey(tdef))
    fail("<root>", `the ${what} ${A.treeDefKey(gdef)} and ${arg} ${A.treeDefKey(tdef)} differ in structure`);
  const paths = A.treeLeavesWithPaths(grads);
  gs.forEach((g, i) => {
    const t = ts[i]!;
    if (!T.shapesEqual(g.shape, t.shape))
      fail(paths[i]![0], `the ${what} have shape [${g.shape.join(", ")}] here but ${arg} [${t.shape.join(", ")}]`);
  });
};
