/// <reference types="node" />
/**
 * @file Spec of `pmap` (`@rewind/workers/node`): hostile module URLs, export names and options are
 * refused when the pmap is made (no thread starts); hostile call arguments are refused by the
 * call's promise before any worker runs; a few real calls on two workers check psum, pmean, kept
 * and donated values, a worker's library error, a missing export and a spinning worker (which
 * must end by the timeout, never hang). Worker threads are expensive: about twenty real calls in
 * all, over a handful of pmaps that `closeOpenedPmaps` closes after the suite.
 *
 * Decisions pinned here: the module is a URL object or an absolute URL string (a bare path has no
 * base: it used to throw a TypeError); a sharded (0) argument must hold a tensor (a number, null or
 * a forged tensor used to reach every worker whole); `timeoutMs` stops at the timers' limit (a
 * larger one used to time every call out at once); `collectiveBytes` that cannot be allocated is
 * refused naming the option (it used to escape as a RangeError); arrays with holes are refused in
 * every list option (a hole used to read as null).
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as W from "@rewind/workers";
import * as WN from "@rewind/workers/node";
import { BAD_SIZES, NOT_OPTIONS, rejectPool } from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { expectRejected } from "../contract.js";
import { expectRejectedAsync, rejectEachAsync } from "./asyncKit.js";
import { sameBits } from "./collectives.js";

const FIXTURE = new URL("./fixture.ts", import.meta.url);
const opened: Array<{ close: () => Promise<void> }> = [];

/** A pmap over the fixture module, closed by `closeOpenedPmaps`. */
const open = (exportName: string, options: W.PmapOptions): WN.Pmapped<(...args: never[]) => unknown> => {
  const p = WN.pmap(FIXTURE, exportName, options);
  opened.push(p);
  return p;
};

/** Closes every pmap the spec made (the suite's afterAll). */
export const closeOpenedPmaps = async (): Promise<void> => {
  await Promise.all(opened.splice(0).map((p) => p.close()));
};

const PMAP_KEYS = ["workers", "inAxes", "outAxes", "collectiveBytes", "timeoutMs", "keep", "donate"];
const BASE = { workers: 2, inAxes: [0] } as const;
const make = (options: unknown) => () => WN.pmap(FIXTURE, "sumTree", options as W.PmapOptions);
const holes = (n: number): unknown[] => new Array<unknown>(n);

