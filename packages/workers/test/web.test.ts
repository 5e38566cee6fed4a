/**
 * `pmap` of @rewind/workers/browser, over workers made by the caller and served by `serve`: run
 * here on Node worker threads behind a Web-Worker-shaped adapter (the browser itself runs it in
 * the playground's end-to-end test). Same bits as the Node `pmap`, kept values, and errors.
 */
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import { pmap as webPmap, WorkerFailure, type WorkerLike } from "../src/browser.js";
import { pmap } from "../src/node.js";
import { workerStart } from "../src/node/pmap.js";
import * as F from "./fixtures/functions.js";
import { closesAfterAll, data, FUNCTIONS, treeBits } from "./helpers.js";

const WEB_WORKER = new URL("./fixtures/webWorker.ts", import.meta.url).href;
/** A Node worker thread running the web fixture (or `entry`), shaped like a browser `Worker`. */
const spawn = (entry = WEB_WORKER): WorkerLike => {
  const start = workerStart(entry);
  const w = new Worker(new URL(start.filename), { workerData: { ...start.workerData, entry } });
  return {
    postMessage: (m, transfer) => w.postMessage(m, transfer),
    addEventListener: (type: "message" | "error", listener: (e: never) => void) => {
      if (type === "message")
        w.on("message", (data: unknown) => (listener as (e: { data: unknown }) => void)({ data }));
      else w.on("error", (e: Error) => (listener as (e: { message: string }) => void)({ message: e.message }));
    },
    terminate: () => void w.terminate(),
  };
};

const open = closesAfterAll();

describe("pmap over Web Workers", () => {
  it("gives the Node pmap's bits over four training steps, with values kept and donated as there", async () => {
    const { w, xs, ys } = data(8, 11);
    const train = open(
      webPmap<typeof F.trainStep, 0 | 1>(spawn, "trainStep", {
        workers: 2,
        inAxes: [null, null, 0, 0],
        outAxes: [null, null, null],
        keep: [0, 1],
        donate: [0, 1],
      }),
    );
    const shipped = open(pmap<typeof F.trainStep>(FUNCTIONS, "trainStep", { workers: 2, inAxes: [null, null, 0, 0] }));
    let [p, s] = await train({ w }, F.initState({ w }), xs, ys);
    let [q, r] = await shipped({ w }, F.initState({ w }), xs, ys);
    for (let i = 0; i < 3; i++) {
      [p, s] = await train(p, s, xs, ys);
      [q, r] = await shipped(q, r, xs, ys);
    }
    expect(treeBits(p.value())).toEqual(treeBits(q));
    expect(treeBits(s.value())).toEqual(treeBits(r));
  });

  it("names the worker and its error: here a function the workers do not serve", async () => {
    const missing = open(webPmap<(x: Tensor) => Tensor>(spawn, "nothing", { workers: 2, inAxes: [0], outAxes: 0 }));
    const error = await missing(T.ones([4])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerFailure);
    // Both workers fail the same way; the error names whichever answered first.
    expect([0, 1]).toContain((error as WorkerFailure).error.worker);
    expect((error as Error).message).toMatch(
      /worker [01] threw: pmap: this worker serves no function "nothing" \(it serves "meanGrad", "trainStep", "throwsOnWorker1"\)/,
    );
  });

  it("a worker whose script fails to load is named as dead, and the next call starts new workers", async () => {
    let spawned = 0;
    const broken = open(
      webPmap<(x: Tensor) => Tensor>(
        () => {
          spawned++;
          return spawn(new URL("./fixtures/noSuchModule.ts", import.meta.url).href);
        },
        "nothing",
        { workers: 2, inAxes: [0], outAxes: 0, timeoutMs: 20_000 },
      ),
    );
    for (let call = 1; call <= 2; call++) {
      const error = await broken(T.ones([4])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkerFailure);
      expect((error as Error).message).toMatch(
        /pmap: worker [01] died \(worker terminated by an uncaught error: .*noSuchModule/,
      );
      expect(spawned).toBe(2 * call);
    }
  });

  it("refuses a spawn that is not a function", () => {
    expect(() => webPmap(new URL(WEB_WORKER) as never, "meanGrad", { workers: 2, inAxes: [null, 0, 0] })).toThrow(
      /pmap: expected a function that makes a worker, got object \(argument `spawn`\)/,
    );
  });
});
