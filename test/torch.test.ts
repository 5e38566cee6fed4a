/**
 * @file @rewind/rnn against PyTorch: every fixture written by
 * packages/rnn/test/fixtures/make_fixtures.py (torch.nn.RNN/LSTM/GRU in float64: one layer and
 * two bidirectional layers, both layouts, and packed variable-length batches) is loaded with our
 * safetensors decoder, its state dict read by `fromTorchStateDict`, and `torchRnn`'s outputs,
 * h_n, c_n and the gradients of the fixture's loss (from `grad` through scan) compared with
 * PyTorch's. Also: the state-dict error messages, the round trip, and the node entry's files.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import { grad, mul, sum, add, type Value } from "@rewind/autodiff";
import {
  fromTorchStateDict,
  toTorchStateDict,
  torchParamNames,
  torchRnn,
  type LstmCarry,
  type TorchRnnMode,
  type TorchRnnParams,
  type TorchRnnSpec,
} from "@rewind/rnn";
import { loadTorchSafetensors, saveTorchSafetensors } from "@rewind/rnn/node";

const FIXTURES = fileURLToPath(new URL("../packages/rnn/test/fixtures/", import.meta.url));
const TOL = 1e-10;

interface Fixture {
  readonly file: string;
  readonly spec: Required<TorchRnnSpec>;
  readonly packed: boolean;
  readonly tensors: ReadonlyMap<string, Tensor>;
}

/** Reads one fixture, validating the metadata the tests rely on (the files are external data). */
const loadFixture = (file: string): Fixture => {
  const decoded = T.safetensors.decode(readFileSync(join(FIXTURES, file)));
  if (E.isLeft(decoded)) throw new Error(`${file}: ${T.formatTensorError(decoded.left)}`);
  const { tensors, metadata } = decoded.right;
  const meta = (k: string): string => {
    const v = metadata.get(k);
    if (v === undefined) throw new Error(`${file}: metadata has no "${k}"; regenerate with make_fixtures.py`);
    return v;
  };
  const int = (k: string): number => {
    const n = Number(meta(k));
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new Error(`${file}: metadata ${k} = ${meta(k)} is not a positive integer`);
    return n;
  };
  const bool = (k: string): boolean => {
    const v = meta(k);
    if (v !== "true" && v !== "false") throw new Error(`${file}: metadata ${k} = ${v} is not true/false`);
    return v === "true";
  };
  const mode = meta("mode");
  if (!["rnn_tanh", "rnn_relu", "lstm", "gru"].includes(mode)) throw new Error(`${file}: unknown mode ${mode}`);
  const spec = {
    mode: mode as TorchRnnMode,
    inputSize: int("input_size"),
    hiddenSize: int("hidden_size"),
    numLayers: int("num_layers"),
    bidirectional: bool("bidirectional"),
    batchFirst: bool("batch_first"),
    bias: bool("bias"),
  };
  return { file, spec, packed: bool("packed"), tensors };
};

const need = (f: Fixture, name: string): Tensor => {
  const t = f.tensors.get(name);
  if (t === undefined) throw new Error(`${f.file}: no tensor "${name}"`);
  if (t.dtype !== (name === "lengths" ? "int32" : "float64")) throw new Error(`${f.file}: "${name}" is ${t.dtype}`);
  return t;
};

const maxAbsDiff = (a: Value, b: Tensor): number => {
  const x = a as Tensor;
  expect(x.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < b.data.length; i++) m = Math.max(m, Math.abs(x.data[i]! - b.data[i]!));
  return m;
};

const files = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".safetensors"))
  .sort();
const worst = { value: 0, grad: 0, where: "" };

afterAll(() => {
  console.log(
    `torch.test: ${files.length} fixtures; max |ours − torch| values ${worst.value.toExponential(2)}, gradients ${worst.grad.toExponential(2)}`,
  );
});

