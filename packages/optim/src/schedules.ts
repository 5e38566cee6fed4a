/**
 * @file Learning-rate schedules: functions of the update count (0 for the first update), written
 * with @rewind/autodiff ops so that they evaluate inside the graph: an optimizer calls them with
 * its int32 count, a tensor eagerly and a tracer under `jit` (one trace serves every step). Each
 * can also be called with a plain number and then returns a plain number, computed by the same
 * ops, so both give the same bits. Formulas and argument names follow Optax's
 * `optax/_src/schedule.py`, in camelCase.
 *
 * The formulas run in float64 with the operations, in the order, that earlier versions ran on
 * JavaScript numbers: `**` is `pow` (float64 `pow` is `Math.pow`), `Math.max`/`Math.min` are
 * `maximum`/`minimum` with their operands ordered to give the same signed zero, and branches are
 * `where`. So a schedule's values, and the training runs that use them, did not change.
 *
 * A schedule refuses a NaN step (a NaN learning rate would silently turn the parameters into
 * NaN); fractional and negative steps are evaluated (negative ones clamp to the start as Optax's do).
 */
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { keysOf } from "@rewind/tensor/internal/check";
import {
  checkFlag,
  checkNumber,
  checkOptions,
  describeValue,
  invalidArgument,
  type Schedule,
  type ScheduleFn,
} from "./types.js";

const INT32_MAX = 2147483647;

/** A float64 scalar constant. */
const f64 = (x: number): T.Tensor => T.scalar(x, "float64");

/** `Math.max(x, c)` exactly: the kernel keeps its second operand on a tie, Math.max gives +0 for ±0. */
const maxWith = (x: Value, c: number): Value => (Object.is(c, -0) ? A.maximum(c, x) : A.maximum(x, c));
/** `Math.min(x, c)` exactly: Math.min gives −0 for ±0. */
const minWith = (x: Value, c: number): Value => (Object.is(c, -0) ? A.minimum(x, c) : A.minimum(c, x));

/** The step, when a schedule can evaluate it: a number that is not NaN, or a numeric scalar value. */
const checkStep = (op: string, step: unknown): number | Value => {
  const ok =
    typeof step === "number"
      ? !Number.isNaN(step)
      : A.isValue(step) && step.shape.length === 0 && step.dtype !== "bool";
  if (ok) return step as number | Value;
  return invalidArgument(
    op,
    "step",
    `the step must be a number or an int32 scalar update count, got ${describeValue(step)}`,
    "pass the update count (0 for the first update)",
  );
};

/**
 * A schedule from its float64 formula. A number step is evaluated on a float64 scalar and read
 * back as a number; a count value (int32, from an optimizer) is converted to float64 first. The
 * two meet on the same float64 input, so they give the same bits.
 */
const schedule = (op: string, formula: (step: Value) => Value): ScheduleFn =>
  ((count: unknown): Value | number => {
    const step = checkStep(op, count);
    return typeof step === "number" ? T.item(formula(f64(step)) as T.Tensor) : formula(A.astype(step, "float64"));
  }) as ScheduleFn;

/** The same schedule, refusing a bad step under the name `op`. */
const named = (op: string, f: ScheduleFn): ScheduleFn =>
  ((count: unknown): Value | number => f(checkStep(op, count) as Value)) as ScheduleFn;

/** A schedule's value as a float64 scalar (a schedule written for numbers returns a number). */
const valueOf = (v: Value | number): Value => (typeof v === "number" ? f64(v) : A.astype(v, "float64"));

/** A step count: a non-negative integer, at least `min`. */
const checkSteps = (op: string, arg: string, value: unknown, min = 0): number => {
  const n = checkNumber(op, arg, value, min);
  return Number.isInteger(n)
    ? n
    : invalidArgument(op, arg, `${arg} must be a whole number of steps, got ${n}`, "pass an integer");
};

/**
 * The same value at every step.
 * @example constantSchedule(0.1)(1000) // 0.1
 */
export const constantSchedule = (value: number): ScheduleFn => {
  const v = checkNumber("constantSchedule", "value", value);
  return schedule("constantSchedule", () => f64(v));
};

/**
 * Options of `linearSchedule`.
 * @example const opts: LinearScheduleOptions = { initValue: 0, endValue: 1e-3, transitionSteps: 100 };
 */
