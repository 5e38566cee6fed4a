/**
 * @file Functions the workers fuzz suite runs under `pmap` (a worker imports them by module URL,
 * so they live in a module of their own).
 */
import { mul, sum, type Value } from "@rewind/autodiff";
import { pmean, psum } from "@rewind/workers";

/** Each worker's rows doubled (sharded result) and the sum of every row over the workers (replicated). */
export const rowsAndTotal = (xs: Value): [Value, Value] => [mul(xs, 2), psum(sum(xs))];

/** psum of a whole pytree, as it arrives (replicated input: every worker holds the same tree). */
export const sumTree = (tree: unknown): unknown => psum(tree);

/** pmean of a whole pytree. */
export const meanTree = (tree: unknown): unknown => pmean(tree);

/** The argument doubled, in a one-element array (for keep: [0]). */
export const doubled = (x: Value): [Value] => [mul(x, 2)];

/** Never returns: the call must end by its timeout, not hang. */
export const spins = (x: Value): Value => {
  for (;;) if (x === undefined) break;
  return x;
};

/** Not a function. */
export const notAFunction = 3;

/** Returns a function, which cannot cross back to the main thread. */
export const returnsAFunction = (): unknown => () => 1;

/** An async function: its promise cannot wait at a collective. */
export const returnsAPromise = async (x: Value): Promise<Value> => Promise.resolve(x);

/** Returns a self-containing object. */
export const returnsACycle = (): unknown => {
  const o: Record<string, unknown> = {};
  o["o"] = o;
  return o;
};

/** Throws something that is not an Error. */
export const throwsAString = (): never => {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- the hostile case under test
  throw "not an Error";
};
