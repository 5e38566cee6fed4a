/**
 * @file char-rnn's served model: the one-step sampler that `pnpm start` writes as model.onnx, for
 * each cell, run in ONNX Runtime step after step (the state fed back) and compared with Rewind;
 * and serve-onnx's text generation over it (deterministic for a seed, refusing a prime the model
 * never saw). The examples are loaded by computed paths, as test/char-rnn.test.ts explains.
 */
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import { treeLeaves, treeStructure, treeUnflatten } from "@rewind/autodiff";
import { fromDataOrThrow, random, type Key, type Tensor } from "@rewind/tensor";

const root = fileURLToPath(new URL("..", import.meta.url));
const load = <M>(file: string): Promise<M> => import(pathToFileURL(join(root, "examples", file)).href) as Promise<M>;
type Config = Record<string, unknown> & { readonly cell: string };
interface ServingInfo {
  readonly vocab: readonly string[];
  readonly state: ReadonlyArray<{ readonly input: string; readonly output: string; readonly shape: readonly number[] }>;
}
const { checkConfig, DEFAULTS, SMOKE } = await load<{
  checkConfig: (c: Config) => Config;
  DEFAULTS: Config;
  SMOKE: Partial<Config>;
}>("char-rnn/config.ts");
const { cellOf, initParams } = await load<{
  cellOf: (name: string) => { initialCarry: (batch: number, p: unknown) => unknown };
  initParams: (key: Key, config: Config, vocab: number) => { cell: unknown };
}>("char-rnn/model.ts");
const { exportSampler, runStep } = await load<{
  exportSampler: (cell: unknown, params: unknown, vocab: readonly string[]) => { bytes: Uint8Array; info: ServingInfo };
  runStep: (cell: unknown, params: unknown, id: Tensor, carry: unknown) => Tensor[];
}>("char-rnn/onnx.ts");
const { generateText, sessionStep } = await load<{
  generateText: (step: unknown, info: ServingInfo, o: Record<string, unknown>) => Promise<string>;
  sessionStep: (session: InferenceSession, info: ServingInfo) => unknown;
}>("serve-onnx/generate.ts");

/** One thread per session: the suite runs test files in parallel on few cores. */
const THREADS = { intraOpNumThreads: 1, interOpNumThreads: 1 };
const VOCAB = [...new Set("Call me Ishmael.")].sort();
const ort = (t: Tensor) => new OrtTensor("float32", t.data as Float32Array, [...t.shape]);

describe("char-rnn's ONNX sampler", () => {
  for (const cellName of ["lstm", "gru", "rnn"]) {
    it(`${cellName}: ONNX Runtime's logits and state equal Rewind's over 6 steps (1e-5 relative)`, async () => {
      const config = checkConfig({ ...DEFAULTS, ...SMOKE, cell: cellName });
      const cell = cellOf(cellName);
      const params = initParams(random.key(3), config, VOCAB.length);
      const { bytes, info } = exportSampler(cell, params, VOCAB);
      const session = await InferenceSession.create(bytes, THREADS);
      try {
        let carry = cell.initialCarry(1, params.cell);
        let state: Record<string, OrtTensor> = Object.fromEntries(
          info.state.map((s, i) => [s.input, ort(treeLeaves(carry)[i] as Tensor)]),
        );
        for (const id of [2, 0, 5, 5, 1, 3]) {
          const idT = fromDataOrThrow([id], [1], "int32");
          const out = await session.run({ id: new OrtTensor("int32", Int32Array.of(id), [1]), ...state });
          const [logits, ...next] = runStep(cell, params, idT, carry);
          const got = [out["logits"]!, ...info.state.map((s) => out[s.output]!)];
          [logits!, ...next].forEach((want, k) => {
            const scale = Math.max(...Array.from(want.data, Math.abs));
            Array.from(want.data).forEach((w, i) =>
              expect(Math.abs((got[k]!.data as Float32Array)[i]! - w)).toBeLessThanOrEqual(
                1e-5 * Math.max(Math.abs(w), scale),
              ),
            );
          });
          carry = treeUnflatten(treeStructure(carry), next);
          state = Object.fromEntries(info.state.map((s) => [s.input, out[s.output]!]));
        }
      } finally {
        await session.release();
      }
    });
  }

  it("serve-onnx generates the same text for a seed, from the vocabulary, and refuses an unknown prime", async () => {
    const config = checkConfig({ ...DEFAULTS, ...SMOKE });
    const { bytes, info } = exportSampler(cellOf(config.cell), initParams(random.key(4), config, VOCAB.length), VOCAB);
    const session = await InferenceSession.create(bytes, THREADS);
    try {
      const step = sessionStep(session, info);
      const options = { prime: "Call ", length: 30, temperature: 0.8, seed: 7 };
      const a = await generateText(step, info, options);
      expect(a).toHaveLength(30);
      expect([...a].every((c) => VOCAB.includes(c))).toBe(true);
      expect(await generateText(step, info, options)).toBe(a);
      await expect(generateText(step, info, { ...options, prime: "Queequeg" })).rejects.toThrow(/never saw: "Q"/);
    } finally {
      await session.release();
    }
  });
});