/** Refusals when the pmap is made: module, export name, options (no thread is started). */
const madeRefusals = (): number => {
  let n = rejectPool(
    ["pmap"],
    [3, null, undefined, {}, "", "./fixture.ts", "fixture.ts", "not a url", new URL("./missing.ts", FIXTURE)],
    (m) => WN.pmap(m as string, "sumTree", BASE),
  );
  n += rejectPool(["pmap"], ["", 3, null, undefined, {}, ["sumTree"]], (e) => WN.pmap(FIXTURE, e as string, BASE));
  n += rejectPool(["pmap"], [...NOT_OPTIONS, undefined, [], new Date(0)], (o) => make(o)());
  const pools: Record<string, readonly unknown[]> = {
    workers: [...BAD_SIZES, 257, "2", true],
    inAxes: [undefined, null, 0, "0", [1], [0, 1], ["0"], [undefined], holes(1), { 0: 0, length: 1 }],
    outAxes: [1, "0", [1], [0, 1], holes(2), {}, true],
    collectiveBytes: [0, 4, 12, -8, 1.5, NaN, Infinity, "8", null, 2 ** 53, 2 ** 50],
    timeoutMs: [0, -1, NaN, Infinity, -Infinity, "1000", null, 2 ** 31 - 5000, 1e12],
    keep: [[-1], [1.5], [0, 0], "0", null, holes(1), [NaN], 0],
    donate: [[1], [-1], [0, 0], null, holes(1), "0", [0.5]],
  };
  for (const [key, pool] of Object.entries(pools)) {
    const base = key === "keep" ? { ...BASE, outAxes: [null] } : BASE;
    try {
      n += rejectPool(["pmap"], pool, (v) => make({ ...base, [key]: v })());
    } catch (e) {
      throw new Error(`options.${key}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  // Each error names the option it refuses.
  for (const key of ["workers", "inAxes", "outAxes", "collectiveBytes", "timeoutMs", "keep", "donate"])
    expect(() => make({ ...BASE, [key]: "x" })()).toThrow(`options.${key}`);
  n += misspeltCases({
    names: ["pmap"],
    error: T.TensorException,
    known: PMAP_KEYS,
    base: BASE,
    call: (o) => make(o)(),
  });
  return n;
};

/** Rows `from` … `to` − 1 of a tensor, along axis 0. */
const rowsOf = (t: T.Tensor, from: number, to: number): T.Tensor => {
  const per = t.data.length / t.shape[0]!;
  return T.fromDataOrThrow(t.data.slice(from * per, to * per), [to - from, ...t.shape.slice(1)], t.dtype);
};

/** Small integers of a dtype in a shape (sums of them are exact, whatever the order). */
const ints = (dtype: T.DType, shape: readonly number[], seed: number): T.Tensor => {
  const size = shape.reduce((a, b) => a * b, 1);
  return T.fromDataOrThrow(
    Array.from({ length: size }, (_, i) => ((seed + 5 * i) % 17) - 8),
    shape,
    dtype,
  );
};

/**
 * A hostile argument is refused by the main thread, naming it, before any worker runs: a worker's
 * failure (a WorkerFailure) would mean the value reached the workers.
 */
const refusedBeforeTheWorkers = (e: Error): void => {
  if (e instanceof W.WorkerFailure) throw new Error(`the workers ran it: ${e.message}`);
  if (!/\(argument `args(\[\d+\])?[`\s]/.test(e.message)) throw new Error(`the error names no argument: ${e.message}`);
};

/** The real calls of one sharded pmap: valid batches, then hostile arguments, then valid again. */
const shardedCalls = async (): Promise<number> => {
  const step = open("rowsAndTotal", { workers: 2, inAxes: [0], outAxes: [0, null], timeoutMs: 20_000 });
  const batch = fc.record({
    dtype: fc.constantFrom("float32", "float64", "int32"),
    rows: fc.constantFrom(2, 4),
    cols: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
    seed: fc.nat(100),
  });
  let n = 0;
  await fc.assert(
    fc.asyncProperty(batch, async ({ dtype, rows, cols, seed }) => {
      const xs = ints(dtype, [rows, ...cols], seed);
      const [doubled, total] = (await step(xs as never)) as [T.Tensor, T.Tensor];
      expect(sameBits(doubled, T.mul(xs, 2)), "rows doubled, joined in worker order").toBe(true);
      const want = T.add(T.sum(rowsOf(xs, 0, rows / 2)), T.sum(rowsOf(xs, rows / 2, rows)));
      expect(sameBits(total, want), "psum of the two workers' sums").toBe(true);
      n++;
    }),
    { numRuns: 6 },
  );
  const placed3 = W.place(T.ones([6]), 3, 0);
  const replicated = W.place(T.ones([4]), 2);
  const self: Record<string, unknown> = { x: T.ones([2]) };
  self["self"] = self;
  const call = step as unknown as (...args: unknown[]) => Promise<unknown>;
  n += await rejectEachAsync(
    ["pmap"],
    {
      "no argument": () => call(),
      "two arguments for one inAxes entry": () => call(T.ones([2]), T.ones([2])),
      "3 rows over 2 workers": () => call(T.ones([3, 2])),
      "1 row over 2 workers": () => call(T.ones([1])),
      "0 rows (empty shards)": () => call(T.zeros([0, 2])),
      "a scalar": () => call(T.scalar(1)),
      "a number (regression: reached every worker whole)": () => call(3),
      "null (regression)": () => call(null),
      "a string (regression)": () => call("x"),
      "an empty object (regression)": () => call({}),
      "a forged tensor (regression)": () => call({ shape: [2], dtype: "float32", data: [1, 2] }),
      "a function": () => call(() => 1),
      "a tree that contains itself": () => call(self),
      "a value placed with 3 workers": () => call(placed3),
      "a replicated placed value where inAxes says 0": () => call(replicated),
    },
    refusedBeforeTheWorkers,
  );
  // The refusals left the pmap usable.
  const [again] = (await step(T.tensor([1, 2]) as never)) as [T.Tensor];
  expect(Array.from(again.data)).toEqual([2, 4]);
  return n + 1;
};

/** psum and pmean of whole pytrees on two workers (replicated input: each worker holds the tree). */
const treeCalls = async (): Promise<number> => {
  const sumTree = open("sumTree", { workers: 2, inAxes: [null] });
  const meanTree = open("meanTree", { workers: 2, inAxes: [null] });
  const leaves = [
    T.random.normal(T.random.key(1), [2, 3]),
    T.tensor([NaN, -0, Infinity, 1e38], "float32"),
    T.tensor([2 ** 31 - 1, -5, 7], "int32"),
    T.tensor([1e300, -2.5], "float64"),
    T.zeros([0, 4]),
    T.zeros([3, 0], "int32"),
    T.scalar(1.5, "float64"),
  ];
  const tree = { leaves, lr: 0.1, name: "tree" };
  const summed = (await sumTree(tree as never)) as typeof tree;
  leaves.forEach((l, i) => expect(sameBits(summed.leaves[i], T.add(l, l)), `psum leaf ${i}`).toBe(true));
  expect([summed.lr, summed.name]).toEqual([0.1, "tree"]);
  const floats = leaves.filter((l) => l.dtype !== "int32");
  const means = (await meanTree(floats as never)) as T.Tensor[];
  floats.forEach((l, i) => expect(sameBits(means[i], T.div(T.add(l, l), 2)), `pmean leaf ${i}`).toBe(true));
  const call = sumTree as unknown as (...args: unknown[]) => Promise<unknown>;
  // A value larger than the collective slot: the worker's psum refuses it, naming the option to raise.
  const small = open("sumTree", { workers: 2, inAxes: [null], collectiveBytes: 8 });
  const { message } = await expectRejectedAsync(["pmap"], () => small(T.ones([4]) as never));
  expect(message).toMatch(/psum: .*collectiveBytes: 16/);
  let n = 3;
  for (const [label, arg] of [
    ["a bool leaf", { w: T.ones([2]), mask: T.tensor([1, 0], "bool") }],
    ["a bare number (psum(1) would not count the workers)", 1],
  ] as const) {
    const { message } = await expectRejectedAsync(["pmap"], () => call(arg));
    expect(message, label).toMatch(/psum: /);
    n++;
  }
  return n;
};

/** Kept and donated values: the result stays with the workers, a donated handle is refused after. */
const keptCalls = async (): Promise<number> => {
  const step = open("doubled", { workers: 2, inAxes: [null], outAxes: [null], keep: [0], donate: [0] });
  const start = W.place(T.tensor([1, 2, 3]), 2);
  const [kept] = (await step(start as never)) as [W.Placed<T.Tensor>];
  expect([W.isPlaced(kept), Array.from(kept.value().data)]).toEqual([true, [2, 4, 6]]);
  const [twice] = (await step(kept as never)) as [W.Placed<T.Tensor>];
  expect(Array.from(twice.value().data)).toEqual([4, 8, 12]);
  await expectRejectedAsync(["pmap"], () => (step as unknown as (x: unknown) => Promise<unknown>)(kept));
  return 3;
};

/** Failures in the workers: a library error names pmap and the worker; a spinning worker times out. */
const failingCalls = async (): Promise<number> => {
  const notFn = WN.pmap(FIXTURE.href, "notAFunction", { workers: 2, inAxes: [0] });
  const missing = WN.pmap(FIXTURE, "noSuchExport", { workers: 2, inAxes: [0] });
  // A scheme Node cannot import is refused when the pmap is made.
  expect(
    expectRejected(["pmap"], () => WN.pmap("http://example.invalid/step.js", "step", { workers: 2, inAxes: [0] })),
  ).toMatch(/http: URL/);
  const spins = WN.pmap(FIXTURE, "spins", { workers: 1, inAxes: [null], timeoutMs: 300 });
  opened.push(notFn, missing, spins);
  const x = T.ones([2]);
  expect((await expectRejectedAsync(["pmap"], () => notFn(x as never))).message).toMatch(/"notAFunction"/);
  expect((await expectRejectedAsync(["pmap"], () => missing(x as never))).message).toMatch(/"noSuchExport"/);
  const t0 = performance.now();
  expect((await expectRejectedAsync(["pmap"], () => spins(x as never))).message).toMatch(
    /did not finish within 600 ms/,
  );
  expect(performance.now() - t0, "ended by its timeout").toBeLessThan(10_000);
  // Results that cannot cross back, and a worker that throws a non-Error: each a failure naming pmap.
  for (const name of ["returnsAFunction", "returnsAPromise", "returnsACycle", "throwsAString"]) {
    const bad = WN.pmap(FIXTURE, name, { workers: 2, inAxes: [null] });
    opened.push(bad);
    const { message } = await expectRejectedAsync(["pmap"], () => bad(x as never));
    expect(message, name).toMatch(/worker \d/);
  }
  // A closed pmap refuses calls, and closing again is harmless.
  await notFn.close();
  await notFn.close();
  await expectRejectedAsync(["pmap"], () => notFn(x as never));
  return 9;
};

/** `pmap` of @rewind/workers/node. */
export const pmapSpec = async (): Promise<number> =>
  madeRefusals() + (await shardedCalls()) + (await treeCalls()) + (await keptCalls()) + (await failingCalls());
