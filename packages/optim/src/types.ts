/**
 * @file The shapes every optimizer shares: a gradient transformation is a pair of pure functions
 * over pytrees (Optax's `GradientTransformation`), a learning rate is a number or a schedule, and
 * the checks of their arguments (hyperparameters, states, update counts).
 */
import * as T from "@rewind/tensor";
import { check, describeArg, finite, flag, optionsProblem } from "@rewind/tensor/internal/check";
import { rule, type Rule } from "@rewind/tensor/internal/check";
import * as A from "@rewind/autodiff";
import type { Concrete, Value } from "@rewind/autodiff";

/**
 * A learning-rate (or any hyperparameter) schedule: the value to use at an update count, computed
 * with @rewind/autodiff ops so that it runs inside the graph. The count is an int32 scalar: a
 * tensor when the update runs eagerly, a tracer under `jit` (so one trace serves every step).
 * Counts start at 0, so the first update uses the value at 0, as in Optax. The value is a scalar
 * (any float dtype; the update rounds it to each parameter's dtype) or a plain number.
 *
 * A schedule written for numbers (`(step) => 0.1 * 0.5 ** step`) still runs eagerly, where the
 * count tensor converts to its number, but fails under `jit` (see `learningRateAt`).
 * @example
 * import * as A from "@rewind/autodiff";
 * const halve: Schedule = (count) => A.mul(0.1, A.pow(0.5, count));
 */
export type Schedule = (count: Value) => Value | number;

/**
 * The schedules of this package: a `Schedule` that can also be called with a plain number, and
 * then returns a plain number (computed by the same ops, so both give the same bits).
 * @example
 * const lr: ScheduleFn = cosineDecay({ initValue: 1e-3, decaySteps: 1000 });
 * lr(500) // 0.0005, a number
 * lr(T.scalar(500, "int32")) // the same value, as a float64 scalar tensor
 */
export interface ScheduleFn {
  /** The value at an update count tensor or tracer, as a float64 scalar. */
  (count: Value): Value;
  /**
   * The value at a number of updates (fractional and negative steps are evaluated too). Last, so
   * that `[0, 1, 2].map(schedule)` infers numbers.
   */
  (count: number): number;
}

/**
 * A learning rate: a constant, or a schedule of the update count.
 * @example const lr: LearningRate = cosineDecay({ initValue: 1e-3, decaySteps: 1000 });
 */
export type LearningRate = number | Schedule;

/**
 * A gradient transformation: a pair of pure functions. `init(params)` builds the state (a pytree
 * of tensors, safe to checkpoint); `update(grads, state, params?)` returns the updates (a pytree
 * shaped like `grads`) and the next state. Neither writes its arguments. Updates are added to
 * parameters with `applyUpdates`, so descent transformations return `−lr · direction`.
 *
 * Every update is built from @rewind/autodiff ops, and every per-step scalar of a state (update
 * counts as int32 scalars, flags as bool scalars) is a tensor, so the update runs eagerly on
 * tensors and equally on traced values (under `jit`, `grad`, `scan`): `jit` of a whole training
 * step `(params, optState, batch) → (params', optState', metrics)` traces once and is reused at
 * every step, with the same bits as the eager step.
 * @example
 * const opt = adam({ learningRate: 1e-3 });
 * let state = opt.init(params);
 * const step = jit((p: typeof params, s: typeof state, g: typeof params) => {
 *   const [updates, next] = opt.update(g, s, p);
 *   return [applyUpdates(p, updates), next] as const;
 * });
 * [params, state] = step(params, state, grads);
 */
export interface GradientTransformation<S> {
  /** The initial state for parameters shaped like `params`. */
  readonly init: <P>(params: P) => S;
  /** The updates for `grads` and the next state; `params` is needed by some (e.g. weight decay). */
  readonly update: <P>(grads: P, state: S, params?: P) => readonly [P, S];
}

/**
 * A gradient transformation as this package's constructors return it (`adam`, `chain`,
 * `skipNonFinite`, …): a `GradientTransformation<S>` with two more call signatures.
 *
 * - On tensors, `init` and `update` return tensors: `opt.init(params)` with tensor parameters is
 *   `Concrete<S>`, so the state goes into a jitted step whose result is then typed with tensors.
 * - `init` and `update` can be called on a union of transformations:
 *   `const opt = clip ? chain(clipByGlobalNorm(1), adam(o)) : adam(o)` needs no annotation;
 *   `opt.init(params)` is the union of the states and `opt.update(grads, state, params)` accepts
 *   it and returns it. (A plain `update` typed `(grads, state: S)` cannot take the union: called
 *   on a union of functions, TypeScript demands an argument that fits every member, the
 *   intersection of the states.) The extra signatures read the state type from `this`, so every
 *   member of a union has the same ones.
 *
 * Write your own transformations as `GradientTransformation<S>`, and pass them through
 * `optimizer` (or `chain`) to get this type.
 * @example
 * const opt = clip ? chain(clipByGlobalNorm(1), adam({ learningRate: 1e-3 })) : adam({ learningRate: 1e-3 });
 * let state = opt.init(params);
 * [updates, state] = opt.update(grads, state, params);
 */
