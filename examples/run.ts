/**
 * @file `pnpm example <name>` runs `examples/<name>/main.ts`; extra arguments pass through.
 */
import { readdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, "main.ts")))
  .map((d) => d.name)
  .sort();
const name = process.argv[2];
if (name === undefined || !available.includes(name)) {
  console.error(`usage: pnpm example <name> [--smoke]\nexamples: ${available.join(", ")}`);
  process.exit(name === undefined ? 0 : 1);
}
await import(`./${name}/main.ts`);
