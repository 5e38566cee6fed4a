/**
 * @file The session of a configuration: picks the task and hands it its data.
 */
import type { RunConfig } from "../protocol.js";
import { createSession, type Session } from "../session.js";
import { mobyTask, type Excerpt } from "./moby.js";
import { namesTask } from "./names.js";
import { sineTask } from "./sine.js";

/** The data the tasks train on (bundled with the page: nothing is fetched at run time). */
export interface Datasets {
  readonly names: readonly string[];
  readonly mobyDick: Excerpt;
}

/**
 * A fresh session for `config` on `data`.
 * @example sessionFor({ task: "sine", cell: "gru", hidden: 16, seed: 0 }, data).steps() // 0
 */
export const sessionFor = (config: RunConfig, data: Datasets): Session => {
  switch (config.task) {
    case "names":
      return createSession(config, namesTask(config, data.names));
    case "moby":
      return createSession(config, mobyTask(config, data.mobyDick));
    case "sine":
      return createSession(config, sineTask(config));
  }
};
