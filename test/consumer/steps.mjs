/**
 * @file The consumer test's step runner: each step prints a header, its commands and their
 * output (indented), and a closing line with its time; a failed step is recorded, not thrown, so
 * the summary lists every step.
 */
import { spawnSync } from "node:child_process";

const results = [];
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const indent = (text) =>
  text
    .replace(/\s+$/, "")
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");

/** Thrown by a step to fail with a message (the step's output is already printed). */
export class StepFailure extends Error {}

/**
 * Runs `fn` as a named step; returns its value, or undefined when it failed.
 * @example const dir = await step("pack", () => pack());
 */
export const step = async (title, fn) => {
  console.log(`\n━━ ${title}`);
  const started = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - started;
    results.push({ title, ok: true, ms });
    console.log(`  ✓ ${title} (${secs(ms)})`);
    return value;
  } catch (e) {
    const ms = performance.now() - started;
    results.push({ title, ok: false, ms });
    console.log(`  ✗ ${title} (${secs(ms)}): ${e instanceof StepFailure ? e.message : (e?.stack ?? String(e))}`);
    return undefined;
  }
};

/**
 * Runs a command, prints it and its output, and returns `{ status, out, stdout, ms }` (`out`: stdout + stderr).
 * @example run("node", ["app.mjs"], { cwd: dir })
 */
export const run = (cmd, args, { cwd, env = process.env, quiet = false, timeoutMs = 600_000, display } = {}) => {
  const shown = display ?? [cmd, ...args].map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(" ");
  console.log(`  $ ${shown}`);
  const started = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - started;
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  if (!quiet && out.trim() !== "") console.log(indent(out));
  const status = r.error !== undefined ? `${r.error.message}` : r.status === null ? `signal ${r.signal}` : r.status;
  console.log(`    → exit ${status} in ${secs(ms)}`);
  return { status, out, stdout: r.stdout ?? "", ms };
};

/**
 * Runs a command and fails the step unless it exits 0.
 * @example must("npm", ["install", ...tarballs], { cwd: dir })
 */
export const must = (cmd, args, opts) => {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new StepFailure(`${cmd} ${args[0] ?? ""} exited ${r.status}`);
  return r;
};

/** Prints every step's outcome and time; returns true when all passed. */
export const summary = (totalMs) => {
  console.log(
    `\n━━ consumer test: ${results.filter((r) => r.ok).length} of ${results.length} steps passed in ${secs(totalMs)}`,
  );
  for (const r of results) console.log(`  ${r.ok ? "✓" : "✗"} ${r.title.padEnd(72)} ${secs(r.ms).padStart(7)}`);
  return results.every((r) => r.ok);
};
