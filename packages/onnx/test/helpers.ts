/// <reference types="node" />
/**
 * @file Running exported models in ONNX Runtime and comparing them with Rewind's eager results.
 */
import { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import { makeGraph, treeLeaves, type Eqn, type Graph } from "@rewind/autodiff";
import type { Tensor } from "@rewind/tensor";
import { expect } from "vitest";
import { toOnnx, type ToOnnxOptions } from "../src/index.js";

/** An ONNX Runtime tensor holding a Rewind tensor's data. */
export const ortTensor = (t: Tensor): OrtTensor =>
  t.dtype === "bool"
    ? new OrtTensor("bool", Uint8Array.from(t.data), [...t.shape])
    : new OrtTensor(t.dtype, t.data as Float32Array | Float64Array | Int32Array, [...t.shape]);

/** One thread per session: the suite runs test files in parallel on few cores. */
export const SESSION_OPTIONS: InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };

/** Relative tolerance per dtype (the issue's: 1e-5 for float32, 1e-12 for float64; exact otherwise). */
const RTOL = { float32: 1e-5, float64: 1e-12, int32: 0, bool: 0 } as const;

/**
 * Expects ONNX Runtime's output to equal Rewind's: |ort − rewind| ≤ rtol·max(|rewind|, m) elementwise,
 * where m is the largest magnitude in the expected tensor (relative to the element, or to the
 * tensor's scale for elements near zero, where float32 rounding of the inputs dominates); same
 * shape, same dtype; NaNs must match.
 */
export const expectClose = (got: OrtTensor, want: Tensor, label: string): void => {
  expect(got.dims, `${label}: shape`).toEqual(want.shape);
  expect(got.type, `${label}: dtype`).toBe(want.dtype);
  const rtol = RTOL[want.dtype];
  const g = got.data as ArrayLike<number | boolean>;
  let scale = 0;
  for (let i = 0; i < want.data.length; i++)
    if (Number.isFinite(want.data[i])) scale = Math.max(scale, Math.abs(want.data[i]!));
  for (let i = 0; i < want.data.length; i++) {
    const a = Number(g[i]);
    const b = want.data[i]!;
    if (Number.isNaN(b)) {
      expect(Number.isNaN(a), `${label}[${i}]: Rewind NaN, ORT ${a}`).toBe(true);
      continue;
    }
    const ok = a === b || Math.abs(a - b) <= rtol * Math.max(Math.abs(b), scale);
    if (!ok) expect(a, `${label}[${i}] (rtol ${rtol})`).toBe(b);
  }
};

/** Every primitive name in a graph and its bodies. */
export const primitivesOf = (g: Graph): Set<string> => {
  const names = new Set<string>();
  const visit = (graph: Graph): void => {
    for (const e of graph.eqns as Iterable<Eqn>) {
      names.add(e.prim.name);
      const body = (e.params as { body?: Graph } | undefined)?.body;
      if (body !== undefined) visit(body);
    }
  };
  visit(g);
  return names;
};

/**
 * Exports f, runs it in ONNX Runtime on `args` (every leaf fed, in order, under the default names)
 * and compares every output leaf with f evaluated eagerly by Rewind. Returns the model bytes.
 */
export const checkExport = async (
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  options: ToOnnxOptions = {},
): Promise<Uint8Array> => {
  const bytes = toOnnx(f, args, options);
  const session = await InferenceSession.create(bytes, SESSION_OPTIONS);
  try {
    const feeds: Record<string, OrtTensor> = {};
    const bake = options.bake ?? [];
    let k = 0;
    args.forEach((a, i) => {
      if (bake.includes(i)) return;
      for (const leaf of treeLeaves(a)) feeds[session.inputNames[k++]!] = ortTensor(leaf as Tensor);
    });
    const results = await session.run(feeds);
    const want = treeLeaves((f as (...a: unknown[]) => unknown)(...args)) as Tensor[];
    expect(session.outputNames.length).toBe(want.length);
    want.forEach((w, i) => expectClose(results[session.outputNames[i]!]!, w, session.outputNames[i]!));
  } finally {
    await session.release();
  }
  return bytes;
};

/** The primitives f's traced graph uses (to prove a test exercises the primitive it names). */
export const tracedPrimitives = (f: (...args: never[]) => unknown, args: readonly unknown[]): Set<string> =>
  primitivesOf(makeGraph(f, { optimize: true })(...args).graph);
