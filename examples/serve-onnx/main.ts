/**
 * @file serve-onnx: text from the char-rnn model that `pnpm start` trained, with onnxruntime-node
 * alone — no Rewind package is loaded. It reads `model.onnx` (the one-step sampler, parameters
 * inside) and `model.json` (the vocabulary and state names) from a char-rnn output folder.
 *
 * Run:   pnpm example serve-onnx [--model out/char-rnn-<timestamp>] [--prime "Call me "]
 *                                [--length 300] [--temperature 0.8] [--seed 0]
 *        (without --model: the newest out/char-rnn-* folder that holds a model.onnx)
 *        pnpm example serve-onnx --smoke   (an untrained model made for the run: smokeModel.ts)
 *
 * Prints: the prime followed by the generated text.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { InferenceSession } from "onnxruntime-node";
import { generateText, sessionStep, type ServingInfo } from "./generate.js";

const fail = (message: string): never => {
  console.error(`serve-onnx: ${message}`);
  process.exit(2);
};

const { values } = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        model: { type: "string" },
        prime: { type: "string", default: "Call me " },
        length: { type: "string", default: "300" },
        temperature: { type: "string", default: "0.8" },
        seed: { type: "string", default: "0" },
        smoke: { type: "boolean", default: false },
      },
    });
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
})();

const number = (name: string, text: string, integer: boolean): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0 || (!integer && n === 0))
    fail(`--${name} ${text}: expected a ${integer ? "non-negative integer" : "positive number"}`);
  return n;
};

/** The newest char-rnn output folder with a model in it. */
const newestModelFolder = (): string => {
  const out = "out";
  const folders = existsSync(out)
    ? readdirSync(out)
        .filter((d) => d.startsWith("char-rnn-") && existsSync(join(out, d, "model.onnx")))
        .map((d) => join(out, d))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  return (
    folders[0] ??
    fail("no out/char-rnn-*/model.onnx found: train a model first with `pnpm start`, or pass --model <folder>")
  );
};

// --smoke makes its own (untrained) model with Rewind, loaded only then; serving never loads Rewind.
const smokeFolder = values.smoke ? (await import("./smokeModel.js")).writeSmokeModel() : undefined;
const folder = smokeFolder ?? values.model ?? newestModelFolder();
for (const f of ["model.onnx", "model.json"])
  if (!existsSync(join(folder, f))) fail(`--model ${folder}: no ${f} there (char-rnn writes both at the end of a run)`);
const info = JSON.parse(readFileSync(join(folder, "model.json"), "utf8")) as ServingInfo;
const session = await InferenceSession.create(join(folder, "model.onnx"));
const prime = values.smoke ? "Call me " : values.prime;
try {
  const text = await generateText(sessionStep(session, info), info, {
    prime,
    length: values.smoke ? 40 : number("length", values.length, true),
    temperature: number("temperature", values.temperature, false),
    seed: number("seed", values.seed, true),
  });
  console.log(`model: ${join(folder, "model.onnx")} (served by ONNX Runtime)\n\n${prime}${text}`);
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
} finally {
  await session.release();
  if (smokeFolder !== undefined) rmSync(smokeFolder, { recursive: true, force: true });
}
