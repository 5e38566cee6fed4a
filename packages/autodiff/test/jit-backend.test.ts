import { describe, expect, it } from "vitest";
import { exp, jit, setJitBackend, type JitBackend } from "../src/index.js";

/** A back end that records what jit hands it. */
const recorder = () => {
  const calls: { f: unknown; options: unknown }[] = [];
  const backend: JitBackend = {
    name: "recorder",
    jit: (f, options) => {
      calls.push({ f, options });
      return Object.assign(() => Promise.resolve("ran"), { cacheSize: () => 0 }) as never;
    },
  };
  return { backend, calls };
};

describe("jit's backend option", () => {
  it("delegates to a back end object, passing f and the options", async () => {
    const { backend, calls } = recorder();
    const f = (x: never) => exp(x);
    const g = jit(f, { backend });
    expect(calls).toEqual([{ f, options: { backend } }]);
    expect(await (g as unknown as () => Promise<string>)()).toBe("ran");
  });

  it("finds a registered back end by name, and no longer after it is removed", () => {
    const { backend, calls } = recorder();
    setJitBackend("rec", backend);
    jit((x: never) => exp(x), { backend: "rec" });
    expect(calls).toHaveLength(1);
    setJitBackend("rec", undefined);
    expect(() => jit((x: never) => exp(x), { backend: "rec" })).toThrow(
      /no back end is registered as "rec".*options\.backend.*await webgpu\(\)/s,
    );
  });

  it("refuses a backend that is neither a back end nor a name, saying what arrived", () => {
    for (const [bad, got] of [
      [3, "number"],
      [null, "null"],
      [{ name: "no jit method" }, "object"],
    ] as const)
      expect(() => jit((x: never) => exp(x), { backend: bad as never })).toThrow(
        new RegExp(`got ${got} \\(argument .options\\.backend.\\); pass the back end itself`),
      );
  });

  it("treats names like __proto__ and toString as plain names", () => {
    for (const name of ["toString", "__proto__", "constructor"])
      expect(() => jit((x: never) => exp(x), { backend: name })).toThrow(`no back end is registered as "${name}"`);
    const { backend, calls } = recorder();
    setJitBackend("__proto__", backend);
    jit((x: never) => exp(x), { backend: "__proto__" });
    expect(calls).toHaveLength(1);
    // Removed, it is gone (on a plain object, `delete` of "__proto__" removed nothing).
    setJitBackend("__proto__", undefined);
    expect(() => jit((x: never) => exp(x), { backend: "__proto__" })).toThrow(/no back end is registered/);
  });
});
