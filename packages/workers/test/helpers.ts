/**
 * @file What the pmap tests share: their fixture module, data, bit-level comparisons, the
 * single-process reference gradient, and closing every pmap a file opened.
 */
import { afterAll } from "vitest";
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import { grad, treeLeaves } from "@rewind/autodiff";
import { loss } from "./fixtures/functions.js";

/** The module of the functions the workers run. */
export const FUNCTIONS = new URL("./fixtures/functions.ts", import.meta.url);

/** A linear model's weights [5, 3] and a batch of `batch` rows, from `seed`. */
export const data = (batch: number, seed: number) => {
  const [k1, k2, k3] = T.random.split(T.random.key(seed), 3) as unknown as [T.Key, T.Key, T.Key];
  return { w: T.random.normal(k1, [5, 3]), xs: T.random.normal(k2, [batch, 5]), ys: T.random.normal(k3, [batch, 3]) };
};

/** A tensor's bytes. */
export const bits = (t: Tensor): number[] =>
  Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));

/** The bytes of every leaf of a pytree of tensors. */
export const treeBits = (tree: unknown): number[][] => treeLeaves(tree).map((l) => bits(l as Tensor));

/** Rows `from` … `to` − 1 of a matrix. */
export const rows = (t: Tensor, from: number, to: number): Tensor => {
  const cols = t.shape[1]!;
  return T.fromDataOrThrow(t.data.slice(from * cols, to * cols), [to - from, cols], t.dtype);
};

/** The single-process reference: the shard gradients of `workers` equal shards, summed in worker order, over N. */
export const orderedMeanGrad = (w: Tensor, xs: Tensor, ys: Tensor, workers: number): Tensor => {
  const per = xs.shape[0]! / workers;
  const shards = Array.from({ length: workers }, (_, i) =>
    grad(loss)(w, rows(xs, i * per, (i + 1) * per), rows(ys, i * per, (i + 1) * per)),
  );
  return T.div(
    shards.reduce((a, b) => T.add(a, b)),
    workers,
  );
};

/** Registers every pmap passed to the returned function for closing after the file's tests. */
export const closesAfterAll = (): (<P extends { close: () => Promise<void> }>(p: P) => P) => {
  const opened: Array<{ close: () => Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(opened.map((p) => p.close()));
  });
  return (p) => {
    opened.push(p);
    return p;
  };
};
