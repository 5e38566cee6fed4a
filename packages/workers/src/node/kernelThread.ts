/// <reference types="node" />
/**
 * @file The entry of one kernel thread (see kernelThreads.ts): it instantiates the matmul kernels
 * on each runner's shared memory it is told of, then waits for products on its control words and
 * computes the rows it is given, in place, unless the main thread claimed them first. It never
 * returns to its event loop (a product must start within microseconds, not after a message round
 * trip), so memories arrive as messages it reads synchronously (`receiveMessageOnPort`) before each
 * product.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { sharedArenaKernels, type ArenaKernels } from "@rewind/tensor/internal/codegen";
import { claim, CTL, THREAD_SPIN_MS, waitWhile, type ArenaMessage } from "./kernelProtocol.js";

const { ctl: shared, port } = workerData as { ctl: SharedArrayBuffer; port: MessagePort };
const ctl = new Int32Array(shared);
const arenas = new Map<number, ArenaKernels>();

/** Takes every pending message: memories to compute in, and memories no runner uses any more. */
const drain = (): void => {
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    const message = m.message as ArenaMessage;
    if (message.memory === undefined) arenas.delete(message.id);
    else {
      const kernels = sharedArenaKernels(message.memory);
      if (kernels !== null) arenas.set(message.id, kernels);
    }
  }
};

/** Computes the product the control words describe. */
const run = (): void => {
  drain();
  const id = ctl[CTL.arena]!;
  const kernels = arenas.get(id);
  if (kernels === undefined) throw new Error(`no WebAssembly matmul kernels for arena ${id} in this thread`);
  const transA = ctl[CTL.transA] === 1;
  const at = {
    aAt: ctl[CTL.aAt]! >>> 0,
    bAt: ctl[CTL.bAt]! >>> 0,
    cAt: ctl[CTL.cAt]! >>> 0,
    scratch: ctl[CTL.scratch]! >>> 0,
    m: ctl[CTL.m]!,
    k: ctl[CTL.k]!,
    n: ctl[CTL.n]!,
    transA,
    transB: ctl[CTL.transB] === 1,
    aStride: transA ? ctl[CTL.aStride]! : undefined,
  };
  if (ctl[CTL.packed] === 1) kernels.productPacked(at);
  else kernels.product(at);
};

parentPort!.postMessage("ready");
let seen = 0;
// Spin for the next product only after computing one, and only while small products split (the
// main thread sets CTL.spin, see THREAD_SPIN_MS): a thread that came too late to its rows (the
// main thread claimed them) had no core of its own just now, and its spinning would take the main
// thread's.
let spinMs = 0;
for (;;) {
  waitWhile(ctl, CTL.request, seen, spinMs, Infinity);
  const request = Atomics.load(ctl, CTL.request);
  if (request < 0) break;
  if (request === seen) continue;
  seen = request;
  spinMs = 0;
  if (!claim(ctl, request)) continue;
  spinMs = Atomics.load(ctl, CTL.spin) === 1 ? THREAD_SPIN_MS : 0;
  try {
    run();
    ctl[CTL.status] = 0;
  } catch (e) {
    ctl[CTL.status] = 1;
    port.postMessage(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  }
  Atomics.store(ctl, CTL.done, seen);
  Atomics.notify(ctl, CTL.done);
}
port.close();
