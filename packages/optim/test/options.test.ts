/**
 * @file Misspelt hyperparameters are refused, not ignored (issue 13, item 8): `sgd({ momentun })`
 * trained without momentum, `adam({ beta1 })` with the default b1, `adamw({ weight_decay })`
 * with the default decay. Each now throws a TensorException naming the optimizer, the key and
 * the key it stands for; schedules and the checkpoint state follow the same rule.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import { adam, adamw, sgd } from "../src/aliases.js";
import { cosineDecay } from "../src/schedules.js";
import { encodeCheckpoint } from "../src/checkpoint.js";

/** A TensorException whose message matches `text` and whose error value holds `fields`. */
const refused = (text: RegExp, fields: object = {}) =>
  expect.objectContaining({
    constructor: T.TensorException,
    message: expect.stringMatching(text),
    error: expect.objectContaining(fields),
  });

describe("misspelt hyperparameters", () => {
  it("sgd refuses { momentun } and suggests momentum", () => {
    expect(() => sgd({ learningRate: 0.1, momentun: 0.9 } as never)).toThrow(
      refused(/did you mean "momentum"\?/, { _tag: "ValueError", op: "sgd", arg: "options.momentun" }),
    );
  });

  it("adam refuses PyTorch's { beta1 } and suggests b1", () => {
    expect(() => adam({ learningRate: 1e-3, beta1: 0.8 } as never)).toThrow(
      refused(/did you mean "b1"\?/, { op: "adam", arg: "options.beta1" }),
    );
  });

  it("adamw refuses { weight_decay } and suggests weightDecay", () => {
    expect(() => adamw({ learningRate: 1e-3, weight_decay: 0.1 } as never)).toThrow(
      refused(/did you mean "weightDecay"\?/, { op: "adamw", arg: "options.weight_decay" }),
    );
  });

  it("schedules refuse a misspelt key too, and the message lists every key", () => {
    expect(() => cosineDecay({ initValue: 1, decay_steps: 100 } as never)).toThrow(
      refused(
        /^cosineDecay: unknown key "decay_steps" .*did you mean "decaySteps"\? \(the keys cosineDecay reads from options are "initValue", "decaySteps", "alpha", "exponent"\)/,
      ),
    );
  });

  it("a checkpoint's own keys are checked, but its config holds any JSON", () => {
    const state = { params: { w: T.zeros([2]) }, optState: [], step: 3 };
    expect(() => encodeCheckpoint({ ...state, confg: { lr: 1 } } as never)).toThrow(refused(/did you mean "config"\?/));
    expect(encodeCheckpoint({ ...state, config: { anything: { goes: [1, "x"] } } }).byteLength).toBeGreaterThan(0);
  });
});
