/**
 * @file Misspelt options are refused, not ignored (issue 13, item 8): `rnn(..., { lenghts })`
 * ran every sample to the full length, `manyToOne(..., { revers })` read forward, a cell's
 * `init` with `{ hiden }` or `{ dtyp }` fell back to the defaults. Each now throws the package's
 * TensorException naming the op, the misspelt key and the key it stands for.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import { rnn } from "../src/rnn.js";
import { manyToOne } from "../src/shapes.js";
import { lstm } from "../src/cells/lstm.js";
import { gru } from "../src/cells/gru.js";
import { linear } from "../src/layers.js";
import { stack, withSizes } from "../src/combinators.js";
import { defineCell } from "../src/custom.js";
import { torchRnn } from "../src/torch.js";

const key = T.random.key(0);
const params = lstm.init(key, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" });
const xs = T.random.normal(T.random.key(1), [2, 4, 2], "float64");

/** A TensorException whose message matches `text` and whose error value holds `fields`. */
const refused = (text: RegExp, fields: object = {}) =>
  expect.objectContaining({
    constructor: T.TensorException,
    message: expect.stringMatching(text),
    error: expect.objectContaining(fields),
  });

describe("misspelt options", () => {
  it("rnn refuses { lenghts } and suggests lengths", () => {
    expect(() => rnn(lstm, params, xs, { lenghts: [4, 1] } as never)).toThrow(
      refused(/^rnn: unknown key "lenghts" in options \(argument `options\.lenghts`\); did you mean "lengths"\?/),
    );
    // The spelling it stands for works, and the lengths take effect (the short sample's outputs past step 1 are 0).
    const out = rnn(lstm, params, xs, { lengths: [4, 1] }).outputs as T.Tensor;
    expect(Array.from(out.data.slice(4 * 3 + 3))).toEqual(new Array(9).fill(0));
  });

  it("manyToOne refuses { revers } and suggests reverse", () => {
    expect(() => manyToOne(lstm, params, xs, { revers: true } as never)).toThrow(
      refused(/^manyToOne: unknown key "revers" in options .*did you mean "reverse"\?/),
    );
  });

  it("a cell's init refuses sizes { hiden } and suggests hiddenSize", () => {
    // The message also tells a stack's users where other sizes go.
    expect(() => lstm.init(key, { inputSize: 2, hiden: 3 } as never)).toThrow(
      refused(/did you mean "hiddenSize"\?.*withSizes/, { _tag: "ValueError", op: "lstm.init", arg: "sizes.hiden" }),
    );
  });

  it("a cell's init refuses options { dtyp } and suggests dtype", () => {
    expect(() => gru.init(key, { inputSize: 2, hiddenSize: 3 }, { dtyp: "float64" } as never)).toThrow(
      refused(/did you mean "dtype"\?/, { op: "gru.init", arg: "options.dtyp" }),
    );
  });

  it("layers, stacks, defined cells and torchRnn refuse misspelt keys too", () => {
    expect(() => linear(2, { bais: false } as never)).toThrow(refused(/did you mean "bias"\?/));
    expect(() => linear(2).init(key, 3, { schme: "glorot" } as never)).toThrow(
      refused(/^linear\(2\)\.init: .*did you mean "scheme"\?/),
    );
    expect(() => stack([lstm, gru], { droput: 0.1 } as never)).toThrow(refused(/did you mean "dropout"\?/));
    expect(() => torchRnn({ mode: "gru", inputSize: 2, hiddenSize: 3, num_layers: 2 } as never)).toThrow(
      refused(/did you mean "numLayers"\?/),
    );
    const spec = {
      name: "mine",
      init: () => ({}),
      initialCarry: (b: number) => T.zeros([b, 1]),
      step: (_p: object, h: T.Tensor) => [h, h] as const,
      outputSize: 1,
    };
    expect(() => defineCell({ ...spec, nosie: () => null } as never)).toThrow(
      refused(/^defineCell\(mine\): .*did you mean "noise"\?/),
    );
  });

  it("a key nothing resembles lists the known keys instead of guessing", () => {
    expect(() => rnn(lstm, params, xs, { bogus: 1 } as never)).toThrow(
      refused(
        /^(?!.*did you mean).*"initialCarry", "lengths", "timeMajor", "reverse", "key", "remat", "checkpoint", "unroll", "truncate"/,
      ),
    );
  });

  it("withSizes still carries extra sizes to a cell that reads them; a built-in cell names the typo at init", () => {
    const wide = defineCell({
      name: "wide",
      init: (_k, sizes) => ({ w: T.zeros([(sizes as unknown as { width: number }).width]) }),
      initialCarry: (b: number) => T.zeros([b, 1]),
      step: (_p: object, h: T.Tensor) => [h, h] as const,
      outputSize: 1,
    });
    expect(
      (withSizes(wide, { width: 4 }).init(key, { inputSize: 1, hiddenSize: 1 }) as { w: T.Tensor }).w.shape,
    ).toEqual([4]);
    expect(() => withSizes(lstm, { hiden: 4 }).init(key, { inputSize: 1, hiddenSize: 1 })).toThrow(
      refused(/^lstm\.init: .*did you mean "hiddenSize"\?/),
    );
  });
});
