/**
 * @file `learningRateAt`: the value of a learning rate at an update count. With a number count it
 * is a number (as before counts were tensors); with a count tensor or tracer it is a value of the
 * graph, so a jitted update evaluates its schedule inside the one trace it makes.
 *
 * A schedule written for numbers (`(s) => 0.1 * 0.5 ** s`) runs eagerly, because a scalar tensor
 * converts to its number; under `jit` the count is a tracer, and its conversion throws a
 * `ConcretizationError` that says nothing about schedules. That one error is caught here and
 * turned into a message that names the schedule and how to write it with ops.
 */
import * as A from "@rewind/autodiff";
import { GraphException, type Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { describeArg } from "@rewind/tensor/internal/check";
import { checkCount, describeValue, invalidArgument, type LearningRate } from "./types.js";

const OP = "learningRateAt";

/** A number count: a non-negative integer that an int32 holds (counts are int32 tensors). */
const countTensor = (count: unknown): T.Tensor => {
  if (typeof count === "number" && Number.isInteger(count) && count >= 0 && count <= 2147483647)
    return T.scalar(count, "int32");
  return invalidArgument(
    OP,
    "count",
    `count must be a non-negative integer below 2^31 (an int32 update count), got ${describeValue(count)}`,
    "pass the update count (0 for the first update)",
  );
};

/** Calls the schedule, turning a traced count read as a number into a message about schedules. */
const evaluate = (lr: (count: Value) => unknown, count: Value): unknown => {
  try {
    return lr(count);
  } catch (e) {
    if (!(e instanceof GraphException && e.error._tag === "ConcretizationError")) throw e;
    return invalidArgument(
      OP,
      "lr",
      "the schedule used its update count as a JavaScript number (`0.5 ** count`, `count + 1`, `count < 10`), " +
        `but under ${e.error.op} the count is a traced int32 scalar with no number yet`,
      "write the schedule with @rewind/autodiff ops, e.g. (count) => A.mul(0.1, A.pow(0.5, count)) and " +
        "A.where(A.less(count, 10), a, b) for a branch, or use a schedule of @rewind/optim (cosineDecay, …)",
    );
  }
};

/** The count as messages show it. */
const countText = (count: Value): string =>
  A.isTracer(count) ? "a traced update count" : `update count ${T.item(count)}`;

/** Checks the schedule's value: a finite number, or a numeric scalar (finite when its number is known). */
const checkRate = (value: unknown, count: Value): Value | number => {
  const refuse = (got: string): never =>
    invalidArgument(
      OP,
      "lr",
      `the schedule returned ${got} at ${countText(count)}`,
      "make the schedule return a finite scalar (a number or a scalar float tensor) for every count ≥ 0",
    );
  // A NaN or infinite rate would silently poison every parameter it touches.
  if (typeof value === "number") return Number.isFinite(value) ? value : refuse(describeArg(value));
  if (!A.isValue(value) || value.shape.length !== 0 || value.dtype === "bool") {
    return refuse(A.isValue(value) ? describeValue(value) : describeArg(value));
  }
  if (!A.isTracer(value) && !Number.isFinite(T.item(value))) return refuse(`${value.dtype} ${T.item(value)}`);
  return value;
};

/**
 * The value of a learning rate at an update count. With a number count the result is a number;
 * with an int32 scalar count (a tensor, or a tracer under `jit`) it is the schedule's value as it
 * returned it (a scalar value of the graph, or a number for a constant rate).
 * @throws TensorException (`ValueError`) for a count that is not a non-negative int32 count, a
 * learning rate that is neither a number nor a function, a schedule whose value is not a finite
 * scalar (it would silently poison every parameter; a traced value is checked by shape only), or
 * a schedule that reads a traced count as a JavaScript number (write it with ops).
 * @example
 * learningRateAt((count) => A.div(1, A.add(count, 1)), 1) // 0.5
 * learningRateAt(cosineDecay({ initValue: 1, decaySteps: 10 }), T.scalar(5, "int32")) // float64 scalar 0.5
 */
export function learningRateAt(lr: LearningRate, count: number): number;
export function learningRateAt(lr: LearningRate, count: Value): Value | number;
export function learningRateAt(lr: LearningRate, count: number | Value): Value | number {
  const c = A.isValue(count) ? checkCount(OP, "count", count) : countTensor(count);
  if (typeof lr === "number") return lr;
  if (typeof lr !== "function") {
    return invalidArgument(
      OP,
      "lr",
      `a learning rate must be a number or a schedule, got ${describeArg(lr)}`,
      "pass e.g. 1e-3 or cosineDecay({ … })",
    );
  }
  const value = checkRate(evaluate(lr, c), c);
  // A number count asks for a number; the count was a tensor, so the value is one too.
  return typeof count === "number" && typeof value !== "number" ? T.item(value as T.Tensor) : value;
}
