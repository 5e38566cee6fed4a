/// <reference types="node" />
/**
 * @file The worker entry of `pmap` (Node `worker_threads` through piscina): imports the user's
 * module once, reads this worker's arguments from shared memory, runs the function with the
 * collectives bound to this call, and moves the packed result back to the main thread.
 */
import { Piscina } from "piscina";
import * as T from "@rewind/tensor";
import { withCollectives } from "../collective.js";
import { readArguments } from "../layout.js";
import type { WorkerTask } from "./protocol.js";
import { packResult } from "./results.js";

const modules = new Map<string, Promise<Record<string, unknown>>>();

const load = (url: string): Promise<Record<string, unknown>> => {
  let m = modules.get(url);
  if (m === undefined) {
    m = import(url) as Promise<Record<string, unknown>>;
    modules.set(url, m);
  }
  return m;
};

/**
 * Runs one worker's part of a `pmap` call.
 * @example // called by piscina with the task the main thread built
 */
export default async function runShard(task: WorkerTask): Promise<unknown> {
  const mod = await load(task.module);
  const f = mod[task.export];
  if (typeof f !== "function")
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "export",
      detail: `the module ${task.module} has no exported function ${JSON.stringify(task.export)}`,
      fix: `export it: \`export const ${task.export} = (...args) => …\``,
    });
  const args = readArguments(task.plan, task.args, task.index, task.size);
  const context = {
    index: task.index,
    size: task.size,
    control: new Int32Array(task.control),
    slots: task.slots,
    slotBytes: task.slotBytes,
    timeoutMs: task.timeoutMs,
  };
  const result: unknown = withCollectives(context, () => (f as (...a: unknown[]) => unknown)(...args));
  if (result instanceof Promise)
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "f",
      detail: "returned a promise",
      fix: "make the function synchronous (collectives wait in place; an await would leave them)",
    });
  return Piscina.move(packResult(result, "pmap"));
}
