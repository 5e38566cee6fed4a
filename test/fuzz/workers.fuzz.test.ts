/**
 * @file Public-API fuzz suite of @rewind/workers: every runtime export of `@rewind/workers` and of
 * `@rewind/workers/node` has a spec (a new export fails the first test until it is listed). The
 * collectives run outside pmap (one worker) on random pytrees of every dtype; `place` round-trips
 * random trees; `Placed` and `WorkerFailure` are built from hostile parts; `pmap` refuses hostile
 * modules, export names, options and call arguments, and runs about twenty real calls on two
 * workers (psum, pmean, kept and donated values, worker failures, a timeout); `useKernelThreads`
 * refuses hostile options and splits one product. Every refusal is a library error naming the op
 * (for a call, a rejected promise), within a bound: a hang fails the suite.
 */
import { afterAll, expect, test } from "vitest";
import * as W from "@rewind/workers";
import * as WN from "@rewind/workers/node";
import { testMisspeltKeys } from "./options.js";
import { testEachSpec } from "./apiKit.js";
import { exportsOf, FuzzLedger } from "./contract.js";
import { axisSpec, pmeanSpec, psumPrimitiveSpec, psumSpec } from "./workersSpecs/collectives.js";
import { isPlacedSpec, PlacedSpec, placeSpec, WorkerFailureSpec } from "./workersSpecs/placed.js";
import { closeOpenedPmaps, pmapSpec } from "./workersSpecs/pmap.js";
import { useKernelThreadsSpec } from "./workersSpecs/kernelThreads.js";

/** The node entry's own exports, beside the main entry's (which it re-exports). */
const NODE_ONLY = ["pmap", "useKernelThreads"];

const registry: Readonly<Record<string, () => number | Promise<number>>> = {
  psum: psumSpec,
  pmean: pmeanSpec,
  axisIndex: axisSpec("axisIndex"),
  axisSize: axisSpec("axisSize"),
  psumPrimitive: psumPrimitiveSpec,
  place: placeSpec,
  isPlaced: isPlacedSpec,
  Placed: PlacedSpec,
  WorkerFailure: WorkerFailureSpec,
  "node.pmap": pmapSpec,
  "node.useKernelThreads": useKernelThreadsSpec,
};

const ledger = new FuzzLedger("@rewind/workers");
afterAll(() => ledger.write());
afterAll(closeOpenedPmaps);

test("every runtime export of @rewind/workers and @rewind/workers/node has a fuzz spec", () => {
  const main = exportsOf(W);
  expect([...main, ...NODE_ONLY.map((e) => `node.${e}`)].sort()).toEqual(Object.keys(registry).sort());
  // The node entry is the main entry plus its own: the same objects, so the main entry's specs cover them.
  expect(exportsOf(WN)).toEqual([...main, ...NODE_ONLY].sort());
  for (const name of main) expect(WN[name as keyof typeof WN], name).toBe(W[name as keyof typeof W]);
});

testEachSpec(registry, ledger);

// Last, after every spec ran: each options slot the library checked for this package's ops met a misspelt key.
testMisspeltKeys(Object.keys(registry));
