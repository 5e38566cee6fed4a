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
import { sharedArenaKernels, wasmApi, type ArenaKernels } from "@rewind/tensor/internal/codegen";
import {
  claim,
  CTL,
  loopArgs,
  readProduct,
  readSecond,
  THREAD_SPIN_MS,
  waitWhile,
  type ArenaMessage,
} from "./kernelProtocol.js";

const { ctl: shared, port } = workerData as { ctl: SharedArrayBuffer; port: MessagePort };
const ctl = new Int32Array(shared);
// The same words as float32, for a loop's scalar arguments.
const ctlFloats = new Float32Array(shared);
const arenas = new Map<number, ArenaKernels>();
const memories = new Map<number, object>();
const loops = new Map<number, ReadonlyArray<(...args: number[]) => void>>();

/** Takes every pending message: memories to compute in, their loop kernels, and runners gone. */
const drain = (): void => {
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    const { id, memory, code, names } = m.message as ArenaMessage;
    if (memory !== undefined) {
      memories.set(id, memory);
      const kernels = sharedArenaKernels(memory);
      if (kernels !== null) arenas.set(id, kernels);
    } else if (code !== undefined) {
      // Loop kernels come after their memory (on this port); without it their loops fail, naming the arena.
      if (!memories.has(id) || names === undefined) continue;
      const api = wasmApi()!;
      const { exports } = new api.Instance(new api.Module(code), { env: { memory: memories.get(id) } });
      loops.set(
        id,
        names.map((n) => exports[n] as (...args: number[]) => void),
      );
    } else {
      arenas.delete(id);
      memories.delete(id);
      loops.delete(id);
    }
  }
};

/** Runs the loop part the control words describe. */
const runLoop = (id: number): void => {
  const kernel = loops.get(id)?.[ctl[CTL.fn]!];
  if (kernel === undefined) throw new Error(`no loop kernel ${ctl[CTL.fn]} for arena ${id} in this thread`);
  kernel(...loopArgs(ctl, ctlFloats));
};

/** Computes the product (or the loop part) the control words describe. */
const run = (): void => {
  drain();
  const id = ctl[CTL.arena]!;
  if (ctl[CTL.kind] === 1) return runLoop(id);
  const kernels = arenas.get(id);
  if (kernels === undefined) throw new Error(`no WebAssembly matmul kernels for arena ${id} in this thread`);
  if (ctl[CTL.kind] === 2) kernels.productPair(readProduct(ctl), readSecond(ctl));
  else if (ctl[CTL.packed] === 1) kernels.productPacked(readProduct(ctl));
  else kernels.product(readProduct(ctl));
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
