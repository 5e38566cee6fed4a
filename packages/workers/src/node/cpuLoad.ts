/// <reference types="node" />
/**
 * @file How many cores other processes keep busy: what decides whether kernel threads may split
 * small products (kernelThreads.ts). Splitting the per-step products of a scan pays only while the
 * kernel threads have cores of their own (they spin between products); beside a busy process the
 * spinning takes the main thread's core instead. This process's own threads cannot tell the two
 * apart from inside (a thread that is preempted sees only time passing), but the machine can: the
 * cores' busy time (`os.cpus()`) minus this process's CPU time (`process.cpuUsage()`, every thread
 * of it) is what everything else used.
 */
import { cpus } from "node:os";

/** One reading: the machine's busy and this process's CPU time, in ms, at a moment (ms). */
export interface CpuReading {
  readonly at: number;
  readonly busyMs: number;
  readonly ownMs: number;
  readonly cores: number;
}

/**
 * The current reading (busy time summed over every core: user, nice, sys and irq).
 * @example const before = readCpu(); …; otherCores(before, readCpu())
 */
export const readCpu = (): CpuReading => {
  const all = cpus();
  let busyMs = 0;
  for (const { times } of all) busyMs += times.user + times.nice + times.sys + times.irq;
  const own = process.cpuUsage();
  return { at: performance.now(), busyMs, ownMs: (own.user + own.system) / 1000, cores: all.length };
};

/**
 * Cores that other processes kept busy, on average, between two readings: (machine busy − this
 * process) ÷ elapsed. Undefined when it cannot be told (no cores reported, or no time elapsed).
 * The machine's counters tick in 10 ms steps, so over a quarter second it is good to ~0.05 core.
 * @example otherCores({ at: 0, busyMs: 0, ownMs: 0, cores: 2 }, { at: 100, busyMs: 150, ownMs: 50, cores: 2 }) // 1
 */
export const otherCores = (before: CpuReading, after: CpuReading): number | undefined => {
  const elapsed = after.at - before.at;
  if (after.cores === 0 || after.cores !== before.cores || !(elapsed > 0)) return undefined;
  const others = (after.busyMs - before.busyMs - (after.ownMs - before.ownMs)) / elapsed;
  // Clock ticks and rusage are counted apart: small negative values are rounding, not a gain.
  return Math.max(0, others);
};

/**
 * Whether `threads` threads of this process each have a core to themselves when other processes
 * keep `others` cores busy out of `cores`: the others must leave `threads` cores free, with half a
 * core of slack (a shell, an editor's indexer). `wasFree` adds hysteresis: once not free, the
 * others must fall a quarter core lower before the threads count as free again, so a load that
 * hovers at the edge does not flip the decision every reading.
 * @example coresFree(0.1, 2, 2, true) // true
 * @example coresFree(1, 2, 2, true) // false: one core is taken
 */
export const coresFree = (others: number, cores: number, threads: number, wasFree: boolean): boolean =>
  others <= cores - threads + (wasFree ? 0.5 : 0.25);

let reader: () => CpuReading = readCpu;

/**
 * The reading `minMacs: "auto"` takes: `readCpu`, or what a test put in with `setCpuReader`.
 * @example cpuReading().cores // e.g. 2
 */
export const cpuReading = (): CpuReading => reader();

/**
 * @internal Puts in a machine of the caller's (a test's fixed load); no argument restores `readCpu`.
 * @example setCpuReader(() => ({ at: performance.now(), busyMs: 0, ownMs: 0, cores: 2 }))
 */
export const setCpuReader = (read?: () => CpuReading): void => {
  reader = read ?? readCpu;
};

/** How often `smallWorkGauge` reads the machine's load, in ms. */
export const LOAD_READ_MS = 250;

/**
 * Whether small work may split now, for `threads` threads of this process: read anew (on a call
 * at least `LOAD_READ_MS` after the last reading) with `coresFree`, false until the first reading
 * after this one. Each call costs a clock read; a reading, `os.cpus()` (~50 µs here).
 * @example const small = smallWorkGauge(2); if (small()) splitSmallProduct()
 */
export const smallWorkGauge = (threads: number): (() => boolean) => {
  let reading = cpuReading();
  let free = false;
  return () => {
    if (performance.now() - reading.at >= LOAD_READ_MS) {
      const next = cpuReading();
      const others = otherCores(reading, next);
      reading = next;
      free = others !== undefined && coresFree(others, next.cores, threads, free);
    }
    return free;
  };
};
