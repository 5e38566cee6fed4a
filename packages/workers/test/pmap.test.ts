/**
 * pmap on worker threads: the data-parallel gradient equals, bit for bit, a single process that
 * sums the same shard gradients in worker order; runs repeat bit for bit; different worker counts
 * agree within float tolerance; sharded outputs come back in order; and failures are clear errors,
 * never hangs.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import { grad } from "@rewind/autodiff";
import { pmap, WorkerFailure, type Pmapped } from "../src/node.js";
import type * as F from "./fixtures/functions.js";
import { loss } from "./fixtures/functions.js";
import { bits, data, FUNCTIONS, orderedMeanGrad, rows } from "./helpers.js";

describe("pmap over 2 workers", () => {
  let meanGrad: Pmapped<typeof F.meanGrad>;
  beforeAll(() => {
    meanGrad = pmap<typeof F.meanGrad>(FUNCTIONS, "meanGrad", { workers: 2, inAxes: [null, 0, 0] });
  });
  afterAll(async () => meanGrad.close());

  it("the jitted data-parallel gradient equals the in-order sum of the shard gradients, bit for bit", async () => {
    for (const seed of [1, 2, 3]) {
      const { w, xs, ys } = data(8, seed);
      const g = await meanGrad(w, xs, ys);
      expect(bits(g)).toEqual(bits(orderedMeanGrad(w, xs, ys, 2)));
    }
  });

  it("repeats bit for bit from call to call", async () => {
    const { w, xs, ys } = data(16, 4);
    const first = bits(await meanGrad(w, xs, ys));
    for (let i = 0; i < 3; i++) expect(bits(await meanGrad(w, xs, ys))).toEqual(first);
  });

  it("keeps no hold on a call's result once the caller lets it go", async () => {
    // Its own function, so that no frame of this test keeps the result alive.
    const resultOfOneCall = async (): Promise<WeakRef<object>> => {
      const { w, xs, ys } = data(8, 6);
      return new WeakRef(await meanGrad(w, xs, ys));
    };
    const result = await resultOfOneCall();
    await new Promise((resolve) => setTimeout(resolve, 0)); // WeakRef targets live to the end of their job
    setFlagsFromString("--expose-gc");
    (runInNewContext("gc") as () => void)();
    // A queue of calls that held each call's value kept the last result (and its buffers) until the
    // next call, and for good after the last one.
    expect(result.deref()).toBeUndefined();
  });

  it("agrees with the full-batch gradient within float32 tolerance", async () => {
    const { w, xs, ys } = data(32, 5);
    const full = grad(loss)(w, xs, ys);
    const g = await meanGrad(w, xs, ys);
    const err = T.item(T.max(T.abs(T.sub(g, full))));
    expect(err).toBeLessThan(1e-6 * (1 + T.item(T.max(T.abs(full)))));
  });

  it("refuses a batch that does not split into equal shards, naming the argument and the fix", async () => {
    const { w, xs, ys } = data(5, 6);
    await expect(meanGrad(w, xs, ys)).rejects.toThrow(
      /pmap: a sharded argument has 5 rows on axis 0.*args\[1\].*multiple of 2/s,
    );
  });
});

describe("pmap outputs and failures", () => {
  it("joins sharded outputs in worker order and checks replicated ones", async () => {
    const f = pmap<typeof F.predictAndTotal>(FUNCTIONS, "predictAndTotal", {
      workers: 2,
      inAxes: [null, 0, 0],
      outAxes: [0, null],
    });
    try {
      const { w, xs, ys } = data(6, 7);
      const [pred, total] = await f(w, xs, ys);
      expect(bits(pred)).toEqual(bits(T.matmul(xs, w)));
      const shard = (i: number) =>
        T.sum(T.square(T.sub(T.matmul(rows(xs, 3 * i, 3 * i + 3), w), rows(ys, 3 * i, 3 * i + 3))));
      expect(bits(total)).toEqual(bits(T.add(shard(0), shard(1))));
    } finally {
      await f.close();
    }
  });

  it("a replicated output that differs between workers is an error that points at pmean", async () => {
    const f = pmap<typeof F.shardGrad>(FUNCTIONS, "shardGrad", { workers: 2, inAxes: [null, 0, 0] });
    try {
      const { w, xs, ys } = data(4, 8);
      await expect(f(w, xs, ys)).rejects.toThrow(/worker 1 computed another value than worker 0.*pmean/s);
    } finally {
      await f.close();
    }
  });

  it("a worker that throws is named with its error, and its peers are released", async () => {
    const f = pmap<typeof F.throwsOnWorker1>(FUNCTIONS, "throwsOnWorker1", {
      workers: 2,
      inAxes: [0],
      timeoutMs: 20_000,
    });
    try {
      const started = Date.now();
      const error = await f(T.ones([4])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkerFailure);
      expect((error as WorkerFailure).error.worker).toBe(1);
      expect((error as Error).message).toMatch(/pmap: worker 1 threw: bad shard on purpose/);
      expect(Date.now() - started).toBeLessThan(15_000);
      // The pool still works afterwards.
      await expect(f(T.ones([4]))).rejects.toThrow(/worker 1 threw/);
    } finally {
      await f.close();
    }
  });

  it("a worker that dies is named, and the call ends instead of hanging", async () => {
    const f = pmap<typeof F.diesOnWorker1>(FUNCTIONS, "diesOnWorker1", { workers: 2, inAxes: [0], timeoutMs: 20_000 });
    try {
      const started = Date.now();
      await expect(f(T.ones([4]))).rejects.toThrow(/pmap: worker 1 died/);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await f.close();
    }
  });
});

describe("pmap's arguments", () => {
  it("refuses a module that does not exist, a bad worker count, misspelt options and a wrong argument count", async () => {
    const missing = new URL("./fixtures/nope.ts", import.meta.url);
    expect(() => pmap(missing, "f", { workers: 2, inAxes: [0] })).toThrow(
      /pmap: no file at .*nope\.ts.*import\.meta\.url/s,
    );
    // A scheme Node's loader cannot import is refused here, not by every worker at the first call.
    expect(() => pmap("https://example.com/step.js", "f", { workers: 2, inAxes: [0] })).toThrow(
      /pmap: https:\/\/example\.com\/step\.js is a https: URL; Node's workers import file: and data: URLs only/,
    );
    expect(() => pmap(FUNCTIONS, "meanGrad", { workers: 0, inAxes: [0] })).toThrow(
      /from 1 to 256, got 0.*options\.workers/s,
    );
    expect(() => pmap(FUNCTIONS, "meanGrad", { workers: 2, inAxis: [0] } as never)).toThrow(/inAxis/);
    const f = pmap<typeof F.meanGrad>(FUNCTIONS, "meanGrad", { workers: 2, inAxes: [null, 0] });
    const { w, xs, ys } = data(4, 9);
    await expect(f(w, xs, ys)).rejects.toThrow(/got 3 arguments but inAxes describes 2/);
    await f.close();
    await expect(f(w, xs, ys)).rejects.toThrow(/this pmap was closed/);
  });

  it("a missing export is named, with the module", async () => {
    const f = pmap<(x: Tensor) => Tensor>(FUNCTIONS, "notAFunction", { workers: 2, inAxes: [0] });
    try {
      await expect(f(T.ones([2]))).rejects.toThrow(/has no exported function "notAFunction"/);
    } finally {
      await f.close();
    }
  });
});

describe("a worker stuck in a loop", () => {
  it("ends the call after twice timeoutMs (at most timeoutMs + 5 s) with an error naming it and stops the workers", async () => {
    const f = pmap<typeof F.spinsOnWorker1>(FUNCTIONS, "spinsOnWorker1", {
      workers: 2,
      inAxes: [0],
      outAxes: 0,
      timeoutMs: 500,
    });
    try {
      const started = Date.now();
      const error = await f(T.ones([4])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkerFailure);
      expect((error as WorkerFailure).error.worker).toBe(1);
      expect((error as Error).message).toMatch(/worker 1 did not finish within 1000 ms \(still running: worker 1\)/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await f.close();
    }
  }, 60_000);
});

describe("what cannot cross between threads", () => {
  it("a function among the arguments is refused before any worker runs, naming where it is", async () => {
    const f = pmap<(x: unknown) => Tensor>(FUNCTIONS, "identity", { workers: 2, inAxes: [null] });
    try {
      await expect(f({ w: T.ones([2]), callback: () => 1 })).rejects.toThrow(
        /pmap: args\[0\]\.callback holds a function, which cannot cross between threads/,
      );
    } finally {
      await f.close();
    }
  });
});
