/**
 * @file `thrown`: the error a call throws, for tests that then read its message and fields.
 */

/**
 * The Error `thunk` throws; throws (failing the test) when it returns or throws a non-Error.
 * @example expect(thrown(() => T.reshape(x, [7])).message).toContain("reshape")
 */
export const thrown = (thunk: () => unknown): Error => {
  try {
    thunk();
  } catch (e) {
    if (e instanceof Error) return e;
    throw new Error(`threw a non-Error: ${String(e)}`, { cause: e });
  }
  throw new Error("expected an error, but nothing was thrown");
};
