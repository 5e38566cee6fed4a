/**
 * @file Stop requests of a run that saves: SIGINT, SIGTERM, SIGHUP (a closed terminal), or its
 * launcher exiting. The first asks the run to stop after its step and save; a genuine second
 * signal quits at once without saving.
 *
 * One signal often arrives more than once. `kill -TERM -<pgid>` (and Ctrl-C, which the terminal
 * sends to the whole foreground group) reaches every process of the group, and launchers relay
 * what they receive to their child: pnpm 12.4.2 forwards SIGINT and SIGTERM within a millisecond,
 * and the tsx CLI re-sends the signal ≥ 30 ms later when its child has not acknowledged it yet.
 * Counting each delivery made one SIGTERM to `pnpm start`'s group quit without saving. So the
 * rule: **signals within {@link REPEAT_WINDOW_MS} of the first stop request are the same request;
 * a signal after that window quits at once.** A second Ctrl-C a second or more after the first
 * still quits; a hurried double press inside the window saves, which loses nothing.
 */
import { onLauncherExit } from "./launcher.js";

/** The signals that ask a run to stop: Ctrl-C, `kill`, and a closed terminal. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Signals within this many ms of the first stop request count as that request, not as a second one. */
export const REPEAT_WINDOW_MS = 1000;

/** What a stop request means under the rule: the first stops, repeats are ignored, a later one quits. */
export type StopVerdict = "stop" | "repeat" | "quit";

/**
 * The rule itself, without clocks or processes: feed it the time of each request (in ms, from
 * any monotonic clock) and it says what the request means.
 * @example const rule = stopRule(); [rule(0), rule(5), rule(1500)] // ["stop", "repeat", "quit"]
 */
export const stopRule = (windowMs = REPEAT_WINDOW_MS): ((atMs: number) => StopVerdict) => {
  let first: number | undefined;
  return (atMs) => {
    if (first === undefined) {
      first = atMs;
      return "stop";
    }
    return atMs - first < windowMs ? "repeat" : "quit";
  };
};

/** Why a run was asked to stop. */
export type StopReason = NodeJS.Signals | "launcher";

/** What {@link handleStopRequests} calls. */
export interface StopHandlers {
  /** The first request: stop after the current step and save. */
  readonly onStop: (reason: StopReason, launcherPid?: number) => void;
  /** A signal after the repeat window: quit now, without saving. */
  readonly onQuit: (signal: NodeJS.Signals) => void;
}

/**
 * Listens for SIGINT, SIGTERM, SIGHUP and the launcher's exit, and applies {@link stopRule}. The launcher
 * exiting counts as a first request (a run whose launcher is gone saves and exits) but never as a
 * second one. Returns a function that removes the listeners.
 * @example const off = handleStopRequests({ onStop: (r) => stopFlag.set(), onQuit: (s) => process.exit(128 + 2) })
 */
export const handleStopRequests = (h: StopHandlers, windowMs = REPEAT_WINDOW_MS): (() => void) => {
  const rule = stopRule(windowMs);
  const onSignal = (s: NodeJS.Signals): void => {
    const verdict = rule(performance.now());
    if (verdict === "stop") h.onStop(s);
    else if (verdict === "quit") h.onQuit(s);
  };
  const unwatch = onLauncherExit((pid) => {
    if (rule(performance.now()) === "stop") h.onStop("launcher", pid);
  });
  // SIGHUP: the terminal was closed (or its session ended); the run saves as for Ctrl-C.
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  return () => {
    unwatch();
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  };
};
