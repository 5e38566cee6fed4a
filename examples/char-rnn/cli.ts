/**
 * @file The command line (commander): flags → what to run. Only flags the user actually gave are
 * returned as overrides, so a resumed run can tell "keep the checkpoint's value" from "change it".
 */
import { dirname, join, resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CELLS, DEFAULTS, type Config } from "./config.js";

export interface CliOptions {
  /** Values given on the command line (resumed runs check them against the checkpoint's config). */
  readonly overrides: Partial<Config>;
  readonly resume?: string;
  readonly out?: string;
  readonly smoke: boolean;
  /**
   * Worker threads for the training step (default 1). Not part of the config: it does not change
   * the model, only how the batch is split (a resumed run may use another count).
   */
  readonly workers: number;
  /**
   * Threads that split the training step's products (default 1: none; see `useKernelThreads` of
   * @rewind/workers). Not part of the config either: the results are the same bits.
   */
  readonly kernelThreads: number;
}

const integer =
  (min: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number, got ${JSON.stringify(v)}`);
  return n;
};

/** Flags that map one-to-one onto config fields. */
const CONFIG_FLAGS: ReadonlyArray<readonly [keyof Config, string, string, (v: string) => unknown]> = [
  ["steps", "--steps <n>", "training steps in all (with --resume: the new total)", integer(0)],
  ["hidden", "--hidden <n>", "hidden units of the recurrent cell", integer(1)],
  ["seed", "--seed <n>", "seed of the root PRNG key (initialisation, batches, samples)", integer(0)],
  ["batch", "--batch <n>", "streams of text per batch", integer(1)],
  ["chunk", "--chunk <n>", "characters per chunk: the truncated-BPTT length", integer(1)],
  ["lr", "--lr <x>", "Adam's peak learning rate (cosine decay to a tenth over the run)", positive],
  ["evalEvery", "--eval-every <n>", "held-out loss every n steps", integer(1)],
  ["sampleEvery", "--sample-every <n>", "a sample every n steps", integer(1)],
  ["temperature", "--temperature <x>", "sampling temperature (lower: safer, duller text)", positive],
  ["prime", "--prime <text>", "text the samples continue", (v: string) => v],
];

/**
 * Parses the arguments after the example's name (`pnpm example char-rnn …` passes the name
 * through; `pnpm start -- --steps 100` passes the `--` through too). `help` alone is `--help`:
 * pnpm answers `pnpm start --help` with its own help, but passes `pnpm start help` through.
 * A mistake prints the message and the help, and exits with 2 (every usage error of the
 * examples does); `--help` exits with 0.
 * @example parseCli(["char-rnn", "--", "--steps", "100"]).overrides // { steps: 100 }
 */
export const parseCli = (argv: readonly string[]): CliOptions => {
  let args = argv[0] === "char-rnn" ? argv.slice(1) : argv;
  if (args[0] === "--") args = args.slice(1);
  if (args.length === 1 && args[0] === "help") args = ["--help"];
  const program = new Command()
    .name("pnpm start --")
    .description(
      "Trains a character-level language model on Moby Dick and shows it learning: progress, samples, loss curves, a report and a checkpoint.",
    )
    .addOption(new Option("--cell <cell>", "recurrent cell").choices(CELLS).default(DEFAULTS.cell))
    .option(
      "--resume <checkpoint>",
      "continue a run from its checkpoint (same configuration and key schedule; writes to the checkpoint's folder unless --out)",
    )
    .option("--out <dir>", "output folder (default out/char-rnn-<timestamp>)")
    .option("--smoke", "a few steps of a tiny model, for tests (writes to a temporary folder and removes it)")
    .option(
      "--workers <n>",
      "worker threads for the training step: the batch's streams split among them, gradients averaged",
      integer(1),
      1,
    )
    .option(
      "--kernel-threads <n>",
      "threads for the training step's matrix products, split by rows (same results; for free cores)",
      integer(1),
      1,
    )
    .showHelpAfterError()
    .allowExcessArguments(false)
    .exitOverride();
  for (const [key, flags, help, parse] of CONFIG_FLAGS) {
    const value = DEFAULTS[key];
    program.option(flags, help, parse as (v: string, prev: unknown) => unknown, value);
  }
  program.addHelpText(
    "after",
    `
Examples:
  pnpm start                                   the main job: about two minutes on 2 cores
  pnpm start -- --steps 3000 --hidden 256      longer, bigger
  pnpm start -- --resume out/char-rnn-<time>/checkpoint.safetensors --steps 2000

Ctrl-C (or SIGTERM, or closing the terminal) stops after the current step and saves a
checkpoint; --resume continues it exactly. A second signal a second or more after the first quits without saving.`,
  );
  try {
    program.parse([...args], { from: "user" });
    // The workers' steps run in their own threads, where the main thread's kernel threads do not reach.
    const { workers, kernelThreads } = program.opts<{ workers: number; kernelThreads: number }>();
    if (workers > 1 && kernelThreads > 1)
      program.error("error: --workers and --kernel-threads do not combine: pass one of them", { exitCode: 2 });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    process.exit(e.exitCode === 0 ? 0 : 2); // commander has printed the message (and the help)
  }
  const o = program.opts<Record<string, unknown>>();
  const given = (name: string): boolean => program.getOptionValueSource(name) === "cli";
  const overrides: Record<string, unknown> = {};
  if (given("cell")) overrides["cell"] = o["cell"];
  for (const [key] of CONFIG_FLAGS) if (given(key)) overrides[key] = o[key];
  return {
    overrides: overrides,
    smoke: o["smoke"] === true,
    workers: typeof o["workers"] === "number" ? o["workers"] : 1,
    kernelThreads: typeof o["kernelThreads"] === "number" ? o["kernelThreads"] : 1,
    ...(typeof o["resume"] === "string" ? { resume: o["resume"] } : {}),
    ...(typeof o["out"] === "string" ? { out: o["out"] } : {}),
  };
};

/** Where a run writes, and how to name that place in messages. */
export interface OutputFolder {
  readonly path: string;
  /** `--out <dir>` as given, or what the default is and how to change it. */
  readonly label: string;
  /** A --smoke run's temporary folder, removed at the end. */
  readonly temporary: boolean;
}

/** `2024-05-01T12-30-05`: sortable, and valid in file names everywhere. */
const timestamp = (now: Date): string => now.toISOString().slice(0, 19).replace(/:/g, "-");

/**
 * The output folder: `--out`, else the resumed checkpoint's folder, else `out/char-rnn-<time>`
 * (a --smoke run without --out gets `smokeDir()`, a fresh temporary folder).
 * @example outputFolder({ overrides: {}, smoke: false, out: "runs/a" }, () => "").label // "--out runs/a"
 */
export const outputFolder = (o: CliOptions, smokeDir: () => string, now = new Date()): OutputFolder => {
  const other = "choose another with --out <dir>";
  if (o.out !== undefined) return { path: resolve(o.out), label: `--out ${o.out}`, temporary: false };
  if (o.resume !== undefined) {
    const path = dirname(resolve(o.resume));
    return {
      path,
      label: `the output folder ${path} (the folder of --resume's checkpoint; ${other})`,
      temporary: false,
    };
  }
  if (o.smoke) return { path: smokeDir(), label: "the --smoke run's temporary folder", temporary: true };
  const path = resolve(join("out", `char-rnn-${timestamp(now)}`));
  return { path, label: `the output folder ${path} (the default; ${other})`, temporary: false };
};
