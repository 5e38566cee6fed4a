/**
 * @file The command line (commander): flags → what to run. Only flags the user actually gave are
 * returned as overrides, so a resumed run can tell "keep the checkpoint's value" from "change it".
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { CELLS, DEFAULTS, type CellName, type Config } from "./config.js";

export interface CliOptions {
  /** Values given on the command line (resumed runs check them against the checkpoint's config). */
  readonly overrides: Partial<Config>;
  readonly resume?: string;
  readonly out?: string;
  readonly smoke: boolean;
}

const integer = (min: number) => (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
};
const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got ${JSON.stringify(v)}`);
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
 * through; `pnpm start -- --steps 100` passes the `--` through too).
 */
export const parseCli = (argv: readonly string[]): CliOptions => {
  let args = argv[0] === "char-rnn" ? argv.slice(1) : argv;
  if (args[0] === "--") args = args.slice(1);
  const program = new Command()
    .name("pnpm start --")
    .description("Trains a character-level language model on Moby Dick and shows it learning: progress, samples, loss curves, a report and a checkpoint.")
    .addOption(new Option("--cell <cell>", "recurrent cell").choices(CELLS).default(DEFAULTS.cell))
    .option("--resume <checkpoint>", "continue a run from its checkpoint (same configuration and key schedule; writes to the checkpoint's folder unless --out)")
    .option("--out <dir>", "output folder (default out/char-rnn-<timestamp>)")
    .option("--smoke", "a few steps of a tiny model, for tests (writes to a temporary folder and removes it)")
    .showHelpAfterError()
    .allowExcessArguments(false);
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

Ctrl-C stops after the current step and saves a checkpoint; --resume continues it exactly.`,
  );
  program.parse([...args], { from: "user" });
  const o = program.opts<Record<string, unknown>>();
  const given = (name: string): boolean => program.getOptionValueSource(name) === "cli";
  const overrides: Record<string, unknown> = {};
  if (given("cell")) overrides["cell"] = o["cell"] as CellName;
  for (const [key] of CONFIG_FLAGS) if (given(key)) overrides[key] = o[key];
  return {
    overrides: overrides as Partial<Config>,
    smoke: o["smoke"] === true,
    ...(typeof o["resume"] === "string" ? { resume: o["resume"] } : {}),
    ...(typeof o["out"] === "string" ? { out: o["out"] } : {}),
  };
};
