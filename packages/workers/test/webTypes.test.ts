/**
 * The browser `pmap` takes what a TypeScript page with the DOM library gets from
 * `new Worker(url, { type: "module" })`. The worker below is declared with the DOM's `Worker`
 * signatures (this package compiles without the DOM library): `pnpm typecheck` fails if `WorkerLike`
 * stops accepting it, and the test checks the task goes out through the overload that takes a
 * transfer list.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import { pmap as webPmap, WorkerFailure } from "../src/browser.js";

/** lib.dom.d.ts's types that its `Worker` signatures name, reduced to what they need here. */
type Transferable = ArrayBuffer | { readonly start: () => void }; // lib.dom: ArrayBuffer | MessagePort | …
interface StructuredSerializeOptions {
  transfer?: Transferable[];
}
interface WorkerEventMap {
  message: { readonly data: unknown };
  error: { readonly message: string };
}
/** The DOM's `Worker` as lib.dom.d.ts declares the members pmap uses (both postMessage overloads). */
interface DomWorker {
  postMessage(message: unknown, transfer: Transferable[]): void;
  postMessage(message: unknown, options?: StructuredSerializeOptions): void;
  addEventListener<K extends keyof WorkerEventMap>(
    type: K,
    listener: (this: DomWorker, ev: WorkerEventMap[K]) => unknown,
    options?: boolean,
  ): void;
  terminate(): void;
}

describe("pmap over DOM-typed workers", () => {
  it("accepts a DOM Worker and posts each task with a transfer list", async () => {
    const posted: unknown[][] = [];
    const spawn = (): DomWorker => {
      const listeners: Array<(ev: { readonly data: unknown }) => unknown> = [];
      const worker: DomWorker = {
        postMessage: (...args: unknown[]) => {
          posted.push(args);
          const { id } = args[0] as { id: number };
          // Answer as a worker that serves nothing would, after the call has started.
          queueMicrotask(() =>
            listeners.forEach((l) => l.call(worker, { data: { rewindPmap: "failed", id, message: "no" } })),
          );
        },
        addEventListener: (type, listener) => {
          if (type === "message") listeners.push(listener as (ev: { readonly data: unknown }) => unknown);
        },
        terminate: () => undefined,
      };
      return worker;
    };
    const f = webPmap<(x: T.Tensor) => T.Tensor>(spawn, "f", { workers: 2, inAxes: [0], outAxes: 0 });
    const error = await f(T.ones([4])).catch((e: unknown) => e);
    await f.close();
    expect(error).toBeInstanceOf(WorkerFailure);
    expect(posted).toHaveLength(2);
    for (const args of posted) expect(Array.isArray(args[1]), "postMessage(message, transfer)").toBe(true);
  });
});
