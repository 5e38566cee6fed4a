/**
 * @file Command-line flags shared by the examples: `--smoke` plus named integer (or text) options
 * with defaults, validated with a message that names the flag, and, in the examples that opt in,
 * `--losses-json <file>`: the per-step training losses as a JSON array, for the determinism tests
 * (two runs with one seed must write the same bytes), and `--workers N` (shared/trainer.ts). A mistake — an unknown flag, a bad value, a
 * `--losses-json` path that cannot be written (checked before training: shared/output.ts) —
 * prints one line naming the flag and exits with 2, as char-rnn's usage errors do.
 */
import { basename, dirname } from "node:path";
import { parseArgs } from "node:util";
import * as E from "fp-ts/lib/Either.js";
import { formatTensorError } from "@rewind/tensor";
import { writeFileAtomic } from "@rewind/tensor/node";
import { orUsageExit, prepareOutputFile, UsageError } from "./output.js";

/** Parsed flags: whether `--smoke` was given, and readers that validate each option. */
export interface ExampleFlags {
  readonly smoke: boolean;
  /** The integer value of `--name`, at least `min`; throws naming the flag otherwise. */
  readonly int: (name: string, min: number) => number;
  /** The raw text of `--name`. */
  readonly text: (name: string) => string;
  /** Writes `losses` as a JSON array to the file of `--losses-json` (numbers round-trip exactly); does nothing without the flag or the opt-in. */
  readonly saveLosses: (losses: readonly number[]) => void;
  /**
   * The value of `--workers` (1 without the flag or the opt-in), checked to split a batch of
   * `batch` rows into equal shards; `from` says where that batch size comes from (e.g. "--batch").
   * Exits with a usage error naming the flag, the batch and the valid worker counts otherwise.
   */
  readonly workers: (batch: number, from: string) => number;
}

/**
 * Parses `process.argv` for `--smoke` and the given options (`--steps 1500` style, defaults as
 * strings). Positionals are allowed because `pnpm example <name>` passes the example's name.
 * `{ lossesJson: true }` accepts `--losses-json <file>` too (the example then calls `saveLosses`);
 * elsewhere that flag is refused as unknown rather than silently ignored; `{ workers: true }` likewise
 * accepts `--workers N` (read with `workers(batch, from)`).
 * @example const { smoke, int } = exampleFlags({ steps: "1500", seed: "0" }); int("steps", 1)
 */
export const exampleFlags = (
  defaults: Readonly<Record<string, string>>,
  opts: { readonly lossesJson?: boolean; readonly workers?: boolean } = {},
): ExampleFlags => {
  const options = Object.fromEntries(
    Object.entries(defaults).map(([k, v]) => [k, { type: "string" as const, default: v }]),
  );
  const values = orUsageExit<Readonly<Record<string, string | boolean | undefined>>>(program(), () => {
    try {
      return parseArgs({
        args: process.argv.slice(2),
        allowPositionals: true,
        options: {
          ...options,
          smoke: { type: "boolean", default: false },
          ...(opts.lossesJson === true ? { "losses-json": { type: "string" as const } } : {}),
          ...(opts.workers === true ? { workers: { type: "string" as const, default: "1" } } : {}),
        },
      }).values;
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e)); // an unknown flag, a flag without its value
    }
  });
  const text = (name: string): string => String(values[name]);
  const given = values["losses-json"];
  // Checked now, before training, so a path that cannot be written fails in a second, not at the end of the run.
  const lossesFile =
    typeof given === "string" ? orUsageExit(program(), () => prepareOutputFile("--losses-json", given)) : undefined;
  return {
    smoke: values["smoke"] === true,
    text,
    saveLosses: (losses) => {
      if (lossesFile === undefined) return;
      const written = writeFileAtomic(
        "--losses-json",
        lossesFile,
        new TextEncoder().encode(`${JSON.stringify(losses)}\n`),
      );
      if (E.isLeft(written))
        throw new Error(`--losses-json ${given}: cannot write the losses: ${formatTensorError(written.left)}`);
    },
    workers: (batch, from) => {
      if (opts.workers !== true) return 1;
      const n = Number(text("workers"));
      const divisors = Array.from({ length: Math.min(batch, 256) }, (_, i) => i + 1).filter((d) => batch % d === 0);
      return divisors.includes(n)
        ? n
        : orUsageExit(program(), () => {
            throw new UsageError(
              `--workers ${text("workers")}: the batch of ${batch} (${from}) must split into equal shards, ` +
                `one per worker; pass --workers ${divisors.length === 1 ? "1" : `${divisors.slice(0, -1).join(", ")} or ${divisors.at(-1)}`}`,
            );
          });
    },
    int: (name, min) => {
      const v = Number(text(name));
      return Number.isSafeInteger(v) && v >= min
        ? v
        : orUsageExit(program(), () => {
            throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${text(name)}`);
          });
    },
  };
};

/** The example's name for messages: `pnpm example <name>` runs examples/run.ts with the name next. */
const program = (): string => {
  const script = process.argv[1] ?? "";
  return basename(script).startsWith("run.") ? (process.argv[2] ?? "example") : basename(dirname(script));
};