export interface LinearScheduleOptions {
  /** Value at step 0 (and until `transitionBegin`). */
  readonly initValue: number;
  /** Value at the end of the transition and after it. */
  readonly endValue: number;
  /** Steps over which the value moves from `initValue` to `endValue`; then it stays at `endValue`. */
  readonly transitionSteps: number;
  /** Steps to hold `initValue` before the transition starts. Default 0. */
  readonly transitionBegin?: number;
}

/**
 * Linear interpolation from `initValue` to `endValue` over `transitionSteps` steps (after
 * `transitionBegin`), constant outside; with `transitionSteps = 0` it is `endValue` from
 * `transitionBegin` on.
 * @example linearSchedule({ initValue: 0, endValue: 1, transitionSteps: 4 })(1) // 0.25
 */
export const linearSchedule = (options: LinearScheduleOptions): ScheduleFn => {
  checkOptions(
    "linearSchedule",
    options,
    keysOf<LinearScheduleOptions>({ initValue: true, endValue: true, transitionSteps: true, transitionBegin: true }),
  );
  const init = checkNumber("linearSchedule", "initValue", options.initValue);
  const end = checkNumber("linearSchedule", "endValue", options.endValue);
  const steps = checkSteps("linearSchedule", "transitionSteps", options.transitionSteps);
  const begin = checkSteps("linearSchedule", "transitionBegin", options.transitionBegin ?? 0);
  return schedule("linearSchedule", (step) => {
    // Was: t ≤ 0 ? (steps = 0 and t = 0 ? end : init) : t ≥ steps ? end : init + (end − init)·(t / steps).
    const t = A.sub(step, begin);
    const line = A.add(A.mul(A.div(t, steps), end - init), init);
    const before = steps === 0 ? A.where(A.equal(t, 0), f64(end), f64(init)) : f64(init);
    return A.where(A.lessEqual(t, 0), before, A.where(A.greaterEqual(t, steps), f64(end), line));
  });
};

/**
 * Options of `exponentialDecay`.
 * @example const opts: ExponentialDecayOptions = { initValue: 1e-2, transitionSteps: 1000, decayRate: 0.5 };
 */
export interface ExponentialDecayOptions {
  /** Value at step 0 (and until `transitionBegin`). */
  readonly initValue: number;
  /** Steps over which the value is multiplied by `decayRate` once. */
  readonly transitionSteps: number;
  /** Factor per `transitionSteps` steps: below 1 decays, above 1 grows. */
  readonly decayRate: number;
  /** Steps to hold `initValue` before decaying. Default 0. */
  readonly transitionBegin?: number;
  /** Decay in whole jumps every `transitionSteps` rather than continuously. Default false. */
  readonly staircase?: boolean;
  /** A bound the value never passes (a floor when decaying, a ceiling when growing). */
  readonly endValue?: number;
}

/**
 * `initValue · decayRate^((step − transitionBegin) / transitionSteps)` (the exponent floored with
 * `staircase`), held at `initValue` before `transitionBegin`, and bounded by `endValue`.
 * @example exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5 })(20) // 0.25
 */
export const exponentialDecay = (options: ExponentialDecayOptions): ScheduleFn => {
  const op = "exponentialDecay";
  checkOptions(
    op,
    options,
    keysOf<ExponentialDecayOptions>({
      initValue: true,
      transitionSteps: true,
      decayRate: true,
      transitionBegin: true,
      staircase: true,
      endValue: true,
    }),
  );
  const staircase = checkFlag(op, "staircase", options.staircase) ?? false;
  const init = checkNumber(op, "initValue", options.initValue);
  const steps = checkSteps(op, "transitionSteps", options.transitionSteps, 1);
  const rate = checkNumber(op, "decayRate", options.decayRate, 0);
  const begin = checkSteps(op, "transitionBegin", options.transitionBegin ?? 0);
  const end = options.endValue === undefined ? undefined : checkNumber(op, "endValue", options.endValue);
  return schedule(op, (step) => {
    const p = A.div(maxWith(A.sub(step, begin), 0), steps);
    const value = A.mul(A.pow(rate, staircase ? A.floor(p) : p), init);
    if (end === undefined) return value;
    return rate < 1 ? maxWith(value, end) : minWith(value, end);
  });
};

