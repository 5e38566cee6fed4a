/// <reference types="node" />
/**
 * @file Running an exported model in ONNX Runtime (as @rewind/onnx's own tests do) and comparing
 * its outputs with Rewind's eager result, for the onnx fuzz suite.
 */
import { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import { treeLeaves } from "@rewind/autodiff";

/** One thread per session: the suite runs beside other test files on few cores. */
const SESSION_OPTIONS: InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };

const ortTensor = (t: T.Tensor): OrtTensor =>
  t.dtype === "bool"
    ? new OrtTensor("bool", Uint8Array.from(t.data), [...t.shape])
    : new OrtTensor(t.dtype, t.data as Float32Array | Float64Array | Int32Array, [...t.shape]);

/** Relative tolerance per dtype: float32 1e-5, float64 1e-12, exact for int32 and bool. */
const RTOL: Readonly<Record<T.DType, number>> = { float32: 1e-5, float64: 1e-12, int32: 0, bool: 0 };

/** What ONNX Runtime made of a model: its input and output names, and its outputs for `feeds`. */
export interface OrtRun {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

/**
 * Loads `bytes` in ONNX Runtime, feeds `inputs` (in the model's input order), and expects each
 * output to equal the matching leaf of `want` (same shape and dtype; within the dtype's tolerance,
 * NaN where Rewind has NaN). Returns the model's input and output names.
 */
export const runAndCompare = async (
  bytes: Uint8Array,
  inputs: readonly T.Tensor[],
  want: unknown,
  label: string,
): Promise<OrtRun> => {
  const session = await InferenceSession.create(bytes, SESSION_OPTIONS);
  try {
    const feeds = Object.fromEntries(session.inputNames.map((name, i) => [name, ortTensor(inputs[i]!)]));
    const results = await session.run(feeds);
    const leaves = treeLeaves(want) as T.Tensor[];
    expect(session.outputNames.length, `${label}: outputs`).toBe(leaves.length);
    leaves.forEach((w, k) => {
      const got = results[session.outputNames[k]!]!;
      expect([got.type, got.dims], `${label}: output ${k}`).toEqual([w.dtype, w.shape]);
      const g = got.data as ArrayLike<number | boolean>;
      let scale = 0;
      for (const v of w.data) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
      for (let i = 0; i < w.data.length; i++) {
        const a = Number(g[i]);
        const b = w.data[i]!;
        const ok = Number.isNaN(b)
          ? Number.isNaN(a)
          : a === b || Math.abs(a - b) <= RTOL[w.dtype] * Math.max(Math.abs(b), scale);
        if (!ok) expect(a, `${label}: output ${k}[${i}]`).toBe(b);
      }
    });
    return { inputNames: [...session.inputNames], outputNames: [...session.outputNames] };
  } finally {
    await session.release();
  }
};
