/**
 * @file Command-line flags shared by the examples: `--smoke` plus named integer (or text) options
 * with defaults, validated with a message that names the flag, and, in the examples that opt in,
 * `--losses-json <file>`: the per-step training losses as a JSON array, for the determinism tests
 * (two runs with one seed must write the same bytes).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

/** Parsed flags: whether `--smoke` was given, and readers that validate each option. */
export interface ExampleFlags {
  readonly smoke: boolean;
  /** The integer value of `--name`, at least `min`; throws naming the flag otherwise. */
  readonly int: (name: string, min: number) => number;
  /** The raw text of `--name`. */
  readonly text: (name: string) => string;
  /** Writes `losses` as a JSON array to the file of `--losses-json` (numbers round-trip exactly); does nothing without the flag or the opt-in. */
  readonly saveLosses: (losses: readonly number[]) => void;
}

/**
 * Parses `process.argv` for `--smoke` and the given options (`--steps 1500` style, defaults as
 * strings). Positionals are allowed because `pnpm example <name>` passes the example's name.
 * `{ lossesJson: true }` accepts `--losses-json <file>` too (the example then calls `saveLosses`);
 * elsewhere that flag is refused as unknown rather than silently ignored.
 * @example const { smoke, int } = exampleFlags({ steps: "1500", seed: "0" }); int("steps", 1)
 */
export const exampleFlags = (defaults: Readonly<Record<string, string>>, opts: { readonly lossesJson?: boolean } = {}): ExampleFlags => {
  const options = Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, { type: "string" as const, default: v }]));
  const { values: parsed } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { ...options, smoke: { type: "boolean", default: false }, ...(opts.lossesJson === true ? { "losses-json": { type: "string" as const } } : {}) },
  });
  const values = parsed as Readonly<Record<string, string | boolean | undefined>>;
  const text = (name: string): string => String(values[name]);
  const lossesFile = values["losses-json"];
  return {
    smoke: values["smoke"] === true,
    text,
    saveLosses: (losses) => {
      if (typeof lossesFile === "string") writeFileSync(lossesFile, `${JSON.stringify(losses)}\n`);
    },
    int: (name, min) => {
      const v = Number(text(name));
      if (!Number.isSafeInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${text(name)}`);
      return v;
    },
  };
};