describe("torchRnn matches PyTorch (fixtures from make_fixtures.py)", () => {
  it("has the fixture set: 4 modes × {1 layer, 2 layers bidirectional} × 2 layouts + packed cases", () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const mode of ["rnn_tanh", "rnn_relu", "lstm", "gru"]) {
      for (const shape of ["1l_uni_bf", "1l_uni_tm", "2l_bi_bf", "2l_bi_tm"])
        expect(files).toContain(`${mode}_${shape}.safetensors`);
    }
    expect(files).toContain("lstm_2l_bi_bf_packed.safetensors");
    expect(files).toContain("gru_2l_bi_bf_packed.safetensors");
    expect(files).toContain("rnn_tanh_2l_bi_tm_packed.safetensors");
    expect(files).toContain("gru_1l_uni_tm_packed.safetensors");
    // PyTorch's bias=False: every mode, one layer and two bidirectional layers, and a packed GRU.
    for (const mode of ["rnn_tanh", "rnn_relu", "lstm", "gru"]) {
      for (const shape of ["1l_uni_bf", "2l_bi_tm"]) expect(files).toContain(`${mode}_${shape}_nobias.safetensors`);
    }
    expect(files).toContain("gru_2l_bi_bf_packed_nobias.safetensors");
  });

  it.each(files)("%s: outputs, h_n (c_n) and every gradient", (file) => {
    const f = loadFixture(file);
    const { spec } = f;
    const isLstm = spec.mode === "lstm";
    const params = fromTorchStateDict(f.tensors, spec, { prefix: "rnn.", dtype: "float64" });
    if (E.isLeft(params)) throw new Error(T.formatTensorError(params.left));
    const layer = torchRnn(spec);
    const lengths = f.packed ? need(f, "lengths") : undefined;
    const xs = need(f, "input");
    const h0 = need(f, "h0");
    const c0 = isLstm ? need(f, "c0") : h0;
    const carry = (h: Value, c: Value): Value | LstmCarry => (isLstm ? { h, c } : h);
    const run = (p: TorchRnnParams, x: Value, h: Value, c: Value) =>
      layer.apply(p, x, { initialCarry: carry(h, c), ...(lengths === undefined ? {} : { lengths }) });

    // Forward values.
    const { outputs, finalCarry } = run(params.right, xs, h0, c0);
    const hN = isLstm ? (finalCarry as LstmCarry).h : (finalCarry as Value);
    const errs = [maxAbsDiff(outputs, need(f, "output")), maxAbsDiff(hN, need(f, "h_n"))];
    if (isLstm) errs.push(maxAbsDiff((finalCarry as LstmCarry).c, need(f, "c_n")));
    const valueErr = Math.max(...errs);

    // Gradients of the fixture's loss w.r.t. params, input, h0 (and c0), through scan.
    const loss = (p: TorchRnnParams, x: Value, h: Value, c: Value): Value => {
      const r = run(p, x, h, c);
      const hLast = isLstm ? (r.finalCarry as LstmCarry).h : (r.finalCarry as Value);
      let l = add(sum(mul(r.outputs, need(f, "R_output"))), sum(mul(hLast, need(f, "R_h_n"))));
      if (isLstm) l = add(l, sum(mul((r.finalCarry as LstmCarry).c, need(f, "R_c_n"))));
      return l;
    };
    const [gp, gx, gh, gc] = grad(loss, { argnums: [0, 1, 2, 3] })(params.right, xs, h0, c0);
    const gradErrs = [maxAbsDiff(gx, need(f, "grad.input")), maxAbsDiff(gh, need(f, "grad.h0"))];
    if (isLstm) gradErrs.push(maxAbsDiff(gc, need(f, "grad.c0")));
    const named = toTorchStateDict(gp, spec);
    expect(Object.keys(named)).toEqual(torchParamNames(spec));
    for (const [name, g] of Object.entries(named)) gradErrs.push(maxAbsDiff(g, need(f, `grad.${name}`)));
    const gradErr = Math.max(...gradErrs);

    if (f.packed) {
      // The padding law, as PyTorch sees it: no gradient reaches padded inputs.
      const len = lengths!.data;
      const [B, Tm, F] = spec.batchFirst ? gx.shape : [gx.shape[1]!, gx.shape[0]!, gx.shape[2]!];
      for (let b = 0; b < B!; b++) {
        for (let t = len[b]!; t < Tm!; t++) {
          for (let j = 0; j < F!; j++) {
            const at = spec.batchFirst ? (b * Tm! + t) * F! + j : (t * B! + b) * F! + j;
            expect((gx as Tensor).data[at]).toBe(0);
          }
        }
      }
    }
    if (valueErr > worst.value) worst.value = valueErr;
    if (gradErr > worst.grad) worst.grad = gradErr;
    expect(valueErr).toBeLessThan(TOL);
    expect(gradErr).toBeLessThan(TOL);
  });

  it("defaults the initial state to zeros, as PyTorch does", () => {
    const f = loadFixture("gru_2l_bi_tm.safetensors");
    const params = fromTorchStateDict(f.tensors, f.spec, { prefix: "rnn." });
    if (E.isLeft(params)) throw new Error(T.formatTensorError(params.left));
    const layer = torchRnn(f.spec);
    const xs = need(f, "input");
    const zeros = T.zeros(need(f, "h0").shape, "float64");
    const a = layer.apply(params.right, xs);
    const b = layer.apply(params.right, xs, { initialCarry: zeros });
    expect(maxAbsDiff(a.outputs, b.outputs as Tensor)).toBe(0);
    expect(maxAbsDiff(a.finalCarry as Value, b.finalCarry as Tensor)).toBe(0);
  });
});