/**
 * Options of `cosineDecay`.
 * @example const opts: CosineDecayOptions = { initValue: 1e-3, decaySteps: 10_000, alpha: 0.1 };
 */
export interface CosineDecayOptions {
  /** Value at step 0. */
  readonly initValue: number;
  /** Steps over which the value falls; then it stays at `alpha · initValue`. */
  readonly decaySteps: number;
  /** The final value as a fraction of `initValue`. Default 0. */
  readonly alpha?: number;
  /** Power applied to the cosine factor. Default 1. */
  readonly exponent?: number;
}

/**
 * Cosine annealing (Loshchilov & Hutter, SGDR, without restarts):
 * `initValue · ((1 − α) · (½(1 + cos(π · min(step, decaySteps) / decaySteps)))^exponent + α)`.
 * @example cosineDecay({ initValue: 1, decaySteps: 100 })(50) // 0.5
 */
export const cosineDecay = (options: CosineDecayOptions): ScheduleFn => {
  const op = "cosineDecay";
  checkOptions(
    op,
    options,
    keysOf<CosineDecayOptions>({ initValue: true, decaySteps: true, alpha: true, exponent: true }),
  );
  const init = checkNumber(op, "initValue", options.initValue);
  const steps = checkSteps(op, "decaySteps", options.decaySteps, 1);
  const alpha = checkNumber(op, "alpha", options.alpha ?? 0);
  const exponent = checkNumber(op, "exponent", options.exponent ?? 1);
  return schedule(op, (step) => {
    // Was: 0.5·(1 + cos(π·min(max(step, 0), steps)/steps)), then init·((1 − α)·cosine^exponent + α).
    const cosine = A.mul(A.add(A.cos(A.div(A.mul(minWith(maxWith(step, 0), steps), Math.PI), steps)), 1), 0.5);
    return A.mul(A.add(A.mul(A.pow(cosine, exponent), 1 - alpha), alpha), init);
  });
};

/**
 * Runs `schedules[i]` between `boundaries[i − 1]` and `boundaries[i]`, each seeing the steps
 * since its own start (Optax's `join_schedules`).
 * @example joinSchedules([constantSchedule(1), constantSchedule(2)], [10])(10) // 2
 */
export const joinSchedules = (schedules: readonly Schedule[], boundaries: readonly number[]): ScheduleFn => {
  if (!Array.isArray(schedules) || schedules.length === 0 || !schedules.every((f) => typeof f === "function")) {
    invalidArgument(
      "joinSchedules",
      "schedules",
      "schedules must be a non-empty array of functions",
      "pass e.g. [linearSchedule({ … }), cosineDecay({ … })]",
    );
  }
  if (!Array.isArray(boundaries))
    invalidArgument(
      "joinSchedules",
      "boundaries",
      `boundaries must be an array of steps, got ${boundaries === null ? "null" : typeof boundaries}`,
      "pass one step between each two schedules",
    );
  if (schedules.length !== boundaries.length + 1) {
    invalidArgument(
      "joinSchedules",
      "boundaries",
      `${schedules.length} schedules need ${schedules.length - 1} boundaries, got ${boundaries.length}`,
      "pass one boundary between each two schedules",
    );
  }
  boundaries.forEach((b, i) => {
    checkSteps("joinSchedules", `boundaries[${i}]`, b);
    if (i > 0 && b < boundaries[i - 1]!)
      invalidArgument(
        "joinSchedules",
        "boundaries",
        `boundaries must not decrease, got ${boundaries.join(", ")}`,
        "sort them",
      );
  });
  // An int32 count never reaches a boundary past int32; compared in float64, it need not wrap either.
  const wide = boundaries.some((b) => b > INT32_MAX);
  const joined = (step: Value): Value => {
    const count = wide && step.dtype === "int32" ? A.astype(step, "float64") : step;
    // Every schedule is evaluated and `where` keeps the one whose interval holds the count (the
    // last boundary passed wins). A later schedule sees the steps since its start, clamped at 0
    // where it is not used, so it never meets a negative count.
    return boundaries.reduce(
      (out, b, i) => A.where(A.greaterEqual(count, b), valueOf(schedules[i + 1]!(A.maximum(A.sub(count, b), 0))), out),
      valueOf(schedules[0]!(count)),
    );
  };
  return ((count: unknown): Value | number => {
    const step = checkStep("joinSchedules", count);
    if (typeof step !== "number") return joined(step);
    // A whole number step is an int32 count, as an optimizer passes it; others go as float64.
    const asCount = Number.isInteger(step) && Math.abs(step) <= INT32_MAX ? T.scalar(step, "int32") : f64(step);
    return T.item(joined(asCount) as T.Tensor);
  }) as ScheduleFn;
};

