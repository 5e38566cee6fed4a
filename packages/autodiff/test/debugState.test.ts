/**
 * @file withDebugNans: the first primitive to turn finite inputs into NaN/Inf is named, with the
 * line where it was traced; ops after it are not blamed, and a NaN from outside is reported at its
 * first use (the fuller matrix of cases is in test/numerical-edges-nans.test.ts).
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

const f64 = (x: T.NestedArray): T.Tensor => T.tensor(x, "float64");

/** The line number of the line above the call, as the stack reports it: the definition a report must name. */
const lineAbove = (): number => Number(/:(\d+):\d+\)?$/.exec(new Error().stack!.split("\n")[2]!)![1]) - 1;

/** The GraphError thrown by `thunk`, or a failure when nothing is thrown. */
const caught = (thunk: () => unknown): A.GraphError => {
  try {
    thunk();
  } catch (e) {
    if (e instanceof A.GraphException) return e.error;
    throw e;
  }
  return expect.unreachable("expected a GraphException");
};

describe("withDebugNans", () => {
  // log of a negative makes the NaN; exp and sum only pass it on. All on one line, so the
  // reported source line is the line above `logLine`.
  const f = (x: Value) => A.sum(A.exp(A.log(A.sub(x, 2))));
  const logLine = lineAbove();

  it("names the primitive and the traced source line in a jitted function", () => {
    const e = caught(() => A.withDebugNans(() => A.jit(f)(f64([3, 1]))));
    expect(e._tag).toBe("NonFinite");
    if (e._tag !== "NonFinite") return;
    expect(e.op).toBe("log");
    expect(e.source).toMatch(new RegExp(`debugState\\.test\\.ts:${logLine}:`));
    expect(A.formatGraphError(e)).toMatch(/^log: output 0 .* 1 NaN\/Inf value/);
  });

  it("names the primitive inside a gradient computation", () => {
    const e = caught(() => A.withDebugNans(() => A.grad(f)(f64([3, 1]))));
    expect(e._tag === "NonFinite" && e.op).toBe("log");
  });

  it("names an Inf produced by a backward rule: sqrt's gradient at 0", () => {
    const e = caught(() => A.withDebugNans(() => A.grad((x: Value) => A.sum(A.sqrt(x)))(f64([0, 4]))));
    expect(e._tag === "NonFinite" && e.op).toBe("div");
  });

  it("checks eager ops too; a NaN it was given is reported at its first use, as coming from outside", () => {
    expect(caught(() => A.withDebugNans(() => A.log(f64([-1])))).op).toBe("log");
    const e = caught(() => A.withDebugNans(() => A.exp(f64([NaN, 0]))));
    expect(e._tag === "NonFinite" && e.op).toBe("exp");
    expect(e._tag === "NonFinite" && e.detail).toMatch(/input 0 .* already held 1 NaN .* came in from outside/);
    // Ops that look at a NaN without passing it on (a NaN-safe `where`) are not blamed.
    const safe = A.withDebugNans(() => A.where(A.isNaN(f64([NaN, 2])), 0, f64([NaN, 2]))) as T.Tensor;
    expect(Array.from(safe.data)).toEqual([0, 2]);
  });

  it("looks inside scan bodies", () => {
    // The step's log meets x = −1 at the second step.
    const step = (c: Value, x: Value) => [A.add(c, A.log(x)), c] as const;
    const stepLine = lineAbove();
    const e = caught(() => A.withDebugNans(() => A.scan(step, f64([0]), f64([[1], [-1], [2]]))));
    expect(e._tag === "NonFinite" && e.op).toBe("log");
    expect(e._tag === "NonFinite" && e.source).toMatch(new RegExp(`debugState\\.test\\.ts:${stepLine}:`));
  });

  it("is off outside the thunk: NaNs propagate silently", () => {
    const y = A.jit(f)(f64([3, 1]));
    expect(Number.isNaN(y.data[0])).toBe(true);
  });
});