const lstmSpec = { mode: "lstm", inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true } as const;
const lstmDict = (): Map<string, Tensor> => {
  const f = loadFixture("lstm_2l_bi_bf.safetensors");
  return new Map([...f.tensors].filter(([k]) => k.startsWith("rnn.")).map(([k, v]) => [k.slice(4), v]));
};
const leftMessage = (r: E.Either<T.TensorError, unknown>): string => {
  if (E.isRight(r)) throw new Error("expected a Left");
  return T.formatTensorError(r.left);
};

describe("fromTorchStateDict / toTorchStateDict", () => {
  it("reads a plain state dict (Map or record) and round-trips it exactly", () => {
    const dict = lstmDict();
    for (const input of [dict, Object.fromEntries(dict)]) {
      const p = fromTorchStateDict(input, lstmSpec);
      if (E.isLeft(p)) throw new Error(T.formatTensorError(p.left));
      const back = toTorchStateDict(p.right, lstmSpec);
      expect(Object.keys(back).sort()).toEqual([...dict.keys()].sort());
      for (const [k, v] of Object.entries(back)) expect(v).toBe(dict.get(k));
    }
    const prefixed = toTorchStateDict(
      E.getOrElseW((): TorchRnnParams => [])(fromTorchStateDict(dict, lstmSpec)),
      lstmSpec,
      { prefix: "enc.rnn." },
    );
    expect(Object.keys(prefixed)[0]).toBe("enc.rnn.weight_ih_l0");
  });

  it("lists a missing name with its expected shape and dtype", () => {
    const dict = lstmDict();
    dict.delete("weight_hh_l1_reverse");
    expect(leftMessage(fromTorchStateDict(dict, lstmSpec))).toContain("missing weight_hh_l1_reverse [16, 4] float64");
  });

  it("lists unexpected names", () => {
    const dict = lstmDict();
    dict.set("foo", T.zeros([2], "float64"));
    const msg = leftMessage(fromTorchStateDict(dict, lstmSpec));
    expect(msg).toContain("unexpected: foo");
    expect(msg).not.toContain("missing");
  });

  it("names expected and found shapes, and every problem at once", () => {
    const dict = lstmDict();
    dict.set("foo", T.zeros([2], "float64"));
    const msg = leftMessage(fromTorchStateDict(dict, { ...lstmSpec, inputSize: 5 }));
    expect(msg).toContain("expected weight_ih_l0 [16, 5] float64, found [16, 3] float64");
    expect(msg).toContain("expected weight_ih_l0_reverse [16, 5] float64, found [16, 3] float64");
    expect(msg).toContain("unexpected: foo");
    expect(msg).not.toContain("weight_ih_l1");
  });

  it("rejects a wrong dtype, a non-tensor, and a mismatched layout with hints", () => {
    const dict = lstmDict();
    dict.set("bias_ih_l0", T.astype(dict.get("bias_ih_l0")!, "float32"));
    expect(leftMessage(fromTorchStateDict(dict, lstmSpec))).toContain(
      "expected bias_ih_l0 [16] float64, found [16] float32",
    );
    const junk = new Map<string, unknown>(lstmDict());
    junk.set("bias_hh_l0", { dtype: "float64", shape: [16], data: new Float64Array(3) });
    expect(leftMessage(fromTorchStateDict(junk as Map<string, Tensor>, lstmSpec))).toContain(
      "bias_hh_l0 [16] float64, found something that is not a valid tensor",
    );
    const uni = leftMessage(fromTorchStateDict(lstmDict(), { ...lstmSpec, bidirectional: false }));
    expect(uni).toMatch(/unexpected: .*weight_ih_l0_reverse/);
    expect(uni).not.toContain("more layers");
    expect(leftMessage(fromTorchStateDict(lstmDict(), { ...lstmSpec, numLayers: 1 }))).toContain(
      "the names have more layers than numLayers: 1",
    );
    expect(uni).toContain("bidirectional: true");
    expect(leftMessage(fromTorchStateDict(lstmDict(), { ...lstmSpec, mode: "gru" }))).toContain(
      "expected weight_ih_l0 [12, 3] float64, found [16, 3] float64",
    );
    expect(leftMessage(fromTorchStateDict(lstmDict(), { ...lstmSpec, numLayers: 0 }))).toContain(
      "numLayers must be a positive integer",
    );
  });

  it("checks params and initial states in torchRnn.apply", () => {
    const layer = torchRnn(lstmSpec);
    const p = layer.init(T.random.key(0), { dtype: "float64" });
    const xs = T.random.normal(T.random.key(1), [2, 5, 3], "float64");
    expect(() => layer.apply(p.slice(0, 3), xs)).toThrow(/expected 4 cell parameter records/);
    expect(() => layer.apply(p, T.zeros([2, 5, 4], "float64"))).toThrow(/inputSize 3/);
    expect(() =>
      layer.apply(p, xs, { initialCarry: { h: T.zeros([4, 2, 4], "float64"), c: T.zeros([2, 2, 4], "float64") } }),
    ).toThrow(/initialCarry\.c/);
    expect(() => layer.apply(p, xs, { lengths: [6, 1] })).toThrow(/lengths/);
    expect(() => layer.apply(p, T.astype(xs, "float32"))).toThrow(/xs is float32 but the parameters are float64/);
    expect(() => torchRnn({ ...lstmSpec, mode: "lstmm" as "lstm" })).toThrow(/mode must be one of/);
    const r = layer.apply(p, xs);
    expect(r.outputs.shape).toEqual([2, 5, 8]);
    expect(r.finalCarry.h.shape).toEqual([4, 2, 4]);
  });
});

