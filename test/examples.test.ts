/**
 * @file Examples are tests: every `examples/<name>/main.ts` runs in its `--smoke` mode (a few
 * steps, tiny sizes) so that examples never rot.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const examples = readdirSync(join(root, "examples"), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, "examples", d.name, "main.ts")))
  .map((d) => d.name);

describe("examples run in smoke mode", () => {
  it("there are examples to run", () => expect(examples.length).toBeGreaterThan(0));
  for (const name of examples) {
    it(
      name,
      () => {
        const out = execFileSync(
          process.execPath,
          ["--import", "tsx", join(root, "examples", "run.ts"), name, "--smoke"],
          {
            cwd: join(root, "examples"),
            encoding: "utf8",
            timeout: 120_000,
          },
        );
        expect(out.length).toBeGreaterThan(0);
      },
      130_000,
    );
  }
});
