/**
 * @file How @rewind/workers reports a worker's failure: a `RewindError` (Rewind's one exception
 * class) whose value has the tag `WorkerError` and names the worker, what it was doing and why it
 * stopped. Wrong arguments are refused like everywhere in Rewind, with `ValueError`s.
 */
import { RewindError } from "@rewind/tensor";

/** What went wrong in a worker, as a tagged value. */
export interface WorkerErrorValue {
  /** Always `WorkerError`. */
  readonly _tag: "WorkerError";
  /** The operation that found it (`pmap`, `psum`). */
  readonly op: string;
  /** The worker, as `worker 1`. */
  readonly arg: string;
  /** The failed worker's index. */
  readonly worker: number;
  /** What happened. */
  readonly detail: string;
  /** What to do about it. */
  readonly fix: string;
}

/** A worker's failure: a `RewindError` whose `error` is a `WorkerErrorValue`. */
export class WorkerFailure extends RewindError<WorkerErrorValue> {
  /**
   * @param op The operation that found it.
   * @param worker The failed worker's index.
   * @param detail What happened.
   * @param fix What to do (default: nothing general to advise).
   * @param cause The worker's own error, when there is one.
   */
  constructor(op: string, worker: number, detail: string, fix = "", cause?: unknown) {
    // Made while reporting another failure: whatever arrives is shown as text, never a throw here
    // (a template literal would throw a TypeError for a symbol).
    const [o, d, f] = [String(op), String(detail), String(fix)];
    const value: WorkerErrorValue = {
      _tag: "WorkerError",
      op: o,
      arg: `worker ${String(worker)}`,
      worker,
      detail: d,
      fix: f,
    };
    const sentence = `${o}: worker ${String(worker)} ${d}${f === "" ? "" : `; ${f}`}`;
    super(value, sentence, cause === undefined ? undefined : { cause });
    this.name = "WorkerFailure";
  }
}
