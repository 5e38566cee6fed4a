/**
 * @file `setJitMode`: the process-wide switch between compiled and interpreted `jit` (Rewind's
 * `jax_disable_jit`). "interpret" reaches every jitted function at its next call, compiled before
 * or not, generates no code, and gives the same bits; "compile" brings the compiled runners back.
 * The generated functions are observed through a stub of the global `Function` that wraps each
 * runner it builds and counts its calls. (What happens where the engine refuses `new Function`
 * is test/csp.test.ts.)
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectBits } from "./compileSupport.js";

const seen = { built: 0, runs: 0 };
/** Stubs `Function`: every runner built from generated code counts its calls in `seen.runs`. */
const watchGeneratedCode = (): void => {
  const RealFunction = Function;
  vi.stubGlobal("Function", function (...args: string[]) {
    seen.built++;
    const factory = RealFunction(...args) as (...a: unknown[]) => unknown;
    return (...a: unknown[]) => {
      const run = factory(...a);
      return typeof run !== "function"
        ? run
        : (...ins: unknown[]) => (seen.runs++, (run as (...i: unknown[]) => unknown)(...ins));
    };
  });
};

afterEach(() => {
  A.setJitMode("compile");
  vi.unstubAllGlobals();
  seen.built = 0;
  seen.runs = 0;
});

describe("setJitMode", () => {
  it('"interpret" reaches a function compiled before it at its next call, builds no code, same bits; "compile" restores the runner', () => {
    watchGeneratedCode();
    const f = A.jit((x: Value) => A.tanh(A.add(A.matmul(x, x), A.exp(x))));
    const g = A.jit((x: Value) => A.sigmoid(A.mul(x, 3)));
    const x = T.fromDataOrThrow(
      Array.from({ length: 256 }, (_, i) => Math.sin(i)),
      [16, 16],
      "float32",
    );
    const compiled = f(x);
    expect(seen.runs).toBe(1);
    const built = seen.built;
    expect(built).toBeGreaterThanOrEqual(1);

    expect(A.getJitMode()).toBe("compile");
    expect(A.setJitMode("interpret")).toBe("compile");
    expect(A.getJitMode()).toBe("interpret");
    expectBits("f interpreted", f(x), compiled);
    expectBits("g interpreted", g(x), A.jit((y: Value) => A.sigmoid(A.mul(y, 3)), { compile: false })(x));
    expect(seen.runs).toBe(1); // the compiled runner of f was not called
    expect(seen.built).toBe(built); // and nothing was compiled for g

    expect(A.setJitMode("compile")).toBe("interpret");
    expectBits("f compiled again", f(x), compiled);
    expect(seen.runs).toBe(2);
  });

  it("refuses anything but the two modes, naming the value and the choices", () => {
    for (const bad of ["fast", "", null, true, "Interpret"]) {
      expect(() => A.setJitMode(bad as never)).toThrow(A.GraphException);
      expect(() => A.setJitMode(bad as never)).toThrow(
        /^setJitMode: .*unknown mode .*use "compile" \(the default\) or "interpret"/,
      );
    }
    expect(() => A.setJitMode("fast" as never)).toThrow(/unknown mode "fast"/);
    expect(A.getJitMode()).toBe("compile");
  });
});
