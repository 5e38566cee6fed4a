/**
 * @file The messages between the page and the training worker, and the plain-data shapes they
 * carry. Everything here must survive `postMessage` (structured clone): no classes, no closures,
 * no tensors — graphs travel as `GraphView`s, parameters as safetensors bytes.
 */

/** The three tasks the playground can train. */
export type TaskName = "names" | "moby" | "sine";
/** The three built-in cells. */
export type CellName = "rnn" | "lstm" | "gru";

/** What the user chose: a fresh model is a pure function of this (and the seed). */
export interface RunConfig {
  readonly task: TaskName;
  readonly cell: CellName;
  readonly hidden: number;
  readonly seed: number;
}

/** Where a session trains: on the CPU (the training worker, or its shard workers), or on a WebGPU device. */
export type DeviceName = "cpu" | "webgpu";
/** Human-readable names of the devices. */
export const DEVICE_LABELS: Readonly<Record<DeviceName, string>> = { cpu: "CPU", webgpu: "WebGPU" };

/** Whether the training worker found a WebGPU device (probed once, when it starts). */
export type WebGpuProbe =
  { readonly available: true; readonly adapter: string } | { readonly available: false; readonly reason: string };

/** Hidden sizes offered in the UI (and accepted from a loaded file). */
export const HIDDEN_SIZES: readonly number[] = [8, 16, 32, 64, 128];

/** Human-readable names of the tasks. */
export const TASK_LABELS: Readonly<Record<TaskName, string>> = {
  names: "Names generator",
  moby: "char-rnn on Moby Dick",
  sine: "Sine-wave forecaster",
};
/** Human-readable names of the cells. */
export const CELL_LABELS: Readonly<Record<CellName, string>> = { rnn: "RNN (tanh)", lstm: "LSTM", gru: "GRU" };

/** A reference to a value in a graph: a variable by id, or a literal written inline. */
export type RefView =
  { readonly kind: "var"; readonly id: number } | { readonly kind: "literal"; readonly text: string };

/** One variable of a graph: its id and its type, e.g. `f32[1,16]`. */
export interface VarView {
  readonly id: number;
  readonly aval: string;
  /** A name for graph inputs (a parameter path such as `cell.weight_ih`), when one is known. */
  readonly name?: string;
}

/** One equation. `body` is set for primitives with a nested graph (scan, remat). */
export interface NodeView {
  readonly op: string;
  /** The primitive's parameters as printed by `printGraph`. */
  readonly params: string;
  readonly inputs: readonly RefView[];
  readonly outputs: readonly VarView[];
  readonly body?: GraphView;
  /** For scans: whether the loop runs from the last step to the first. */
  readonly reverse?: boolean;
  /** For scans: the number of steps. */
  readonly length?: number;
}

/** A traced graph as plain data: inputs, equations in topological order, outputs. */
export interface GraphView {
  readonly inputs: readonly VarView[];
  readonly nodes: readonly NodeView[];
  readonly outputs: readonly RefView[];
  /** What each output is: `loss`, a gradient's parameter path, a scan body's `carry′` or `y_t`. */
  readonly outputNames: readonly string[];
}

/** What the model view shows: the loss and its gradient, traced on a tiny batch, plus their text. */
export interface ModelGraphs {
  readonly forward: GraphView;
  readonly gradient: GraphView;
  readonly forwardText: string;
  readonly gradientText: string;
  /** The batch the graphs were traced on, e.g. "1 sequence × 4 steps". */
  readonly tracedOn: string;
}

/** What a task shows while it learns: sampled text, or a forecast next to the truth. */
export type Preview =
  | { readonly kind: "samples"; readonly title: string; readonly lines: readonly string[]; readonly note: string }
  | {
      readonly kind: "forecast";
      readonly title: string;
      /** The true wave. */
      readonly truth: readonly number[];
      /** One-step-ahead predictions over the first `context` steps (the model reads the truth). */
      readonly teacherForced: readonly number[];
      /** Free-running predictions after `context` (the model reads its own outputs). */
      readonly freeRun: readonly number[];
      readonly context: number;
      readonly note: string;
    };

/** Messages the page sends the worker. */
export type ToWorker =
  | { readonly type: "configure"; readonly config: RunConfig; readonly device: DeviceName }
  | { readonly type: "start" }
  | { readonly type: "pause" }
  | { readonly type: "reset" }
  | { readonly type: "save" }
  | { readonly type: "load"; readonly bytes: Uint8Array; readonly fileName: string };

/** Where the worker's training is. */
export type RunState = "building" | "idle" | "running" | "paused";

/** Messages the worker sends the page. */
export type FromWorker =
  | {
      readonly type: "ready";
      readonly config: RunConfig;
      readonly summary: string;
      readonly graphs: ModelGraphs;
      readonly lossLabel: string;
      /** How many workers train the model: 2 shard workers on a cross-origin isolated page, else 1. */
      readonly workers: number;
      /** Where the session trains; on WebGPU, `adapter` names the device's adapter. */
      readonly device: DeviceName;
      readonly adapter?: string;
      /** Steps already done (non-zero after loading saved weights). */
      readonly step: number;
    }
  | { readonly type: "devices"; readonly webgpu: WebGpuProbe }
  | { readonly type: "state"; readonly state: RunState }
  | {
      readonly type: "progress";
      readonly step: number;
      readonly losses: readonly number[];
      readonly stepsPerSecond: number;
    }
  | { readonly type: "preview"; readonly step: number; readonly preview: Preview }
  | { readonly type: "saved"; readonly bytes: Uint8Array; readonly fileName: string }
  | { readonly type: "loaded"; readonly config: RunConfig; readonly fileName: string }
  | { readonly type: "loadError"; readonly fileName: string; readonly message: string }
  | { readonly type: "error"; readonly message: string };
