/**
 * @file @rewind/testing refuses misspelt options with its RewindError (a misspelt tolerance or law
 * option used to run the check with the default, which can make it pass for the wrong reason),
 * and its laws still pass their own options on to each other.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import { gru } from "@rewind/rnn";
import { allClose } from "../src/allClose.js";
import { checkGrads } from "../src/checkGrads.js";
import { cellCase } from "../src/cellCase.js";
import { cellLawChecks, cellLaws } from "../src/cellLaws.js";
import { assertAllClose } from "../src/matchers.js";

const sizes = { inputSize: 1, hiddenSize: 2 };
const small = { sizes, batch: 2, time: 2, configs: [{ timeMajor: false, reverse: true, lengths: true, key: false }] };

/** A RewindError (every Rewind package's kind) whose message matches `text`. */
const refused = (text: RegExp | string) =>
  expect.objectContaining({
    constructor: T.RewindError,
    error: expect.objectContaining({ _tag: "TestArgumentError" }),
    message: typeof text === "string" ? text : expect.stringMatching(text),
  });

describe("misspelt options", () => {
  it("allClose refuses { rtoll } instead of comparing with the default rtol", () => {
    const a = T.tensor([1], "float64");
    const b = T.tensor([1.001], "float64");
    expect(() => allClose(a, b, { rtoll: 0.01 } as never)).toThrow(
      refused(
        'allClose: argument `opts` has the unknown key "rtoll"; did you mean "rtol"? (the keys allClose reads from opts are "rtol", "atol", "equalNan")',
      ),
    );
    expect(allClose(a, b, { rtol: 0.01 }).pass).toBe(true);
    expect(() => assertAllClose("w", a, b, { equal_nan: true } as never)).toThrow(
      refused(/^assertAllClose: .*did you mean "equalNan"\?/),
    );
  });

  it("checkGrads, cellCase, cellLaws and each law check name the misspelt key", () => {
    expect(() => checkGrads((x: T.Tensor) => T.sum(x), [T.tensor([1], "float64")], { mode: ["rev"] } as never)).toThrow(
      refused(/^checkGrads: .*did you mean "modes"\?/),
    );
    expect(() => cellCase(gru, { sizes, seeed: 1 } as never)).toThrow(refused(/^cellCase: .*did you mean "seed"\?/));
    expect(() => cellLaws(gru, { ...small, lwas: ["bptt"] } as never)).toThrow(
      refused(/^cellLaws: .*did you mean "laws"\?/),
    );
    expect(() =>
      cellLaws(gru, { ...small, configs: [{ timeMajor: false, revrse: true, lengths: true, key: false }] } as never),
    ).toThrow(refused(/^cellLaws: argument `o\.configs\[0\]` .*did you mean "reverse"\?/));
    expect(() =>
      cellLawChecks.padding(cellCase(gru, { sizes, batch: 2, lengths: [1, 2] }), { rtoll: 1e-9 } as never),
    ).toThrow(refused(/^cellLawChecks\.padding: .*did you mean "rtol"\?/));
  });

  it("cellLaws hands each case its own options and each check its own, all from one object", () => {
    expect(() =>
      cellLaws(gru, { ...small, laws: ["bptt", "padding"], rtol: 1e-9, segments: [1], seed: 3 }),
    ).not.toThrow();
  });
});
