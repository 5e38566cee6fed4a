/**
 * @file Process memory under hostile files: each file of memoryFiles.ts is decoded once in a
 * fresh child process (memory.child.ts), which reports how far the decode raised the kernel's
 * high-water mark of its resident memory — the process's real peak, not only the typed arrays
 * the in-process guard (guard.ts) counts. Before headers and metadata were read with limits,
 * these files grew the process by 17–77× their size (a shape of 2.7M empty objects: 585 MiB for
 * 7.6 MiB; a 72 MB one aborted Node out of memory), and a 300k-deep checkpoint tree by 24×.
 *
 * The bound every decode is held to, above the growth of decoding a small file in the same
 * child (the method's floor): twice the file (its header as a string, the tensors' copy), plus
 * a fixed allowance for what the limits let through — 100,000 tensors of bookkeeping (about
 * 0.8 KiB each in a V8 process) or 500,000 tree nodes — and for V8's young generation growing
 * under a burst of allocation. One child per file (a process's freed pages would hide the next
 * decode's), two at a time: about 10 s on two idle cores. Figures go to
 * node_modules/.cache/fuzz/hostile-memory.json (the README's Reliability section).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MemoryReport } from "./memory.child.js";
import { MEMORY_CASES, type MemoryCase } from "./memoryFiles.js";
import { ROOT } from "./files.js";

/** The allowance on top of twice the file (see the file note); the worst measured use is about 95 MiB. */
export const FIXED_ALLOWANCE = 128 * 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), "rewind-memory-"));
const reports = new Map<string, MemoryReport>();

/** Runs one case in a fresh child; resolves to its report. */
const measure = (c: MemoryCase, path: string): Promise<MemoryReport> =>
  new Promise((resolve, reject) => {
    const args = ["--expose-gc", "--import", "tsx", join(ROOT, "test/hostile/memory.child.ts"), c.kind, path];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) =>
      code === 0
        ? resolve(JSON.parse(out) as MemoryReport)
        : reject(new Error(`${c.label}: the child exited with ${signal ?? code}: ${err.slice(-2000)}`)),
    );
  });

beforeAll(async () => {
  // Two children at a time (the machine has two cores); each file is written just before its
  // child starts, so building the next file overlaps the running children.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < MEMORY_CASES.length) {
      const c = MEMORY_CASES[next]!;
      const path = join(dir, `${next++}.${c.kind}`);
      writeFileSync(path, c.bytes());
      reports.set(c.label, await measure(c, path));
    }
  };
  await Promise.all([worker(), worker()]);
}, 180_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  const figures = join(ROOT, "node_modules/.cache/fuzz/hostile-memory.json");
  mkdirSync(dirname(figures), { recursive: true });
  writeFileSync(
    figures,
    `${JSON.stringify({ fixedAllowance: FIXED_ALLOWANCE, cases: Object.fromEntries(reports) }, null, 2)}\n`,
  );
});

const report = (label: string): MemoryReport => reports.get(label) ?? expect.fail(`no report for ${label}`);
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

describe("peak process memory of one decode, measured in a child process", () => {
  it.each(MEMORY_CASES.map((c) => [c.label, c] as const))(
    "%s: the reader's answer, within twice the file plus the fixed allowance",
    (label, c) => {
      const r = report(label);
      if (c.expect === "right") expect(r.outcome, r.message).toBe("right");
      else expect(r.message).toMatch(c.expect);
      const growth = r.growth - r.baselineGrowth;
      const bound = 2 * r.fileBytes + FIXED_ALLOWANCE;
      expect(
        growth,
        `${label}: grew ${mb(growth)} for a ${mb(r.fileBytes)} file (bound ${mb(bound)})`,
      ).toBeLessThanOrEqual(bound);
    },
  );

  it("the measurement sees what a decode allocates: a valid 16 MB tensor raises the peak by its copy", () => {
    const r = report("valid: one 16 MB float32 tensor");
    expect(r.growth).toBeGreaterThanOrEqual(0.9 * 16e6);
  });
});
