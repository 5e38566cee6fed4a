/**
 * @file The shared options check (`@rewind/tensor/internal/check`): which objects pass, which keys
 * are refused, which suggestions are made (and that none is nonsense), bounded messages, and
 * tensor's own wrapper.
 */
import { describe, expect, it } from "vitest";
import { closestKey, keysOf, optionsProblem, watchOptionChecks } from "../src/optionKeys.js";
import { checkOptions } from "../src/check.js";
import { TensorException } from "../src/errors.js";
import { sum } from "../src/kernels/reduce.js";
import { slice } from "../src/kernels/slice.js";
import { tensor } from "../src/Tensor.js";

const RNN = ["initialCarry", "lengths", "timeMajor", "reverse", "key", "remat", "checkpoint", "unroll", "truncate"];
const ADAMW = ["learningRate", "b1", "b2", "eps", "epsRoot", "weightDecay", "mask"];

describe("closestKey", () => {
  it.each([
    ["lenghts", RNN, "lengths"], // a transposition
    ["revers", RNN, "reverse"], // a missing letter
    ["momentun", ["learningRate", "momentum", "nesterov"], "momentum"], // a wrong letter
    ["dtyp", ["dtype", "scheme"], "dtype"],
    ["weight_decay", ADAMW, "weightDecay"], // snake case
    ["keepdims", ["axis", "keepDims"], "keepDims"], // case
    ["beta1", ADAMW, "b1"], // PyTorch's name: an abbreviation with the same digit
    ["beta2", ADAMW, "b2"],
    ["lr", ADAMW, "learningRate"],
    ["epsilon", ADAMW, "eps"],
    ["hiden", ["inputSize", "hiddenSize"], "hiddenSize"],
    ["num_layers", ["mode", "inputSize", "hiddenSize", "numLayers", "bidirectional", "batchFirst"], "numLayers"],
  ])("%s → %s", (key, known, want) => expect(closestKey(key, known)).toBe(want));

  it.each([
    ["bogus", ["axis", "keepDims"]],
    ["bogus", ADAMW],
    ["step", RNN],
    ["dropout", ["mode", "inputSize", "hiddenSize", "numLayers", "bidirectional", "batchFirst"]],
    ["proj_size", ["mode", "inputSize", "hiddenSize", "numLayers", "bidirectional", "batchFirst"]],
    ["x", ["axis"]],
    ["", ["axis"]],
    ["betas", ADAMW], // no digit: neither b1 nor b2
  ])("suggests nothing for %s", (key, known) => expect(closestKey(key, known)).toBeUndefined());

  it("answers at once for a megabyte key", () => {
    const start = performance.now();
    expect(closestKey("x".repeat(1 << 20), RNN)).toBeUndefined();
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe("optionsProblem", () => {
  it("accepts undefined (unless required), plain and prototype-less objects of known keys", () => {
    expect(optionsProblem("op", "options", undefined, ["a"])).toBeUndefined();
    expect(optionsProblem("op", "options", {}, ["a"])).toBeUndefined();
    expect(optionsProblem("op", "options", { a: 1 }, ["a"])).toBeUndefined();
    expect(
      optionsProblem("op", "options", Object.assign(Object.create(null) as object, { a: 1 }), ["a"]),
    ).toBeUndefined();
    expect(optionsProblem("op", "sizes", undefined, ["a"], true)?.detail).toBe(
      "expected an options object, got undefined",
    );
  });

  it("refuses non-plain objects, saying what arrived", () => {
    const got = (x: unknown) => optionsProblem("op", "options", x, ["a"])?.got;
    expect(got(null)).toBe("null");
    expect(got([1, 2])).toBe("an array of length 2");
    expect(got(new Map())).toBe("an instance of Map");
    expect(got(() => 1)).toBe("a function");
    expect(got("a")).toBe('the string "a"');
    expect(got(5)).toBe("the number 5");
    class Options {
      a = 1;
    }
    expect(got(new Options())).toBe("an instance of Options");
  });

  it("refuses an unknown own key, naming it, the suggestion and every known key", () => {
    expect(optionsProblem("rnn", "options", { lenghts: [1] }, RNN)).toEqual({
      arg: "options.lenghts",
      detail: 'unknown key "lenghts" in options',
      fix: 'did you mean "lengths"? (the keys rnn reads from options are "initialCarry", "lengths", "timeMajor", "reverse", "key", "remat", "checkpoint", "unroll", "truncate")',
      key: "lenghts",
      suggestion: "lengths",
    });
    expect(optionsProblem("rnn", "options", { bogus: 1 }, RNN)?.fix).toMatch(
      /^remove it or use a known key: the keys rnn reads from options are "initialCarry", /,
    );
    // An explicit undefined under an unknown key is still a misspelt key.
    expect(optionsProblem("rnn", "options", { revers: undefined }, RNN)?.suggestion).toBe("reverse");
  });

  it("refuses an object built on another object, whose keys would be read through its prototype", () => {
    expect(optionsProblem("op", "options", Object.create({ a: 1 }) as object, ["a"])?.got).toBe(
      "an object that inherits from another object (Object.create)",
    );
  });

  it("ignores keys inherited from Object.prototype (every object would have them) and symbol keys", () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto["polluted"] = 1;
    try {
      expect(optionsProblem("op", "options", { a: 1 }, ["a"])).toBeUndefined();
    } finally {
      delete proto["polluted"];
    }
    // No option is named by a symbol, and reading symbol keys would allocate on every call.
    expect(optionsProblem("op", "options", { a: 1, [Symbol("tag")]: 2 }, ["a"])).toBeUndefined();
  });

  it("keeps messages short for a hostile key", () => {
    const p = optionsProblem("op", "options", { ["k".repeat(100_000)]: 1 }, ["a"])!;
    expect(p.detail.length + p.fix.length + p.arg.length).toBeLessThan(300);
  });

  it("tells a watcher every check and its outcome, until it is removed", () => {
    const seen: string[] = [];
    const stop = watchOptionChecks((op, arg, known, problem) =>
      seen.push(`${op} ${arg} [${known.join(",")}] ${problem?.key ?? "ok"}`),
    );
    optionsProblem("a", "options", { x: 1 }, ["x"]);
    optionsProblem("b", "sizes", { y: 1 }, ["x"]);
    stop();
    optionsProblem("c", "options", {}, []);
    expect(seen).toEqual(["a options [x] ok", "b sizes [x] y"]);
  });

  it("keysOf lists an options type's keys in order", () => {
    expect(keysOf<{ readonly a?: number; readonly b: string }>({ a: true, b: true })).toEqual(["a", "b"]);
  });
});

describe("tensor's wrapper", () => {
  it("throws a TensorException (ValueError) naming the op, the key and the suggestion", () => {
    expect(() => checkOptions("sum", { keepdims: true }, ["axis", "keepDims"])).toThrow(TensorException);
    expect(() => sum(tensor([1, 2]), { axes: 0 } as never)).toThrow(
      /^sum: unknown key "axes" in options \(argument `options\.axes`\); did you mean "axis"\?/,
    );
    expect(() => slice(tensor([1, 2]), [{ strat: 1 } as never])).toThrow(
      /^slice: unknown key "strat" in specs\[0\] .*did you mean "start"\?/,
    );
  });
});