describe("@rewind/rnn/node: safetensors files", () => {
  const dir = mkdtempSync(join(tmpdir(), "rewind-torch-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const spec = {
    mode: "gru",
    inputSize: 5,
    hiddenSize: 6,
    numLayers: 2,
    bidirectional: true,
    batchFirst: false,
  } as const;

  it.each(["float32", "float64"] as const)("saves and loads %s params exactly, atomically", (dtype) => {
    const params = torchRnn(spec).init(T.random.key(7), { dtype });
    const path = join(dir, `gru-${dtype}.safetensors`);
    expect(E.isRight(saveTorchSafetensors(path, params, spec, { note: "hi" }))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const loaded = loadTorchSafetensors(path, spec);
    if (E.isLeft(loaded)) throw new Error(T.formatTensorError(loaded.left));
    loaded.right.forEach((cell, i) => {
      for (const k of ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] as const) {
        const a = cell[k] as Tensor;
        const b = params[i]![k] as Tensor;
        expect(a.dtype).toBe(dtype);
        expect(a.shape).toEqual(b.shape);
        expect(Array.from(a.data)).toEqual(Array.from(b.data));
      }
    });
    const file = T.safetensors.decode(readFileSync(path));
    expect(E.isRight(file) && file.right.metadata.get("format")).toBe("pt");
    expect(E.isRight(file) && file.right.metadata.get("note")).toBe("hi");
  });

  it("gives a Left, never a throw, for a missing file, a corrupted file and a mismatched spec", () => {
    expect(leftMessage(loadTorchSafetensors(join(dir, "nope.safetensors"), spec))).toMatch(
      /cannot read .*nope\.safetensors/,
    );
    const good = join(dir, "good.safetensors");
    expect(E.isRight(saveTorchSafetensors(good, torchRnn(spec).init(T.random.key(1)), spec))).toBe(true);
    const bytes = readFileSync(good);
    const bad = join(dir, "bad.safetensors");
    writeFileSync(bad, bytes.subarray(0, bytes.length - 10));
    expect(leftMessage(loadTorchSafetensors(bad, spec))).toMatch(/bad\.safetensors" is not a valid safetensors file/);
    writeFileSync(bad, Buffer.from("not a safetensors file at all"));
    expect(E.isLeft(loadTorchSafetensors(bad, spec))).toBe(true);
    expect(leftMessage(loadTorchSafetensors(good, { ...spec, hiddenSize: 7 }))).toContain(
      "expected weight_hh_l0 [21, 7] float32, found [18, 6] float32",
    );
  });

  it("gives a Left when the file cannot be written or the params do not fit", () => {
    const params = torchRnn(spec).init(T.random.key(1));
    expect(leftMessage(saveTorchSafetensors(join(dir, "missing-dir", "x.safetensors"), params, spec))).toMatch(
      /cannot write/,
    );
    expect(leftMessage(saveTorchSafetensors(join(dir, "y.safetensors"), params, { ...spec, hiddenSize: 3 }))).toMatch(
      /do not fit/,
    );
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
