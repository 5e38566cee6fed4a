/**
 * @file Command-line flags shared by the examples: `--smoke` plus named integer (or text) options
 * with defaults, validated with a message that names the flag.
 */
import { parseArgs } from "node:util";

/** Parsed flags: whether `--smoke` was given, and readers that validate each option. */
export interface ExampleFlags {
  readonly smoke: boolean;
  /** The integer value of `--name`, at least `min`; throws naming the flag otherwise. */
  readonly int: (name: string, min: number) => number;
  /** The raw text of `--name`. */
  readonly text: (name: string) => string;
}

/**
 * Parses `process.argv` for `--smoke` and the given options (`--steps 1500` style, defaults as
 * strings). Positionals are allowed because `pnpm example <name>` passes the example's name.
 * @example const { smoke, int } = exampleFlags({ steps: "1500", seed: "0" }); int("steps", 1)
 */
export const exampleFlags = (defaults: Readonly<Record<string, string>>): ExampleFlags => {
  const options = Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, { type: "string" as const, default: v }]));
  const { values: parsed } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { ...options, smoke: { type: "boolean", default: false } },
  });
  const values = parsed as Readonly<Record<string, string | boolean | undefined>>;
  const text = (name: string): string => String(values[name]);
  return {
    smoke: values["smoke"] === true,
    text,
    int: (name, min) => {
      const v = Number(text(name));
      if (!Number.isSafeInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${text(name)}`);
      return v;
    },
  };
};
