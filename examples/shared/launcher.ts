/**
 * @file Ties an example to the process that launched it, so that a run never outlives its
 * launcher. `pnpm start` runs `exec node …`: pnpm is the job's parent and forwards SIGINT and
 * SIGTERM to it (measured with pnpm 12.4.2). But a launcher that dies without forwarding —
 * SIGKILL, a crash, a plain `sh -c` between them killed by SIGTERM (sh does not relay it) — leaves
 * the job an orphan that would train on and keep writing files. The kernel then re-parents it
 * (to init or a subreaper), so `process.ppid` changes: that is the signal watched here, polled
 * every 100 ms.
 *
 * Why the parent pid and not a pipe from the launcher: pnpm and sh hand the job no pipe of their
 * own (stdin and stdout are the terminal's, or whatever the caller gave pnpm), and an IPC channel
 * would exist only under launchers that open one. Every launcher is some process's parent.
 *
 * A process whose parent is already gone when it starts (ppid 1 after a double fork, e.g.
 * `(pnpm start &)` or `setsid -f`) is not watched: it was deliberately detached.
 */
import { Worker } from "node:worker_threads";

/** How often the parent pid is checked, in ms: the delay between the launcher's death and the job noticing. */
export const LAUNCHER_POLL_MS = 100;

/**
 * Calls `onExit(launcherPid)` once, from this thread's event loop, when the process that started
 * this one exits. For programs whose main thread stays responsive (char-rnn trains in a worker).
 * Returns a function that stops watching.
 * @example const stop = onLauncherExit((pid) => console.error(`launcher ${pid} exited`)); stop()
 */
export const onLauncherExit = (onExit: (launcherPid: number) => void, everyMs = LAUNCHER_POLL_MS): (() => void) => {
  const launcher = process.ppid;
  if (launcher <= 1) return () => undefined;
  const timer = setInterval(() => {
    if (process.ppid === launcher) return;
    clearInterval(timer);
    onExit(launcher);
  }, everyMs);
  timer.unref(); // watching must not keep a finished program alive
  return () => clearInterval(timer);
};

/**
 * The watcher of {@link endWithLauncher}, run in a worker thread: its timers run while the main
 * thread is inside a long synchronous training loop. It ends the process with SIGTERM (the default
 * action: these examples keep nothing worth saving), and with SIGKILL if a JavaScript SIGTERM
 * listener (tsx's, under the tsx CLI) would wait for the busy main thread.
 */
const WATCHER = `
const { workerData } = require("node:worker_threads");
const timer = setInterval(() => {
  if (process.ppid === workerData.launcher) return;
  clearInterval(timer);
  process.kill(process.pid, "SIGTERM");
  setTimeout(() => process.kill(process.pid, "SIGKILL"), 2000);
}, workerData.everyMs);
`;

/**
 * Ends this process soon after its launcher exits, even while the main thread is busy in
 * synchronous code (the examples' training loops never yield to the event loop). Uses a small
 * worker thread that does not keep the process alive.
 * @example endWithLauncher() // first line of an example's main.ts
 */
export const endWithLauncher = (everyMs = LAUNCHER_POLL_MS): void => {
  const launcher = process.ppid;
  if (launcher <= 1) return;
  new Worker(WATCHER, { eval: true, workerData: { launcher, everyMs } }).unref();
};
