/**
 * @file The Rewind rows of the data-parallel section of `pnpm bench:peers`, timed in a child
 * process of their own (`tsx bench/peers/workersSection.ts <batch>`), which prints one line
 * `WORKERS <json>`: each row's loss and gradient norms (for the agreement check) and its timing.
 *
 * Why a process of their own: these rows keep both cores busy, and a process whose heap also holds
 * TF.js's and jax-js's (~56 MB more, measured at this section) pays for every collection of that
 * heap with the time of a core the workers need: the concurrent marking runs on V8's helper
 * threads. In one process with the peers, the median of `pmap` at B 32 moved from 0.65–0.67× one
 * thread to 0.75–0.98× from run to run, while two bare worker threads computing the same halves
 * (allocating nothing on the main thread) stayed at 0.51–0.56×; a full collection forced before
 * each sample brought `pmap` back to 0.64–0.66× (alternated with plain runs at 0.75–0.81×), but
 * slowed jax-js by a quarter. The one-thread rows barely move either way: the helpers have the
 * second core.
 * A training script has no other framework's heap beside it, so the rows are timed here without
 * one; the peers' rows are timed in the parent process, interleaved with each other.
 */
import { makeLstmData, type StepCheck } from "./data.js";
import { workersBare } from "./bareThreads.js";
import { timeInterleaved } from "./harness.js";
import {
  WORKERS_PLAN,
  workersHalfBatch,
  workersKernelThreads,
  workersOneThread,
  workersPmap,
  workersUnsynced,
  type WorkersSectionResult,
} from "./workers.js";

const batch = Number(process.argv[2]);
if (!Number.isSafeInteger(batch) || batch < 2)
  throw new Error(`workersSection: expected a batch size, got ${process.argv[2]}`);
const d = makeLstmData(batch);
const contestants = [workersOneThread(d), workersPmap(d, 2), workersUnsynced(d)];
const half = workersHalfBatch(d);
// The one-thread rows compile before kernel threads are on (runners compiled then would use them).
await contestants[0]!.run();
await half.run();
contestants.push(await workersKernelThreads(d));
const checks: [string, StepCheck][] = [];
for (const c of contestants) checks.push([c.name, await c.check()]);
const bare = await workersBare(d);
const log: string[] = [];
const timings = await timeInterleaved([...contestants, half, bare], WORKERS_PLAN, (s) => log.push(s));
for (const c of [...contestants, bare]) c.dispose?.();
process.stdout.write(`WORKERS ${JSON.stringify({ checks, timings, log } satisfies WorkersSectionResult)}\n`);
process.exit(0);
