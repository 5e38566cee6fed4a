/**
 * @file `bias: false` in PyTorch specs (PyTorch's `bias=False`): `torchRnn` parameters with no
 * bias tensors, state dicts without bias names in and out (also as safetensors files), and the
 * errors when a state dict's or a params record's biases disagree with the spec, naming the key.
 * Values against PyTorch itself are in torch.test.ts (the `_nobias` fixtures).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import { grad, sum, type Concrete } from "@rewind/autodiff";
import {
  fromTorchStateDict,
  gru,
  toTorchStateDict,
  torchParamNames,
  torchRnn,
  withoutBias,
  type TorchCellParams,
  type TorchCellWeights,
  type TorchRnnParams,
  type TorchRnnSpec,
} from "@rewind/rnn";
import { loadTorchSafetensors, saveTorchSafetensors } from "@rewind/rnn/node";

const spec = { mode: "gru", inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, bias: false } as const;
const biased = { ...spec, bias: true } as const;
const key = T.random.key(11);
const leftMessage = (r: E.Either<T.TensorError, unknown>): string => {
  if (E.isRight(r)) throw new Error("expected a Left");
  return T.formatTensorError(r.left);
};
const sameData = (a: unknown, b: unknown): void => {
  expect((a as Tensor).shape).toEqual((b as Tensor).shape);
  expect(Array.from((a as Tensor).data)).toEqual(Array.from((b as Tensor).data));
};

describe("torchRnn({ bias: false })", () => {
  it("init gives each layer and direction weight_ih and weight_hh only", () => {
    const layer = torchRnn(spec);
    expect(layer.spec.bias).toBe(false);
    expect(torchRnn({ mode: "gru", inputSize: 3, hiddenSize: 4 }).spec.bias).toBe(true);
    const p = layer.init(key);
    expect(p).toHaveLength(4);
    for (const cell of p) expect(Object.keys(cell).sort()).toEqual(["weight_hh", "weight_ih"]);
    // The same weights the biased layer draws from the same key: only the biases are left out.
    const q = torchRnn(biased).init(key);
    p.forEach((cell, i) => {
      sameData(cell.weight_ih, q[i]!.weight_ih);
      sameData(cell.weight_hh, q[i]!.weight_hh);
    });
    expect(torchParamNames(spec)).toEqual([
      "weight_ih_l0",
      "weight_hh_l0",
      "weight_ih_l0_reverse",
      "weight_hh_l0_reverse",
      "weight_ih_l1",
      "weight_hh_l1",
      "weight_ih_l1_reverse",
      "weight_hh_l1_reverse",
    ]);
  });

  it("apply equals the biased layer with zero biases, and the gradient has no bias entries", () => {
    const layer = torchRnn(spec);
    const p = layer.init(key, { dtype: "float64" });
    const zero = T.zeros([12], "float64");
    const zeroBiased = p.map((c) => ({ ...c, bias_ih: zero, bias_hh: zero }));
    const xs = T.random.normal(T.random.key(12), [2, 5, 3], "float64");
    const a = layer.apply(p, xs, { lengths: [5, 2] });
    const b = torchRnn(biased).apply(zeroBiased, xs, { lengths: [5, 2] });
    const diff = Array.from((a.outputs as Tensor).data).map((v, i) => Math.abs(v - (b.outputs as Tensor).data[i]!));
    expect(Math.max(...diff)).toBe(0);
    const g = grad((q: TorchRnnParams<false>) => sum(layer.apply(q, xs).outputs))(p);
    for (const cell of g) expect(Object.keys(cell).sort()).toEqual(["weight_hh", "weight_ih"]);
  });

  it("refuses a non-boolean bias, forgetBias, and params whose biases disagree with the spec", () => {
    expect(() => torchRnn({ ...spec, bias: "no" as never })).toThrow(/bias must be a boolean, got "no"/);
    expect(() => torchRnn({ ...spec, mode: "lstm" }).init(key, { forgetBias: 1 })).toThrow(
      /torchRnn\.init: forgetBias sets the forget gate's bias, and the spec says bias: false/,
    );
    const layer = torchRnn(spec);
    const xs = T.zeros([2, 5, 3]);
    const withBiases = torchRnn(biased).init(key);
    expect(() => layer.apply(withBiases, xs)).toThrow(
      /torchRnn\.apply: params do not fit gru \(.*bias: false\): unexpected bias_ih_l0, bias_hh_l0, .*bias_hh_l1_reverse.*drop the biases/,
    );
    expect(() => torchRnn(biased).apply(layer.init(key) as TorchRnnParams, xs)).toThrow(
      /expected bias_ih_l0 \[12\], found nothing.*the params have no biases: for PyTorch's bias=False set bias: false/,
    );
  });
});

describe("the types follow the spec (checked by tsc)", () => {
  it("a literal bias: false gives weights only; the default and a bias known at run time keep the biases", () => {
    expectTypeOf(torchRnn(spec).init(key)).toEqualTypeOf<TorchRnnParams<false>>();
    expectTypeOf(torchRnn(spec).init(key)[0]!).toEqualTypeOf<TorchCellWeights>();
    expectTypeOf(torchRnn({ mode: "gru", inputSize: 3, hiddenSize: 4 }).init(key)[0]!).toEqualTypeOf<TorchCellParams>();
    const dynamic: TorchRnnSpec = { mode: "gru", inputSize: 3, hiddenSize: 4 };
    expectTypeOf(torchRnn(dynamic).init(key)[0]!.bias_ih).toEqualTypeOf<TorchCellParams["bias_ih"]>();
    const read = fromTorchStateDict({}, spec);
    if (E.isRight(read)) expectTypeOf(read.right).toEqualTypeOf<TorchRnnParams<false>>();
    expectTypeOf(withoutBias(gru).init(key, { inputSize: 3, hiddenSize: 4 })).not.toHaveProperty("bias_ih");
    expectTypeOf(gru.init(key, { inputSize: 3, hiddenSize: 4 })).toEqualTypeOf<Concrete<TorchCellParams>>();
  });
});

describe("state dicts without biases", () => {
  it("round-trips: toTorchStateDict writes no bias names, fromTorchStateDict reads them back exactly", () => {
    const p = torchRnn(spec).init(key);
    const named = toTorchStateDict(p, spec, { prefix: "rnn." });
    expect(Object.keys(named)).toEqual(torchParamNames(spec).map((n) => `rnn.${n}`));
    const back = fromTorchStateDict(named, spec, { prefix: "rnn." });
    if (E.isLeft(back)) throw new Error(T.formatTensorError(back.left));
    back.right.forEach((cell, i) => {
      expect(Object.keys(cell).sort()).toEqual(["weight_hh", "weight_ih"]);
      expect(cell.weight_ih).toBe(named[`rnn.weight_ih_l${i >> 1}${i % 2 === 1 ? "_reverse" : ""}`]);
    });
  });

  it("a dict with biases for a bias-free spec is a Left naming each bias key, with the fix", () => {
    const named = toTorchStateDict(torchRnn(biased).init(key), biased);
    const msg = leftMessage(fromTorchStateDict(named, spec));
    expect(msg).toContain("does not fit gru (inputSize 3, hiddenSize 4, numLayers 2, bidirectional, bias: false)");
    expect(msg).toMatch(/unexpected: bias_ih_l0, bias_hh_l0, .*bias_hh_l1_reverse/);
    expect(msg).toContain("the names have biases: leave bias: false out of the spec");
    expect(msg).not.toContain("missing");
  });

  it("a dict without biases for a biased spec is a Left naming each missing key, with the fix", () => {
    const named = toTorchStateDict(torchRnn(spec).init(key), spec);
    const msg = leftMessage(fromTorchStateDict(named, biased));
    expect(msg).toContain("missing bias_ih_l0 [12] float32");
    expect(msg).toContain("missing bias_hh_l1_reverse [12] float32");
    expect(msg).toContain("the state dict has no biases (a module built with bias=False): set bias: false in the spec");
    expect(msg).not.toContain("unexpected");
    // Only one of the pair missing is a different problem: no bias=False hint, just the missing name.
    const partial = { ...toTorchStateDict(torchRnn(biased).init(key), biased) };
    delete partial["bias_hh_l1"];
    const one = leftMessage(fromTorchStateDict(partial, biased));
    expect(one).toContain("missing bias_hh_l1 [12] float32");
    expect(one).not.toContain("bias=False");
  });

  it("toTorchStateDict refuses params whose biases disagree with the spec", () => {
    expect(() => toTorchStateDict(torchRnn(biased).init(key), spec)).toThrow(/unexpected bias_ih_l0/);
    expect(() => toTorchStateDict(torchRnn(spec).init(key), biased)).toThrow(
      /expected bias_ih_l0 \[12\], found nothing/,
    );
  });
});

describe("safetensors files without biases (@rewind/rnn/node)", () => {
  const dir = mkdtempSync(join(tmpdir(), "rewind-torch-bias-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("saves and loads a bias-free layer exactly; a biased spec gets a Left naming the missing biases", () => {
    const p = torchRnn(spec).init(key, { dtype: "float64" });
    const path = join(dir, "gru-nobias.safetensors");
    expect(E.isRight(saveTorchSafetensors(path, p, spec))).toBe(true);
    const file = T.safetensors.decode(readFileSync(path));
    if (E.isLeft(file)) throw new Error(T.formatTensorError(file.left));
    expect([...file.right.tensors.keys()].sort()).toEqual(torchParamNames(spec).sort());
    const loaded = loadTorchSafetensors(path, spec);
    if (E.isLeft(loaded)) throw new Error(T.formatTensorError(loaded.left));
    loaded.right.forEach((cell, i) => {
      expect(Object.keys(cell).sort()).toEqual(["weight_hh", "weight_ih"]);
      sameData(cell.weight_ih, p[i]!.weight_ih);
      sameData(cell.weight_hh, p[i]!.weight_hh);
    });
    expect(leftMessage(loadTorchSafetensors(path, biased))).toMatch(/missing bias_ih_l0 \[12\] float64.*bias=False/);
  });

  it("loads PyTorch's own bias=False file (from make_fixtures.py) into a bias-free spec", () => {
    const fixture = fileURLToPath(
      new URL("../packages/rnn/test/fixtures/lstm_1l_uni_bf_nobias.safetensors", import.meta.url),
    );
    const lstmSpec = { mode: "lstm", inputSize: 3, hiddenSize: 4, bias: false } as const;
    const loaded = loadTorchSafetensors(fixture, lstmSpec, { prefix: "rnn.", dtype: "float64" });
    if (E.isLeft(loaded)) throw new Error(T.formatTensorError(loaded.left));
    expect(Object.keys(loaded.right[0]!).sort()).toEqual(["weight_hh", "weight_ih"]);
    expect(leftMessage(loadTorchSafetensors(fixture, { ...lstmSpec, bias: true }, { prefix: "rnn." }))).toContain(
      "missing rnn.bias_ih_l0 [16] float64",
    );
  });
});
