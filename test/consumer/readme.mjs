/**
 * @file The README blocks the consumer test runs: a fenced block right after a line
 * `<!-- consumer-test: NAME -->` is written to NAME in the consumer's folder and run there with
 * plain `node`, so the README shows exactly what is tested; a block after
 * `<!-- consumer-test-output: NAME -->` is what that run must print.
 */
import { readFileSync } from "node:fs";

const block = (kind, lang) =>
  new RegExp(`^<!-- ${kind}: ([\\w.-]+\\.mjs) -->\\n\`\`\`(?:${lang})\\n([\\s\\S]*?)\\n\`\`\`$`, "gm");

/**
 * Every marked block of a Markdown file, as `{ name, code, output }` (`output` undefined when the
 * README shows none).
 * @example readmeBlocks("README.md") // [{ name: "app.mjs", code: "import …", output: "loss …" }]
 */
export const readmeBlocks = (file) => {
  const text = readFileSync(file, "utf8");
  const outputs = new Map([...text.matchAll(block("consumer-test-output", "text"))].map((m) => [m[1], `${m[2]}\n`]));
  return [...text.matchAll(block("consumer-test", "js|javascript"))].map((m) => ({
    name: m[1],
    code: `${m[2]}\n`,
    output: outputs.get(m[1]),
  }));
};
