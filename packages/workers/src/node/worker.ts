/// <reference types="node" />
/**
 * @file The worker entry of `pmap` in Node (worker threads through piscina): imports the user's
 * module once, runs the function's part of the call (`runShard`), and sends the result back: its
 * packed buffer moved (transferred), alone or with the kept leaves' shared buffers and the
 * replicated leaves' checksums beside it.
 */
import { Piscina, transferableSymbol, valueSymbol } from "piscina";
import * as T from "@rewind/tensor";
import { runShard, type ShardTask } from "../shard.js";

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
export default async function runTask(task: ShardTask): Promise<unknown> {
  const mod = await load(task.module!);
  const f = mod[task.export];
  if (typeof f !== "function")
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "export",
      detail: `the module ${task.module} has no exported function ${JSON.stringify(task.export)}`,
      fix: `export it: \`export const ${task.export} = (...args) => …\``,
    });
  const result = runShard(f as (...args: unknown[]) => unknown, task);
  // The packed buffer is moved, never copied; alone when nothing else came back with it.
  if (result.kept.length === 0 && result.replicated === undefined) return Piscina.move(result.packed);
  return Piscina.move({ [transferableSymbol]: [result.packed], [valueSymbol]: result });
}
