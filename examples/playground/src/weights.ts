/**
 * @file Trained parameters as a safetensors file, both ways. A saved file holds every parameter
 * under its pytree path (`cell.weight_ih`, `readout.bias`, …) and, as metadata, the run it came
 * from (task, cell, hidden size, seed, step), so loading can rebuild the same model. Loading
 * checks everything before it replaces anything: the bytes (via `safetensors.decode`), the
 * metadata, and every tensor's name, dtype, shape and values against a freshly built model.
 * Pure (no DOM, no Node): the worker calls these on bytes.
 */
import * as E from "fp-ts/lib/Either.js";
import { formatTensorError, safetensors, type Tensor } from "@rewind/tensor";
import { treeLeavesWithPaths, treeStructure, treeUnflatten } from "@rewind/autodiff";
import { CELL_LABELS, HIDDEN_SIZES, TASK_LABELS, type CellName, type RunConfig, type TaskName } from "./protocol.js";

/** The metadata key that marks a playground file, and its value. */
const MARK = ["rewind.playground", "1"] as const;

/** A parameter's name in the file: its pytree path without the leading dot. */
const nameOf = (path: string): string => path.replace(/^\./, "");

/**
 * The bytes of a safetensors file holding `params` and the run's configuration.
 * @example E.isRight(readWeights(encodeWeights(params, config, 120))) // true
 */
export const encodeWeights = (params: unknown, config: RunConfig, step: number): Uint8Array =>
  safetensors.encode(new Map(treeLeavesWithPaths(params).map(([path, v]) => [nameOf(path), v as Tensor])), {
    [MARK[0]]: MARK[1],
    task: config.task,
    cell: config.cell,
    hidden: String(config.hidden),
    seed: String(config.seed),
    step: String(step),
  });

/** A decoded playground file: the run it belongs to, the step it was saved at, and its tensors. */
export interface WeightsFile {
  readonly config: RunConfig;
  readonly step: number;
  readonly tensors: ReadonlyMap<string, Tensor>;
}

const isTask = (s: string | undefined): s is TaskName => s !== undefined && Object.hasOwn(TASK_LABELS, s);
const isCell = (s: string | undefined): s is CellName => s !== undefined && Object.hasOwn(CELL_LABELS, s);
const nonNegativeInt = (s: string | undefined): number | undefined =>
  s !== undefined && /^\d{1,9}$/.test(s) ? Number(s) : undefined;

/**
 * Decodes a file and reads which run it belongs to.
 * @returns `Left` with a message saying what is wrong and what to do: bytes that are not a
 * safetensors file, or metadata that does not name a playground run.
 * @example readWeights(new Uint8Array([1, 2, 3])) // Left("… is not a safetensors file: …")
 */
export const readWeights = (bytes: Uint8Array): E.Either<string, WeightsFile> => {
  const file = safetensors.decode(bytes);
  if (E.isLeft(file)) return E.left(`not a safetensors file: ${formatTensorError(file.left)}`);
  const meta = file.right.metadata;
  if (meta.get(MARK[0]) !== MARK[1]) {
    return E.left(
      `a valid safetensors file, but not one saved by the playground: its metadata has no "${MARK[0]}" entry, so the task, cell and hidden size are unknown. Save weights with "Save weights" and load that file.`,
    );
  }
  const task = meta.get("task");
  const cell = meta.get("cell");
  const hidden = nonNegativeInt(meta.get("hidden"));
  const seed = nonNegativeInt(meta.get("seed"));
  const step = nonNegativeInt(meta.get("step"));
  const problems = [
    ...(isTask(task) ? [] : [`task ${JSON.stringify(task)} (expected one of ${Object.keys(TASK_LABELS).join(", ")})`]),
    ...(isCell(cell) ? [] : [`cell ${JSON.stringify(cell)} (expected one of ${Object.keys(CELL_LABELS).join(", ")})`]),
    ...(hidden !== undefined && HIDDEN_SIZES.includes(hidden)
      ? []
      : [`hidden ${JSON.stringify(meta.get("hidden"))} (expected one of ${HIDDEN_SIZES.join(", ")})`]),
    ...(seed !== undefined ? [] : [`seed ${JSON.stringify(meta.get("seed"))} (expected a non-negative integer)`]),
    ...(step !== undefined ? [] : [`step ${JSON.stringify(meta.get("step"))} (expected a non-negative integer)`]),
  ];
  if (
    problems.length > 0 ||
    !isTask(task) ||
    !isCell(cell) ||
    hidden === undefined ||
    seed === undefined ||
    step === undefined
  ) {
    return E.left(`bad playground metadata: ${problems.join("; ")}`);
  }
  return E.right({ config: { task, cell, hidden, seed }, step, tensors: file.right.tensors });
};

const describe = (t: { readonly dtype: string; readonly shape: readonly number[] }): string =>
  `${t.dtype} [${t.shape.join(", ")}]`;

/**
 * Parameters shaped like `template` from the file's tensors: every parameter must be present with
 * the template's dtype and shape and only finite values, and the file must hold nothing else.
 * @returns `Left` listing every problem at once.
 * @example paramsFromTensors(initParams, file.tensors) // Right(params) or Left("missing cell.bias_hh; …")
 */
export const paramsFromTensors = <P>(template: P, tensors: ReadonlyMap<string, Tensor>): E.Either<string, P> => {
  const expected = treeLeavesWithPaths(template).map(([path, v]) => [nameOf(path), v] as const);
  const problems: string[] = [];
  const leaves = expected.map(([name, want]) => {
    const got = tensors.get(name);
    if (got === undefined) problems.push(`missing ${name} (${describe(want)})`);
    else if (
      got.dtype !== want.dtype ||
      got.shape.length !== want.shape.length ||
      got.shape.some((d, i) => d !== want.shape[i])
    ) {
      problems.push(`${name} is ${describe(got)}, the model needs ${describe(want)}`);
    } else if (!got.data.every(Number.isFinite)) problems.push(`${name} holds NaN or infinite values`);
    return got;
  });
  const known = new Set(expected.map(([name]) => name));
  const extra = [...tensors.keys()].filter((n) => !known.has(n));
  if (extra.length > 0) problems.push(`unexpected tensor${extra.length > 1 ? "s" : ""} ${extra.join(", ")}`);
  if (problems.length > 0) return E.left(`the weights do not fit the model: ${problems.join("; ")}`);
  return E.right(treeUnflatten<P>(treeStructure(template), leaves));
};
