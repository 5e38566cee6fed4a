/**
 * @file `trainStep`: the training step JAX users write as `@jax.jit def train_step(params,
 * opt_state, batch)`, made once: the loss, its gradient, the optimizer's update and
 * `applyUpdates` traced into one program and compiled by `jit`.
 *
 * It exists because every optimizer's state is made of tensors (update counts included), so the
 * whole step has one signature per batch shape and `jit` traces it once; the optimizer update
 * then runs fused inside the compiled program instead of op by op. The old parameters and
 * optimizer state are donated by default (`jit`'s `donate`): the caller gives them up, and the
 * step writes its results into the buffers the step before gave up, so a training loop allocates
 * no parameter-sized arrays in steady state.
 */
import { jit, valueAndGrad, type DeviceJitted, type JitBackend, type Jitted, type Value } from "@rewind/autodiff";
import type { Tensor } from "@rewind/tensor";
import { describeArg } from "@rewind/tensor/internal/check";
import { applyUpdates } from "./base.js";
import {
  checkFlag,
  checkOptions,
  checkTransformation,
  invalidArgument,
  type AnyTransformation,
  type GradientTransformation,
  type StateOf,
} from "./types.js";

/**
 * Options of `trainStep`.
 * @example const opts: TrainStepOptions = { hasAux: true, donate: false };
 */
export interface TrainStepOptions {
  /** The loss returns `[loss, aux]`; aux (e.g. a recurrent carry) is returned beside the loss. */
  readonly hasAux?: boolean;
  /**
   * Donate the parameters and optimizer state passed in (default true): using them after the
   * call is an error naming the donation; keep the returned ones. `false` keeps them valid.
   */
  readonly donate?: boolean;
  /** Compile the step (default true); `false` runs jit's interpreter (same bits, slower). */
  readonly compile?: boolean;
  /**
   * Run the step on a device (`jit`'s `backend`: e.g. `await webgpu()` from @rewind/webgpu, or a
   * registered name): a call then resolves to device arrays, and the parameters and state passed
   * back stay on the device. `donate` and `compile` are CPU options and are not given with it.
   */
  readonly backend?: JitBackend | string;
}

/**
 * What one training step returns: the new parameters and optimizer state, the loss of the batch
 * (computed with the parameters passed in) and, with `hasAux`, the loss's aux output.
 * @example const { params, optState, loss } = step(params, optState, batch);
 */
export interface TrainStepResult<P, S, Aux = undefined> {
  /** The parameters after the update: keep these (the ones passed in were donated by default). */
  readonly params: P;
  /** The optimizer state after the update. */
  readonly optState: S;
  /** The batch's loss, computed with the parameters passed in (before the update). */
  readonly loss: Tensor;
  /** With `hasAux`, the loss's aux output (e.g. the final recurrent carry); otherwise undefined. */
  readonly aux: Aux;
}

/** The step jitted for a device: a call resolves to device arrays (`TrainStepOptions.backend`). */
export type DeviceTrainStep<P, S, Batch extends unknown[], Aux = undefined> = DeviceJitted<
  [params: P, optState: S, ...batch: Batch],
  TrainStepResult<P, S, Aux>
>;

/** The jitted step: `(params, optState, ...batch)` → the new parameters, state, loss and aux. */
export type TrainStep<P, S, Batch extends unknown[], Aux = undefined> = Jitted<
  [params: P, optState: S, ...batch: Batch],
  TrainStepResult<P, S, Aux>
>;

/**
 * One jitted training step: `loss(params, ...batch)`, its gradient with respect to `params`,
 * `optimizer.update` and `applyUpdates`, compiled into one program that is traced once per batch
 * shape (`step.traceCount()` stays 1 over a run with fixed shapes). Bit for bit the eager step.
 * Donates `params` and `optState` unless `donate: false`.
 * @example
 * const optimizer = adam({ learningRate: 1e-3 });
 * const step = trainStep((p, xs, ys) => mean(square(sub(predict(p, xs), ys))), optimizer);
 * let optState = optimizer.init(params);
 * for (const { xs, ys } of data) ({ params, optState } = step(params, optState, xs, ys));
 */
export function trainStep<P, O extends AnyTransformation, Batch extends unknown[]>(
  loss: (params: P, ...batch: Batch) => Value,
  optimizer: O,
  options: TrainStepOptions & { readonly hasAux?: false; readonly backend: JitBackend | string },
): DeviceTrainStep<P, StateOf<O>, Batch>;
export function trainStep<P, O extends AnyTransformation, Batch extends unknown[], Aux>(
  loss: (params: P, ...batch: Batch) => readonly [Value, Aux],
  optimizer: O,
  options: TrainStepOptions & { readonly hasAux: true; readonly backend: JitBackend | string },
): DeviceTrainStep<P, StateOf<O>, Batch, Aux>;
export function trainStep<P, O extends AnyTransformation, Batch extends unknown[]>(
  loss: (params: P, ...batch: Batch) => Value,
  optimizer: O,
  options?: TrainStepOptions & { readonly hasAux?: false },
): TrainStep<P, StateOf<O>, Batch>;
export function trainStep<P, O extends AnyTransformation, Batch extends unknown[], Aux>(
  loss: (params: P, ...batch: Batch) => readonly [Value, Aux],
  optimizer: O,
  options: TrainStepOptions & { readonly hasAux: true },
): TrainStep<P, StateOf<O>, Batch, Aux>;
export function trainStep<P, S, Batch extends unknown[]>(
  loss: (params: P, ...batch: Batch) => unknown,
  optimizer: GradientTransformation<S>,
  options: TrainStepOptions = {},
): TrainStep<P, S, Batch, unknown> | DeviceTrainStep<P, S, Batch, unknown> {
  if (typeof loss !== "function")
    invalidArgument("trainStep", "loss", `expected a function, got ${typeof loss}`, "pass (params, ...batch) => loss");
  checkTransformation("trainStep", "optimizer", optimizer);
  checkOptions("trainStep", options, ["hasAux", "donate", "compile", "backend"], true);
  const hasAux = checkFlag("trainStep", "hasAux", options.hasAux) ?? false;
  const donate = checkFlag("trainStep", "donate", options.donate) ?? true;
  const compile = checkFlag("trainStep", "compile", options.compile) ?? true;
  const lossAndGrad = valueAndGrad(loss, { hasAux });
  const step = (params: P, optState: S, ...batch: Batch): TrainStepResult<P, S, unknown> => {
    const [out, grads] = lossAndGrad(params, ...batch);
    const [value, aux] = hasAux ? (out as [Tensor, unknown]) : [out as Tensor, undefined];
    const [updates, next] = optimizer.update(grads, optState, params);
    return { params: applyUpdates(params, updates), optState: next, loss: value, aux };
  };
  const backend = options.backend;
  if (backend === undefined) return jit(step, donate ? { compile, donate: [0, 1] } : { compile });
  if (typeof backend !== "string" && typeof (backend as Partial<JitBackend> | null)?.jit !== "function")
    invalidArgument(
      "trainStep",
      "options.backend",
      `expected a back end or the name it is registered under, got ${describeArg(backend)}`,
      'pass e.g. await webgpu() (from @rewind/webgpu) or "webgpu", or leave it out for the CPU',
    );
  for (const key of ["donate", "compile"] as const)
    if (options[key] !== undefined)
      invalidArgument(
        "trainStep",
        `options.${key}`,
        `${key} is an option of the CPU step, and backend was given too`,
        "leave it out: a device step keeps the arrays passed back on the device",
      );
  return jit(step, { backend });
}
