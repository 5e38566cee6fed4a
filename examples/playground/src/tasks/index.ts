/**
 * @file The task and the session of a configuration: picks the task and hands it its data.
 */
import type { RunConfig } from "../protocol.js";
import { createSession, type Session } from "../session.js";
import { mobyTask, type Excerpt } from "./moby.js";
import { namesTask } from "./names.js";
import { sineTask } from "./sine.js";
import type { Task } from "./types.js";

/** The data the tasks train on (bundled with the page: nothing is fetched at run time). */
export interface Datasets {
  readonly names: readonly string[];
  readonly mobyDick: Excerpt;
}

/** A task whose parameter and batch types are known only inside it (its functions take what it made). */
export type AnyTask = Task<unknown, unknown>;

/**
 * The task of `config` on `data` (a pure function of both: the shard workers rebuild it from the
 * plain-data configuration).
 * @example taskFor({ task: "sine", cell: "gru", hidden: 16, seed: 0 }, data).lossLabel // "MSE"
 */
export const taskFor = (config: RunConfig, data: Datasets): AnyTask => {
  switch (config.task) {
    case "names":
      return namesTask(config, data.names) as unknown as AnyTask;
    case "moby":
      return mobyTask(config, data.mobyDick) as unknown as AnyTask;
    case "sine":
      return sineTask(config) as unknown as AnyTask;
  }
};

/**
 * A fresh session for `config` on `data`, training on this thread.
 * @example sessionFor({ task: "sine", cell: "gru", hidden: 16, seed: 0 }, data).steps() // 0
 */
export const sessionFor = (config: RunConfig, data: Datasets): Session => createSession(config, taskFor(config, data));