/**
 * Options of `linearWarmup`.
 * @example const opts: LinearWarmupOptions = { peakValue: 3e-3, warmupSteps: 100 };
 */
export interface LinearWarmupOptions {
  /** Value at step 0. Default 0. */
  readonly initValue?: number;
  /** Value reached at the end of the warmup. */
  readonly peakValue: number;
  /** Steps of the linear rise from `initValue` to `peakValue`. */
  readonly warmupSteps: number;
}

/**
 * Rises linearly from `initValue` to `peakValue` over `warmupSteps`, then follows `after` (which
 * sees the steps since the warmup ended) or stays at `peakValue`.
 * @example
 * const decay = exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5 });
 * linearWarmup({ peakValue: 1, warmupSteps: 10 }, decay)
 */
export const linearWarmup = (options: LinearWarmupOptions, after?: Schedule): ScheduleFn => {
  checkOptions(
    "linearWarmup",
    options,
    keysOf<LinearWarmupOptions>({ initValue: true, peakValue: true, warmupSteps: true }),
  );
  if (after !== undefined && typeof after !== "function")
    invalidArgument(
      "linearWarmup",
      "after",
      `after must be a schedule (a function), got ${after === null ? "null" : typeof after}`,
      "pass a schedule or leave it out",
    );
  const warmup = linearSchedule({
    initValue: options.initValue ?? 0,
    endValue: options.peakValue,
    transitionSteps: options.warmupSteps,
  });
  return named("linearWarmup", after === undefined ? warmup : joinSchedules([warmup, after], [options.warmupSteps]));
};

/**
 * Options of `warmupCosineDecay`.
 * @example const opts: WarmupCosineDecayOptions = { peakValue: 3e-3, warmupSteps: 100, decaySteps: 2000 };
 */
export interface WarmupCosineDecayOptions {
  /** Value at step 0. Default 0. */
  readonly initValue?: number;
  /** Value reached at the end of the warmup. */
  readonly peakValue: number;
  /** Steps of the linear rise from `initValue` to `peakValue`. */
  readonly warmupSteps: number;
  /** Total length of warmup plus decay; the value is `endValue` from then on. */
  readonly decaySteps: number;
  /** Default 0. */
  readonly endValue?: number;
  /** Default 1. */
  readonly exponent?: number;
}

/**
 * Linear warmup to `peakValue`, then cosine decay to `endValue` at step `decaySteps` (Optax's
 * `warmup_cosine_decay_schedule`: `decaySteps` counts the warmup).
 * @example warmupCosineDecay({ peakValue: 1, warmupSteps: 10, decaySteps: 110 })(60) // 0.5
 */
export const warmupCosineDecay = (options: WarmupCosineDecayOptions): ScheduleFn => {
  const op = "warmupCosineDecay";
  checkOptions(
    op,
    options,
    keysOf<WarmupCosineDecayOptions>({
      initValue: true,
      peakValue: true,
      warmupSteps: true,
      decaySteps: true,
      endValue: true,
      exponent: true,
    }),
  );
  const peak = checkNumber(op, "peakValue", options.peakValue);
  const warmupSteps = checkSteps(op, "warmupSteps", options.warmupSteps);
  // decaySteps counts the warmup, as in Optax, so the cosine part needs at least one step.
  const decaySteps = checkSteps(op, "decaySteps", options.decaySteps, warmupSteps + 1);
  const end = checkNumber(op, "endValue", options.endValue ?? 0);
  if (peak === 0 && end !== 0)
    invalidArgument(op, "peakValue", "a zero peak cannot decay to a nonzero endValue", "pass a nonzero peakValue");
  return named(
    op,
    linearWarmup(
      { initValue: options.initValue ?? 0, peakValue: peak, warmupSteps },
      cosineDecay({
        initValue: peak,
        decaySteps: decaySteps - warmupSteps,
        alpha: peak === 0 ? 0 : end / peak,
        exponent: options.exponent ?? 1,
      }),
    ),
  );
};
