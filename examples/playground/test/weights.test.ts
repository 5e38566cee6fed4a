/**
 * @file Saving and loading weights: a round trip restores the parameters bit for bit, and every
 * kind of bad file is refused with a message that names the problem.
 */
import * as E from "fp-ts/lib/Either.js";
import { safetensors, tensor, zeros } from "@rewind/tensor";
import { describe, expect, it } from "vitest";
import { sessionFor } from "../src/tasks/index.js";
import { paramsFromTensors, readWeights } from "../src/weights.js";
import { data } from "./data.js";

const config = { task: "sine", cell: "gru", hidden: 8, seed: 3 } as const;
const left = <A>(e: E.Either<string, A>): string => (E.isLeft(e) ? e.left : `Right(${JSON.stringify(e.right)})`);

describe("weights", () => {
  it("round-trips: the loaded session saves the same bytes, under the file's config and step", () => {
    const a = sessionFor(config, data);
    for (let i = 0; i < 3; i++) a.step();
    const bytes = a.save();
    const file = readWeights(bytes);
    if (E.isLeft(file)) throw new Error(file.left);
    expect(file.right.config).toEqual(config);
    expect(file.right.step).toBe(3);
    // A fresh session (other initial weights) takes the file's parameters and step.
    const b = sessionFor(config, data);
    expect(E.isRight(b.load(file.right.tensors, file.right.step))).toBe(true);
    expect(b.steps()).toBe(3);
    expect(b.save()).toEqual(bytes);
  });

  it("refuses bytes that are not a safetensors file", () => {
    expect(left(readWeights(new TextEncoder().encode("hello, world")))).toMatch(
      /^not a safetensors file: safetensors\.decode: /,
    );
  });

  it("refuses a safetensors file the playground did not write, and bad metadata, naming each field", () => {
    expect(left(readWeights(safetensors.encode({ w: zeros([2]) })))).toMatch(/not one saved by the playground/);
    const bad = safetensors.encode(
      { w: zeros([2]) },
      { "rewind.playground": "1", task: "chess", cell: "gru", hidden: "7", seed: "x", step: "1" },
    );
    const message = left(readWeights(bad));
    expect(message).toMatch(/^bad playground metadata: /);
    expect(message).toContain('task "chess"');
    expect(message).toContain('hidden "7"');
    expect(message).toContain('seed "x"');
    expect(message).not.toContain("cell");
  });

  it("lists every tensor that does not fit: missing, wrong shape or dtype, non-finite, unexpected", () => {
    const template = { cell: { w: zeros([2, 3]), b: zeros([3]) }, out: { v: zeros([4]) } };
    const tensors = new Map([
      ["cell.w", zeros([3, 2])],
      ["out.v", tensor([1, Number.NaN, 2, 3])],
      ["extra", zeros([1])],
    ]);
    const message = left(paramsFromTensors(template, tensors));
    expect(message).toContain("cell.w is float32 [3, 2], the model needs float32 [2, 3]");
    expect(message).toContain("missing cell.b (float32 [3])");
    expect(message).toContain("out.v holds NaN or infinite values");
    expect(message).toContain("unexpected tensor extra");
    const ok = paramsFromTensors(
      template,
      new Map([
        ["cell.w", zeros([2, 3])],
        ["cell.b", zeros([3])],
        ["out.v", tensor([1, 2, 3, 4])],
      ]),
    );
    expect(E.isRight(ok) && Array.from(ok.right.out.v.data)).toEqual([1, 2, 3, 4]);
  });

  it("a session refuses weights for another hidden size and keeps its own", () => {
    const small = sessionFor(config, data);
    const big = sessionFor({ ...config, hidden: 16 }, data);
    const file = readWeights(big.save());
    if (E.isLeft(file)) throw new Error(file.left);
    const before = small.save();
    expect(left(small.load(file.right.tensors, 0))).toContain(
      "cell.weight_hh is float32 [48, 16], the model needs float32 [24, 8]",
    );
    expect(small.save()).toEqual(before);
  });
});