export type Optimizer<S> = {
  /** The initial state: tensors when `params` are tensors (`P & Concrete<P>` holds no traced value). */
  readonly init: (<P, O extends AnyTransformation>(this: O, params: P & Concrete<P>) => Concrete<StateOf<O>>) &
    (<P, O extends AnyTransformation>(this: O, params: P) => StateOf<O>);
  /** The updates and next state: tensors when the gradients and the state are tensors. */
  readonly update: (<P, O extends AnyTransformation>(
    this: O,
    grads: P & Concrete<P>,
    state: Concrete<StateOf<O>>,
    params?: P,
  ) => readonly [P, Concrete<StateOf<O>>]) &
    (<P, O extends AnyTransformation>(this: O, grads: P, state: StateOf<O>, params?: P) => readonly [P, StateOf<O>]);
} & GradientTransformation<S>;

/**
 * Gives a transformation the `Optimizer` type: the same object (nothing is wrapped or copied),
 * whose `update` TypeScript can then also call on a union of transformations (see `Optimizer`).
 * @example
 * const mine: GradientTransformation<EmptyState> = { init: () => ({}), update: (g, s) => [g, s] };
 * const opt = useClip ? optimizer(mine) : adam({ learningRate: 1e-3 });
 */
export const optimizer = <S>(transformation: GradientTransformation<S>): Optimizer<S> => {
  checkTransformation("optimizer", "transformation", transformation);
  // Sound: the extra signatures' state is `StateOf<this>`, which is `S` for this object, and on
  // tensors every op of an update returns tensors.
  return transformation as Optimizer<S>;
};

/**
 * The state type of a transformation (or the union of them, for a union of transformations),
 * read from `init`'s last signature: a `GradientTransformation`'s own, which `Optimizer` keeps.
 * @example type S = StateOf<typeof opt>;
 */
export type StateOf<G> = G extends {
  /** The transformation's `init`: what it returns is the state. */
  readonly init: (params: never) => infer S;
}
  ? S
  : never;

/**
 * Any transformation, whatever its state. `any` (not `unknown`) because the state appears both
 * as an input and an output, so `GradientTransformation<AdamState>` is not assignable to
 * `GradientTransformation<unknown>`.
 * @example const parts: readonly AnyTransformation[] = [clipByGlobalNorm(1), adam({ learningRate: 1e-3 })];
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- variance: `unknown` rejects every concrete state
export type AnyTransformation = GradientTransformation<any>;

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
 * A fresh update count of 0: an int32 scalar tensor (Optax's `count` is int32 too). Fresh at
 * every `init`, so no two states share a buffer.
 * @example scaleByLearningRate(0.1).init(params).count // int32 scalar 0
 */
export const zeroCount = (): T.Tensor => T.scalar(0, "int32");

/**
 * Checks an update count: an int32 scalar tensor or tracer (what `init` starts and `update`
 * increments), and, when its number is known (a tensor), non-negative. A plain number is
 * refused: it would be a constant under `jit`, which would then trace anew at every step.
 * @example checkCount("scaleByAdam", "state.count", state.count)
 */
export const checkCount = (op: string, arg: string, count: unknown): Value => {
  if (!A.isValue(count) || count.dtype !== "int32" || count.shape.length !== 0) {
    return invalidArgument(
      op,
      arg,
      `${arg} must be an update count (an int32 scalar tensor), got ${describeValue(count)}`,
      "pass the state that init (or the previous update) returned",
    );
  }
  if (!A.isTracer(count) && count.data[0]! < 0) {
    return invalidArgument(
      op,
      arg,
      `${arg} must be a non-negative update count, got ${count.data[0]!}`,
      "pass the state that init (or the previous update) returned",
    );
  }
  return count;
};

/**
 * A scalar factor in each dtype asked for, converted once per dtype and kept. Host formulas (a
 * learning rate, Adam's bias corrections) are computed in float64, as JavaScript numbers were,
 * and rounded here: a float64 scalar converted to float32 has the bits `T.scalar(x, "float32")`
 * has, so the factor multiplies exactly as a number next to a float32 tensor did (weak typing).
 * A plain number is returned as is.
 * @example const c = inEachDType(A.sub(1, A.pow(0.9, t))); A.div(m, c(m.dtype))
 */
export const inEachDType = (factor: Value | number): ((dtype: T.DType) => Value | number) => {
  if (typeof factor === "number") return () => factor;
  const cache = new Map<T.DType, Value>();
  return (dtype) => {
    let v = cache.get(dtype);
    if (v === undefined) cache.set(dtype, (v = A.astype(factor, dtype)));
    return v;
  };
};

/**
 * What arrived, for a message: a tensor or tracer by its dtype and shape (`a float32[2] tensor`),
 * anything else as `describeArg` shows it.
 * @example describeValue(T.scalar(1)) // "a float32[] tensor"
 */
export const describeValue = (v: unknown): string =>
  A.isValue(v) ? `a ${v.dtype}[${v.shape.join(", ")}] ${A.isTracer(v) ? "traced value" : "tensor"}` : describeArg(v);

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
