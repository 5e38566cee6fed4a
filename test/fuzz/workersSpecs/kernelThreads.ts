/// <reference types="node" />
/**
 * @file Spec of `useKernelThreads` (`@rewind/workers/node`): hostile thread counts and options
 * reject naming the option (before any thread starts); one real use splits a jitted product with
 * the bits of the eager one, and `close` stops the threads.
 *
 * Decisions pinned here: `minMacs: Infinity` is accepted and splits nothing; `"auto"` is spelt in
 * lower case (`"AUTO"` is refused); `useKernelThreads(1)` starts no thread.
 */
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as WN from "@rewind/workers/node";
import { BAD_SIZES, NOT_OPTIONS } from "../apiKit.js";
import { expectRejectedAsync, misspeltCasesAsync, rejectEachAsync } from "./asyncKit.js";
import { sameBits } from "./collectives.js";

const NAMES = ["useKernelThreads"];

/** A product of 24·16·20 multiply-adds, jitted after the threads are set (runners compiled before do not split). */
const product = (): { got: T.Tensor; want: T.Tensor } => {
  const a = T.random.normal(T.random.key(4), [24, 16]);
  const b = T.random.normal(T.random.key(5), [16, 20]);
  return { got: A.jit((x: A.Value, y: A.Value) => A.matmul(x, y))(a, b), want: T.matmul(a, b) };
};

export const useKernelThreadsSpec = async (): Promise<number> => {
  const cases: Record<string, () => unknown> = {};
  for (const t of [...BAD_SIZES, 65, "2"]) cases[`threads ${String(t)}`] = () => WN.useKernelThreads(t as number);
  for (const o of [...NOT_OPTIONS, [], new Date(0)])
    cases[`options ${String(o)}`] = () => WN.useKernelThreads(2, o as WN.KernelThreadsOptions);
  for (const m of [NaN, -1, -Infinity, "1", "AUTO", null, {}])
    cases[`minMacs ${String(m)}`] = () => WN.useKernelThreads(2, { minMacs: m as number });
  for (const ms of [0, -1, NaN, Infinity, "10", null])
    cases[`timeoutMs ${String(ms)}`] = () => WN.useKernelThreads(2, { timeoutMs: ms as number });
  let n = await rejectEachAsync(NAMES, cases);
  for (const key of ["minMacs", "timeoutMs"])
    expect((await expectRejectedAsync(NAMES, () => WN.useKernelThreads(2, { [key]: "x" }))).message).toContain(
      `options.${key}`,
    );
  n += await misspeltCasesAsync({
    names: NAMES,
    error: T.TensorException,
    known: ["minMacs", "timeoutMs"],
    call: (o) => WN.useKernelThreads(2, o),
  });
  const one = await WN.useKernelThreads(1);
  expect([one.threads, one.splits]).toEqual([1, 0]);
  await one.close();
  const never = await WN.useKernelThreads(2, { minMacs: Infinity });
  const unsplit = product();
  expect([sameBits(unsplit.got, unsplit.want), never.splits]).toEqual([true, 0]);
  await never.close();
  const threads = await WN.useKernelThreads(2, { minMacs: 0, timeoutMs: 10_000 });
  try {
    const split = product();
    expect(threads.threads).toBe(2);
    expect(threads.splits, "the product was split across the threads").toBeGreaterThan(0);
    expect(sameBits(split.got, split.want), "the same bits as the eager product").toBe(true);
  } finally {
    await threads.close();
  }
  const after = threads.splits;
  product();
  expect(threads.splits, "closed: nothing splits any more").toBe(after);
  return n + 3;
};
