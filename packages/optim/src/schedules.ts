/**
 * @file Learning-rate schedules: plain functions from the update count (0 for the first update)
 * to a number, usable wherever a learning rate is. Formulas and argument names follow Optax's
 * `optax/_src/schedule.py`, in camelCase. A schedule refuses a NaN step (a NaN learning rate
 * would silently turn the parameters into NaN); fractional and negative steps are evaluated.
 */
import { keysOf } from "@rewind/tensor/internal/check";
import { checkFlag, checkNumber, checkOptions, invalidArgument, type Schedule } from "./types.js";

/**
 * A schedule that refuses a NaN (or non-number) step instead of returning NaN: a NaN learning
 * rate would silently turn every parameter into NaN. Other steps, fractional or negative, are
 * evaluated by the formula (negative ones clamp to the start as Optax's do).
 */
const schedule =
  (op: string, f: (step: number) => number): Schedule =>
  (step) =>
    typeof step === "number" && !Number.isNaN(step)
      ? f(step)
      : invalidArgument(
          op,
          "step",
          `the step must be a number, got ${typeof step === "number" ? "NaN" : typeof step}`,
          "pass the update count (0 for the first update)",
        );

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
export const constantSchedule = (value: number): Schedule => {
  const v = checkNumber("constantSchedule", "value", value);
  return schedule("constantSchedule", () => v);
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
export const linearSchedule = (options: LinearScheduleOptions): Schedule => {
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
    const t = step - begin;
    if (t <= 0) return steps === 0 && t === 0 ? end : init;
    if (t >= steps) return end;
    return init + (end - init) * (t / steps);
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
export const exponentialDecay = (options: ExponentialDecayOptions): Schedule => {
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
    const p = Math.max(step - begin, 0) / steps;
    const value = init * rate ** (staircase ? Math.floor(p) : p);
    if (end === undefined) return value;
    return rate < 1 ? Math.max(value, end) : Math.min(value, end);
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
export const cosineDecay = (options: CosineDecayOptions): Schedule => {
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
    const cosine = 0.5 * (1 + Math.cos((Math.PI * Math.min(Math.max(step, 0), steps)) / steps));
    return init * ((1 - alpha) * cosine ** exponent + alpha);
  });
};

/**
 * Runs `schedules[i]` between `boundaries[i − 1]` and `boundaries[i]`, each seeing the steps
 * since its own start (Optax's `join_schedules`).
 * @example joinSchedules([constantSchedule(1), constantSchedule(2)], [10])(10) // 2
 */
export const joinSchedules = (schedules: readonly Schedule[], boundaries: readonly number[]): Schedule => {
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
  return schedule("joinSchedules", (step) => {
    let i = 0;
    while (i < boundaries.length && step >= boundaries[i]!) i++;
    return schedules[i]!(i === 0 ? step : step - boundaries[i - 1]!);
  });
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
export const linearWarmup = (options: LinearWarmupOptions, after?: Schedule): Schedule => {
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
  return schedule("linearWarmup", after === undefined ? warmup : joinSchedules([warmup, after], [options.warmupSteps]));
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
export const warmupCosineDecay = (options: WarmupCosineDecayOptions): Schedule => {
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
  return schedule(
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
